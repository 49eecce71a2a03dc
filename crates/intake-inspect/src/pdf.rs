//! PDF: page count, per-page sizes, version, encryption, JavaScript and
//! embedded files, using `lopdf`.
//!
//! lopdf parses the whole file in memory, so files over
//! `Limits::max_pdf_bytes` are refused before reading, object and
//! cross-reference streams may inflate to at most `max_pdf_stream_bytes`
//! each, and documents with more than `max_pdf_objects` objects are refused.
//! Page content streams are never inflated.
//!
//! Encrypted files: lopdf opens those with an empty user password (most
//! "owner password only" PDFs) fully. For the others it loads no objects at
//! all, so the file is parsed a second time with its `/Encrypt` keys renamed
//! to `/Encryp_` (same length, so every offset holds): lopdf then reads the
//! structure as plain. Encryption covers only strings and streams, so the
//! page tree and action dictionaries read fine; objects inside (encrypted)
//! object streams are lost, and then the page count is unknown. Either way
//! `encrypted` is `true` and the file is accepted.
//!
//! The page tree walk keeps a visited set, so loops and shared kids end it
//! rather than hang it; each object is visited at most once.

use crate::{InspectError, Limits, PageSize, Properties};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use std::collections::HashSet;
use std::io::{Read, Seek};

/// Used when no page in the chain has a usable MediaBox (required by the
/// spec; viewers fall back to US Letter too).
const LETTER: [f64; 4] = [0.0, 0.0, 612.0, 792.0];

pub(crate) fn inspect<R: Read + Seek>(
    reader: R,
    size: u64,
    limits: &Limits,
) -> Result<Properties, InspectError> {
    if size > limits.max_pdf_bytes {
        return Err(InspectError::limit(format!(
            "PDF of {size} bytes is over the {} byte limit",
            limits.max_pdf_bytes
        )));
    }
    let mut buffer = Vec::new();
    // `size` may be wrong; the take() is what actually bounds memory.
    reader
        .take(limits.max_pdf_bytes.saturating_add(1))
        .read_to_end(&mut buffer)?;
    if buffer.len() as u64 > limits.max_pdf_bytes {
        return Err(InspectError::limit("PDF is over the size limit"));
    }
    let options = LoadOptions {
        max_decompressed_size: Some(
            usize::try_from(limits.max_pdf_stream_bytes).unwrap_or(usize::MAX),
        ),
        ..LoadOptions::default()
    };
    let mut doc = Document::load_mem_with_options(&buffer, options.clone()).map_err(load_error)?;
    let encrypted = is_encrypted(&doc);
    if encrypted && catalog(&doc).is_err() {
        hide_encryption(&mut buffer);
        doc = Document::load_mem_with_options(&buffer, options).map_err(load_error)?;
    }
    drop(buffer);
    if doc.objects.len() > limits.max_pdf_objects {
        return Err(InspectError::limit(format!(
            "PDF has {} objects, over the {} limit",
            doc.objects.len(),
            limits.max_pdf_objects
        )));
    }
    describe(&doc, encrypted, limits)
}

/// Renames every `/Encrypt` key so lopdf does not try to decrypt.
fn hide_encryption(buffer: &mut [u8]) {
    const KEY: &[u8] = b"/Encrypt";
    let mut at = 0;
    while let Some(found) = buffer
        .get(at..)
        .and_then(|rest| rest.windows(KEY.len()).position(|w| w == KEY))
    {
        let end = at + found + KEY.len();
        // Only the whole name, not a longer one such as /EncryptMetadata.
        let delimiter = buffer.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        if let Some(last) = buffer.get_mut(end - 1).filter(|_| delimiter) {
            *last = b'_';
        }
        at = end;
    }
}

fn catalog(doc: &Document) -> lopdf::Result<&Dictionary> {
    let root = doc.trailer.get(b"Root")?;
    doc.dereference(root)?.1.as_dict()
}

fn load_error(err: lopdf::Error) -> InspectError {
    match err {
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { .. }) => {
            InspectError::limit(format!("PDF stream inflates past the limit: {err}"))
        }
        lopdf::Error::IO(io) => InspectError::from(io),
        other => InspectError::unrenderable(format!("PDF does not parse: {other}")),
    }
}

