//! The server's configuration: one struct with a default for every value,
//! layered as defaults < TOML file < `INTAKE__SECTION__KEY` environment
//! variables < flags. Loading has no side effects.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use intake_blob::S3Config;
use intake_http::HttpConfig;
use intake_ingest::Limits;
use intake_workers::WorkerConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The commented example, printed by `intake config example`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the catalog, the blobs and admin.key live.
    pub data_dir: PathBuf,
    /// A PostgreSQL catalog (`postgres://…`) instead of SQLite in the data
    /// directory: for several nodes sharing one catalog and job queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Connections this node's PostgreSQL pool may open (SQLite ignores
    /// it). Every node counts against the server's `max_connections`.
    pub database_max_connections: u32,
    pub server: ServerConfig,
    pub limits: Limits,
    pub http: HttpConfig,
    pub storage: StorageConfig,
    pub workers: WorkerConfig,
    pub log: LogConfig,
    /// Signed direct uploads (upload intents, the S3 endpoint).
    pub signed: intake_service::SignedSettings,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from("./intake-data"),
            database_url: None,
            database_max_connections: intake_catalog::DEFAULT_MAX_CONNECTIONS,
            server: ServerConfig::default(),
            limits: Limits::default(),
            http: HttpConfig::default(),
            storage: StorageConfig::default(),
            workers: WorkerConfig::default(),
            log: LogConfig::default(),
            signed: intake_service::SignedSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    /// Connections the kernel queues before they are accepted (a burst of
    /// clients beyond it is refused).
    pub backlog: u32,
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub sweep_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub staging_max_age: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            backlog: 4096,
            shutdown_timeout: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(600),
            staging_max_age: Duration::from_secs(3600),
        }
    }
}

/// Where blobs live: the data directory (one node) or an S3-compatible
/// bucket that every node shares.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    pub s3: S3Config,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    #[default]
    Local,
    S3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags that override the layered configuration.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub database_max_connections: Option<u32>,
}

impl Config {
    /// The configuration as `intake config show` prints it: passwords and
    /// secret keys replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut shown = self.clone();
        if let Some(url) = &self.database_url
            && let Ok(location) = intake_catalog::Location::parse(url)
        {
            shown.database_url = Some(location.to_string());
        }
        if !shown.storage.s3.secret_access_key.is_empty() {
            shown.storage.s3.secret_access_key = "***".into();
        }
        shown
    }

    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("the config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("INTAKE__").split("__"));
        let mut config: Config = figment.extract()?;
        if let Some(dir) = &overrides.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(listen) = &overrides.listen {
            config.server.listen = listen.clone();
        }
        if let Some(url) = overrides.database_url.as_ref().filter(|u| !u.is_empty()) {
            config.database_url = Some(url.clone());
        }
        if let Some(n) = overrides.database_max_connections {
            config.database_max_connections = n;
        }
        if config.database_max_connections == 0 {
            anyhow::bail!("database_max_connections must be at least 1");
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_states_the_defaults() {
        let example: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(example, Config::default());
    }

    #[test]
    fn files_and_flags_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("intake.toml");
        std::fs::write(&file, "[limits]\nmax_files = 3\nidle_timeout = \"2s\"\n").unwrap();
        let flags = Overrides {
            data_dir: Some("/tmp/x".into()),
            listen: None,
            database_url: None,
            database_max_connections: None,
        };
        let config = Config::load(Some(&file), &flags).unwrap();
        assert_eq!(config.limits.max_files, 3);
        assert_eq!(config.limits.idle_timeout, Duration::from_secs(2));
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(config.server.listen, "127.0.0.1:8080");
    }

    #[test]
    fn the_database_url_comes_from_the_file_or_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("intake.toml");
        std::fs::write(&file, "database_url = \"postgres://db/a\"\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(config.database_url.as_deref(), Some("postgres://db/a"));
        let flags = Overrides {
            database_url: Some("postgres://db/b".into()),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), &flags).unwrap();
        assert_eq!(config.database_url.as_deref(), Some("postgres://db/b"));
        assert_eq!(Config::default().database_url, None, "SQLite by default");
    }

    #[test]
    fn the_pool_size_comes_from_the_file_the_environment_or_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("intake.toml");
        assert_eq!(Config::default().database_max_connections, 16);
        std::fs::write(&file, "database_max_connections = 40\n").unwrap();
        let config = Config::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(config.database_max_connections, 40);
        let flags = Overrides {
            database_max_connections: Some(8),
            ..Overrides::default()
        };
        let config = Config::load(Some(&file), &flags).unwrap();
        assert_eq!(config.database_max_connections, 8);
        let zero = Overrides {
            database_max_connections: Some(0),
            ..Overrides::default()
        };
        assert!(Config::load(None, &zero).is_err());
    }

    #[test]
    fn shown_configurations_hide_secrets() {
        let mut config = Config {
            database_url: Some("postgres://intake:hunter2@db/intake".into()),
            ..Config::default()
        };
        config.storage.s3.secret_access_key = "s3cr3t".into();
        let shown = toml::to_string(&config.redacted()).unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert!(shown.contains("postgres://intake:***@db/intake"), "{shown}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("intake.toml");
        std::fs::write(&file, "[limits]\nmax_filez = 3\n").unwrap();
        assert!(Config::load(Some(&file), &Overrides::default()).is_err());
    }
}
