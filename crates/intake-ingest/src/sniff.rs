//! Detects a file's format from its first bytes. Signatures come from the
//! `infer` crate; what it cannot tell from a short head is decided here:
//! OLE compound files (the application lives in the directory, possibly far
//! into the file), ZIPs that are not recognisably OOXML in the head, and text.

use intake_core::Format;

/// How many leading bytes the sniffer looks at by default.
pub const SNIFF_BYTES: usize = 8 * 1024;

const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(OLE_MAGIC) {
        return Format::Ole;
    }
    if let Some(kind) = infer::get(head) {
        let format = match kind.extension() {
            "pdf" => Some(Format::Pdf),
            "png" => Some(Format::Png),
            "jpg" => Some(Format::Jpeg),
            "gif" => Some(Format::Gif),
            "tif" => Some(Format::Tiff),
            "webp" => Some(Format::Webp),
            "bmp" => Some(Format::Bmp),
            "docx" => Some(Format::Docx),
            "xlsx" => Some(Format::Xlsx),
            "pptx" => Some(Format::Pptx),
            "odt" => Some(Format::Odt),
            "ods" => Some(Format::Ods),
            "odp" => Some(Format::Odp),
            "zip" => Some(Format::Zip),
            _ => None,
        };
        if let Some(format) = format {
            return format;
        }
    }
    // A PDF may have up to 1 KiB of junk before its header (ISO 32000 §7.5.2
    // lets readers tolerate it, and real files from some generators have it).
    if head.len() > 5 && memchr_pdf(&head[..head.len().min(1024)]) {
        return Format::Pdf;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Format::Zip;
    }
    if looks_like_text(head) {
        return Format::Text;
    }
    Format::Binary
}

fn memchr_pdf(head: &[u8]) -> bool {
    head.windows(5).any(|w| w == b"%PDF-")
}

/// Text: valid UTF-8 (the head may end inside a character), UTF-16 with a
/// BOM, or single-byte text without NUL and with few control characters.
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.contains(&0) {
        return false;
    }
    let valid_utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut inside a multi-byte character at the end of the head.
        Err(e) => e.error_len().is_none(),
    };
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    (valid_utf8
        || head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C)))
        && controls * 100 <= head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), Format::Pdf);
        assert_eq!(sniff(b"junk\r\n%PDF-1.4\n"), Format::Pdf);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Format::Png);
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF\0"), Format::Jpeg);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Format::Gif);
        assert_eq!(sniff(b"BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0"), Format::Bmp);
        assert_eq!(sniff(b"II*\0\x08\0\0\0\x0e\0\0\x01"), Format::Tiff);
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Format::Webp);
        assert_eq!(sniff(&[OLE_MAGIC, &[0u8; 100]].concat()), Format::Ole);
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0\x08\0"), Format::Zip);
    }

    #[test]
    fn text_and_binary() {
        assert_eq!(sniff(b"email\nalice@example.com\n"), Format::Text);
        assert_eq!(sniff("Grüße, ünd so\n".as_bytes()), Format::Text);
        assert_eq!(sniff(b""), Format::Text);
        assert_eq!(sniff(b"caf\xe9 latin-1\n"), Format::Text);
        assert_eq!(sniff(&[0xFF, 0xFE, b'a', 0]), Format::Text);
        assert_eq!(sniff(b"\x00\x01\x02\x03binary"), Format::Binary);
        // A head cut inside a UTF-8 character is still text.
        let s = "aé".as_bytes();
        assert_eq!(sniff(&s[..2]), Format::Text);
    }

    #[test]
    fn the_eicar_test_file_is_text() {
        let eicar = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
        assert_eq!(sniff(eicar), Format::Text);
    }
}
