//! Packages are built here with the zip writer; each holds only the parts
//! the inspector reads.

use super::*;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const CONTENT_TYPES: &str = r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

fn package(parts: &[(&str, &[u8])]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        writer.start_file(*name, options)?;
        writer.write_all(data)?;
    }
    Ok(writer.finish()?.into_inner())
}

fn run(format: Format, bytes: &[u8], limits: &Limits) -> Result<Properties, InspectError> {
    crate::inspect(format, Cursor::new(bytes), bytes.len() as u64, limits)
}

fn app(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">{inner}</Properties>"#
    )
}

#[test]
fn docx_pages_from_app_xml() -> TestResult {
    let app = app("<Application>Word</Application><Pages>7</Pages><Words>12</Words>");
    let bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
        ("word/document.xml", b"<w:document/>"),
    ])?;
    let props = run(Format::Docx, &bytes, &Limits::default())?;
    assert_eq!((props.pages, props.macros), (Some(7), Some(false)));
    Ok(())
}

#[test]
fn docx_without_app_xml_has_no_page_count() -> TestResult {
    let bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", b"<w:document/>"),
    ])?;
    let props = run(Format::Docx, &bytes, &Limits::default())?;
    assert_eq!((props.pages, props.macros), (None, Some(false)));
    Ok(())
}

#[test]
fn macros_from_vba_project_or_content_type() -> TestResult {
    let vba = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0"),
    ])?;
    assert_eq!(
        run(Format::Docx, &vba, &Limits::default())?.macros,
        Some(true)
    );
    let types = CONTENT_TYPES.replace("document.main+xml", "document.macroEnabled.main+xml");
    let typed = package(&[("[Content_Types].xml", types.as_bytes())])?;
    assert_eq!(
        run(Format::Docx, &typed, &Limits::default())?.macros,
        Some(true)
    );
    Ok(())
}

#[test]
fn xlsx_counts_sheets() -> TestResult {
    let workbook = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="r"><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="2" r:id="rId2"/><sheet name="C &amp; D" sheetId="3" r:id="rId3"/></sheets><definedNames><definedName name="x">A!$A$1</definedName></definedNames></workbook>"#;
    let bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
    ])?;
    let props = run(Format::Xlsx, &bytes, &Limits::default())?;
    assert_eq!(
        (props.sheets, props.pages, props.slides),
        (Some(3), Some(3), None)
    );
    Ok(())
}

#[test]
fn pptx_counts_slide_ids_over_app_xml() -> TestResult {
    let presentation = r#"<p:presentation xmlns:p="p" xmlns:r="r"><p:sldMasterIdLst><p:sldMasterId id="1" r:id="rId1"/></p:sldMasterIdLst><p:sldIdLst><p:sldId id="256" r:id="rId2"/><p:sldId id="257" r:id="rId3"/></p:sldIdLst></p:presentation>"#;
    let app = app("<Slides>9</Slides>");
    let parts: [(&str, &[u8]); 3] = [
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("docProps/app.xml", app.as_bytes()),
        ("ppt/presentation.xml", presentation.as_bytes()),
    ];
    let props = run(Format::Pptx, &package(&parts)?, &Limits::default())?;
    assert_eq!((props.slides, props.pages), (Some(2), Some(2)));
    // Without presentation.xml the recorded statistic is used.
    let props = run(Format::Pptx, &package(&parts[..2])?, &Limits::default())?;
    assert_eq!(props.slides, Some(9));
    Ok(())
}

const META: &str = r#"<office:document-meta xmlns:office="o" xmlns:meta="m"><office:meta><meta:document-statistic meta:page-count="4" meta:table-count="5" meta:word-count="100"/></office:meta></office:document-meta>"#;

#[test]
fn odt_pages_and_basic_macros() -> TestResult {
    let plain = package(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<office:document-content/>"),
        ("meta.xml", META.as_bytes()),
    ])?;
    let props = run(Format::Odt, &plain, &Limits::default())?;
    assert_eq!((props.pages, props.macros), (Some(4), Some(false)));
    let with_basic = package(&[
        ("content.xml", b"<x/>"),
        ("Basic/script-lc.xml", b"<x/>"),
        ("Basic/Standard/Module1.xml", b"<x/>"),
    ])?;
    assert_eq!(
        run(Format::Odt, &with_basic, &Limits::default())?.macros,
        Some(true)
    );
    let index_only = package(&[("content.xml", b"<x/>"), ("Basic/script-lc.xml", b"<x/>")])?;
    assert_eq!(
        run(Format::Odt, &index_only, &Limits::default())?.macros,
        Some(false)
    );
    Ok(())
}

