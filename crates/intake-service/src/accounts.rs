//! Tenants, API keys and users, and the first start of an empty catalog.

use crate::auth::{hash_password, new_token, token_hash, token_prefix};
use crate::{DEFAULT_PROJECT, OPERATOR_TENANT, Service};
use intake_core::{
    ApiKey, Error, Policy, Principal, Project, Scope, Scopes, Tenant, User, name, new_id, now,
};
use serde::Deserialize;

/// What the first start created.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    /// A generated admin token to show once; None when the operator gave one.
    pub generated_token: Option<String>,
    pub created: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    #[serde(default)]
    pub name: String,
    /// Defaults to `files:read files:write`.
    pub scopes: Option<Scopes>,
    /// Project slugs or ids; empty: all of the tenant's.
    #[serde(default)]
    pub projects: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub scopes: Option<Scopes>,
    #[serde(default)]
    pub projects: Vec<String>,
}

fn default_scopes() -> Scopes {
    Scopes::new(vec![Scope::FilesRead, Scope::FilesWrite])
}

impl Service {
    /// On an empty catalog: the operator's tenant, its default project and
    /// an admin key (`admin_token` when given, else a generated one). On a
    /// catalog that exists, an `admin_token` not yet known is added as
    /// another admin key, so the operator's configured key always works.
    pub async fn bootstrap(&self, admin_token: Option<&str>) -> Result<Bootstrap, Error> {
        let tenant = match self.catalog.tenant_by_slug(OPERATOR_TENANT).await {
            Ok(tenant) => tenant,
            Err(e) if e.is_not_found() => {
                let tenant = Tenant {
                    id: new_id("ten"),
                    slug: OPERATOR_TENANT.into(),
                    name: "Default".into(),
                    created_at: now(),
                };
                self.catalog.create_tenant(&tenant).await?;
                self.catalog
                    .create_project(&new_project(
                        &tenant,
                        DEFAULT_PROJECT,
                        "Default",
                        Policy::default(),
                    ))
                    .await?;
                let token = admin_token.map_or_else(new_token, str::to_owned);
                self.insert_key(
                    &tenant,
                    "admin",
                    Scopes::new(vec![Scope::Admin]),
                    vec![],
                    &token,
                )
                .await?;
                let generated = admin_token.is_none().then_some(token);
                return Ok(Bootstrap {
                    generated_token: generated,
                    created: true,
                });
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(token) = admin_token {
            match self.catalog.api_key_by_hash(&token_hash(token)).await {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {
                    self.insert_key(
                        &tenant,
                        "admin (configured)",
                        Scopes::new(vec![Scope::Admin]),
                        vec![],
                        token,
                    )
                    .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Bootstrap {
            generated_token: None,
            created: false,
        })
    }

    async fn insert_key(
        &self,
        tenant: &Tenant,
        name: &str,
        scopes: Scopes,
        projects: Vec<String>,
        token: &str,
    ) -> Result<ApiKey, Error> {
        let key = ApiKey {
            id: new_id("key"),
            tenant_id: tenant.id.clone(),
            name: name.to_owned(),
            prefix: token_prefix(token),
            scopes,
            projects,
            created_at: now(),
            revoked_at: None,
        };
        self.catalog
            .create_api_key(&key, &token_hash(token))
            .await?;
        Ok(key)
    }

    /// Whether the caller is the operator: `admin` in the operator's tenant.
    fn require_operator(&self, who: &Principal) -> Result<(), Error> {
        who.require(Scope::Admin)?;
        if who.tenant.slug != OPERATOR_TENANT || !who.projects.is_empty() {
            return Err(Error::forbidden(
                "only the operator's admin credentials manage tenants",
            ));
        }
        Ok(())
    }

    /// The tenant an admin operation applies to: the caller's own, or (for
    /// the operator only) the one named.
    pub async fn target_tenant(
        &self,
        who: &Principal,
        slug: Option<&str>,
    ) -> Result<Tenant, Error> {
        match slug {
            None => {
                who.require(Scope::Admin)?;
                Ok(who.tenant.clone())
            }
            Some(slug) if slug == who.tenant.slug || slug == who.tenant.id => {
                who.require(Scope::Admin)?;
                Ok(who.tenant.clone())
            }
            Some(slug) => {
                self.require_operator(who)?;
                match self.catalog.tenant_by_slug(slug).await {
                    Ok(t) => Ok(t),
                    Err(e) if e.is_not_found() => Err(Error::not_found("tenant")),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    pub async fn create_tenant(
        &self,
        who: &Principal,
        slug: &str,
        name: Option<&str>,
    ) -> Result<Tenant, Error> {
        self.require_operator(who)?;
        self.create_tenant_unchecked(slug, name).await
    }

    /// For the admin CLI, which works on the data directory directly.
    pub async fn create_tenant_unchecked(
        &self,
        slug: &str,
        display: Option<&str>,
    ) -> Result<Tenant, Error> {
        let slug = name::check_slug(slug, "tenant slug")?;
        let tenant = Tenant {
            id: new_id("ten"),
            name: name::check_display_name(display.unwrap_or(&slug), "tenant name")?,
            slug,
            created_at: now(),
        };
        self.catalog.create_tenant(&tenant).await?;
        // Every tenant starts with a default project, as the first one does.
        self.catalog
            .create_project(&new_project(
                &tenant,
                DEFAULT_PROJECT,
                "Default",
                Policy::default(),
            ))
            .await?;
        Ok(tenant)
    }

    pub async fn list_tenants(&self, who: &Principal) -> Result<Vec<Tenant>, Error> {
        self.require_operator(who)?;
        Ok(self.catalog.list_tenants().await?)
    }

    /// Creates a key in `tenant`; the caller may only grant scopes it holds.
    /// Returns the key and its token, which is shown once.
    pub async fn create_key(
        &self,
        who: Option<&Principal>,
        tenant: &Tenant,
        new: NewKey,
    ) -> Result<(ApiKey, String), Error> {
        let scopes = new.scopes.unwrap_or_else(default_scopes);
        if let Some(who) = who
            && !who.scopes.covers(&scopes)
        {
            return Err(Error::forbidden(
                "a key cannot be given scopes its creator lacks",
            ));
        }
        let projects = self.project_ids(tenant, &new.projects).await?;
        let name = if new.name.trim().is_empty() {
            "key".to_owned()
        } else {
            name::check_display_name(&new.name, "key name")?
        };
        let token = new_token();
        let key = self
            .insert_key(tenant, &name, scopes, projects, &token)
            .await?;
        Ok((key, token))
    }

    /// Resolves project slugs or ids to ids within the tenant.
    async fn project_ids(
        &self,
        tenant: &Tenant,
        projects: &[String],
    ) -> Result<Vec<String>, Error> {
        let mut ids = Vec::with_capacity(projects.len());
        for p in projects {
            match self.catalog.project(&tenant.id, p).await {
                Ok(project) => ids.push(project.id),
                Err(e) if e.is_not_found() => {
                    return Err(Error::new(
                        intake_core::ErrorKind::NotFound,
                        "project_not_found",
                        format!("no project {p:?}"),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(ids)
    }

    pub async fn list_keys(&self, tenant: &Tenant) -> Result<Vec<ApiKey>, Error> {
        Ok(self.catalog.list_api_keys(&tenant.id).await?)
    }

    pub async fn revoke_key(&self, tenant: &Tenant, id: &str) -> Result<ApiKey, Error> {
        self.catalog
            .revoke_api_key(&tenant.id, id)
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    Error::not_found("key")
                } else {
                    e.into()
                }
            })
    }

    pub async fn create_user(
        &self,
        who: Option<&Principal>,
        tenant: &Tenant,
        new: NewUser,
    ) -> Result<User, Error> {
        let scopes = new.scopes.unwrap_or_else(default_scopes);
        if let Some(who) = who
            && !who.scopes.covers(&scopes)
        {
            return Err(Error::forbidden(
                "a user cannot be given scopes their creator lacks",
            ));
        }
        let username = new.username.trim();
        if username.is_empty()
            || username.len() > 128
            || username.chars().any(|c| c.is_control() || c == ':')
        {
            return Err(Error::bad_request(
                "invalid_name",
                "user names are 1-128 characters without ':' or control characters",
            ));
        }
        if new.password.len() < 8 {
            return Err(Error::bad_request(
                "weak_password",
                "passwords need at least 8 characters",
            ));
        }
        let user = User {
            id: new_id("usr"),
            tenant_id: tenant.id.clone(),
            username: username.to_owned(),
            scopes,
            projects: self.project_ids(tenant, &new.projects).await?,
            created_at: now(),
        };
        let password = new.password;
        let phc = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|_| Error::internal())??;
        self.catalog.create_user(&user, &phc).await?;
        Ok(user)
    }

    pub async fn list_users(&self, tenant: &Tenant) -> Result<Vec<User>, Error> {
        Ok(self.catalog.list_users(&tenant.id).await?)
    }

    pub async fn delete_user(&self, tenant: &Tenant, id: &str) -> Result<(), Error> {
        self.catalog.delete_user(&tenant.id, id).await.map_err(|e| {
            if e.is_not_found() {
                Error::not_found("user")
            } else {
                e.into()
            }
        })
    }

    /// For the admin CLI.
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Tenant, Error> {
        self.catalog.tenant_by_slug(slug).await.map_err(|e| {
            if e.is_not_found() {
                Error::not_found("tenant")
            } else {
                e.into()
            }
        })
    }
}

pub(crate) fn new_project(tenant: &Tenant, slug: &str, name: &str, policy: Policy) -> Project {
    let at = now();
    Project {
        id: new_id("prj"),
        tenant_id: tenant.id.clone(),
        slug: slug.to_owned(),
        name: name.to_owned(),
        policy,
        created_at: at,
        updated_at: at,
    }
}