fn describe(doc: &Document, encrypted: bool, limits: &Limits) -> Result<Properties, InspectError> {
    let root = match catalog(doc) {
        Ok(root) => root,
        // The catalog sat in an encrypted object stream: nothing to read.
        Err(_) if encrypted => {
            let version = Some(doc.version.clone());
            return Ok(Properties {
                encrypted: Some(true),
                pdf_version: version,
                ..Properties::default()
            });
        }
        Err(_) => return Err(InspectError::unrenderable("PDF has no document catalog")),
    };
    let pages_root = root
        .get(b"Pages")
        .and_then(Object::as_reference)
        .map_err(|_| InspectError::unrenderable("PDF catalog has no page tree"))?;
    let walk = walk_pages(doc, pages_root, limits.max_pages);
    if walk.pages == 0 && !encrypted {
        return Err(InspectError::unrenderable("PDF has no pages"));
    }
    let (has_javascript, has_embedded_files) = scan_actions(doc);
    Ok(Properties {
        pages: (walk.pages > 0).then(|| u32::try_from(walk.pages).unwrap_or(u32::MAX)),
        page_sizes_truncated: (walk.pages > walk.sizes.len()).then_some(true),
        page_sizes: walk.sizes,
        pdf_version: Some(version(doc, root)),
        encrypted: Some(encrypted),
        has_javascript: Some(has_javascript),
        has_embedded_files: Some(has_embedded_files),
        ..Properties::default()
    })
}

fn is_encrypted(doc: &Document) -> bool {
    doc.is_encrypted() || doc.was_encrypted()
}

/// The header version, or the catalog's /Version when that is newer
/// (PDF 1.4 lets an incremental update raise it there).
fn version(doc: &Document, root: &Dictionary) -> String {
    let header = doc.version.clone();
    let catalog = root
        .get(b"Version")
        .and_then(Object::as_name)
        .ok()
        .map(|name| String::from_utf8_lossy(name).into_owned());
    match catalog {
        Some(v) if v.len() <= 8 && v.as_str() > header.as_str() => v,
        _ => header,
    }
}

/// Attributes a page inherits from its ancestors (ISO 32000-1, 7.7.3.4).
#[derive(Clone, Copy, Default)]
struct Inherited {
    media_box: Option<[f64; 4]>,
    crop_box: Option<[f64; 4]>,
    rotate: Option<i64>,
}

struct Walk {
    pages: usize,
    sizes: Vec<PageSize>,
}

fn walk_pages(doc: &Document, root: ObjectId, max_sizes: usize) -> Walk {
    let mut walk = Walk {
        pages: 0,
        sizes: Vec::new(),
    };
    let mut visited = HashSet::new();
    let mut stack = vec![(root, Inherited::default())];
    while let Some((id, inherited)) = stack.pop() {
        if !visited.insert(id) {
            continue; // a loop or a kid listed twice
        }
        let Ok(node) = doc.get_dictionary(id) else {
            continue;
        };
        let here = Inherited {
            media_box: rect(doc, node, b"MediaBox").or(inherited.media_box),
            crop_box: rect(doc, node, b"CropBox").or(inherited.crop_box),
            rotate: number(doc, node.get(b"Rotate").ok())
                .map(|r| r as i64)
                .or(inherited.rotate),
        };
        let kids = node.get(b"Kids").and_then(|kids| doc.dereference(kids));
        match kids {
            Ok((_, Object::Array(kids))) if !node.has_type(b"Page") => {
                // Reversed so the stack pops them in document order.
                for kid in kids.iter().rev() {
                    if let Ok(kid) = kid.as_reference() {
                        stack.push((kid, here));
                    }
                }
            }
            _ if node.has_type(b"Pages") => {} // a page tree node without kids
            // Producers sometimes omit /Type on pages; count those too.
            _ if node.has(b"Type") && !node.has_type(b"Page") => {}
            _ => {
                walk.pages += 1;
                if walk.sizes.len() < max_sizes {
                    walk.sizes.push(page_size(doc, node, here));
                }
            }
        }
    }
    walk
}

