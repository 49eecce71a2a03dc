//! Client-supplied names. A file name is only ever shown, never used as a
//! path (the blob store picks its own keys), but names with path syntax or
//! control characters are refused so that nothing downstream (a dashboard, a
//! `Content-Disposition`, a user's shell) is surprised by them.

use crate::error::Error;

pub const MAX_NAME_BYTES: usize = 255;

/// Validates an original file name as sent in a multipart part, returning it
/// trimmed. `None` and empty names are allowed (the file is then unnamed).
pub fn check_filename(name: &str) -> Result<String, Error> {
    let trimmed = name.trim();
    let bad = |why: &str| {
        Err(Error::bad_request(
            "invalid_filename",
            format!("file name {why}"),
        ))
    };
    if trimmed.len() > MAX_NAME_BYTES {
        return bad("is longer than 255 bytes");
    }
    if trimmed.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    if trimmed.contains(['/', '\\']) {
        return bad("contains a path separator");
    }
    if trimmed == "." || trimmed == ".." {
        return bad("is a path component");
    }
    Ok(trimmed.to_owned())
}

/// Validates a display name (a file's `name`, a project's or folder's name).
pub fn check_display_name(name: &str, what: &str) -> Result<String, Error> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::bad_request(
            "invalid_name",
            format!("{what} must not be empty"),
        ));
    }
    if trimmed.len() > 1024 || trimmed.chars().any(char::is_control) {
        return Err(Error::bad_request(
            "invalid_name",
            format!("{what} must be at most 1024 bytes without control characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Validates a slug (tenant, project): lower-case ASCII letters, digits, `-`
/// and `_`, 1 to 64 characters, so it is safe in URLs and logs.
pub fn check_slug(slug: &str, what: &str) -> Result<String, Error> {
    let ok = !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(Error::bad_request(
            "invalid_slug",
            format!("{what} must be 1-64 characters of a-z, 0-9, '-' and '_'"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_and_control_characters() {
        for bad in [
            "../etc/passwd",
            "a/b.pdf",
            "c:\\x.pdf",
            "a\0b",
            "tab\there",
            "..",
            "bell\u{7}",
        ] {
            assert_eq!(
                check_filename(bad).unwrap_err().code,
                "invalid_filename",
                "{bad:?}"
            );
        }
        assert_eq!(
            check_filename(" Letter (final).pdf ").unwrap(),
            "Letter (final).pdf"
        );
        assert_eq!(check_filename("..hidden.pdf").unwrap(), "..hidden.pdf");
        assert_eq!(
            check_filename("Brief für Müller.pdf").unwrap(),
            "Brief für Müller.pdf"
        );
        assert!(check_filename(&"a".repeat(256)).is_err());
    }

    #[test]
    fn slugs_are_url_safe() {
        assert!(check_slug("team_123456", "tenant").is_ok());
        assert!(check_slug("Default", "tenant").is_err());
        assert!(check_slug("", "tenant").is_err());
        assert!(check_slug("a/b", "tenant").is_err());
    }
}
