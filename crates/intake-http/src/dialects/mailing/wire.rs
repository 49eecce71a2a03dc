//! The mailing dialect's wire format: the form fields it requires, the
//! formats `documentFormat` may name, and the XML bodies it answers.

use intake_core::{Error, Format};
use intake_ingest::Form;

/// The formats the seed lists: "Only pdf, doc, docx, pub, ppt, pptx, png,
/// jpeg, and odt formats are allowed."
const ALLOWED: [Format; 9] = [
    Format::Pdf,
    Format::Doc,
    Format::Docx,
    Format::Pub,
    Format::Ppt,
    Format::Pptx,
    Format::Png,
    Format::Jpeg,
    Format::Odt,
];

pub const MISSING_PARAMETER: &str = "One of the required parameters is missing.";
pub const MISSING_FILE: &str = "Parameter 'file' is must.";
pub const FORMAT_NOT_ALLOWED: &str =
    "Only pdf, doc, docx, pub, ppt, pptx, png, jpeg, and odt formats are allowed.";

/// The text fields of a document upload, checked for presence.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentFields {
    pub name: String,
    pub format: Format,
    pub class: String,
}

fn required<'a>(form: &'a Form, name: &str) -> Result<&'a str, Error> {
    form.field(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::bad_request("missing_parameter", MISSING_PARAMETER))
}

impl DocumentFields {
    /// The fields in the seed's order of checks: every parameter present,
    /// then the file, then a format from the list.
    pub fn from_form(form: &Form) -> Result<DocumentFields, Error> {
        let name = required(form, "documentName")?;
        let format = required(form, "documentFormat")?;
        let class = required(form, "documentClass")?;
        if form.files.is_empty() {
            return Err(Error::bad_request("missing_file", MISSING_FILE));
        }
        if form.files.len() > 1 {
            return Err(Error::bad_request(
                "too_many_files",
                "Only one file may be uploaded as a document.",
            ));
        }
        let format = Format::parse(format)
            .filter(|f| ALLOWED.contains(f))
            .ok_or_else(|| Error::bad_request("format_not_allowed", FORMAT_NOT_ALLOWED))?;
        Ok(DocumentFields {
            name: name.to_owned(),
            format,
            class: class.to_owned(),
        })
    }
}

/// Escapes element text: quotes stay as they are, as in the seed's bodies
/// (`Parameter 'file' is must.`).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

/// The success body: `pages` is omitted only when inspection could not
/// count them (an office document that records no page count).
pub fn success(id: &str, pages: Option<u32>) -> String {
    let pages = pages.map_or(String::new(), |n| format!("<pages>{n}</pages>"));
    format!(
        "{DECLARATION}\n<document><id>{}</id><status>0</status><description>Success</description>{pages}</document>",
        escape(id)
    )
}

/// An error body, in the success body's shape; `id` when a document was
/// stored (processing that did not finish in time).
pub fn failure(status: u16, description: &str, id: Option<&str>) -> String {
    let id = id.map_or(String::new(), |id| format!("<id>{}</id>", escape(id)));
    format!(
        "{DECLARATION}\n<document>{id}<status>{status}</status><description>{}</description></document>",
        escape(description)
    )
}

/// The page count from what inspection found: pages, else slides or
/// sheets; an image is one page.
pub fn pages(properties: Option<&serde_json::Value>, format: Format) -> Option<u32> {
    let count = |key: &str| {
        properties
            .and_then(|p| p.get(key))
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    count("pages")
        .or_else(|| count("slides"))
        .or_else(|| count("sheets"))
        .or((matches!(format, Format::Png | Format::Jpeg)).then_some(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_seed() {
        assert_eq!(
            success("file_1", Some(1)),
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<document><id>file_1</id><status>0</status><description>Success</description><pages>1</pages></document>"
        );
        assert_eq!(
            failure(1, "Duplicate Document", None),
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<document><status>1</status><description>Duplicate Document</description></document>"
        );
        assert!(failure(9, "a <b> & \"c\"\u{1}", None).contains("a &lt;b&gt; &amp; \"c\" "));
    }

    #[test]
    fn pages_come_from_properties() {
        let props = serde_json::json!({"pages": 3});
        assert_eq!(pages(Some(&props), Format::Pdf), Some(3));
        assert_eq!(
            pages(Some(&serde_json::json!({"slides": 12})), Format::Pptx),
            Some(12)
        );
        assert_eq!(
            pages(Some(&serde_json::json!({"width": 1})), Format::Png),
            Some(1)
        );
        assert_eq!(pages(None, Format::Docx), None);
    }
}
