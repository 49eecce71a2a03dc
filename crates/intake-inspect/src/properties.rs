//! What inspection found, stored as JSON in the catalog and returned by the
//! API. Every field is optional and omitted when unknown or not applicable,
//! so adding a field never breaks stored rows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Properties {
    /// PDF pages; word-processor pages as recorded in the document's
    /// metadata (docx, odt: absent if the producer did not record it);
    /// slides for pptx/odp; sheets for xlsx/ods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    /// Worksheets (xlsx, ods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheets: Option<u32>,
    /// Slides (pptx, odp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slides: Option<u32>,
    /// One entry per PDF page, in order (at most `Limits::max_pages`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub page_sizes: Vec<PageSize>,
    /// Set when the PDF had more pages than `page_sizes` lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_sizes_truncated: Option<bool>,
    /// `1.7`, `2.0`...: the catalog's /Version when it is newer than the header's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_version: Option<String>,
    /// The PDF has an /Encrypt dictionary (even one opened with an empty
    /// user password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// JavaScript in the names tree, an /OpenAction, /AA or an annotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_javascript: Option<bool>,
    /// The PDF has an /EmbeddedFiles names tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_embedded_files: Option<bool>,
    /// Image width in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Image height in pixels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Horizontal resolution in dots per inch, when the file records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpi_x: Option<f64>,
    /// Vertical resolution in dots per inch, when the file records one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpi_y: Option<f64>,
    /// Office documents: VBA project, macro-enabled content type, or ODF
    /// Basic/script modules present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macros: Option<bool>,
    /// Text and CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncoding>,
    /// Physical lines (LF, CRLF or lone CR each end one; a last line without
    /// a terminator counts). Quoted newlines inside CSV fields count too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_count: Option<u64>,
    /// Fields in the first CSV record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns: Option<u32>,
    /// The CSV delimiter guessed from the first record: `,` `;` tab or `|`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// Set when a text file was longer than `Limits::text_sample_bytes`: the
    /// counts describe the sample only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_truncated: Option<bool>,
    /// Entries in a plain ZIP archive, from its central directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
}

/// Size of one PDF page in points (1/72 in).
///
/// `width_*`/`height_*` are the *effective* size, as a viewer shows the
/// page: the CropBox (clipped to the MediaBox) when present, else the
/// MediaBox; scaled by /UserUnit; and swapped when `rotation` is 90 or 270.
/// `media_box` and `crop_box` are the raw boxes as written (after
/// inheritance), unrotated and unscaled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PageSize {
    /// Effective width in points, rounded to 2 decimals.
    pub width_pt: f64,
    /// Effective height in points, rounded to 2 decimals.
    pub height_pt: f64,
    /// Effective width in inches, rounded to 2 decimals.
    pub width_in: f64,
    /// Effective height in inches, rounded to 2 decimals.
    pub height_in: f64,
    /// Clockwise rotation: 0, 90, 180 or 270.
    pub rotation: u16,
    /// `[llx, lly, urx, ury]` as written.
    #[schema(value_type = Vec<f64>)]
    pub media_box: [f64; 4],
    /// `[llx, lly, urx, ury]` as written, when the page has a CropBox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<f64>>)]
    pub crop_box: Option<[f64; 4]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TextEncoding {
    /// Only bytes below 0x80.
    #[serde(rename = "ascii")]
    Ascii,
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "utf-16le")]
    Utf16Le,
    #[serde(rename = "utf-16be")]
    Utf16Be,
    /// Not valid UTF-8 and no BOM: read as ISO-8859-1 / Windows-1252.
    #[serde(rename = "latin-1")]
    Latin1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_omitted() {
        let props = Properties {
            width: Some(3),
            encoding: Some(TextEncoding::Utf8Bom),
            ..Properties::default()
        };
        let json = serde_json::to_string(&props).unwrap_or_default();
        assert_eq!(json, r#"{"width":3,"encoding":"utf-8-bom"}"#);
        let back: Properties = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, props);
    }
}
