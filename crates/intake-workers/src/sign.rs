//! Webhook signatures, in the style Stripe made common.
//!
//! Each delivery carries `Intake-Signature: t=<unix seconds>,v1=<hex>` where the hex is
//! HMAC-SHA256, keyed with the webhook's secret, over `"<t>.<body>"` (the raw body bytes). A
//! receiver recomputes it over the body it received, compares in constant time, and refuses a
//! `t` too far from its clock, so a captured delivery cannot be replayed later. [`verify`] is
//! that receiver's side, for tests and for Rust receivers.
//!
//! Several `v1=` entries may appear once secrets can be rotated; [`verify`] accepts any match.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The `Intake-Signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is {age_secs}s away from now, over the tolerance")]
    Stale { age_secs: i64 },
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks an `Intake-Signature` header against `body`, with `now` in unix seconds and the
/// accepted clock difference `tolerance` (five minutes is usual).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?)
            }
            Some(("v1", hex_sig)) => {
                signatures.push(hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?)
            }
            // Other schemes (a future v2) are ignored, as Stripe's receivers do.
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let age_secs = now.saturating_sub(timestamp);
    if age_secs.unsigned_abs() > tolerance.as_secs() {
        return Err(SignatureError::Stale { age_secs });
    }
    let matches = signatures
        .iter()
        .any(|sig| mac(secret, timestamp, body).verify_slice(sig).is_ok());
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MIN: Duration = Duration::from_secs(300);

    #[test]
    fn a_signature_verifies_and_tampering_does_not() {
        let body = br#"{"event":"file.ready"}"#;
        let header = sign("whsec", 1_700_000_000, body);
        assert!(header.starts_with("t=1700000000,v1="), "{header}");
        assert_eq!(
            verify("whsec", &header, body, 1_700_000_010, FIVE_MIN),
            Ok(())
        );
        assert_eq!(
            verify("other", &header, body, 1_700_000_010, FIVE_MIN),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec", &header, b"{}", 1_700_000_010, FIVE_MIN),
            Err(SignatureError::Mismatch)
        );
        let replayed = verify("whsec", &header, body, 1_700_001_000, FIVE_MIN);
        assert_eq!(replayed, Err(SignatureError::Stale { age_secs: 1000 }));
        // Moving the timestamp breaks the signature, so a replay cannot be refreshed.
        let moved = header.replace("t=1700000000", "t=1700001000");
        assert_eq!(
            verify("whsec", &moved, body, 1_700_001_000, FIVE_MIN),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec", "v1=zz", body, 0, FIVE_MIN),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn matches_a_known_vector() {
        // printf '%s' '1.{}' | openssl dgst -sha256 -hmac key
        assert_eq!(
            sign("key", 1, b"{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
