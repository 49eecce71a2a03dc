//! Bounds on what one inspection may read, unpack and hold. Defaults are
//! safe for a shared worker; all are config (`[workers.inspect]` in the server file).

use serde::{Deserialize, Serialize};

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// PDFs are parsed in memory, so larger ones are refused.
    pub max_pdf_bytes: u64,
    /// Refuse PDFs with more indirect objects than this.
    pub max_pdf_objects: usize,
    /// Largest size one object or cross-reference stream may inflate to while
    /// a PDF is loaded (page content streams are never inflated).
    pub max_pdf_stream_bytes: u64,
    /// Page sizes are listed for at most this many pages; `pages` still
    /// counts them all and `page_sizes_truncated` is set.
    pub max_pages: usize,
    /// ZIP-based documents with more entries are refused.
    pub zip_max_entries: usize,
    /// Refuse when the entries' declared uncompressed sizes add up to more.
    pub zip_max_total_uncompressed: u64,
    /// Refuse an entry that inflates more than this many times its
    /// compressed size...
    pub zip_max_ratio: u64,
    /// ...when it declares at least this many bytes (small parts of real
    /// documents often compress very well and are harmless).
    pub zip_ratio_min_bytes: u64,
    /// Largest XML part (app.xml, workbook.xml, content.xml...) read.
    pub max_xml_bytes: u64,
    /// Bytes of a text or CSV file scanned; past it the counts describe the
    /// sample only and `text_truncated` is set.
    pub text_sample_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pdf_bytes: 256 * MIB,
            max_pdf_objects: 1_000_000,
            max_pdf_stream_bytes: 32 * MIB,
            max_pages: 10_000,
            zip_max_entries: 10_000,
            zip_max_total_uncompressed: 2048 * MIB,
            zip_max_ratio: 200,
            zip_ratio_min_bytes: MIB,
            max_xml_bytes: 64 * MIB,
            text_sample_bytes: 256 * MIB,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_defaults() {
        let limits: Limits = serde_json::from_str(r#"{"max_pages": 5}"#).unwrap_or_default();
        assert_eq!(limits.max_pages, 5);
        assert_eq!(limits.zip_max_ratio, Limits::default().zip_max_ratio);
    }
}
