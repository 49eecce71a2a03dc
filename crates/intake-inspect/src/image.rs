//! Image dimensions and resolution, read from headers by hand.
//!
//! Why by hand: the few fields wanted (width, height, and the DPI that lives
//! in PNG pHYs, JPEG JFIF/EXIF, TIFF tags and BMP pixels-per-metre) sit in
//! fixed places in small headers, and reading them directly keeps every
//! read bounded and visible here: a handful of seeks and at most one 64 KiB
//! JPEG segment in memory, whatever the file says. No pixel data is decoded,
//! so a valid header on corrupt pixels is not detected.
//!
//! DPI is reported only when the file states a physical unit (PNG unit 1,
//! JFIF units 1/2, TIFF/EXIF unit 2/3, BMP always metres): an aspect-only
//! density is not a resolution.

use crate::{InspectError, Properties};
use intake_core::Format;
use std::io::{Cursor, Read, Seek, SeekFrom};

/// Chunks or segments walked before giving up on finding a resolution.
const MAX_CHUNKS: usize = 1024;
/// 0xFF fill bytes allowed before a JPEG marker (the spec sets no bound;
/// encoders write a few at most).
const MAX_FILL: usize = 64 * 1024;
/// TIFF directory entries read; the tags wanted (256-296) sort first.
const MAX_IFD_ENTRIES: usize = 512;

#[derive(Debug, Default, PartialEq)]
struct Image {
    width: Option<u32>,
    height: Option<u32>,
    dpi: Option<(f64, f64)>,
}

pub(crate) fn inspect<R: Read + Seek>(
    format: Format,
    mut reader: R,
    _size: u64,
) -> Result<Properties, InspectError> {
    let image = match format {
        Format::Png => png(&mut reader)?,
        Format::Jpeg => jpeg(&mut reader)?,
        Format::Gif => gif(&mut reader)?,
        Format::Tiff => tiff(&mut reader)?,
        Format::Webp => webp(&mut reader)?,
        Format::Bmp => bmp(&mut reader)?,
        _ => Image::default(),
    };
    if image.width == Some(0) || image.height == Some(0) {
        return Err(InspectError::unrenderable("image has a zero dimension"));
    }
    let round = |v: f64| (v * 100.0).round() / 100.0;
    Ok(Properties {
        width: image.width,
        height: image.height,
        dpi_x: image.dpi.map(|d| round(d.0)),
        dpi_y: image.dpi.map(|d| round(d.1)),
        ..Properties::default()
    })
}

fn bad(what: &str) -> InspectError {
    InspectError::unrenderable(format!("not a valid {what} header"))
}

fn read_array<const N: usize, R: Read>(reader: &mut R) -> Result<[u8; N], InspectError> {
    let mut buf = [0; N];
    reader.read_exact(&mut buf)?;
    Ok(buf)
}

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le24(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 3)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], 0]))
}

/// Pixels per metre to dots per inch, if both are positive.
fn per_metre(x: f64, y: f64) -> Option<(f64, f64)> {
    (x > 0.0 && y > 0.0).then_some((x * 0.0254, y * 0.0254))
}

fn png<R: Read + Seek>(reader: &mut R) -> Result<Image, InspectError> {
    let head: [u8; 24] = read_array(reader)?;
    if &head[..8] != b"\x89PNG\r\n\x1a\n" || &head[12..16] != b"IHDR" {
        return Err(bad("PNG"));
    }
    let mut image = Image {
        width: Some(be32(&head, 16)),
        height: Some(be32(&head, 20)),
        dpi: None,
    };
    // Skip the rest of IHDR and its CRC; pHYs, if any, comes before IDAT.
    reader.seek(SeekFrom::Start(8 + 8 + 13 + 4))?;
    for _ in 0..MAX_CHUNKS {
        let Ok(chunk) = read_array::<8, _>(reader) else {
            break;
        };
        let len = be32(&chunk, 0);
        match &chunk[4..8] {
            b"pHYs" if len == 9 => {
                let phys: [u8; 9] = read_array(reader)?;
                if phys[8] == 1 {
                    image.dpi = per_metre(f64::from(be32(&phys, 0)), f64::from(be32(&phys, 4)));
                }
                break;
            }
            b"IDAT" | b"IEND" => break,
            _ => {
                reader.seek(SeekFrom::Current(i64::from(len) + 4))?;
            }
        }
    }
    Ok(image)
}

