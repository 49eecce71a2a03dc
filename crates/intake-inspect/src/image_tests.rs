//! Headers are written byte by byte here: each test names the fields it sets.

use super::*;

fn run(format: Format, bytes: &[u8]) -> Result<Properties, InspectError> {
    inspect(format, Cursor::new(bytes), bytes.len() as u64)
}

fn dims(props: &Properties) -> (Option<u32>, Option<u32>, Option<f64>, Option<f64>) {
    (props.width, props.height, props.dpi_x, props.dpi_y)
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&[0; 4]); // CRC, not checked
    out
}

fn png(width: u32, height: u32, phys: Option<(u32, u32, u8)>) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"tEXt", b"Comment\0hi"));
    if let Some((x, y, unit)) = phys {
        let mut data = x.to_be_bytes().to_vec();
        data.extend_from_slice(&y.to_be_bytes());
        data.push(unit);
        out.extend(png_chunk(b"pHYs", &data));
    }
    out.extend(png_chunk(b"IDAT", &[0; 4]));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

#[test]
fn png_size_and_phys() -> Result<(), InspectError> {
    // 11811 pixels per metre = 300 dpi.
    let props = run(Format::Png, &png(640, 480, Some((11811, 11811, 1))))?;
    assert_eq!(
        dims(&props),
        (Some(640), Some(480), Some(300.0), Some(300.0))
    );
    let props = run(Format::Png, &png(1, 2, None))?;
    assert_eq!(dims(&props), (Some(1), Some(2), None, None));
    // Unit 0 is an aspect ratio, not a resolution.
    let props = run(Format::Png, &png(1, 2, Some((3, 3, 0))))?;
    assert_eq!(props.dpi_x, None);
    Ok(())
}

fn jpeg(app: &[u8]) -> Vec<u8> {
    let mut out = vec![0xff, 0xd8];
    out.extend_from_slice(app);
    // SOF0: length 17, precision 8, height 600, width 800, 3 components.
    out.extend_from_slice(&[0xff, 0xc0, 0, 17, 8, 0x02, 0x58, 0x03, 0x20, 3]);
    out.extend_from_slice(&[1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out.extend_from_slice(&[0xff, 0xda, 0, 2, 0xff, 0xd9]);
    out
}

#[test]
fn jpeg_with_jfif_density() -> Result<(), InspectError> {
    // APP0 JFIF 1.1, units 1 (dpi), 72 x 96.
    let app0 = [
        0xff, 0xe0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 1, 0, 72, 0, 96, 0, 0,
    ];
    let props = run(Format::Jpeg, &jpeg(&app0))?;
    assert_eq!(dims(&props), (Some(800), Some(600), Some(72.0), Some(96.0)));
    Ok(())
}

/// A little-endian TIFF with width, height, resolution 300/1 and unit 2.
fn tiff_bytes() -> Vec<u8> {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let entries: [(u16, u16, u32); 5] = [
        (256, 3, 1200),
        (257, 4, 900),
        (282, 5, 74),
        (283, 5, 74),
        (296, 3, 2),
    ];
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&value.to_le_bytes());
    }
    out.extend_from_slice(&0u32.to_le_bytes()); // no next IFD; ends at 74
    out.extend_from_slice(&300u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out
}

#[test]
fn tiff_size_and_resolution() -> Result<(), InspectError> {
    let props = run(Format::Tiff, &tiff_bytes())?;
    assert_eq!(
        dims(&props),
        (Some(1200), Some(900), Some(300.0), Some(300.0))
    );
    Ok(())
}

#[test]
fn jpeg_with_exif_resolution() -> Result<(), InspectError> {
    let mut app1 = vec![0xff, 0xe1];
    let body = [&b"Exif\0\0"[..], &tiff_bytes()].concat();
    app1.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&body);
    let props = run(Format::Jpeg, &jpeg(&app1))?;
    assert_eq!(
        dims(&props),
        (Some(800), Some(600), Some(300.0), Some(300.0))
    );
    Ok(())
}

#[test]
fn gif_size() -> Result<(), InspectError> {
    let props = run(Format::Gif, b"GIF89a\x40\x01\xf0\x00\x00\x00\x00;")?;
    assert_eq!(dims(&props), (Some(320), Some(240), None, None));
    Ok(())
}

#[test]
fn bmp_size_and_resolution() -> Result<(), InspectError> {
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&[0; 12]); // file size, reserved, pixel offset
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&100i32.to_le_bytes());
    bmp.extend_from_slice(&(-50i32).to_le_bytes()); // top-down
    bmp.extend_from_slice(&[1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // planes, bpp, compression, image size
    bmp.extend_from_slice(&3780i32.to_le_bytes()); // 96 dpi
    bmp.extend_from_slice(&3780i32.to_le_bytes());
    bmp.extend_from_slice(&[0; 8]);
    let props = run(Format::Bmp, &bmp)?;
    assert_eq!(
        dims(&props),
        (Some(100), Some(50), Some(96.01), Some(96.01))
    );
    Ok(())
}

#[test]
fn webp_lossy_lossless_and_extended() -> Result<(), InspectError> {
    let riff = |chunk: &[u8]| [&b"RIFF\0\0\0\0WEBP"[..], chunk, &[0; 16]].concat();
    // VP8: frame tag (3), start code, 14-bit width and height.
    let lossy = riff(b"VP8 \0\0\0\0\0\0\0\x9d\x01\x2a\x90\x01\x2c\x01");
    assert_eq!(
        dims(&run(Format::Webp, &lossy)?),
        (Some(400), Some(300), None, None)
    );
    // VP8L: signature 0x2f, then (width-1) and (height-1) in 14 bits each.
    let bits: u32 = 399 | (299 << 14);
    let lossless = riff(&[&b"VP8L\0\0\0\0\x2f"[..], &bits.to_le_bytes()].concat());
    assert_eq!(
        dims(&run(Format::Webp, &lossless)?),
        (Some(400), Some(300), None, None)
    );
    // VP8X: flags (4), then 24-bit (width-1) and (height-1).
    let extended = riff(b"VP8X\x0a\0\0\0\0\0\0\0\x8f\x01\0\x2b\x01\0");
    assert_eq!(
        dims(&run(Format::Webp, &extended)?),
        (Some(400), Some(300), None, None)
    );
    Ok(())
}

#[test]
fn broken_headers_are_unrenderable() {
    let cases: [(Format, &[u8]); 8] = [
        (Format::Png, b"\x89PNG\r\n\x1a\n"),
        (Format::Png, &png(0, 10, None)),
        (Format::Jpeg, b"\xff\xd8\xff\xda\0\x02"),
        (Format::Jpeg, b"\xff\xd8\xff\xc0\0\x03\x08"),
        (Format::Gif, b"GIF89a"),
        (Format::Tiff, b"II*\0\xff\xff\xff\x00"),
        (Format::Webp, b"RIFF\0\0\0\0WEBPVP8 "),
        (Format::Bmp, b"BM\0\0"),
    ];
    for (format, bytes) in cases {
        let result = run(format, bytes);
        assert!(
            matches!(result, Err(InspectError::Unrenderable(_))),
            "{format:?} {bytes:?}: {result:?}"
        );
    }
}
