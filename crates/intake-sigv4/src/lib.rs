//! AWS Signature Version 4 as S3 uses it for the two kinds of request a
//! browser or a plain HTTP client makes without an SDK:
//!
//! - **browser POST uploads** ([`post`]): a base64 JSON policy (expiration
//!   and conditions, [`policy`]) signed with a key derived from the secret;
//!   the form carries the policy, the signature and the fields the policy
//!   constrains;
//! - **presigned URLs** ([`presign`]): a GET whose query carries the
//!   credential, date, lifetime and signature of its canonical request.
//!
//! Both sides are here: building and signing (generic over the endpoint,
//! bucket, region and credentials in [`Target`], so the same code signs for
//! intake's own endpoint or for a real S3 store), and verifying what a client
//! sent. HMAC and SHA-256 come from the `hmac` and `sha2` crates; signatures
//! are compared in constant time.

pub mod policy;
pub mod post;
pub mod presign;

pub use policy::{Condition, LengthRange, PostPolicy};
pub use post::{KeyRule, PresignedPost, Scheme, SignedPost};
pub use presign::PresignedGet;

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The only algorithm SigV4 defines.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service name in S3 credential scopes.
pub const SERVICE: &str = "s3";
/// The last element of every credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// The longest lifetime S3 grants a presigned request (7 days).
pub const MAX_EXPIRES_SECONDS: u64 = 7 * 24 * 3600;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed request was refused. Each variant names the S3 error code
/// and HTTP status S3 answers with, so front ends can answer like S3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// A field or query parameter the request needs is missing.
    #[error(
        "Bucket POST must contain a field named '{0}'. If it is specified, please check the order of the fields."
    )]
    MissingField(&'static str),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("the credential is malformed: {0}")]
    MalformedCredential(String),
    /// The access key is not known (reported by the caller, which looks keys up).
    #[error("The AWS Access Key Id you provided does not exist in our records.")]
    InvalidAccessKeyId,
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
    )]
    SignatureDoesNotMatch,
    #[error("Invalid Policy: {0}")]
    InvalidPolicyDocument(String),
    #[error("Invalid according to Policy: Policy expired.")]
    PolicyExpired,
    #[error("Invalid according to Policy: Policy Condition failed: {0}")]
    ConditionFailed(String),
    #[error("Invalid according to Policy: Extra input fields: {0}")]
    ExtraInputFields(String),
    #[error("Request has expired")]
    RequestExpired,
    #[error("Request is not valid yet")]
    RequestNotYetValid,
    #[error("{0}")]
    AuthorizationQueryParametersError(String),
}

impl SigError {
    /// The error code S3 answers with.
    pub fn s3_code(&self) -> &'static str {
        match self {
            SigError::MissingField(_) | SigError::InvalidArgument(_) => "InvalidArgument",
            SigError::MalformedCredential(_) => "AuthorizationQueryParametersError",
            SigError::InvalidAccessKeyId => "InvalidAccessKeyId",
            SigError::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            SigError::InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            SigError::PolicyExpired
            | SigError::ConditionFailed(_)
            | SigError::ExtraInputFields(_)
            | SigError::RequestExpired
            | SigError::RequestNotYetValid => "AccessDenied",
            SigError::AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
        }
    }

    /// The HTTP status S3 answers with: 403 for a refusal, 400 for a
    /// request that cannot be understood.
    pub fn status(&self) -> u16 {
        match self {
            SigError::MissingField(_)
            | SigError::InvalidArgument(_)
            | SigError::MalformedCredential(_)
            | SigError::InvalidPolicyDocument(_)
            | SigError::AuthorizationQueryParametersError(_) => 400,
            _ => 403,
        }
    }
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key: HMAC chained over the date (`YYYYMMDD`), region,
/// service and `aws4_request`, starting from `"AWS4" + secret`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// Lower-case hex HMAC-SHA256 of `string_to_sign` under the signing key.
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(key, string_to_sign.as_bytes()))
}

