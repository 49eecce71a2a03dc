//! Browser POST uploads: signing a policy into form fields, and reading and
//! verifying the fields a client sent back.
//!
//! The signature is HMAC-SHA256 over the base64 policy itself, under the key
//! derived for the credential's date and region; the policy then says what
//! the other fields may be (see [`crate::policy`]).

use crate::policy::{Condition, PostPolicy};
use crate::{ALGORITHM, Credential, SigError, Target, amz_date, parse_amz_date, signature};
use chrono::{DateTime, Duration, Utc};

/// What a client needs to upload: where to POST, and the fields to send
/// before the file.
#[derive(Debug, Clone, PartialEq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub policy: PostPolicy,
}

/// How the object key is constrained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRule {
    /// Exactly this key.
    Exact(String),
    /// Any key under the prefix; the form's `key` is `field_value`.
    Prefix { prefix: String, field_value: String },
}

impl Target {
    /// Signs a POST form for an upload into this target's bucket.
    ///
    /// The policy holds: the expiration (`now + expires_in`), the bucket,
    /// the key rule, `extra` conditions (such as `content-length-range`),
    /// an exact condition for each of `fields` (`Content-Type`,
    /// `x-amz-meta-*`, `success_action_status`, …) unless `extra` already
    /// names it, and the SigV4 fields. The answered fields are `key`,
    /// `fields`, then `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`,
    /// `policy` and `x-amz-signature`.
    pub fn presign_post(
        &self,
        key: &KeyRule,
        fields: &[(String, String)],
        extra: &[Condition],
        now: DateTime<Utc>,
        expires_in: Duration,
    ) -> PresignedPost {
        let credential = Credential::new(&self.access_key, now, &self.region);
        let date = amz_date(now);
        let mut conditions = vec![Condition::eq("bucket", &self.bucket)];
        let key_value = match key {
            KeyRule::Exact(k) => {
                conditions.push(Condition::eq("key", k));
                k.clone()
            }
            KeyRule::Prefix {
                prefix,
                field_value,
            } => {
                conditions.push(Condition::starts_with("key", prefix));
                field_value.clone()
            }
        };
        conditions.extend(extra.iter().cloned());
        for (name, value) in fields {
            let named = conditions
                .iter()
                .any(|c| c.field().is_some_and(|f| f.eq_ignore_ascii_case(name)));
            if !named {
                conditions.push(Condition::eq(name, value));
            }
        }
        conditions.push(Condition::eq("x-amz-algorithm", ALGORITHM));
        conditions.push(Condition::eq("x-amz-credential", &credential.to_string()));
        conditions.push(Condition::eq("x-amz-date", &date));
        let policy = PostPolicy {
            expiration: now + expires_in,
            conditions,
        };
        let encoded = policy.encode();
        let sig = signature(&credential.key(&self.secret), &encoded);
        let mut out = vec![("key".to_owned(), key_value)];
        out.extend(fields.iter().cloned());
        out.push(("x-amz-algorithm".into(), ALGORITHM.into()));
        out.push(("x-amz-credential".into(), credential.to_string()));
        out.push(("x-amz-date".into(), date));
        out.push(("policy".into(), encoded));
        out.push(("x-amz-signature".into(), sig));
        PresignedPost {
            url: self.bucket_url(),
            fields: out,
            policy,
        }
    }
}

/// The signature part of a POST form, read from its text fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPost {
    pub access_key: String,
    pub scheme: Scheme,
    /// The `policy` field as sent (the string that was signed).
    pub policy: String,
    pub signature: String,
}

/// How a form is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`,
    /// `x-amz-signature`: hex HMAC-SHA256 under the derived key.
    V4 {
        credential: Credential,
        date: DateTime<Utc>,
    },
    /// `AWSAccessKeyId`, `signature`: base64 HMAC-SHA1 under the secret.
    /// What boto3's `generate_presigned_post` still signs by default for a
    /// custom endpoint unless told `signature_version="s3v4"`.
    V2,
}

