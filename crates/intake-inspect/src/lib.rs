//! Pure, bounded document inspectors: what the `inspect` job learns about a
//! stored file (PDF pages and page sizes, image dimensions and resolution,
//! office page, sheet and slide counts, macros, text encoding and lines).
//!
//! Contract: [`inspect`] reads only through the `Read + Seek` it is given,
//! never panics, and bounds memory and time by [`Limits`] whatever the bytes
//! say. Declared sizes are checked before anything is unpacked and enforced
//! again while reading, so a file that lies is refused rather than believed.
//!
//! Errors and the reason a caller should record (see `intake_core::Reason`):
//!
//! | error | meaning | file outcome |
//! |---|---|---|
//! | [`InspectError::Unrenderable`] | the bytes cannot be parsed as the format | `rejected`, reason `unrenderable` |
//! | [`InspectError::LimitExceeded`] | a decompression bomb, or the file needs more than the limits allow | `rejected`, reason `unrenderable` (the message says which limit) |
//! | [`InspectError::Io`] | the blob could not be read | `failed`: retry the job |
//!
//! [`InspectError::reason`] returns that mapping. An I/O error that comes from
//! the data itself (unexpected end of file, corrupt deflate stream) is turned
//! into `Unrenderable`, so a truncated upload is not retried forever.
//!
//! Formats with nothing worth measuring (`zip`, `binary`) yield mostly empty
//! [`Properties`]; that is success, not an error.

#![forbid(unsafe_code)]

mod error;
mod image;
mod limits;
mod office;
mod ole;
mod pdf;
mod properties;
mod text;
mod zipguard;

pub use error::InspectError;
pub use limits::Limits;
pub use properties::{PageSize, Properties, TextEncoding};

use intake_core::Format;
use std::io::{BufReader, Read, Seek};

/// Inspects `reader`, which holds `size` bytes of a file whose bytes were
/// detected as `format`. `size` is a hint used for early refusal; reads are
/// bounded by `limits` even if it is wrong.
pub fn inspect<R: Read + Seek>(
    format: Format,
    reader: R,
    size: u64,
    limits: &Limits,
) -> Result<Properties, InspectError> {
    // Inspectors read headers a few bytes at a time; a blob reader may be an
    // unbuffered file. Seeking drops the buffer, which is what we want.
    let reader = BufReader::new(reader);
    match format {
        Format::Pdf => pdf::inspect(reader, size, limits),
        Format::Png | Format::Jpeg | Format::Gif | Format::Tiff | Format::Webp | Format::Bmp => {
            image::inspect(format, reader, size)
        }
        Format::Docx | Format::Xlsx | Format::Pptx | Format::Odt | Format::Ods | Format::Odp => {
            office::inspect(format, reader, size, limits)
        }
        Format::Ole | Format::Doc | Format::Xls | Format::Ppt | Format::Pub => {
            ole::inspect(reader, size)
        }
        Format::Zip => zipguard::inspect_plain(reader, size),
        Format::Text => text::inspect(reader, limits, false),
        Format::Csv => text::inspect(reader, limits, true),
        Format::Binary => Ok(Properties::default()),
    }
}
