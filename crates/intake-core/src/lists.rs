//! Contact lists and the activities that act on them (the library seed,
//! 001): a tenant's lists of e-mail addresses, and bulk jobs driven by an
//! uploaded file, polled until `COMPLETE` or `ERROR`.
//!
//! The removal file's rules live here as a pure function,
//! [`parse_removal_file`]: a `.txt` or `.csv` of e-mail addresses only, one
//! per line or comma-separated, under 4 MB and at most 20,000 addresses.
//! Anything else (another column, a header label, a stray word) is refused
//! with the line numbers, so the person fixing the file knows where to look.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A removal file must be smaller than this (the seed: "less than 4 megabytes").
pub const MAX_REMOVAL_BYTES: usize = 4 * 1024 * 1024;
/// Most addresses one removal may name.
pub const MAX_REMOVAL_ADDRESSES: usize = 20_000;
/// Errors kept on an activity; the count says how many there were in all.
pub const MAX_ACTIVITY_ERRORS: usize = 100;
/// The metadata key that marks a stored file as an activity's import file
/// (its value is the activity kind). Such files live in a project like any
/// other, but they are not library files.
pub const ACTIVITY_FILE_KEY: &str = "activity";

/// Whether a file with this metadata is an activity's import file.
pub fn is_activity_file(metadata: &crate::Metadata) -> bool {
    metadata.contains_key(ACTIVITY_FILE_KEY)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListStatus {
    #[default]
    Active,
    Hidden,
}

impl ListStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListStatus::Active => "active",
            ListStatus::Hidden => "hidden",
        }
    }

    /// Case-insensitive, so `ACTIVE` (the library dialect's spelling) works.
    pub fn parse(s: &str) -> Option<ListStatus> {
        [ListStatus::Active, ListStatus::Hidden]
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A tenant's list of e-mail addresses. Ids are small integers counted per
/// tenant, as the library dialect's clients expect (`"lists": "1,4"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactList {
    pub id: i64,
    #[serde(skip)]
    pub tenant_id: String,
    pub name: String,
    pub status: ListStatus,
    /// How many addresses it holds.
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    RemoveFromLists,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::RemoveFromLists => "remove_from_lists",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        (s == "remove_from_lists").then_some(ActivityKind::RemoveFromLists)
    }
}

/// `QUEUED` → `RUNNING` → `COMPLETE` | `ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivityStatus {
    Queued,
    Running,
    Complete,
    Error,
}

impl ActivityStatus {
    pub const ALL: [ActivityStatus; 4] = [
        ActivityStatus::Queued,
        ActivityStatus::Running,
        ActivityStatus::Complete,
        ActivityStatus::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Queued => "QUEUED",
            ActivityStatus::Running => "RUNNING",
            ActivityStatus::Complete => "COMPLETE",
            ActivityStatus::Error => "ERROR",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityStatus> {
        ActivityStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, ActivityStatus::Complete | ActivityStatus::Error)
    }
}

/// One thing wrong with an activity's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ActivityError {
    /// 1-based line of the file, when the error is about one line.
    pub line: Option<u64>,
    pub message: String,
    /// The offending text, when it is about one value.
    pub value: Option<String>,
}

impl ActivityError {
    pub fn file(message: impl Into<String>) -> ActivityError {
        ActivityError {
            line: None,
            message: message.into(),
            value: None,
        }
    }
}

/// A bulk job driven by an uploaded file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Activity {
    /// `act_…`
    pub id: String,
    #[serde(skip)]
    pub tenant_id: String,
    pub kind: ActivityKind,
    pub status: ActivityStatus,
    /// The lists it acts on.
    pub lists: Vec<i64>,
    /// The uploaded file that drives it.
    pub file_id: Option<String>,
    pub file_name: Option<String>,
    /// Addresses read from the file (distinct).
    pub contact_count: u64,
    /// Addresses that were on at least one of the lists, and are no longer.
    pub removed_count: u64,
    /// Addresses on none of the lists.
    pub not_found_count: u64,
    /// How many errors there were (at most [`MAX_ACTIVITY_ERRORS`] are kept).
    pub error_count: u64,
    pub errors: Vec<ActivityError>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What removing a file's addresses from lists counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemovalCounts {
    pub processed: u64,
    pub removed: u64,
    pub not_found: u64,
}

