//! `intake admin`: tenants, projects, keys and users, worked directly on a
//! data directory (no server needed). Created secrets go to stdout, one per
//! line, so scripts can capture them.

use crate::config::Config;
use clap::{Args, Subcommand};
use intake_core::{Policy, Scopes};
use intake_service::{NewKey, NewProject, NewUser, OPERATOR_TENANT, Service};
use std::io::Read;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Tenants: isolated accounts.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Projects: a tenant's buckets of files, each with a policy.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// API keys (Bearer tokens).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Users who sign in with HTTP Basic.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Args)]
pub struct TenantArg {
    /// The tenant's slug.
    #[arg(long, default_value = OPERATOR_TENANT)]
    tenant: String,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (with a `default` project); prints its id.
    Create {
        slug: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// List tenants.
    Ls,
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project; prints its id.
    Create {
        slug: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        name: Option<String>,
        /// The policy as JSON, e.g. '{"allowed_formats":["pdf"],"duplicates":"reject"}'.
        #[arg(long)]
        policy: Option<String>,
    },
    /// List a tenant's projects.
    Ls {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Replace a project's policy.
    SetPolicy {
        project: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long)]
        policy: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; prints the token (shown once).
    Create {
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long, default_value = "")]
        name: String,
        /// Space- or comma-separated, e.g. "files:read files:write".
        #[arg(long, default_value = "files:read files:write")]
        scopes: String,
        /// Limit the key to these projects (repeatable).
        #[arg(long = "project")]
        projects: Vec<String>,
        /// Also create an S3 credential for SigV4 clients (boto3, …): prints
        /// the access key id and the secret access key on the two lines
        /// after the token.
        #[arg(long)]
        s3: bool,
    },
    /// List a tenant's keys.
    Ls {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Revoke a key by id.
    Revoke {
        id: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; they sign in as `username@tenant` (or `username`
    /// when the name is unique).
    Create {
        username: String,
        #[command(flatten)]
        tenant: TenantArg,
        #[arg(long, default_value = "files:read files:write")]
        scopes: String,
        #[arg(long = "project")]
        projects: Vec<String>,
        /// The password (visible in the process list: prefer --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List a tenant's users.
    Ls {
        #[command(flatten)]
        tenant: TenantArg,
    },
    /// Delete a user by id.
    Rm {
        id: String,
        #[command(flatten)]
        tenant: TenantArg,
    },
}

fn scopes(raw: &str) -> anyhow::Result<Scopes> {
    raw.parse().map_err(|e: String| anyhow::anyhow!(e))
}

fn policy(raw: Option<&str>) -> anyhow::Result<Policy> {
    match raw {
        None => Ok(Policy::default()),
        Some(json) => {
            Ok(serde_json::from_str(json).map_err(|e| anyhow::anyhow!("invalid policy: {e}"))?)
        }
    }
}

pub async fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    let service = crate::serve::open(&config).await?;
    // An empty data directory gets its default tenant first, as `serve` would.
    let boot = service.bootstrap(None).await?;
    if let Some(token) = boot.generated_token {
        eprintln!(
            "initialised {}: admin key saved in admin.key",
            config.data_dir.display()
        );
        crate::serve::write_secret(&config.data_dir.join("admin.key"), &token)?;
    }
    match command {
        AdminCommand::Tenant(c) => tenant(&service, c).await,
        AdminCommand::Project(c) => project(&service, c).await,
        AdminCommand::Key(c) => key(&service, c).await,
        AdminCommand::User(c) => user(&service, c).await,
    }
}

async fn tenant(service: &Service, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { slug, name } => {
            println!(
                "{}",
                service
                    .create_tenant_unchecked(&slug, name.as_deref())
                    .await?
                    .id
            );
        }
        TenantCommand::Ls => {
            for t in service.catalog.list_tenants().await? {
                println!("{}\t{}\t{}", t.id, t.slug, t.name);
            }
        }
    }
    Ok(())
}

async fn project(service: &Service, command: ProjectCommand) -> anyhow::Result<()> {
    match command {
        ProjectCommand::Create {
            slug,
            tenant,
            name,
            policy: raw,
        } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            let new = NewProject {
                slug,
                name,
                policy: policy(raw.as_deref())?,
            };
            println!("{}", service.create_project(None, &tenant, new).await?.id);
        }
        ProjectCommand::Ls { tenant } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            for p in service.list_projects_unchecked(&tenant).await? {
                println!(
                    "{}\t{}\t{}",
                    p.id,
                    p.slug,
                    serde_json::to_string(&p.policy)?
                );
            }
        }
        ProjectCommand::SetPolicy {
            project,
            tenant,
            policy: raw,
        } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            let p = service
                .set_policy_unchecked(&tenant, &project, policy(Some(&raw))?)
                .await?;
            println!("{}", serde_json::to_string(&p.policy)?);
        }
    }
    Ok(())
}

async fn key(service: &Service, command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create {
            tenant,
            name,
            scopes: raw,
            projects,
            s3,
        } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            let new = NewKey {
                name,
                scopes: Some(scopes(&raw)?),
                projects,
            };
            let (key, token) = service.create_key(None, &tenant, new).await?;
            eprintln!("created key {} ({})", key.id, key.scopes);
            println!("{token}");
            if s3 {
                let credential = service.add_s3_credential(&tenant, &key).await?;
                eprintln!("S3 access key id and secret access key:");
                println!("{}", credential.access_key_id);
                println!("{}", credential.secret);
            }
        }
        KeyCommand::Ls { tenant } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            for k in service.list_keys(&tenant).await? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}…\t{}\t{}\t{}",
                    k.id, k.prefix, state, k.name, k.scopes
                );
            }
        }
        KeyCommand::Revoke { id, tenant } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            println!("{}", service.revoke_key(&tenant, &id).await?.id);
        }
    }
    Ok(())
}

async fn user(service: &Service, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            username,
            tenant,
            scopes: raw,
            projects,
            password,
            password_stdin,
        } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            let password = match (password, password_stdin) {
                (Some(p), _) => p,
                (None, true) => {
                    let mut line = String::new();
                    std::io::stdin().read_to_string(&mut line)?;
                    line.lines().next().unwrap_or("").to_owned()
                }
                (None, false) => anyhow::bail!("give --password or --password-stdin"),
            };
            let new = NewUser {
                username,
                password,
                scopes: Some(scopes(&raw)?),
                projects,
            };
            println!("{}", service.create_user(None, &tenant, new).await?.id);
        }
        UserCommand::Ls { tenant } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            for u in service.list_users(&tenant).await? {
                println!("{}\t{}\t{}", u.id, u.username, u.scopes);
            }
        }
        UserCommand::Rm { id, tenant } => {
            let tenant = service.tenant_by_slug(&tenant.tenant).await?;
            service.delete_user(&tenant, &id).await?;
            println!("{id}");
        }
    }
    Ok(())
}