fn page_size(doc: &Document, page: &Dictionary, attrs: Inherited) -> PageSize {
    let media_box = attrs.media_box.unwrap_or(LETTER);
    let visible = match attrs.crop_box {
        Some(crop) => intersect(crop, media_box).unwrap_or(media_box),
        None => media_box,
    };
    let unit = number(doc, page.get(b"UserUnit").ok())
        .filter(|u| *u > 0.0 && u.is_finite())
        .unwrap_or(1.0);
    let rotation = match attrs.rotate.unwrap_or(0).rem_euclid(360) {
        r @ (90 | 180 | 270) => r as u16,
        _ => 0, // 0, or not a multiple of 90 (invalid; viewers ignore it)
    };
    let (mut width, mut height) = (
        (visible[2] - visible[0]).abs() * unit,
        (visible[3] - visible[1]).abs() * unit,
    );
    if rotation == 90 || rotation == 270 {
        std::mem::swap(&mut width, &mut height);
    }
    PageSize {
        width_pt: round2(width),
        height_pt: round2(height),
        width_in: round2(width / 72.0),
        height_in: round2(height / 72.0),
        rotation,
        media_box,
        crop_box: attrs.crop_box,
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The overlap of two rectangles given as `[llx, lly, urx, ury]` in any
/// corner order, or `None` when they do not overlap.
fn intersect(a: [f64; 4], b: [f64; 4]) -> Option<[f64; 4]> {
    let (a, b) = (normalize(a), normalize(b));
    let out = [
        a[0].max(b[0]),
        a[1].max(b[1]),
        a[2].min(b[2]),
        a[3].min(b[3]),
    ];
    (out[2] > out[0] && out[3] > out[1]).then_some(out)
}

fn normalize(r: [f64; 4]) -> [f64; 4] {
    [
        r[0].min(r[2]),
        r[1].min(r[3]),
        r[0].max(r[2]),
        r[1].max(r[3]),
    ]
}

fn rect(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<[f64; 4]> {
    let (_, value) = doc.dereference(dict.get(key).ok()?).ok()?;
    let items = value.as_array().ok()?;
    if items.len() != 4 {
        return None;
    }
    let mut out = [0.0; 4];
    for (slot, item) in out.iter_mut().zip(items) {
        *slot = number(doc, Some(item))?;
    }
    Some(out)
}

fn number(doc: &Document, value: Option<&Object>) -> Option<f64> {
    let (_, value) = doc.dereference(value?).ok()?;
    let n = f64::from(value.as_float().ok()?);
    n.is_finite().then_some(n)
}

/// Looks through every object, and the dictionaries nested in it, for
/// JavaScript actions (`/S /JavaScript`, a `/JS` entry, a `/JavaScript`
/// names tree) and embedded files (`/EmbeddedFiles` names tree, `/EF` file
/// specifications). Scanning all objects rather than following the catalog,
/// pages and annotations catches actions hidden in form fields, outlines or
/// nested /Next chains; an unreferenced object can give a false positive,
/// which is the safe side for these flags.
fn scan_actions(doc: &Document) -> (bool, bool) {
    let (mut javascript, mut embedded) = (false, false);
    for object in doc.objects.values() {
        // Explicit stack: nesting is bounded by the parser, but no recursion
        // keeps that from mattering.
        let mut stack = vec![object];
        while let Some(object) = stack.pop() {
            let dict = match object {
                Object::Dictionary(dict) => dict,
                Object::Stream(stream) => &stream.dict,
                Object::Array(items) => {
                    stack.extend(items.iter());
                    continue;
                }
                _ => continue,
            };
            for (key, value) in dict.iter() {
                match key.as_slice() {
                    b"JS" | b"JavaScript" => javascript = true,
                    b"S" if matches!(value, Object::Name(n) if n == b"JavaScript") => {
                        javascript = true
                    }
                    b"EmbeddedFiles" | b"EF" => embedded = true,
                    _ => {}
                }
                stack.push(value);
            }
            if javascript && embedded {
                return (true, true);
            }
        }
    }
    (javascript, embedded)
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