/// A SigV2 POST signature: base64 HMAC-SHA1 of the policy under the secret.
pub fn v2_signature(secret: &str, policy: &str) -> String {
    use base64::Engine;
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(policy.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Constant-time comparison of a computed and a presented signature (hex;
/// S3 accepts either case).
pub fn signatures_match(expected: &str, presented: &str) -> bool {
    use subtle::ConstantTimeEq;
    let presented = presented.to_ascii_lowercase();
    expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// `YYYYMMDDTHHMMSSZ`, the format of `x-amz-date`.
pub fn amz_date(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

pub fn parse_amz_date(s: &str) -> Result<DateTime<Utc>, SigError> {
    NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .map(|t| t.and_utc())
        .map_err(|_| {
            SigError::InvalidArgument(format!(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", not {s:?}"
            ))
        })
}

/// `AKID/20151229/us-east-1/s3/aws4_request`: who signed, and for which
/// day, region and service the key was derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    pub fn new(access_key: &str, at: DateTime<Utc>, region: &str) -> Credential {
        Credential {
            access_key: access_key.to_owned(),
            date: at.format("%Y%m%d").to_string(),
            region: region.to_owned(),
            service: SERVICE.to_owned(),
        }
    }

    pub fn parse(s: &str) -> Result<Credential, SigError> {
        let parts: Vec<&str> = s.split('/').collect();
        let [access_key, date, region, service, terminator] = parts.as_slice() else {
            return Err(SigError::MalformedCredential(format!(
                "expected <key>/<date>/<region>/<service>/aws4_request, got {s:?}"
            )));
        };
        if access_key.is_empty() || region.is_empty() {
            return Err(SigError::MalformedCredential(
                "the access key and region must not be empty".into(),
            ));
        }
        if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
            return Err(SigError::MalformedCredential(format!(
                "the date {date:?} is not YYYYMMDD"
            )));
        }
        if *service != SERVICE {
            return Err(SigError::MalformedCredential(format!(
                "the service is {service:?}, expected \"s3\""
            )));
        }
        if *terminator != TERMINATOR {
            return Err(SigError::MalformedCredential(format!(
                "the credential must end with aws4_request, not {terminator:?}"
            )));
        }
        Ok(Credential {
            access_key: (*access_key).to_owned(),
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
        })
    }

    /// `date/region/service/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }

    pub fn key(&self, secret: &str) -> [u8; 32] {
        signing_key(secret, &self.date, &self.region, &self.service)
    }
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.access_key, self.scope())
    }
}

/// Where signed requests go and who signs them: an S3 endpoint (intake's
/// own `…/s3` or a real store), a bucket on it, the region, and an access
/// key with its secret. Path-style addressing: `{endpoint}/{bucket}/{key}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// `scheme://host[:port][/path]`, without a trailing slash.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl Target {
    /// Where the browser POSTs the form: the bucket's URL.
    pub fn bucket_url(&self) -> String {
        format!(
            "{}/{}",
            self.endpoint.trim_end_matches('/'),
            uri_encode(&self.bucket, false)
        )
    }

    /// The object's URL (the key encoded as SigV4 canonical URIs are).
    pub fn object_url(&self, key: &str) -> String {
        format!("{}/{}", self.bucket_url(), uri_encode(key, true))
    }

    /// The endpoint's `host[:port]` and path prefix.
    pub fn host_and_path(&self) -> (&str, &str) {
        split_url(&self.endpoint)
    }
}

/// `scheme://authority/path` → (authority, "/path" or "").
pub fn split_url(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    }
}

/// URI-encodes as SigV4 requires: every byte but `A-Z a-z 0-9 - _ . ~` as
/// `%XX` (upper-case hex); `/` kept when `keep_slash` (object keys in paths).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (a `+` stays a `+`, as S3 reads paths). Invalid
/// escapes and non-UTF-8 results are errors.
pub fn uri_decode(s: &str) -> Result<String, SigError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| SigError::InvalidArgument(format!("bad escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| SigError::InvalidArgument(format!("{s:?} is not UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented signing-key example (General Reference, "Examples
    /// of how to derive a signing key for Signature Version 4").
    #[test]
    fn signing_key_matches_the_aws_example() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn credentials_parse_and_print() {
        let c =
            Credential::parse("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request").unwrap();
        assert_eq!(c.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(c.scope(), "20151229/us-east-1/s3/aws4_request");
        assert_eq!(
            c.to_string(),
            "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"
        );
        for bad in [
            "",
            "AKID/20151229/us-east-1/s3",
            "AKID/2015122/us-east-1/s3/aws4_request",
            "AKID/20151229/us-east-1/iam/aws4_request",
            "AKID/20151229/us-east-1/s3/aws4_requesx",
            "/20151229/us-east-1/s3/aws4_request",
            "AKID/20151229/us-east-1/s3/aws4_request/x",
        ] {
            assert!(Credential::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_round_trip() {
        let at = parse_amz_date("20151229T000000Z").unwrap();
        assert_eq!(amz_date(at), "20151229T000000Z");
        assert!(parse_amz_date("2015-12-29").is_err());
    }

    #[test]
    fn encoding_follows_sigv4() {
        assert_eq!(uri_encode("a b/c~d+e", true), "a%20b/c~d%2Be");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(uri_encode("é", true), "%C3%A9");
        assert_eq!(uri_decode("a%20b/c~d%2Be").unwrap(), "a b/c~d+e");
        assert!(uri_decode("%zz").is_err());
        assert!(uri_decode("%C3").is_err());
    }

    #[test]
    fn signatures_compare_in_either_case() {
        assert!(signatures_match("abc0", "ABC0"));
        assert!(!signatures_match("abc0", "abc1"));
        assert!(!signatures_match("abc0", "abc"));
    }

    #[test]
    fn urls_split() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/s3"),
            ("127.0.0.1:8080", "/s3")
        );
        assert_eq!(split_url("https://s3.example.com/"), ("s3.example.com", ""));
        assert_eq!(split_url("http://h"), ("h", ""));
    }
}