/// The first field with this name, without regard to case.
pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl SignedPost {
    /// Reads `x-amz-algorithm`, `x-amz-credential`, `x-amz-date`, `policy`
    /// and `x-amz-signature` (names in any case); the credential's date must
    /// be the day of `x-amz-date`. A form with `AWSAccessKeyId` and no
    /// `x-amz-*` signature field is read as SigV2 (`AWSAccessKeyId`,
    /// `signature`, `policy`).
    pub fn from_fields(fields: &[(String, String)]) -> Result<SignedPost, SigError> {
        let need = |name: &'static str| field(fields, name).ok_or(SigError::MissingField(name));
        let policy = need("policy")?;
        let v4 = [
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
        ]
        .iter()
        .any(|n| field(fields, n).is_some());
        if !v4 && let Some(access_key) = field(fields, "AWSAccessKeyId") {
            return Ok(SignedPost {
                access_key: access_key.to_owned(),
                scheme: Scheme::V2,
                policy: policy.to_owned(),
                signature: need("signature")?.to_owned(),
            });
        }
        let algorithm = need("x-amz-algorithm")?;
        if algorithm != ALGORITHM {
            return Err(SigError::InvalidArgument(format!(
                "only the {ALGORITHM} algorithm is supported, not {algorithm:?}"
            )));
        }
        let credential = Credential::parse(need("x-amz-credential")?)?;
        let date_field = need("x-amz-date")?;
        let date = parse_amz_date(date_field)?;
        if !date_field.starts_with(&credential.date) {
            return Err(SigError::MalformedCredential(format!(
                "the credential's date {} is not the day of x-amz-date {date_field}",
                credential.date
            )));
        }
        let signature = need("x-amz-signature")?;
        Ok(SignedPost {
            access_key: credential.access_key.clone(),
            scheme: Scheme::V4 { credential, date },
            policy: policy.to_owned(),
            signature: signature.to_owned(),
        })
    }

    /// Checks the signature with the access key's secret.
    pub fn verify(&self, secret: &str) -> Result<(), SigError> {
        let ok = match &self.scheme {
            Scheme::V4 { credential, .. } => crate::signatures_match(
                &signature(&credential.key(secret), &self.policy),
                &self.signature,
            ),
            Scheme::V2 => {
                use subtle::ConstantTimeEq;
                let expected = crate::v2_signature(secret, &self.policy);
                expected.len() == self.signature.len()
                    && bool::from(expected.as_bytes().ct_eq(self.signature.as_bytes()))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(SigError::SignatureDoesNotMatch)
        }
    }

    /// The signed policy. Call after [`SignedPost::verify`]: an unsigned
    /// policy is not worth parsing.
    pub fn policy(&self) -> Result<PostPolicy, SigError> {
        PostPolicy::decode(&self.policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::LengthRange;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn aws_form_signed() -> Vec<(String, String)> {
        let mut form = crate::policy::tests::aws_form();
        form.push((
            "X-Amz-Signature".into(),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e".into(),
        ));
        form
    }

    /// AWS's documented example: the policy signed with the example secret
    /// gives the documented signature, and the whole form verifies.
    #[test]
    fn the_aws_example_signature_verifies() {
        let post = SignedPost::from_fields(&aws_form_signed()).unwrap();
        assert_eq!(post.access_key, "AKIAIOSFODNN7EXAMPLE");
        let Scheme::V4 { credential, .. } = &post.scheme else {
            panic!("a SigV4 form")
        };
        assert_eq!(
            signature(&credential.key(SECRET), &post.policy),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
        post.verify(SECRET).unwrap();
        let now = parse_amz_date("20151229T000000Z").unwrap();
        post.policy()
            .unwrap()
            .check(&aws_form_signed(), "sigv4examplebucket", now)
            .unwrap();
        assert_eq!(
            post.verify("another secret"),
            Err(SigError::SignatureDoesNotMatch)
        );
    }

    #[test]
    fn a_tampered_policy_or_signature_is_refused() {
        let mut form = aws_form_signed();
        let i = form.iter().position(|(n, _)| n == "Policy").unwrap();
        // Another policy (one character changed in its base64).
        let mut policy = form[i].1.clone().into_bytes();
        policy[10] = if policy[10] == b'A' { b'B' } else { b'A' };
        form[i].1 = String::from_utf8(policy).unwrap();
        let post = SignedPost::from_fields(&form).unwrap();
        assert_eq!(post.verify(SECRET), Err(SigError::SignatureDoesNotMatch));

        let mut form = aws_form_signed();
        let last = form.len() - 1;
        form[last].1 = "0".repeat(64);
        let post = SignedPost::from_fields(&form).unwrap();
        assert_eq!(post.verify(SECRET), Err(SigError::SignatureDoesNotMatch));
    }

    #[test]
    fn missing_or_malformed_signature_fields_are_named() {
        for name in [
            "Policy",
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Signature",
        ] {
            let form: Vec<_> = aws_form_signed()
                .into_iter()
                .filter(|(n, _)| n != name)
                .collect();
            assert_eq!(
                SignedPost::from_fields(&form),
                Err(SigError::MissingField(match name {
                    "Policy" => "policy",
                    "X-Amz-Algorithm" => "x-amz-algorithm",
                    "X-Amz-Credential" => "x-amz-credential",
                    "X-Amz-Date" => "x-amz-date",
                    _ => "x-amz-signature",
                })),
                "{name}"
            );
        }
        let mut form = aws_form_signed();
        for (n, v) in &mut form {
            if n == "X-Amz-Date" {
                *v = "20151230T000000Z".into();
            }
        }
        assert!(matches!(
            SignedPost::from_fields(&form),
            Err(SigError::MalformedCredential(_))
        ));
        let mut form = aws_form_signed();
        for (n, v) in &mut form {
            if n == "X-Amz-Algorithm" {
                *v = "AWS4-HMAC-SHA1".into();
            }
        }
        assert!(matches!(
            SignedPost::from_fields(&form),
            Err(SigError::InvalidArgument(_))
        ));
    }

    /// SigV2 forms (`AWSAccessKeyId`, `signature`): base64 HMAC-SHA1 of
    /// the policy. The expected value was computed independently with
    /// Python's `hmac` and `hashlib.sha1`.
    #[test]
    fn sigv2_forms_verify() {
        let policy = "eyJleHBpcmF0aW9uIjogIjIwMzAtMDEtMDFUMDA6MDA6MDBaIiwgImNvbmRpdGlvbnMiOiBbeyJidWNrZXQiOiAiYiJ9XX0=";
        let form = vec![
            ("key".to_owned(), "k".to_owned()),
            ("AWSAccessKeyId".to_owned(), "AKID".to_owned()),
            ("policy".to_owned(), policy.to_owned()),
            (
                "signature".to_owned(),
                "TqdM8X1ra3WG71o+3YByME8Ae2o=".to_owned(),
            ),
        ];
        let post = SignedPost::from_fields(&form).unwrap();
        assert_eq!(
            (post.access_key.as_str(), &post.scheme),
            ("AKID", &Scheme::V2)
        );
        post.verify("secret").unwrap();
        assert_eq!(post.verify("other"), Err(SigError::SignatureDoesNotMatch));
        let no_signature: Vec<_> = form.iter().take(3).cloned().collect();
        assert_eq!(
            SignedPost::from_fields(&no_signature),
            Err(SigError::MissingField("signature"))
        );
    }

    #[test]
    fn what_presign_post_signs_verifies_and_holds() {
        let target = Target {
            endpoint: "http://127.0.0.1:8080/s3".into(),
            bucket: "letters".into(),
            region: "us-east-1".into(),
            access_key: "int_x".into(),
            secret: "s3cret".into(),
        };
        let now = parse_amz_date("20260101T120000Z").unwrap();
        let post = target.presign_post(
            &KeyRule::Prefix {
                prefix: "uploads/f1/".into(),
                field_value: "uploads/f1/a.pdf".into(),
            },
            &[
                ("Content-Type".into(), "application/pdf".into()),
                ("x-amz-meta-customer".into(), "42".into()),
            ],
            &[Condition::ContentLengthRange { min: 1, max: 1000 }],
            now,
            Duration::seconds(60),
        );
        assert_eq!(post.url, "http://127.0.0.1:8080/s3/letters");
        let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "x-amz-meta-customer",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "policy",
                "x-amz-signature"
            ]
        );
        let signed = SignedPost::from_fields(&post.fields).unwrap();
        signed.verify("s3cret").unwrap();
        let policy = signed.policy().unwrap();
        assert_eq!(policy.expiration, now + Duration::seconds(60));
        let range = policy.check(&post.fields, "letters", now).unwrap();
        assert_eq!(range, LengthRange { min: 1, max: 1000 });
        assert!(
            policy
                .check(&post.fields, "letters", now + Duration::seconds(60))
                .is_err()
        );
        assert!(policy.check(&post.fields, "other", now).is_err());
        let mut moved = post.fields.clone();
        moved[0].1 = "uploads/f2/a.pdf".into();
        assert!(policy.check(&moved, "letters", now).is_err());
    }
}
