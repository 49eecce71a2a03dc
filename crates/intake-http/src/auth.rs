//! Who is calling: the `Auth` extractor reads `Authorization` (Bearer API
//! key, or HTTP Basic as `user[@tenant]:password` or `key:`) and asks the
//! service. Missing or bad credentials answer 401 before the body is read.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use intake_core::{Error, Principal};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

/// Credentials as sent, before they are checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    Bearer(String),
    Basic { user: String, password: String },
}

/// Parses an `Authorization` header value.
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| Credentials::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (user, password) = decoded.split_once(':')?;
        return Some(Credentials::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    None
}

pub async fn authenticate(
    state: &AppState,
    credentials: Option<Credentials>,
) -> Result<Principal, Error> {
    let principal = match credentials {
        None => {
            return Err(Error::unauthorized(
                "credentials are required (Bearer API key or HTTP Basic)",
            ));
        }
        Some(Credentials::Bearer(token)) => state.service.authenticate_key(&token).await?,
        Some(Credentials::Basic { user, password }) => {
            state.service.authenticate_basic(&user, &password).await?
        }
    };
    tracing::Span::current().record("tenant", principal.tenant.slug.as_str());
    Ok(principal)
}

/// The caller of a request, by the same rules as the [`Auth`] extractor;
/// for front ends that render errors in their own format (the dialects).
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Principal, Error> {
    let credentials = match headers.get(AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(parse_authorization)
                .ok_or_else(|| Error::unauthorized("the Authorization header cannot be parsed"))?,
        ),
    };
    authenticate(state, credentials).await
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Auth, ApiError> {
        Ok(Auth(caller(state, &parts.headers).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        assert_eq!(
            parse_authorization("Bearer ik_abc"),
            Some(Credentials::Bearer("ik_abc".into()))
        );
        assert_eq!(
            parse_authorization("bearer  ik_abc "),
            Some(Credentials::Bearer("ik_abc".into()))
        );
        let basic = format!("Basic {}", STANDARD.encode("awesomeuser:gReAt/PaSsWoRd123"));
        assert_eq!(
            parse_authorization(&basic),
            Some(Credentials::Basic {
                user: "awesomeuser".into(),
                password: "gReAt/PaSsWoRd123".into()
            })
        );
        let key_as_user = format!("Basic {}", STANDARD.encode("ik_abc:"));
        assert_eq!(
            parse_authorization(&key_as_user),
            Some(Credentials::Basic {
                user: "ik_abc".into(),
                password: String::new()
            })
        );
        assert_eq!(parse_authorization("Basic !!!"), None);
        assert_eq!(parse_authorization("Digest x"), None);
        assert_eq!(parse_authorization("Bearer"), None);
    }
}
