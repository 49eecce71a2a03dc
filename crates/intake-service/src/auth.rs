//! Credentials: API keys (random tokens, stored as SHA-256) and passwords
//! (argon2id PHC strings). A token is found by its hash in one indexed
//! lookup; being 200 random bits, it needs no slow hash. Passwords do.

use crate::Service;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use intake_core::{Error, Principal, Tenant, User, id};
use sha2::{Digest, Sha256};

/// Tokens look like `ik_` + 40 base32 characters.
pub const TOKEN_PREFIX: &str = "ik_";

pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", id::random_token(40))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What a key list shows of a token.
pub fn token_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

pub fn hash_password(password: &str) -> Result<String, Error> {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|_| Error::internal())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::internal())
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn bad_credentials() -> Error {
    Error::unauthorized("invalid credentials")
}

impl Service {
    /// A Bearer token (or a key sent as the Basic user with no password).
    pub async fn authenticate_key(&self, token: &str) -> Result<Principal, Error> {
        let key = match self.catalog.api_key_by_hash(&token_hash(token)).await {
            Ok(key) => key,
            Err(e) if e.is_not_found() => return Err(bad_credentials()),
            Err(e) => return Err(e.into()),
        };
        if key.revoked_at.is_some() {
            return Err(Error::unauthorized("this key has been revoked"));
        }
        let tenant = self.catalog.tenant(&key.tenant_id).await?;
        Ok(Principal {
            tenant,
            scopes: key.scopes,
            projects: key.projects,
            credential_id: key.id,
        })
    }

    /// HTTP Basic as `user@tenant`, or a bare `user` whose name is unique
    /// across tenants (the seed clients send bare names). An empty password
    /// means the user is an API key.
    pub async fn authenticate_basic(&self, user: &str, password: &str) -> Result<Principal, Error> {
        if password.is_empty() {
            return self.authenticate_key(user).await;
        }
        let Some((tenant, account, phc)) = self.find_login(user).await? else {
            // Spend the same time as a real check, so timing does not tell
            // which user names exist.
            self.check_password(password.to_owned(), DUMMY_PHC.to_owned())
                .await?;
            return Err(bad_credentials());
        };
        if !self.check_password(password.to_owned(), phc).await? {
            return Err(bad_credentials());
        }
        Ok(Principal {
            tenant,
            scopes: account.scopes,
            projects: account.projects,
            credential_id: account.id,
        })
    }

    /// Splits `user@tenant` at the last `@` when that names a tenant (user
    /// names may be e-mail addresses); otherwise the whole string is a user
    /// name that must be unique across tenants.
    async fn find_login(&self, user: &str) -> Result<Option<(Tenant, User, String)>, Error> {
        if let Some((name, slug)) = user.rsplit_once('@') {
            match self.catalog.tenant_by_slug(slug).await {
                Ok(tenant) => {
                    return match self.catalog.user_by_name(&tenant.id, name).await {
                        Ok((account, phc)) => Ok(Some((tenant, account, phc))),
                        Err(e) if e.is_not_found() => Ok(None),
                        Err(e) => Err(e.into()),
                    };
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut found = self.catalog.users_named(user).await?;
        if found.len() != 1 {
            return Ok(None);
        }
        let (account, phc) = found.remove(0);
        let tenant = self.catalog.tenant(&account.tenant_id).await?;
        Ok(Some((tenant, account, phc)))
    }

    async fn check_password(&self, password: String, phc: String) -> Result<bool, Error> {
        let _permit = self
            .password_checks
            .acquire()
            .await
            .map_err(|_| Error::internal())?;
        tokio::task::spawn_blocking(move || verify_password(&password, &phc))
            .await
            .map_err(|_| Error::internal())
    }
}

/// A valid argon2id hash of a random password, for the unknown-user path.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2PqmS6Tyc+cH0ngbEh0hXrq6KzQCkrHjwJ4cS5eaTxA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed_stably() {
        let a = new_token();
        assert!(a.starts_with("ik_") && a.len() == 43);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_eq!(token_hash("x").len(), 64);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let phc = hash_password("gReAt/PaSsWoRd123").unwrap();
        assert!(verify_password("gReAt/PaSsWoRd123", &phc));
        assert!(!verify_password("great/password123", &phc));
        assert!(!verify_password("x", "not a hash"));
        assert!(PasswordHash::new(DUMMY_PHC).is_ok());
    }
}
