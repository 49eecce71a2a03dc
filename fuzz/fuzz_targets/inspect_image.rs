#![no_main]
//! The first byte picks the image format; the rest is the file.

use intake_core::Format;
use intake_inspect::{Limits, inspect};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

const FORMATS: [Format; 6] = [
    Format::Png,
    Format::Jpeg,
    Format::Gif,
    Format::Tiff,
    Format::Webp,
    Format::Bmp,
];

fuzz_target!(|data: &[u8]| {
    let Some((pick, file)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(*pick) % FORMATS.len()];
    let _ = inspect(
        format,
        Cursor::new(file),
        file.len() as u64,
        &Limits::default(),
    );
});
