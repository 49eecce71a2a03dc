//! Presigned URLs: SigV4 in the query string (`X-Amz-Algorithm`,
//! `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//! `X-Amz-SignedHeaders`, `X-Amz-Signature`) over the canonical request
//! with an unsigned payload. intake signs its download URLs this way, so a
//! real S3 store could serve the same URLs.

use crate::{
    ALGORITHM, Credential, MAX_EXPIRES_SECONDS, SigError, Target, amz_date, parse_amz_date,
    signature, split_url, uri_decode, uri_encode,
};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How far in the future a request's date may be (clock skew).
const MAX_SKEW_SECONDS: i64 = 15 * 60;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// `k=v&…` sorted by name then value, each part SigV4-encoded.
fn canonical_query(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The string to sign for a request: its canonical form, hashed, under the
/// date and credential scope.
fn string_to_sign(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    date: &str,
    credential: &Credential,
) -> String {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    headers.sort();
    let block: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    let canonical = format!(
        "{method}\n{path}\n{query}\n{block}\n{}\n{UNSIGNED_PAYLOAD}",
        signed.join(";")
    );
    format!(
        "{ALGORITHM}\n{date}\n{}\n{}",
        credential.scope(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// Signs `method` on `path` (already SigV4-encoded) at `host`, signing the
/// host header only; answers the whole query string, signature last.
pub fn presign(
    method: &str,
    host: &str,
    path: &str,
    credential: &Credential,
    secret: &str,
    now: DateTime<Utc>,
    expires_seconds: u64,
) -> String {
    let params = query_params(credential, now, expires_seconds);
    sign_query(params, method, host, path, credential, secret, now)
}

/// The SigV4 parameters of a presigned URL, before the signature.
fn query_params(
    credential: &Credential,
    now: DateTime<Utc>,
    expires_seconds: u64,
) -> Vec<(String, String)> {
    vec![
        ("X-Amz-Algorithm".to_owned(), ALGORITHM.to_owned()),
        ("X-Amz-Credential".to_owned(), credential.to_string()),
        ("X-Amz-Date".to_owned(), amz_date(now)),
        ("X-Amz-Expires".to_owned(), expires_seconds.to_string()),
        ("X-Amz-SignedHeaders".to_owned(), "host".to_owned()),
    ]
}

/// `params` as a canonical query string with their signature appended.
fn sign_query(
    params: Vec<(String, String)>,
    method: &str,
    host: &str,
    path: &str,
    credential: &Credential,
    secret: &str,
    now: DateTime<Utc>,
) -> String {
    let query = canonical_query(&params);
    let sts = string_to_sign(
        method,
        path,
        &query,
        &[("host".to_owned(), host.to_owned())],
        &amz_date(now),
        credential,
    );
    let sig = signature(&credential.key(secret), &sts);
    format!("{query}&X-Amz-Signature={sig}")
}

impl Target {
    /// A GET URL for the object at `key`, valid from `now` for `expires_in`
    /// (at most 7 days).
    pub fn presign_get(&self, key: &str, now: DateTime<Utc>, expires_in: Duration) -> String {
        self.presign_get_with(key, &[], now, expires_in)
    }

    /// As [`Target::presign_get`], with `extra` query parameters signed
    /// along, such as `response-content-disposition`.
    pub fn presign_get_with(
        &self,
        key: &str,
        extra: &[(String, String)],
        now: DateTime<Utc>,
        expires_in: Duration,
    ) -> String {
        let credential = Credential::new(&self.access_key, now, &self.region);
        let (host, base) = split_url(&self.endpoint);
        let path = format!(
            "{base}/{}/{}",
            uri_encode(&self.bucket, false),
            uri_encode(key, true)
        );
        let seconds = u64::try_from(expires_in.num_seconds())
            .unwrap_or(1)
            .clamp(1, MAX_EXPIRES_SECONDS);
        let mut params = query_params(&credential, now, seconds);
        params.extend_from_slice(extra);
        let query = sign_query(params, "GET", host, &path, &credential, &self.secret, now);
        format!("{}?{query}", self.object_url(key))
    }
}

/// The SigV4 parameters of a presigned request, read from its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedGet {
    pub credential: Credential,
    pub date: DateTime<Utc>,
    pub expires_seconds: u64,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// Every parameter but the signature, decoded, as signed.
    params: Vec<(String, String)>,
}

impl PresignedGet {
    /// Whether a query carries a presigned signature at all.
    pub fn is_presigned(query: &str) -> bool {
        query.split('&').any(|p| {
            p.split('=')
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case("X-Amz-Signature"))
        })
    }

    pub fn from_query(query: &str) -> Result<PresignedGet, SigError> {
        let mut params = Vec::new();
        let mut signature = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (uri_decode(k)?, uri_decode(v)?);
            if k == "X-Amz-Signature" {
                if signature.replace(v).is_some() {
                    return Err(SigError::AuthorizationQueryParametersError(
                        "X-Amz-Signature appears twice".into(),
                    ));
                }
            } else {
                params.push((k, v));
            }
        }
        let get = |name: &str| -> Result<&str, SigError> {
            let mut found = params.iter().filter(|(k, _)| k == name);
            match (found.next(), found.next()) {
                (Some((_, v)), None) => Ok(v.as_str()),
                (Some(_), Some(_)) => Err(SigError::AuthorizationQueryParametersError(format!(
                    "{name} appears twice"
                ))),
                (None, _) => Err(SigError::AuthorizationQueryParametersError(format!(
                    "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; {name} is missing"
                ))),
            }
        };
        let algorithm = get("X-Amz-Algorithm")?;
        if algorithm != ALGORITHM {
            return Err(SigError::AuthorizationQueryParametersError(format!(
                "X-Amz-Algorithm only supports \"{ALGORITHM}\""
            )));
        }
        let credential = Credential::parse(get("X-Amz-Credential")?)?;
        let date_text = get("X-Amz-Date")?;
        let date = parse_amz_date(date_text)?;
        if !date_text.starts_with(&credential.date) {
            return Err(SigError::MalformedCredential(format!(
                "the credential's date {} is not the day of X-Amz-Date {date_text}",
                credential.date
            )));
        }
        let expires_seconds: u64 = get("X-Amz-Expires")?.parse().map_err(|_| {
            SigError::AuthorizationQueryParametersError("X-Amz-Expires should be a number".into())
        })?;
        if expires_seconds == 0 || expires_seconds > MAX_EXPIRES_SECONDS {
            return Err(SigError::AuthorizationQueryParametersError(format!(
                "X-Amz-Expires must be between 1 and {MAX_EXPIRES_SECONDS} seconds"
            )));
        }
        let signed_headers: Vec<String> = get("X-Amz-SignedHeaders")?
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect();
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(SigError::AuthorizationQueryParametersError(
                "X-Amz-SignedHeaders must include host".into(),
            ));
        }
        let signature = signature.ok_or_else(|| {
            SigError::AuthorizationQueryParametersError("X-Amz-Signature is missing".into())
        })?;
        Ok(PresignedGet {
            credential,
            date,
            expires_seconds,
            signed_headers,
            signature,
            params,
        })
    }

    /// When the URL stops working.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.date + Duration::seconds(i64::try_from(self.expires_seconds).unwrap_or(i64::MAX / 2))
    }

    /// Checks the signature of `method` on `raw_path` (as received) with the
    /// signed headers' values from `header`, then the time window.
    pub fn verify(
        &self,
        secret: &str,
        method: &str,
        raw_path: &str,
        header: &dyn Fn(&str) -> Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(), SigError> {
        let path = uri_encode(&uri_decode(raw_path)?, true);
        let mut headers = Vec::with_capacity(self.signed_headers.len());
        for name in &self.signed_headers {
            let value = header(name).ok_or(SigError::SignatureDoesNotMatch)?;
            headers.push((name.clone(), value));
        }
        let sts = string_to_sign(
            method,
            &path,
            &canonical_query(&self.params),
            &headers,
            &amz_date(self.date),
            &self.credential,
        );
        let expected = signature(&self.credential.key(secret), &sts);
        if !crate::signatures_match(&expected, &self.signature) {
            return Err(SigError::SignatureDoesNotMatch);
        }
        if self.date - now > Duration::seconds(MAX_SKEW_SECONDS) {
            return Err(SigError::RequestNotYetValid);
        }
        if now >= self.expires_at() {
            return Err(SigError::RequestExpired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    /// AWS's documented presigned GET ("Authenticating Requests: Using Query
    /// Parameters (AWS Signature Version 4)"): examplebucket/test.txt,
    /// 2013-05-24, 86400 seconds.
    const AWS_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    fn host(name: &str) -> Option<String> {
        (name == "host").then(|| "examplebucket.s3.amazonaws.com".to_owned())
    }

    #[test]
    fn signing_matches_the_aws_example() {
        let credential =
            Credential::parse("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request").unwrap();
        let now = parse_amz_date("20130524T000000Z").unwrap();
        let query = presign(
            "GET",
            "examplebucket.s3.amazonaws.com",
            "/test.txt",
            &credential,
            SECRET,
            now,
            86400,
        );
        assert_eq!(query, AWS_QUERY);
    }

    #[test]
    fn the_aws_example_verifies_within_its_day_only() {
        let get = PresignedGet::from_query(AWS_QUERY).unwrap();
        let now = parse_amz_date("20130524T120000Z").unwrap();
        get.verify(SECRET, "GET", "/test.txt", &host, now).unwrap();
        assert_eq!(
            get.verify(SECRET, "GET", "/test.txt", &host, now + Duration::hours(12)),
            Err(SigError::RequestExpired)
        );
        assert_eq!(
            get.verify(SECRET, "GET", "/test.txt", &host, now - Duration::hours(13)),
            Err(SigError::RequestNotYetValid)
        );
        for (secret, method, path) in [
            ("other", "GET", "/test.txt"),
            (SECRET, "PUT", "/test.txt"),
            (SECRET, "GET", "/test2.txt"),
        ] {
            assert_eq!(
                get.verify(secret, method, path, &host, now),
                Err(SigError::SignatureDoesNotMatch)
            );
        }
        let elsewhere = |_: &str| Some("evil.example".to_owned());
        assert_eq!(
            get.verify(SECRET, "GET", "/test.txt", &elsewhere, now),
            Err(SigError::SignatureDoesNotMatch)
        );
        let tampered = AWS_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=604800");
        let get = PresignedGet::from_query(&tampered).unwrap();
        assert_eq!(
            get.verify(SECRET, "GET", "/test.txt", &host, now),
            Err(SigError::SignatureDoesNotMatch)
        );
    }

    #[test]
    fn targets_presign_path_style_urls_that_verify() {
        let target = Target {
            endpoint: "http://127.0.0.1:8080/s3".into(),
            bucket: "default".into(),
            region: "us-east-1".into(),
            access_key: "int_abc".into(),
            secret: "s3cret".into(),
        };
        let now = parse_amz_date("20260101T000000Z").unwrap();
        let url = target.presign_get("uploads/f 1/é.pdf", now, Duration::hours(24));
        let (path, query) = url
            .strip_prefix("http://127.0.0.1:8080")
            .unwrap()
            .split_once('?')
            .unwrap();
        assert_eq!(path, "/s3/default/uploads/f%201/%C3%A9.pdf");
        let get = PresignedGet::from_query(query).unwrap();
        assert_eq!(get.credential.access_key, "int_abc");
        assert_eq!(get.expires_at(), now + Duration::hours(24));
        let host = |n: &str| (n == "host").then(|| "127.0.0.1:8080".to_owned());
        get.verify("s3cret", "GET", path, &host, now + Duration::hours(1))
            .unwrap();
        assert!(
            get.verify("s3cret", "GET", path, &host, now + Duration::hours(24))
                .is_err()
        );
    }

    #[test]
    fn extra_parameters_are_signed_along() {
        let target = Target {
            endpoint: "http://127.0.0.1:3900".into(),
            bucket: "b".into(),
            region: "garage".into(),
            access_key: "GK1".into(),
            secret: "s3cret".into(),
        };
        let now = parse_amz_date("20260101T000000Z").unwrap();
        let extra = [
            (
                "response-content-disposition".to_owned(),
                "attachment; filename=\"a b.pdf\"".to_owned(),
            ),
            (
                "response-content-type".to_owned(),
                "application/pdf".to_owned(),
            ),
        ];
        let url = target.presign_get_with("blobs/k", &extra, now, Duration::minutes(5));
        let (path, query) = url
            .strip_prefix("http://127.0.0.1:3900")
            .unwrap()
            .split_once('?')
            .unwrap();
        assert!(
            query.contains(
                "response-content-disposition=attachment%3B%20filename%3D%22a%20b.pdf%22"
            ),
            "{query}"
        );
        let host = |n: &str| (n == "host").then(|| "127.0.0.1:3900".to_owned());
        let at = now + Duration::minutes(1);
        let get = PresignedGet::from_query(query).unwrap();
        get.verify("s3cret", "GET", path, &host, at).unwrap();
        let tampered = query.replace("application%2Fpdf", "text%2Fhtml");
        let get = PresignedGet::from_query(&tampered).unwrap();
        assert_eq!(
            get.verify("s3cret", "GET", path, &host, at),
            Err(SigError::SignatureDoesNotMatch)
        );
    }

    #[test]
    fn malformed_queries_are_refused() {
        assert!(!PresignedGet::is_presigned("a=b"));
        assert!(PresignedGet::is_presigned(AWS_QUERY));
        for bad in [
            "",
            "X-Amz-Signature=00",
            &AWS_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=0"),
            &AWS_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801"),
            &AWS_QUERY.replace("X-Amz-Expires=86400", "X-Amz-Expires=x"),
            &AWS_QUERY.replace("AWS4-HMAC-SHA256&", "AWS4-HMAC-SHA1&"),
            &AWS_QUERY.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=range"),
            &AWS_QUERY.replace("20130524T000000Z", "20130525T000000Z"),
            &format!("{AWS_QUERY}&X-Amz-Date=20130524T000000Z"),
            &format!("{AWS_QUERY}&X-Amz-Signature=00"),
            &AWS_QUERY.replace("%2F", "%zz"),
        ] {
            assert!(PresignedGet::from_query(bad).is_err(), "{bad}");
        }
    }
}
