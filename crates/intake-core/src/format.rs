//! File formats intake knows by name. The *detected* format comes from the
//! bytes (see `intake-ingest`'s sniffer); the *declared* one from the client's
//! content type or file extension. `reconcile` decides whether they agree.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Png,
    Jpeg,
    Gif,
    Tiff,
    Webp,
    Bmp,
    Docx,
    Xlsx,
    Pptx,
    Odt,
    Ods,
    Odp,
    /// OLE compound file whose application could not be told from the bytes.
    Ole,
    Doc,
    Xls,
    Ppt,
    Pub,
    Zip,
    Text,
    Csv,
    /// Bytes that match no known signature.
    Binary,
}

/// (format, name, canonical MIME type, extensions)
const TABLE: &[(Format, &str, &str, &[&str])] = &[
    (Format::Pdf, "pdf", "application/pdf", &["pdf"]),
    (Format::Png, "png", "image/png", &["png"]),
    (
        Format::Jpeg,
        "jpeg",
        "image/jpeg",
        &["jpg", "jpeg", "jpe", "jfif"],
    ),
    (Format::Gif, "gif", "image/gif", &["gif"]),
    (Format::Tiff, "tiff", "image/tiff", &["tif", "tiff"]),
    (Format::Webp, "webp", "image/webp", &["webp"]),
    (Format::Bmp, "bmp", "image/bmp", &["bmp"]),
    (
        Format::Docx,
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
    ),
    (
        Format::Xlsx,
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
    ),
    (
        Format::Pptx,
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
    ),
    (
        Format::Odt,
        "odt",
        "application/vnd.oasis.opendocument.text",
        &["odt"],
    ),
    (
        Format::Ods,
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        &["ods"],
    ),
    (
        Format::Odp,
        "odp",
        "application/vnd.oasis.opendocument.presentation",
        &["odp"],
    ),
    (Format::Ole, "ole", "application/x-ole-storage", &[]),
    (Format::Doc, "doc", "application/msword", &["doc"]),
    (Format::Xls, "xls", "application/vnd.ms-excel", &["xls"]),
    (
        Format::Ppt,
        "ppt",
        "application/vnd.ms-powerpoint",
        &["ppt"],
    ),
    (Format::Pub, "pub", "application/x-mspublisher", &["pub"]),
    (Format::Zip, "zip", "application/zip", &["zip"]),
    (Format::Text, "text", "text/plain", &["txt", "text"]),
    (Format::Csv, "csv", "text/csv", &["csv"]),
    (Format::Binary, "binary", "application/octet-stream", &[]),
];