#[test]
fn ods_and_odp_count_from_content() -> TestResult {
    let ods = r#"<office:document-content xmlns:office="o" xmlns:table="t"><office:body><office:spreadsheet><table:table table:name="A"><table:table-row/></table:table><table:table table:name="B"/></office:spreadsheet></office:body></office:document-content>"#;
    let props = run(
        Format::Ods,
        &package(&[
            ("content.xml", ods.as_bytes()),
            ("meta.xml", META.as_bytes()),
        ])?,
        &Limits::default(),
    )?;
    assert_eq!((props.sheets, props.pages), (Some(2), Some(2)));
    let odp = r#"<office:document-content xmlns:office="o" xmlns:draw="d"><office:body><office:presentation><draw:page/><draw:page/><draw:page><draw:frame/></draw:page></office:presentation></office:body></office:document-content>"#;
    let props = run(
        Format::Odp,
        &package(&[("content.xml", odp.as_bytes())])?,
        &Limits::default(),
    )?;
    assert_eq!((props.slides, props.pages), (Some(3), Some(3)));
    Ok(())
}

#[test]
fn highly_compressed_entry_is_a_bomb() -> TestResult {
    // 4 MiB of zeros deflate to a few KiB: a ratio near 1000:1.
    let zeros = vec![0u8; 4 << 20];
    let bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", &zeros),
    ])?;
    let result = run(Format::Docx, &bytes, &Limits::default());
    assert!(
        matches!(result, Err(InspectError::LimitExceeded(_))),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn declared_total_and_entry_count_are_limited() -> TestResult {
    let text = vec![b'a'; 3000];
    let bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("a", &text),
        ("b", b"1"),
        ("c", b"2"),
    ])?;
    let small_total = Limits {
        zip_max_total_uncompressed: 2000,
        ..Limits::default()
    };
    assert!(matches!(
        run(Format::Docx, &bytes, &small_total),
        Err(InspectError::LimitExceeded(_))
    ));
    let few = Limits {
        zip_max_entries: 3,
        ..Limits::default()
    };
    assert!(matches!(
        run(Format::Docx, &bytes, &few),
        Err(InspectError::LimitExceeded(_))
    ));
    let small_xml = Limits {
        max_xml_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        run(Format::Docx, &bytes, &small_xml),
        Err(InspectError::LimitExceeded(_))
    ));
    Ok(())
}

/// Rewrites the uncompressed size that both headers of entry `name` declare.
fn lie_about_size(bytes: &mut [u8], name: &[u8], size: u32) {
    for at in 0..bytes.len().saturating_sub(46) {
        let (name_at, size_at) = match &bytes[at..at + 4] {
            b"PK\x03\x04" => (at + 30, at + 22),
            b"PK\x01\x02" => (at + 46, at + 24),
            _ => continue,
        };
        if bytes.get(name_at..name_at + name.len()) == Some(name) {
            bytes[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
}

#[test]
fn entry_inflating_past_its_declared_size_is_cut_off() -> TestResult {
    let padded = app(&format!("<Pages>3</Pages>{}", " ".repeat(300_000)));
    let mut bytes = package(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("docProps/app.xml", padded.as_bytes()),
    ])?;
    lie_about_size(&mut bytes, b"docProps/app.xml", 200);
    let result = run(Format::Docx, &bytes, &Limits::default());
    assert!(
        matches!(result, Err(InspectError::LimitExceeded(_))),
        "{result:?}"
    );
    Ok(())
}

#[test]
fn broken_packages_are_unrenderable() -> TestResult {
    let no_types = package(&[("word/document.xml", b"<x/>")])?;
    let bad_xml = package(&[("[Content_Types].xml", b"<Types><Default></Types>")])?;
    let no_content = package(&[("meta.xml", META.as_bytes())])?;
    let cases: [(Format, &[u8]); 5] = [
        (Format::Docx, b"PK\x03\x04 not really"),
        (Format::Docx, &no_types),
        (Format::Docx, &bad_xml),
        (Format::Odt, &no_content),
        (Format::Docx, &no_types[..no_types.len() - 10]),
    ];
    for (format, bytes) in cases {
        let result = run(format, bytes, &Limits::default());
        assert!(
            matches!(result, Err(InspectError::Unrenderable(_))),
            "{result:?}"
        );
    }
    Ok(())
}

#[test]
fn plain_zip_reports_its_entry_count() -> TestResult {
    let bytes = package(&[("a", b"1"), ("b", b"2")])?;
    assert_eq!(
        run(Format::Zip, &bytes, &Limits::default())?.entries,
        Some(2)
    );
    Ok(())
}
