//! S3 POST policies: `{"expiration": "…", "conditions": [...]}`, base64
//! encoded into the form's `policy` field. Conditions are exact matches
//! (`{"field": "value"}` or `["eq", "$field", "value"]`), prefixes
//! (`["starts-with", "$field", "prefix"]`) and the body size
//! (`["content-length-range", min, max]`). Field names compare without
//! regard to case, values exactly, as S3 does.

use crate::SigError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Most conditions a policy may hold (S3's own policies are far shorter).
pub const MAX_CONDITIONS: usize = 256;
/// Longest field name a condition may name.
pub const MAX_FIELD_NAME: usize = 1024;

/// Fields every form may carry without a condition naming them (the
/// signature fields of SigV4 and of the older SigV2 forms, and the file).
fn exempt(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    matches!(
        f.as_str(),
        "x-amz-signature" | "file" | "policy" | "awsaccesskeyid" | "signature"
    ) || f.starts_with("x-ignore-")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The field equals the value.
    Eq { field: String, value: String },
    /// The field starts with the prefix (an empty prefix allows any value).
    StartsWith { field: String, prefix: String },
    /// The file's size in bytes is within `min..=max`.
    ContentLengthRange { min: u64, max: u64 },
}

impl Condition {
    pub fn eq(field: &str, value: &str) -> Condition {
        Condition::Eq {
            field: field.to_owned(),
            value: value.to_owned(),
        }
    }

    pub fn starts_with(field: &str, prefix: &str) -> Condition {
        Condition::StartsWith {
            field: field.to_owned(),
            prefix: prefix.to_owned(),
        }
    }

    /// The field this condition constrains (None for the size range).
    pub fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }

    /// The condition in a policy document: exact matches in the object
    /// form (as boto3 writes them), the others as arrays.
    pub fn to_json(&self) -> Value {
        match self {
            Condition::Eq { field, value } => json!({ field.as_str(): value }),
            Condition::StartsWith { field, prefix } => {
                json!(["starts-with", format!("${field}"), prefix])
            }
            Condition::ContentLengthRange { min, max } => json!(["content-length-range", min, max]),
        }
    }

    /// The array form, for error messages (`["eq", "$key", "a/b"]`).
    fn describe(&self) -> String {
        match self {
            Condition::Eq { field, value } => json!(["eq", format!("${field}"), value]).to_string(),
            other => other.to_json().to_string(),
        }
    }

    fn parse(v: &Value) -> Result<Vec<Condition>, SigError> {
        let invalid = |why: String| Err(SigError::InvalidPolicyDocument(why));
        match v {
            Value::Object(map) => {
                if map.is_empty() {
                    return invalid("a condition object is empty".into());
                }
                map.iter()
                    .map(|(field, value)| match value {
                        Value::String(value) => Ok(Condition::Eq {
                            field: check_field(field)?,
                            value: value.clone(),
                        }),
                        _ => Err(SigError::InvalidPolicyDocument(format!(
                            "the condition on {field:?} must be a string"
                        ))),
                    })
                    .collect()
            }
            Value::Array(items) => {
                let Some(op) = items.first().and_then(Value::as_str) else {
                    return invalid("a condition array must start with its operator".into());
                };
                if items.len() != 3 {
                    return invalid(format!(
                        "the {op:?} condition takes two arguments, not {}",
                        items.len() - 1
                    ));
                }
                match op.to_ascii_lowercase().as_str() {
                    "eq" | "starts-with" => {
                        let (Some(field), Some(value)) = (items[1].as_str(), items[2].as_str())
                        else {
                            return invalid(format!("the {op:?} condition takes two strings"));
                        };
                        let Some(field) = field.strip_prefix('$') else {
                            return invalid(format!(
                                "the field {field:?} of a {op:?} condition must start with '$'"
                            ));
                        };
                        let field = check_field(field)?;
                        Ok(vec![if op.eq_ignore_ascii_case("eq") {
                            Condition::Eq {
                                field,
                                value: value.to_owned(),
                            }
                        } else {
                            Condition::StartsWith {
                                field,
                                prefix: value.to_owned(),
                            }
                        }])
                    }
                    "content-length-range" => {
                        let (min, max) = (size(&items[1])?, size(&items[2])?);
                        if min > max {
                            return invalid(format!(
                                "content-length-range {min} is larger than {max}"
                            ));
                        }
                        Ok(vec![Condition::ContentLengthRange { min, max }])
                    }
                    _ => invalid(format!("unknown condition {op:?}")),
                }
            }
            _ => invalid("a condition must be an object or an array".into()),
        }
    }
}