impl Format {
    fn row(self) -> &'static (Format, &'static str, &'static str, &'static [&'static str]) {
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .unwrap_or(&TABLE[TABLE.len() - 1])
    }

    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    pub fn mime(self) -> &'static str {
        self.row().2
    }

    /// By name (`pdf`), MIME type, or extension; case-insensitive.
    pub fn parse(s: &str) -> Option<Format> {
        let s = s.trim().to_ascii_lowercase();
        TABLE
            .iter()
            .find(|(_, name, mime, exts)| *name == s || *mime == s || exts.contains(&s.as_str()))
            .map(|row| row.0)
    }

    pub fn from_extension(filename: &str) -> Option<Format> {
        let (_, ext) = filename.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        TABLE
            .iter()
            .find(|row| row.3.contains(&ext.as_str()))
            .map(|row| row.0)
    }

    /// From a Content-Type header value; parameters are ignored. Generic
    /// types (`application/octet-stream`) declare nothing.
    pub fn from_mime(content_type: &str) -> Option<Format> {
        let essence = content_type.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "" | "application/octet-stream" | "binary/octet-stream" => None,
            "image/jpg" | "image/pjpeg" => Some(Format::Jpeg),
            "application/x-pdf" => Some(Format::Pdf),
            "application/csv" | "text/comma-separated-values" => Some(Format::Csv),
            "application/x-zip-compressed" => Some(Format::Zip),
            "application/vnd.ms-publisher" => Some(Format::Pub),
            _ => TABLE.iter().find(|row| row.2 == essence).map(|row| row.0),
        }
    }

    pub fn all() -> impl Iterator<Item = Format> {
        TABLE.iter().map(|row| row.0)
    }

    /// Whether bytes sniffed as `self` can honestly be a file of format
    /// `declared`. Containers are generic: an OLE file may be a doc, xls, ppt
    /// or pub; a ZIP may be an OOXML or ODF document whose marker lies past
    /// the sniffed head; CSV is text.
    fn admits(self, declared: Format) -> bool {
        use Format::*;
        self == declared
            || matches!(
                (self, declared),
                (Ole, Doc | Xls | Ppt | Pub)
                    | (Zip, Docx | Xlsx | Pptx | Odt | Ods | Odp)
                    | (Text, Csv)
            )
    }

    /// What the bytes alone can tell apart: a refined format's container
    /// (`docx` → `zip`, `doc` → `ole`, `csv` → `text`), others themselves.
    pub fn family(self) -> Format {
        use Format::*;
        match self {
            Doc | Xls | Ppt | Pub => Ole,
            Docx | Xlsx | Pptx | Odt | Ods | Odp => Zip,
            Csv => Text,
            other => other,
        }
    }

    /// The format to record for a part: every declaration (content type,
    /// file name extension) must be one the bytes admit, and the content
    /// type's refinement wins over the extension's. `Err` is the first
    /// declaration the bytes contradict.
    pub fn decide(
        detected: Format,
        content_type: Option<&str>,
        filename: Option<&str>,
    ) -> Result<Format, Format> {
        let declared_type = content_type.and_then(Format::from_mime);
        let declared_ext = filename.and_then(Format::from_extension);
        let mut decided = None;
        for declared in [declared_type, declared_ext].into_iter().flatten() {
            let format = Format::reconcile(detected, Some(declared)).ok_or(declared)?;
            decided.get_or_insert(format);
        }
        Ok(decided.unwrap_or(detected))
    }

    /// Decides the format to record from what the bytes show and what the
    /// client declared. Returns the refined format (the declared one when the
    /// bytes admit it), or None when the bytes contradict the declaration.
    pub fn reconcile(detected: Format, declared: Option<Format>) -> Option<Format> {
        match declared {
            None => Some(detected),
            Some(declared) if detected.admits(declared) => Some(declared),
            Some(_) => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_mimes_and_extensions() {
        assert_eq!(Format::parse("PDF"), Some(Format::Pdf));
        assert_eq!(Format::parse("jpg"), Some(Format::Jpeg));
        assert_eq!(Format::parse("image/png"), Some(Format::Png));
        assert_eq!(
            Format::from_extension("Letter.final.PDF"),
            Some(Format::Pdf)
        );
        assert_eq!(Format::from_extension("noext"), None);
        assert_eq!(
            Format::from_mime("application/pdf; charset=binary"),
            Some(Format::Pdf)
        );
        assert_eq!(Format::from_mime("application/octet-stream"), None);
    }

    #[test]
    fn decide_checks_every_declaration_against_the_bytes() {
        assert_eq!(
            Format::decide(
                Format::Zip,
                Some("application/octet-stream"),
                Some("a.docx")
            ),
            Ok(Format::Docx)
        );
        assert_eq!(
            Format::decide(Format::Text, Some("text/plain"), Some("document.pdf")),
            Err(Format::Pdf)
        );
        assert_eq!(
            Format::decide(Format::Pdf, Some("image/png"), Some("a.pdf")),
            Err(Format::Png)
        );
        assert_eq!(Format::decide(Format::Png, None, None), Ok(Format::Png));
        // A recorded refinement, checked again later, still agrees.
        assert_eq!(
            Format::decide(Format::Docx.family(), None, Some("a.docx")),
            Ok(Format::Docx)
        );
        assert_eq!(Format::Csv.family(), Format::Text);
    }

    #[test]
    fn reconcile_accepts_agreement_and_refuses_contradiction() {
        use Format::*;
        assert_eq!(Format::reconcile(Pdf, Some(Pdf)), Some(Pdf));
        assert_eq!(Format::reconcile(Pdf, None), Some(Pdf));
        assert_eq!(Format::reconcile(Ole, Some(Doc)), Some(Doc));
        assert_eq!(Format::reconcile(Zip, Some(Docx)), Some(Docx));
        assert_eq!(Format::reconcile(Text, Some(Csv)), Some(Csv));
        assert_eq!(Format::reconcile(Png, Some(Pdf)), None);
        assert_eq!(Format::reconcile(Text, Some(Pdf)), None);
        assert_eq!(Format::reconcile(Binary, Some(Pdf)), None);
        assert_eq!(Format::reconcile(Docx, Some(Xlsx)), None);
    }

    #[test]
    fn every_format_round_trips_through_its_name() {
        for f in Format::all() {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
    }
}