/// Whether `s` is an e-mail address as the library dialect accepts them:
/// `local@domain`, ASCII, the dot-atom forms of RFC 5322 (no quoted local
/// parts, no IP literals), a domain of at least two labels.
pub fn is_email(s: &str) -> bool {
    if s.len() > 254 {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// How addresses are stored and compared: trimmed, lower-case.
pub fn normalize_email(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

/// Reads a removal file: the distinct addresses it names (normalized, in
/// order of first appearance), or every reason it is refused (at most
/// [`MAX_ACTIVITY_ERRORS`], then a summary).
pub fn parse_removal_file(bytes: &[u8]) -> Result<Vec<String>, Vec<ActivityError>> {
    if bytes.len() >= MAX_REMOVAL_BYTES {
        return Err(vec![ActivityError::file(format!(
            "the file is {} bytes; it must be smaller than 4 MB ({MAX_REMOVAL_BYTES} bytes)",
            bytes.len()
        ))]);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![ActivityError::file("the file is not text (UTF-8)")]);
    };
    let mut errors = Vec::new();
    let mut error_count = 0usize;
    let mut seen = std::collections::HashSet::new();
    let mut addresses = Vec::new();
    let mut named = 0usize;
    // Lines end in \n or \r\n; line numbers are what an editor shows.
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        for cell in line.split(',') {
            let cell = cell.trim().trim_matches('"').trim();
            if cell.is_empty() {
                continue; // blank lines and empty trailing cells carry nothing
            }
            if !is_email(cell) {
                error_count += 1;
                if errors.len() < MAX_ACTIVITY_ERRORS {
                    let shown: String = cell.chars().take(80).collect();
                    errors.push(ActivityError {
                        line: Some(line_no),
                        message: format!("line {line_no}: {shown:?} is not an e-mail address; the file must hold e-mail addresses only"),
                        value: Some(shown),
                    });
                }
                continue;
            }
            named += 1;
            let normalized = normalize_email(cell);
            if seen.insert(normalized.clone()) {
                addresses.push(normalized);
            }
        }
    }
    if error_count > errors.len() {
        let more = error_count - errors.len();
        errors.push(ActivityError::file(format!(
            "… and {more} more values that are not e-mail addresses"
        )));
    }
    if named > MAX_REMOVAL_ADDRESSES {
        errors.insert(
            0,
            ActivityError::file(format!(
                "the file names {named} addresses; at most {MAX_REMOVAL_ADDRESSES} may be removed at once"
            )),
        );
    } else if named == 0 && error_count == 0 {
        errors.push(ActivityError::file("the file holds no e-mail addresses"));
    }
    if errors.is_empty() {
        Ok(addresses)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "a@b.co",
            "first.last+tag@mail.example.org",
            "x_y-z@sub-domain.example.com",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "",
            "email",
            "a@b",
            "@b.com",
            "a@",
            "a..b@c.com",
            ".a@c.com",
            "a@-c.com",
            "a@c.c0m",
            "a b@c.com",
            "a@c..com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn one_per_line_or_comma_separated() {
        let text = b"\xEF\xBB\xBFa@x.com\r\nB@X.com, c@x.com\n\n\"d@x.com\",\r\na@x.com\r\n";
        assert_eq!(
            parse_removal_file(text).unwrap(),
            vec!["a@x.com", "b@x.com", "c@x.com", "d@x.com"]
        );
    }

    #[test]
    fn labels_and_other_columns_are_refused_with_line_numbers() {
        let errors = parse_removal_file(b"email\r\na@x.com,Alice\r\nb@x.com\r\n").unwrap_err();
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![Some(1), Some(2)]);
        assert_eq!(errors[1].value.as_deref(), Some("Alice"));
    }

    #[test]
    fn limits() {
        let many: String = (0..=MAX_REMOVAL_ADDRESSES)
            .map(|i| format!("u{i}@x.com\n"))
            .collect();
        let errors = parse_removal_file(many.as_bytes()).unwrap_err();
        assert!(errors[0].message.contains("20001 addresses"), "{errors:?}");
        let exactly: String = (0..MAX_REMOVAL_ADDRESSES)
            .map(|i| format!("u{i}@x.com\n"))
            .collect();
        assert_eq!(
            parse_removal_file(exactly.as_bytes()).unwrap().len(),
            MAX_REMOVAL_ADDRESSES
        );
        let big = vec![b'a'; MAX_REMOVAL_BYTES];
        assert!(
            parse_removal_file(&big).unwrap_err()[0]
                .message
                .contains("smaller than 4 MB")
        );
        assert!(
            parse_removal_file(b"\n \n").unwrap_err()[0]
                .message
                .contains("no e-mail")
        );
        assert!(parse_removal_file(b"\xff\xfe").is_err());
    }

    #[test]
    fn errors_are_capped_with_a_summary() {
        let junk: String = (0..250).map(|i| format!("junk{i}\n")).collect();
        let errors = parse_removal_file(junk.as_bytes()).unwrap_err();
        assert_eq!(errors.len(), MAX_ACTIVITY_ERRORS + 1);
        assert!(errors[MAX_ACTIVITY_ERRORS].message.contains("150 more"));
    }
}
