#![no_main]
//! The first byte picks the office format; the rest is the file. Small
//! limits so a bomb that slips past the guards shows as a slow run.

use intake_core::Format;
use intake_inspect::{Limits, inspect};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

const FORMATS: [Format; 8] = [
    Format::Docx,
    Format::Xlsx,
    Format::Pptx,
    Format::Odt,
    Format::Ods,
    Format::Odp,
    Format::Zip,
    Format::Doc,
];

fuzz_target!(|data: &[u8]| {
    let Some((pick, file)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(*pick) % FORMATS.len()];
    let limits = Limits {
        zip_max_total_uncompressed: 64 << 20,
        max_xml_bytes: 8 << 20,
        ..Limits::default()
    };
    let _ = inspect(format, Cursor::new(file), file.len() as u64, &limits);
});
