#![no_main]
//! The first byte picks text or CSV; the rest is the file.

use intake_core::Format;
use intake_inspect::{Limits, inspect};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let Some((pick, file)) = data.split_first() else {
        return;
    };
    let format = if pick % 2 == 0 {
        Format::Text
    } else {
        Format::Csv
    };
    let limits = Limits {
        text_sample_bytes: 4096,
        ..Limits::default()
    };
    let _ = inspect(format, Cursor::new(file), file.len() as u64, &limits);
});
