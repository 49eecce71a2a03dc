#![no_main]
//! Any bytes as a PDF: must return, never panic, within the limits.

use intake_core::Format;
use intake_inspect::{Limits, inspect};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let _ = inspect(
        Format::Pdf,
        Cursor::new(data),
        data.len() as u64,
        &Limits::default(),
    );
});
