use super::*;
use std::io::Cursor;

fn run(bytes: &[u8], csv: bool) -> Result<Properties, InspectError> {
    inspect(Cursor::new(bytes), &Limits::default(), csv)
}

fn summary(props: &Properties) -> (Option<TextEncoding>, Option<u64>, Option<u32>, Option<&str>) {
    (
        props.encoding,
        props.line_count,
        props.columns,
        props.delimiter.as_deref(),
    )
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xff, 0xfe]
    } else {
        vec![0xfe, 0xff]
    };
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    out
}

#[test]
fn ascii_csv() -> Result<(), InspectError> {
    let props = run(b"a,b,c\n1,2,3\n", true)?;
    assert_eq!(
        summary(&props),
        (Some(TextEncoding::Ascii), Some(2), Some(3), Some(","))
    );
    assert_eq!(props.text_truncated, None);
    Ok(())
}

#[test]
fn encodings() -> Result<(), InspectError> {
    let cases: [(&[u8], TextEncoding, u64); 5] = [
        ("héllo\nwörld".as_bytes(), TextEncoding::Utf8, 2),
        (b"\xef\xbb\xbfhello\n", TextEncoding::Utf8Bom, 1),
        (b"caf\xe9\nna\xefve\n", TextEncoding::Latin1, 2),
        (b"", TextEncoding::Ascii, 0),
        (b"ends mid-character \xc3", TextEncoding::Latin1, 1),
    ];
    for (bytes, encoding, lines) in cases {
        let props = run(bytes, false)?;
        assert_eq!(
            (props.encoding, props.line_count),
            (Some(encoding), Some(lines)),
            "{bytes:?}"
        );
        assert_eq!(props.columns, None);
    }
    Ok(())
}

#[test]
fn utf16_with_bom() -> Result<(), InspectError> {
    let props = run(&utf16("a\tb\tc\r\nx\r\ny", true), true)?;
    assert_eq!(
        summary(&props),
        (Some(TextEncoding::Utf16Le), Some(3), Some(3), Some("\t"))
    );
    let props = run(&utf16("ä;b\nx", false), true)?;
    assert_eq!(
        summary(&props),
        (Some(TextEncoding::Utf16Be), Some(2), Some(2), Some(";"))
    );
    Ok(())
}

#[test]
fn line_endings() -> Result<(), InspectError> {
    for (bytes, lines) in [
        (&b"a\r\nb\r\n"[..], 2),
        (b"a\rb\rc", 3),
        (b"a\n\nb", 3),
        (b"\n", 1),
        (b"x", 1),
    ] {
        assert_eq!(run(bytes, false)?.line_count, Some(lines), "{bytes:?}");
    }
    Ok(())
}

#[test]
fn csv_first_record_honours_quotes() -> Result<(), InspectError> {
    let props = run(
        b"\xef\xbb\xbf\"a,b\";\"c\nd\";\"e\"\"f\"\r\n1;2;3\r\n",
        true,
    )?;
    assert_eq!(
        summary(&props),
        (Some(TextEncoding::Utf8Bom), Some(3), Some(3), Some(";"))
    );
    let props = run(b"single\n1\n", true)?;
    assert_eq!((props.columns, props.delimiter), (Some(1), None));
    Ok(())
}

#[test]
fn chunk_boundaries_split_nothing() -> Result<(), InspectError> {
    // A two-byte character and a CRLF straddling the 64 KiB chunk edge.
    let mut bytes = vec![b'a'; CHUNK - 1];
    bytes.extend_from_slice("é\n".as_bytes());
    bytes.extend(vec![b'b'; CHUNK - 1 - 3]);
    bytes.extend_from_slice(b"\r\nz");
    let props = run(&bytes, false)?;
    assert_eq!(
        (props.encoding, props.line_count),
        (Some(TextEncoding::Utf8), Some(3))
    );
    // The same in UTF-16, with the odd byte of a unit at the edge.
    let text = format!(
        "{}é\n{}\r\nz",
        "a".repeat(CHUNK / 2),
        "b".repeat(CHUNK / 2 + 7)
    );
    let props = run(&utf16(&text, true), false)?;
    assert_eq!(
        (props.encoding, props.line_count),
        (Some(TextEncoding::Utf16Le), Some(3))
    );
    Ok(())
}

#[test]
fn long_files_are_sampled() -> Result<(), InspectError> {
    let limits = Limits {
        text_sample_bytes: 9,
        ..Limits::default()
    };
    // The sample ends inside "é": that is not a reason to call it Latin-1.
    let props = inspect(
        Cursor::new("1\n2\n3\n45é\n6\n7\n".as_bytes()),
        &limits,
        false,
    )?;
    assert_eq!(
        (props.line_count, props.text_truncated),
        (Some(4), Some(true))
    );
    assert_eq!(props.encoding, Some(TextEncoding::Utf8));
    Ok(())
}
