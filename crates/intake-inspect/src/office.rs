//! OOXML (docx, xlsx, pptx) and ODF (odt, ods, odp): page, sheet and slide
//! counts, and whether the document carries macros.
//!
//! The container is opened through [`crate::zipguard`], so a decompression
//! bomb is refused from its declared sizes or cut off while reading. XML is
//! read with quick-xml, which streams and never expands DTD entities, so
//! memory stays at one element's worth whatever the part's size.
//!
//! Where the numbers come from:
//! - docx: `docProps/app.xml` `<Pages>`, which Word writes when it saves;
//!   absent for files made by other tools (then `pages` is absent).
//! - xlsx: `<sheet>` elements in `xl/workbook.xml`.
//! - pptx: `<p:sldId>` in `ppt/presentation.xml`, else app.xml `<Slides>`.
//! - odt: `meta.xml` `meta:document-statistic/@meta:page-count`.
//! - ods / odp: the `table:table` / `draw:page` elements of `content.xml`,
//!   else the statistic's table-count / page-count.
//!
//! Parts are looked up at their conventional paths rather than through the
//! package relationships; every producer in use writes them there.
//!
//! Macros: a `vbaProject.bin` anywhere or a `macroEnabled` content type
//! (OOXML); a Basic module or script under `Basic/` or `Scripts/` (ODF).

use crate::zipguard::{self, with_entry};
use crate::{InspectError, Limits, Properties};
use intake_core::Format;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use std::io::{BufRead, Read, Seek};
use zip::ZipArchive;

/// Deeper XML than this is refused rather than tracked.
const MAX_DEPTH: usize = 512;

pub(crate) fn inspect<R: Read + Seek>(
    format: Format,
    reader: R,
    _size: u64,
    limits: &Limits,
) -> Result<Properties, InspectError> {
    let mut archive = zipguard::open(reader, limits)?;
    match format {
        Format::Docx | Format::Xlsx | Format::Pptx => ooxml(format, &mut archive, limits),
        _ => odf(format, &mut archive, limits),
    }
}

fn ooxml<R: Read + Seek>(
    format: Format,
    archive: &mut ZipArchive<R>,
    limits: &Limits,
) -> Result<Properties, InspectError> {
    let mut macros = archive
        .file_names()
        .flatten()
        .any(|name| name.to_ascii_lowercase().ends_with("vbaproject.bin"));
    let types = with_entry(archive, "[Content_Types].xml", limits, |xml| {
        let mut enabled = false;
        scan_xml(xml, |_, element| {
            if let Element::Open { attributes, .. } = element {
                enabled |= attribute(attributes, "ContentType")
                    .is_some_and(|t| t.to_ascii_lowercase().contains("macroenabled"));
            }
        })?;
        Ok(enabled)
    })?;
    let Some(macro_types) = types else {
        return Err(InspectError::unrenderable(
            "no [Content_Types].xml: not an OOXML package",
        ));
    };
    macros |= macro_types;

    let app = with_entry(archive, "docProps/app.xml", limits, |xml| {
        let (mut pages, mut slides) = (None, None);
        scan_xml(xml, |path, element| {
            if let Element::Text(text) = element {
                match path.last().map(String::as_str) {
                    Some("Pages") => pages = number(text),
                    Some("Slides") => slides = number(text),
                    _ => {}
                }
            }
        })?;
        Ok((pages, slides))
    })?
    .unwrap_or_default();

    let mut props = Properties {
        macros: Some(macros),
        ..Properties::default()
    };
    match format {
        Format::Xlsx => {
            let sheets = count_elements(archive, "xl/workbook.xml", limits, "sheets", "sheet")?;
            props.sheets = sheets;
            props.pages = sheets;
        }
        Format::Pptx => {
            let listed =
                count_elements(archive, "ppt/presentation.xml", limits, "sldIdLst", "sldId")?;
            props.slides = listed.or(app.1);
            props.pages = props.slides;
        }
        _ => props.pages = app.0,
    }
    Ok(props)
}