fn check_field(field: &str) -> Result<String, SigError> {
    if field.is_empty() || field.len() > MAX_FIELD_NAME {
        return Err(SigError::InvalidPolicyDocument(
            "a condition names an empty or overlong field".into(),
        ));
    }
    Ok(field.to_owned())
}

/// A size bound: a non-negative integer, or a string holding one.
fn size(v: &Value) -> Result<u64, SigError> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.ok_or_else(|| {
        SigError::InvalidPolicyDocument(format!(
            "content-length-range bounds must be non-negative integers, not {v}"
        ))
    })
}

/// The sizes a policy allows; every size when it names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthRange {
    pub min: u64,
    pub max: u64,
}

impl Default for LengthRange {
    fn default() -> LengthRange {
        LengthRange {
            min: 0,
            max: u64::MAX,
        }
    }
}

impl LengthRange {
    pub fn contains(&self, size: u64) -> bool {
        (self.min..=self.max).contains(&size)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration: DateTime<Utc>,
    pub conditions: Vec<Condition>,
}

impl PostPolicy {
    /// The policy document, with the expiration in milliseconds as S3's
    /// examples write it.
    pub fn to_json(&self) -> String {
        json!({
            "expiration": self.expiration.to_rfc3339_opts(SecondsFormat::Millis, true),
            "conditions": self.conditions.iter().map(Condition::to_json).collect::<Vec<_>>(),
        })
        .to_string()
    }

    /// The form's `policy` field: the document, base64.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.to_json())
    }

    /// Reads a form's `policy` field.
    pub fn decode(b64: &str) -> Result<PostPolicy, SigError> {
        let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let json = STANDARD.decode(compact.as_bytes()).map_err(|_| {
            SigError::InvalidPolicyDocument("the policy is not valid base64".into())
        })?;
        PostPolicy::parse_json(&json)
    }

    /// Parses a policy document. Never panics, whatever the bytes.
    pub fn parse_json(json: &[u8]) -> Result<PostPolicy, SigError> {
        let invalid = |why: &str| SigError::InvalidPolicyDocument(why.to_owned());
        let doc: Value =
            serde_json::from_slice(json).map_err(|e| invalid(&format!("not JSON: {e}")))?;
        let Value::Object(doc) = doc else {
            return Err(invalid("the policy must be a JSON object"));
        };
        if let Some(other) = doc
            .keys()
            .find(|k| k.as_str() != "expiration" && k.as_str() != "conditions")
        {
            return Err(invalid(&format!("unexpected key {other:?}")));
        }
        let expiration = doc
            .get("expiration")
            .ok_or_else(|| invalid("the policy has no expiration"))?
            .as_str()
            .ok_or_else(|| invalid("the expiration must be a string"))?;
        let expiration = DateTime::parse_from_rfc3339(expiration)
            .map_err(|_| {
                invalid(&format!(
                    "the expiration {expiration:?} is not an ISO 8601 date"
                ))
            })?
            .with_timezone(&Utc);
        let items = doc
            .get("conditions")
            .ok_or_else(|| invalid("the policy has no conditions"))?
            .as_array()
            .ok_or_else(|| invalid("the conditions must be an array"))?;
        if items.len() > MAX_CONDITIONS {
            return Err(invalid(&format!("more than {MAX_CONDITIONS} conditions")));
        }
        let mut conditions = Vec::with_capacity(items.len());
        for item in items {
            conditions.extend(Condition::parse(item)?);
        }
        if conditions.len() > MAX_CONDITIONS {
            return Err(invalid(&format!("more than {MAX_CONDITIONS} conditions")));
        }
        Ok(PostPolicy {
            expiration,
            conditions,
        })
    }