fn gif<R: Read>(reader: &mut R) -> Result<Image, InspectError> {
    let head: [u8; 10] = read_array(reader)?;
    if &head[..6] != b"GIF87a" && &head[..6] != b"GIF89a" {
        return Err(bad("GIF"));
    }
    let (width, height) = (le16(&head, 6), le16(&head, 8));
    Ok(Image {
        width: Some(width.into()),
        height: Some(height.into()),
        dpi: None,
    })
}

fn bmp<R: Read>(reader: &mut R) -> Result<Image, InspectError> {
    let mut head = [0u8; 54];
    let got = read_up_to(reader, &mut head)?;
    let dib = le32(&head, 14);
    if got < 26 || &head[..2] != b"BM" {
        return Err(bad("BMP"));
    }
    if dib == 12 {
        // BITMAPCOREHEADER (OS/2): 16-bit sizes, no resolution.
        let (w, h) = (le16(&head, 18), le16(&head, 20));
        return Ok(Image {
            width: Some(w.into()),
            height: Some(h.into()),
            dpi: None,
        });
    }
    if dib < 40 || got < 54 {
        return Err(bad("BMP"));
    }
    // Negative height means top-down rows; the size is its magnitude.
    let width = (le32(&head, 18) as i32).unsigned_abs();
    let height = (le32(&head, 22) as i32).unsigned_abs();
    let (ppm_x, ppm_y) = (le32(&head, 38) as i32, le32(&head, 42) as i32);
    let dpi = per_metre(f64::from(ppm_x), f64::from(ppm_y));
    Ok(Image {
        width: Some(width),
        height: Some(height),
        dpi,
    })
}

fn webp<R: Read>(reader: &mut R) -> Result<Image, InspectError> {
    let mut head = [0u8; 30];
    let got = read_up_to(reader, &mut head)?;
    if got < 30 || &head[..4] != b"RIFF" || &head[8..12] != b"WEBP" {
        return Err(bad("WebP"));
    }
    let (width, height) = match &head[12..16] {
        b"VP8X" => (le24(&head, 24) + 1, le24(&head, 27) + 1),
        b"VP8 " if head[23..26] == [0x9d, 0x01, 0x2a] => (
            u32::from(le16(&head, 26) & 0x3fff),
            u32::from(le16(&head, 28) & 0x3fff),
        ),
        b"VP8L" if head[20] == 0x2f => {
            let bits = le32(&head, 21);
            ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1)
        }
        _ => return Err(bad("WebP")),
    };
    Ok(Image {
        width: Some(width),
        height: Some(height),
        dpi: None,
    })
}

fn jpeg<R: Read + Seek>(reader: &mut R) -> Result<Image, InspectError> {
    let soi: [u8; 2] = read_array(reader)?;
    if soi != [0xff, 0xd8] {
        return Err(bad("JPEG"));
    }
    let mut image = Image::default();
    let (mut jfif_dpi, mut exif_dpi) = (None, None);
    for _ in 0..MAX_CHUNKS {
        let mut marker = read_array::<1, _>(reader)?[0];
        if marker != 0xff {
            return Err(bad("JPEG segment"));
        }
        let mut fill = 0;
        while marker == 0xff {
            marker = read_array::<1, _>(reader)?[0];
            fill += 1;
            if fill > MAX_FILL {
                return Err(bad("JPEG segment"));
            }
        }
        if matches!(marker, 0x01 | 0xd0..=0xd7) {
            continue; // no length
        }
        if marker == 0xd9 || marker == 0xda {
            break; // end of image or start of scan: headers are over
        }
        let len = u16::from_be_bytes(read_array(reader)?);
        let body_len = usize::from(len)
            .checked_sub(2)
            .ok_or_else(|| bad("JPEG segment"))?;
        match marker {
            0xc0..=0xc3 | 0xc5..=0xc7 | 0xc9..=0xcb | 0xcd..=0xcf if image.width.is_none() => {
                if body_len < 5 {
                    return Err(bad("JPEG frame"));
                }
                let sof: [u8; 5] = read_array(reader)?;
                image.height = Some(be16(&sof, 1).into()).filter(|h| *h > 0);
                image.width = Some(be16(&sof, 3).into());
                reader.seek(SeekFrom::Current(body_len as i64 - 5))?;
            }
            0xe0 | 0xe1 => {
                let mut body = vec![0; body_len];
                reader.read_exact(&mut body)?;
                if marker == 0xe0 && body.starts_with(b"JFIF\0") {
                    jfif_dpi = jfif_density(&body);
                } else if marker == 0xe1 && body.starts_with(b"Exif\0\0") {
                    let tiff = body.get(6..).unwrap_or_default();
                    exif_dpi = read_tiff(&mut Cursor::new(tiff)).ok().and_then(|t| t.dpi);
                }
            }
            _ => {
                reader.seek(SeekFrom::Current(body_len as i64))?;
            }
        }
    }
    if image.width.is_none() {
        return Err(InspectError::unrenderable("JPEG has no frame header"));
    }
    image.dpi = jfif_dpi.or(exif_dpi);
    Ok(image)
}