fn odf<R: Read + Seek>(
    format: Format,
    archive: &mut ZipArchive<R>,
    limits: &Limits,
) -> Result<Properties, InspectError> {
    let macros = archive
        .file_names()
        .flatten()
        .any(|name| is_odf_macro(&name));
    let stats = with_entry(archive, "meta.xml", limits, |xml| {
        let (mut pages, mut tables) = (None, None);
        scan_xml(xml, |_, element| {
            if let Element::Open {
                name: "document-statistic",
                attributes,
            } = element
            {
                pages = attribute(attributes, "page-count")
                    .as_deref()
                    .and_then(number);
                tables = attribute(attributes, "table-count")
                    .as_deref()
                    .and_then(number);
            }
        })?;
        Ok((pages, tables))
    })?
    .unwrap_or_default();

    let mut props = Properties {
        macros: Some(macros),
        ..Properties::default()
    };
    let (body, child) = match format {
        Format::Ods => ("spreadsheet", "table"),
        Format::Odp => ("presentation", "page"),
        _ => {
            if archive.index_for_name("content.xml").is_none() {
                return Err(InspectError::unrenderable(
                    "no content.xml: not an ODF package",
                ));
            }
            props.pages = stats.0;
            return Ok(props);
        }
    };
    let counted = count_elements(archive, "content.xml", limits, body, child)?;
    let Some(counted) = counted else {
        return Err(InspectError::unrenderable(
            "no content.xml: not an ODF package",
        ));
    };
    let count = Some(counted)
        .filter(|c| *c > 0)
        .or(if format == Format::Ods {
            stats.1
        } else {
            stats.0
        });
    if format == Format::Ods {
        props.sheets = count;
    } else {
        props.slides = count;
    }
    props.pages = count;
    Ok(props)
}

/// A Basic module or script: anything under `Basic/` or `Scripts/` other
/// than the library index files LibreOffice writes for empty libraries.
fn is_odf_macro(name: &str) -> bool {
    let in_dir = name.starts_with("Basic/") || name.starts_with("Scripts/");
    let index = name.ends_with("script-lc.xml") || name.ends_with("script-lb.xml");
    in_dir && !index && !name.ends_with('/')
}

/// Counts `child` elements directly inside a `parent` element, by local
/// name; `None` when the part does not exist.
fn count_elements<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    part: &str,
    limits: &Limits,
    parent: &str,
    child: &str,
) -> Result<Option<u32>, InspectError> {
    with_entry(archive, part, limits, |xml| {
        let mut count: u32 = 0;
        scan_xml(xml, |path, element| {
            if let Element::Open { name, .. } = element {
                let in_parent =
                    path.len() >= 2 && path.get(path.len() - 2).is_some_and(|p| p == parent);
                if name == child && in_parent {
                    count = count.saturating_add(1);
                }
            }
        })?;
        Ok(count)
    })
}

fn number(text: &str) -> Option<u32> {
    text.trim().parse().ok()
}

enum Element<'a> {
    /// A start or empty element; its local name is also last in the path.
    Open {
        name: &'a str,
        attributes: &'a BytesStart<'a>,
    },
    /// Text directly inside the element last in the path.
    Text(&'a str),
}

/// The value of the attribute with this local name, unescaped.
fn attribute(element: &BytesStart<'_>, local: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == local)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

/// Streams `xml`, calling `visit` with the path of local names from the
/// root to the current element (inclusive) and the element or text.
fn scan_xml(
    xml: &mut dyn BufRead,
    mut visit: impl FnMut(&[String], Element<'_>),
) -> Result<(), InspectError> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).map_err(xml_error)? {
            Event::Start(start) => {
                if path.len() >= MAX_DEPTH {
                    return Err(InspectError::unrenderable("XML nested too deeply"));
                }
                path.push(start.local_name().into_inner().to_owned());
                visit(
                    &path,
                    Element::Open {
                        name: start.local_name().into_inner(),
                        attributes: &start,
                    },
                );
            }
            Event::Empty(start) => {
                path.push(start.local_name().into_inner().to_owned());
                visit(
                    &path,
                    Element::Open {
                        name: start.local_name().into_inner(),
                        attributes: &start,
                    },
                );
                path.pop();
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(text) => visit(&path, Element::Text(&text)),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn xml_error(err: quick_xml::Error) -> InspectError {
    match err {
        quick_xml::Error::Io(io) => {
            InspectError::from(std::io::Error::new(io.kind(), io.to_string()))
        }
        other => InspectError::unrenderable(format!("XML: {other}")),
    }
}

#[cfg(test)]
#[path = "office_tests.rs"]
mod tests;