    /// Checks a form's text fields (those before the file) against the
    /// policy, for an upload into `bucket` at `now`: not expired, every
    /// condition met, and every field (but the exempt ones) named by some
    /// condition. Answers the sizes the file may have.
    pub fn check(
        &self,
        fields: &[(String, String)],
        bucket: &str,
        now: DateTime<Utc>,
    ) -> Result<LengthRange, SigError> {
        if now >= self.expiration {
            return Err(SigError::PolicyExpired);
        }
        let mut seen = std::collections::HashSet::new();
        for (name, _) in fields {
            if !exempt(name) && !seen.insert(name.to_ascii_lowercase()) {
                return Err(SigError::InvalidArgument(format!(
                    "the form has more than one field named {name:?}"
                )));
            }
        }
        let value = |field: &str| -> Option<&str> {
            if field.eq_ignore_ascii_case("bucket") {
                return Some(bucket);
            }
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(field))
                .map(|(_, v)| v.as_str())
        };
        let mut range = LengthRange::default();
        for condition in &self.conditions {
            let ok = match condition {
                Condition::Eq { field, value: want } => value(field) == Some(want.as_str()),
                Condition::StartsWith { field, prefix } => match value(field) {
                    None => prefix.is_empty(),
                    // S3 checks each of a comma-separated list of types.
                    Some(v) if field.eq_ignore_ascii_case("content-type") => {
                        v.split(',').all(|t| t.trim().starts_with(prefix.as_str()))
                    }
                    Some(v) => v.starts_with(prefix.as_str()),
                },
                Condition::ContentLengthRange { min, max } => {
                    range.min = range.min.max(*min);
                    range.max = range.max.min(*max);
                    true
                }
            };
            if !ok {
                return Err(SigError::ConditionFailed(condition.describe()));
            }
        }
        let extra: Vec<&str> = fields
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| {
                !exempt(n)
                    && !self
                        .conditions
                        .iter()
                        .any(|c| c.field().is_some_and(|f| f.eq_ignore_ascii_case(n)))
            })
            .collect();
        if !extra.is_empty() {
            return Err(SigError::ExtraInputFields(extra.join(", ")));
        }
        if range.min > range.max {
            return Err(SigError::InvalidPolicyDocument(
                "the content-length-range conditions exclude every size".into(),
            ));
        }
        Ok(range)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    /// The policy of AWS's "Browser-Based Upload using HTTP POST (Using AWS
    /// Signature Version 4)" example, as its documentation encodes it.
    pub(crate) const AWS_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";

    /// The form of the same example (its field names in their mixed case).
    pub(crate) fn aws_form() -> Vec<(String, String)> {
        fields(&[
            ("key", "user/user1/${filename}"),
            ("acl", "public-read"),
            (
                "success_action_redirect",
                "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            ),
            ("Content-Type", "image/jpeg"),
            ("x-amz-meta-uuid", "14365123651274"),
            ("x-amz-server-side-encryption", "AES256"),
            (
                "X-Amz-Credential",
                "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
            ),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Date", "20151229T000000Z"),
            ("x-amz-meta-tag", ""),
            ("Policy", AWS_POLICY),
        ])
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_aws_example_policy_decodes() {
        let p = PostPolicy::decode(AWS_POLICY).unwrap();
        assert_eq!(p.expiration, at("2015-12-30T12:00:00Z"));
        assert_eq!(p.conditions.len(), 11);
        assert_eq!(
            p.conditions[0],
            Condition::eq("bucket", "sigv4examplebucket")
        );
        assert_eq!(
            p.conditions[1],
            Condition::starts_with("key", "user/user1/")
        );
        assert_eq!(
            p.conditions[7],
            Condition::starts_with("x-amz-meta-tag", "")
        );
    }

    #[test]
    fn the_aws_example_form_meets_its_policy() {
        let p = PostPolicy::decode(AWS_POLICY).unwrap();
        let range = p
            .check(
                &aws_form(),
                "sigv4examplebucket",
                at("2015-12-29T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(range, LengthRange::default());
        // Another bucket, an expired policy, a key elsewhere, another type.
        let wrong_bucket = p.check(&aws_form(), "other", at("2015-12-29T00:00:00Z"));
        assert_eq!(
            wrong_bucket,
            Err(SigError::ConditionFailed(
                r#"["eq","$bucket","sigv4examplebucket"]"#.into()
            ))
        );
        assert_eq!(
            p.check(
                &aws_form(),
                "sigv4examplebucket",
                at("2015-12-30T12:00:00Z")
            ),
            Err(SigError::PolicyExpired)
        );
        let mut form = aws_form();
        form[0].1 = "user/user2/x.jpg".into();
        assert!(matches!(
            p.check(&form, "sigv4examplebucket", at("2015-12-29T00:00:00Z")),
            Err(SigError::ConditionFailed(c)) if c.contains("$key")
        ));
        let mut form = aws_form();
        form[3].1 = "text/html".into();
        assert!(
            p.check(&form, "sigv4examplebucket", at("2015-12-29T00:00:00Z"))
                .is_err()
        );
    }

    #[test]
    fn every_field_needs_a_condition() {
        let p = PostPolicy::decode(AWS_POLICY).unwrap();
        let mut form = aws_form();
        form.push(("x-amz-meta-extra".into(), "1".into()));
        form.push(("x-ignore-me".into(), "fine".into()));
        form.push(("X-Amz-Signature".into(), "00".into()));
        assert_eq!(
            p.check(&form, "sigv4examplebucket", at("2015-12-29T00:00:00Z")),
            Err(SigError::ExtraInputFields("x-amz-meta-extra".into()))
        );
        // A missing field fails the condition that names it.
        let form: Vec<_> = aws_form()
            .into_iter()
            .filter(|(n, _)| n != "x-amz-meta-uuid")
            .collect();
        assert!(matches!(
            p.check(&form, "sigv4examplebucket", at("2015-12-29T00:00:00Z")),
            Err(SigError::ConditionFailed(c)) if c.contains("x-amz-meta-uuid")
        ));
        // Duplicates are refused rather than guessed about.
        let mut form = aws_form();
        form.push(("KEY".into(), "user/user1/b".into()));
        assert!(matches!(
            p.check(&form, "sigv4examplebucket", at("2015-12-29T00:00:00Z")),
            Err(SigError::InvalidArgument(_))
        ));
    }

    #[test]
    fn length_ranges_intersect() {
        let p = PostPolicy {
            expiration: at("2030-01-01T00:00:00Z"),
            conditions: vec![
                Condition::ContentLengthRange { min: 1, max: 100 },
                Condition::ContentLengthRange { min: 10, max: 1000 },
            ],
        };
        let range = p.check(&[], "b", at("2029-01-01T00:00:00Z")).unwrap();
        assert_eq!(range, LengthRange { min: 10, max: 100 });
        assert!(range.contains(10) && range.contains(100) && !range.contains(101));
    }

    #[test]
    fn documents_round_trip_and_bad_ones_are_refused() {
        let p = PostPolicy {
            expiration: at("2026-01-01T00:00:00.250Z"),
            conditions: vec![
                Condition::eq("bucket", "b"),
                Condition::starts_with("key", "uploads/"),
                Condition::ContentLengthRange { min: 0, max: 5 },
                Condition::eq("x-amz-meta-a", "\"quoted\" ü"),
            ],
        };
        assert_eq!(PostPolicy::decode(&p.encode()).unwrap(), p);
        assert!(
            p.to_json()
                .contains(r#""expiration":"2026-01-01T00:00:00.250Z""#)
        );
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"expiration":"2026-01-01T00:00:00Z"}"#,
            r#"{"expiration":"tomorrow","conditions":[]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":{}}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[{"a":1}]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","key","x"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["eq","$key"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["in","$key","x"]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",-1,5]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range",6,5]]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[7]}"#,
            r#"{"expiration":"2026-01-01T00:00:00Z","conditions":[],"extra":1}"#,
        ] {
            assert!(
                matches!(
                    PostPolicy::parse_json(bad.as_bytes()),
                    Err(SigError::InvalidPolicyDocument(_))
                ),
                "{bad}"
            );
        }
        assert!(PostPolicy::decode("!!!").is_err());
        // Sizes as strings, operators in any case (boto3 and others differ).
        let p = PostPolicy::parse_json(
            br#"{"expiration":"2026-01-01T00:00:00Z","conditions":[["content-length-range","1","2"],["EQ","$a","b"]]}"#,
        )
        .unwrap();
        assert_eq!(
            p.conditions[0],
            Condition::ContentLengthRange { min: 1, max: 2 }
        );
        assert_eq!(p.conditions[1], Condition::eq("a", "b"));
    }

    #[test]
    fn content_type_lists_are_checked_one_by_one() {
        let p = PostPolicy {
            expiration: at("2030-01-01T00:00:00Z"),
            conditions: vec![Condition::starts_with("Content-Type", "image/")],
        };
        let now = at("2029-01-01T00:00:00Z");
        let ok = fields(&[("content-type", "image/png, image/jpeg")]);
        assert!(p.check(&ok, "b", now).is_ok());
        let bad = fields(&[("content-type", "image/png, text/html")]);
        assert!(p.check(&bad, "b", now).is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9_-]{0,20}"
    }

    fn condition() -> impl Strategy<Value = Condition> {
        prop_oneof![
            (field(), any::<String>()).prop_map(|(f, v)| Condition::Eq { field: f, value: v }),
            (field(), any::<String>()).prop_map(|(f, p)| Condition::StartsWith {
                field: f,
                prefix: p
            }),
            (any::<u64>(), any::<u64>()).prop_map(|(a, b)| Condition::ContentLengthRange {
                min: a.min(b),
                max: a.max(b)
            }),
        ]
    }

    fn policy() -> impl Strategy<Value = PostPolicy> {
        (
            0i64..4_000_000_000_000,
            prop::collection::vec(condition(), 0..12),
        )
            .prop_map(|(ms, conditions)| PostPolicy {
                expiration: DateTime::from_timestamp_millis(ms).unwrap_or_default(),
                conditions,
            })
    }

    /// A JSON value of any shape, to feed the parser documents that are
    /// valid JSON but anything as a policy.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            prop_oneof![
                Just("$key".to_owned()),
                Just("eq".to_owned()),
                Just("starts-with".to_owned()),
                Just("content-length-range".to_owned()),
                Just("2030-01-01T00:00:00Z".to_owned()),
                any::<String>()
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("expiration".to_owned()),
                            Just("conditions".to_owned()),
                            any::<String>()
                        ],
                        inner
                    ),
                    0..4
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = PostPolicy::parse_json(&bytes);
            let _ = PostPolicy::decode(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn any_json_parses_without_panicking_and_checks_cleanly(
            doc in json_value(),
            wrap in any::<bool>(),
            form in prop::collection::vec((field(), any::<String>()), 0..6),
        ) {
            let doc = if wrap {
                json!({"expiration": "2030-01-01T00:00:00Z", "conditions": doc})
            } else {
                doc
            };
            if let Ok(p) = PostPolicy::parse_json(doc.to_string().as_bytes()) {
                let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
                let _ = p.check(&form, "bucket", now);
            }
        }

        #[test]
        fn policies_round_trip(p in policy()) {
            prop_assert_eq!(PostPolicy::decode(&p.encode()).unwrap(), p.clone());
            prop_assert_eq!(PostPolicy::parse_json(p.to_json().as_bytes()).unwrap(), p);
        }

        #[test]
        fn starts_with_means_starts_with(value in any::<String>(), prefix in any::<String>()) {
            let p = PostPolicy {
                expiration: DateTime::from_timestamp(2_000_000_000, 0).unwrap_or_default(),
                conditions: vec![Condition::starts_with("key", &prefix)],
            };
            let now = DateTime::from_timestamp(1_000_000_000, 0).unwrap_or_default();
            let form = vec![("key".to_owned(), value.clone())];
            prop_assert_eq!(p.check(&form, "b", now).is_ok(), value.starts_with(&prefix));
        }

        #[test]
        fn eq_means_equal_and_names_compare_without_case(
            value in any::<String>(), want in any::<String>(), upper in any::<bool>()
        ) {
            let p = PostPolicy {
                expiration: DateTime::from_timestamp(2_000_000_000, 0).unwrap_or_default(),
                conditions: vec![Condition::eq("x-amz-meta-a", &want)],
            };
            let now = DateTime::from_timestamp(1_000_000_000, 0).unwrap_or_default();
            let name = if upper { "X-AMZ-META-A" } else { "x-amz-meta-a" };
            let form = vec![(name.to_owned(), value.clone())];
            prop_assert_eq!(p.check(&form, "b", now).is_ok(), value == want);
        }

        #[test]
        fn sizes_are_within_every_range(
            ranges in prop::collection::vec((0u64..1000, 0u64..1000), 1..4), size in 0u64..1000
        ) {
            let conditions: Vec<_> = ranges
                .iter()
                .map(|&(a, b)| Condition::ContentLengthRange { min: a.min(b), max: a.max(b) })
                .collect();
            let p = PostPolicy {
                expiration: DateTime::from_timestamp(2_000_000_000, 0).unwrap_or_default(),
                conditions,
            };
            let now = DateTime::from_timestamp(1_000_000_000, 0).unwrap_or_default();
            let inside = ranges.iter().all(|&(a, b)| (a.min(b)..=a.max(b)).contains(&size));
            match p.check(&[], "b", now) {
                Ok(range) => prop_assert_eq!(range.contains(size), inside),
                Err(_) => prop_assert!(!inside),
            }
        }
    }
}