/// JFIF APP0: "JFIF\0", version (2), units, x density, y density.
fn jfif_density(body: &[u8]) -> Option<(f64, f64)> {
    let (x, y) = (f64::from(be16(body, 8)), f64::from(be16(body, 10)));
    let scale = match body.get(7)? {
        1 => 1.0,
        2 => 2.54, // dots per centimetre
        _ => return None,
    };
    (x > 0.0 && y > 0.0).then_some((x * scale, y * scale))
}

fn tiff<R: Read + Seek>(reader: &mut R) -> Result<Image, InspectError> {
    let image = read_tiff(reader)?;
    if image.width.is_none() || image.height.is_none() {
        return Err(InspectError::unrenderable("TIFF has no image size"));
    }
    Ok(image)
}

/// Reads the first image file directory of a classic TIFF stream (a file,
/// or the payload of a JPEG EXIF segment). BigTIFF gives an empty result.
fn read_tiff<R: Read + Seek>(reader: &mut R) -> Result<Image, InspectError> {
    let head: [u8; 8] = read_array(reader)?;
    let little = match &head[..4] {
        b"II*\0" => true,
        b"MM\0*" => false,
        b"II+\0" | b"MM\0+" => return Ok(Image::default()),
        _ => return Err(bad("TIFF")),
    };
    let u16_at = |b: &[u8], at| if little { le16(b, at) } else { be16(b, at) };
    let u32_at = |b: &[u8], at| if little { le32(b, at) } else { be32(b, at) };
    reader.seek(SeekFrom::Start(u64::from(u32_at(&head, 4))))?;
    let count = usize::from(u16_at(&read_array::<2, _>(reader)?, 0)).min(MAX_IFD_ENTRIES);
    let mut entries = vec![0u8; count * 12];
    reader.read_exact(&mut entries)?;
    let mut image = Image::default();
    let (mut res_x, mut res_y, mut unit) = (None, None, 2);
    for entry in entries.chunks_exact(12) {
        let (tag, kind) = (u16_at(entry, 0), u16_at(entry, 2));
        // SHORT values sit left-justified in the 4-byte field.
        let value = if kind == 3 {
            u32::from(u16_at(entry, 8))
        } else {
            u32_at(entry, 8)
        };
        match tag {
            256 => image.width = Some(value),
            257 => image.height = Some(value),
            282 | 283 if kind == 5 => {
                // A rational lives elsewhere; an unreadable one is no resolution.
                let pair = reader
                    .seek(SeekFrom::Start(u64::from(value)))
                    .ok()
                    .and_then(|_| read_array::<8, _>(reader).ok());
                let res = pair.and_then(|pair| {
                    let (num, den) = (u32_at(&pair, 0), u32_at(&pair, 4));
                    (den > 0).then(|| f64::from(num) / f64::from(den))
                });
                if tag == 282 { res_x = res } else { res_y = res }
            }
            296 => unit = value,
            _ => {}
        }
    }
    let scale = match unit {
        2 => Some(1.0),
        3 => Some(2.54),
        _ => None,
    };
    if let (Some(x), Some(y), Some(scale)) = (res_x, res_y, scale) {
        image.dpi = (x > 0.0 && y > 0.0).then_some((x * scale, y * scale));
    }
    Ok(image)
}

/// Fills as much of `buf` as the stream has; returns how much that was.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, InspectError> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
