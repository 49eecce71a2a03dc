//! Text and CSV: encoding, line count and, for CSV, the fields of the first
//! record. One streaming pass in fixed-size chunks, so memory is constant;
//! at most `Limits::text_sample_bytes` are read (then `text_truncated`).
//!
//! Encoding: a BOM decides (UTF-8, UTF-16LE/BE). Without one, the bytes are
//! `ascii` if all are below 0x80, `utf-8` if they validate, else `latin-1`
//! (every byte sequence is valid Latin-1/Windows-1252, so that is the
//! fallback rather than an error). UTF-16 without a BOM is not guessed.
//!
//! Lines end at LF, CRLF or a lone CR; a last line without one still
//! counts. CSV quoting is honoured only for the first record, to find its
//! end and its delimiters; `line_count` stays a count of physical lines.

use crate::{InspectError, Limits, Properties, TextEncoding};
use std::io::Read;

const CHUNK: usize = 64 * 1024;
/// A first CSV record longer than this is not a header worth reading.
const MAX_FIRST_RECORD: u64 = 1024 * 1024;
const DELIMITERS: [u32; 4] = [b',' as u32, b';' as u32, b'\t' as u32, b'|' as u32];

pub(crate) fn inspect<R: Read>(
    mut reader: R,
    limits: &Limits,
    csv: bool,
) -> Result<Properties, InspectError> {
    let mut sample = (&mut reader).take(limits.text_sample_bytes);
    let mut buf = vec![0u8; CHUNK + 4];
    let mut len = fill(&mut sample, &mut buf[..CHUNK])?;
    let (bom, skip) = match buf.get(..len) {
        Some([0xef, 0xbb, 0xbf, ..]) => (Some(TextEncoding::Utf8Bom), 3),
        Some([0xff, 0xfe, ..]) => (Some(TextEncoding::Utf16Le), 2),
        Some([0xfe, 0xff, ..]) => (Some(TextEncoding::Utf16Be), 2),
        _ => (None, 0),
    };
    let mut units = Units::default();
    let mut utf8 = Utf8::default();
    let mut start = skip;
    let mut odd: Option<u8> = None; // a UTF-16 byte whose pair is in the next chunk
    while len > 0 {
        let data = buf.get(..len).unwrap_or_default();
        match bom {
            Some(TextEncoding::Utf16Le | TextEncoding::Utf16Be) => {
                let little = bom == Some(TextEncoding::Utf16Le);
                for &byte in data.get(start..).unwrap_or_default() {
                    match odd.take() {
                        None => odd = Some(byte),
                        Some(first) => {
                            let pair = if little { [first, byte] } else { [byte, first] };
                            units.feed(u32::from(u16::from_le_bytes(pair)));
                        }
                    }
                }
            }
            _ => {
                data.get(start..)
                    .unwrap_or_default()
                    .iter()
                    .for_each(|b| units.feed(u32::from(*b)));
                let kept = utf8.check(data, start);
                buf.copy_within(len - kept..len, 0);
                start = kept;
            }
        }
        if bom.is_some_and(|b| b != TextEncoding::Utf8Bom) {
            start = 0;
        }
        let end = start + CHUNK;
        len = start + fill(&mut sample, buf.get_mut(start..end).unwrap_or_default())?;
        if len == start {
            break;
        }
    }
    let truncated = reader.read(&mut [0u8; 1])? > 0;
    let encoding = bom.unwrap_or(if !utf8.valid || (start > 0 && !truncated) {
        TextEncoding::Latin1 // invalid, or cut inside a character at the very end
    } else if utf8.ascii {
        TextEncoding::Ascii
    } else {
        TextEncoding::Utf8
    });
    let mut props = Properties {
        encoding: Some(encoding),
        line_count: Some(units.lines()),
        text_truncated: truncated.then_some(true),
        ..Properties::default()
    };
    if csv {
        (props.columns, props.delimiter) = units.record.columns();
    }
    Ok(props)
}

/// Reads until `buf` is full or the stream ends.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, InspectError> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

/// Incremental UTF-8 validation across chunks.
struct Utf8 {
    valid: bool,
    ascii: bool,
}

impl Default for Utf8 {
    fn default() -> Utf8 {
        Utf8 {
            valid: true,
            ascii: true,
        }
    }
}

impl Utf8 {
    /// Checks `data`, whose bytes before `new` were carried over from the
    /// previous chunk; returns how many bytes at its end start a character
    /// that continues in the next chunk.
    fn check(&mut self, data: &[u8], new: usize) -> usize {
        self.ascii &= data.get(new..).unwrap_or_default().is_ascii();
        if !self.valid || self.ascii {
            return 0;
        }
        match std::str::from_utf8(data) {
            Ok(_) => 0,
            Err(err) if err.error_len().is_none() => data.len() - err.valid_up_to(),
            Err(_) => {
                self.valid = false;
                0
            }
        }
    }
}

/// Line counting and first-record scanning over code units (bytes, or
/// UTF-16 units): every character that matters here is ASCII.
#[derive(Default)]
struct Units {
    lines: u64,
    open_line: bool,
    after_cr: bool,
    record: FirstRecord,
}

impl Units {
    fn feed(&mut self, unit: u32) {
        match unit {
            0x0a if self.after_cr => self.after_cr = false, // the LF of a CRLF
            0x0a | 0x0d => {
                self.lines += 1;
                self.open_line = false;
                self.after_cr = unit == 0x0d;
            }
            _ => {
                self.open_line = true;
                self.after_cr = false;
            }
        }
        self.record.feed(unit);
    }

    fn lines(&self) -> u64 {
        self.lines + u64::from(self.open_line)
    }
}

#[derive(Default)]
struct FirstRecord {
    seen: u64,
    done: bool,
    quoted: bool,
    delimiters: [u32; 4],
}

impl FirstRecord {
    fn feed(&mut self, unit: u32) {
        if self.done {
            return;
        }
        self.seen += 1;
        match unit {
            0x22 => self.quoted = !self.quoted, // "" inside quotes toggles twice
            0x0a | 0x0d if !self.quoted => self.done = true,
            _ if !self.quoted => {
                if let Some(i) = DELIMITERS.iter().position(|d| *d == unit) {
                    self.delimiters[i] = self.delimiters[i].saturating_add(1);
                }
            }
            _ => {}
        }
        self.done |= self.seen >= MAX_FIRST_RECORD;
    }

    /// Fields and the delimiter: the candidate seen most often, earlier in
    /// `DELIMITERS` on a tie.
    fn columns(&self) -> (Option<u32>, Option<String>) {
        if self.seen == 0 {
            return (None, None);
        }
        let mut best = 0;
        for (i, count) in self.delimiters.iter().enumerate() {
            if *count > self.delimiters[best] {
                best = i;
            }
        }
        let count = self.delimiters[best];
        let delimiter =
            (count > 0).then(|| char::from_u32(DELIMITERS[best]).unwrap_or(',').to_string());
        (Some(count.saturating_add(1)), delimiter)
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
