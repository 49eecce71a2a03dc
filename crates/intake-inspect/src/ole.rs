//! OLE compound files (doc, xls, ppt, pub): only the header signature is
//! checked and no properties are reported yet.
//!
//! Page counts live in the SummaryInformation stream and macros in a
//! `Macros`/`_VBA_PROJECT_CUR` storage; reading either means walking the
//! sector allocation table, which a hostile file can make large or cyclic.
//! That is left for a bounded reader of its own rather than done loosely.

use crate::{InspectError, Properties};
use std::io::Read;

const SIGNATURE: [u8; 8] = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

pub(crate) fn inspect<R: Read>(mut reader: R, _size: u64) -> Result<Properties, InspectError> {
    let mut head = [0u8; 8];
    reader.read_exact(&mut head)?;
    if head != SIGNATURE {
        return Err(InspectError::unrenderable("not an OLE compound file"));
    }
    Ok(Properties::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn signature_is_checked() {
        let mut doc = SIGNATURE.to_vec();
        doc.extend_from_slice(&[0; 504]);
        assert!(matches!(inspect(Cursor::new(&doc), 512), Ok(p) if p == Properties::default()));
        for bad in [&b"PK\x03\x04"[..], b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe0", b""] {
            assert!(matches!(
                inspect(Cursor::new(bad), 0),
                Err(InspectError::Unrenderable(_))
            ));
        }
    }
}
