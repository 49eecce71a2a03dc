//! The attachments dialect's JSON bodies and its file ids.

use chrono::{DateTime, Datelike, Utc};
use rand::Rng;
use serde::Serialize;

/// The answer to an upload.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    #[serde(rename = "fileID")]
    pub file_id: String,
    #[serde(rename = "fileName")]
    pub file_name: String,
    #[serde(rename = "idCompany")]
    pub id_company: String,
    /// Only with `X-DEBUG: 1`.
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error: `{"error":{"code":400,"type":"missing_file","message":"…"}}`,
/// plus `requestID` with `X-DEBUG: 1`.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub error: FailureDetail,
    #[serde(rename = "requestID", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FailureDetail {
    /// The HTTP status.
    pub code: u16,
    /// intake's stable error code.
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// A new file id in the seed's form, `s3://WS/2021/6/<32 lower hex>`
/// (month not zero-padded, as in the seed's sample). 128 random bits, so
/// ids never collide within a tenant.
pub fn file_id(at: DateTime<Utc>) -> String {
    let bits: u128 = rand::rng().random();
    format!("s3://WS/{}/{}/{bits:032x}", at.year(), at.month())
}

/// Whether `X-DEBUG` asks for request ids (the seed's example is `1`; any
/// non-zero integer counts).
pub fn debug(value: Option<&str>) -> bool {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .is_some_and(|n| n != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_ids_have_the_seed_shape() {
        let at =
            DateTime::parse_from_rfc3339("2021-06-03T10:00:00Z").map(|d| d.with_timezone(&Utc));
        let id = file_id(at.expect("a date"));
        let hex = id.strip_prefix("s3://WS/2021/6/").expect("prefix");
        assert_eq!(hex.len(), 32);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(id, file_id(Utc::now()));
    }

    #[test]
    fn debug_is_a_non_zero_integer() {
        assert!(debug(Some("1")));
        assert!(debug(Some(" 2 ")));
        assert!(!debug(Some("0")));
        assert!(!debug(Some("yes")));
        assert!(!debug(None));
    }
}
