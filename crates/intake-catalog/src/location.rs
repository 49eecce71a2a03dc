//! Where a catalog lives: a PostgreSQL URL or an SQLite file, told apart by
//! their form, so callers hold one string and never name an engine.

use crate::{Catalog, CatalogError, DEFAULT_MAX_CONNECTIONS, PgCatalog, Result, SqliteCatalog};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `postgres://…` or `postgresql://…`, as given.
    Postgres(String),
    /// A file path, also written `sqlite://PATH` or `sqlite:PATH`.
    Sqlite(PathBuf),
}

impl Location {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; `sqlite:` URLs
    /// and anything without a scheme are an SQLite file. Another scheme is
    /// refused rather than taken for a file name.
    pub fn parse(location: &str) -> Result<Location> {
        let location = location.trim();
        if location.is_empty() {
            return Err(CatalogError::Other("the catalog location is empty".into()));
        }
        let lower = location.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Location::Postgres(location.to_owned()));
        }
        if lower.starts_with("sqlite:") {
            let path = &location["sqlite:".len()..];
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() || path.contains('?') || path.starts_with(':') {
                return Err(CatalogError::Other(format!(
                    "unsupported SQLite URL {location:?}: give sqlite://PATH or a plain path"
                )));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = location.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(CatalogError::Other(format!(
                "unsupported catalog URL scheme {scheme:?}: use postgres://, postgresql://, sqlite:// or a file path"
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(location)))
    }

    /// Opens (creating an SQLite file when missing) and migrates the catalog.
    pub async fn open(&self) -> Result<Arc<dyn Catalog>> {
        self.open_with(DEFAULT_MAX_CONNECTIONS).await
    }

    /// As [`Location::open`], with at most `max_connections` PostgreSQL
    /// connections (SQLite ignores it).
    pub async fn open_with(&self, max_connections: u32) -> Result<Arc<dyn Catalog>> {
        Ok(match self {
            Location::Postgres(url) => {
                Arc::new(PgCatalog::connect_with(url, max_connections).await?)
            }
            Location::Sqlite(path) => Arc::new(SqliteCatalog::open(path).await?),
        })
    }
}

/// For logs: a PostgreSQL URL without its password.
impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Postgres(url) => f.write_str(&redact(url)),
            Location::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{user}:***@{host}")
        }
        _ => authority.to_owned(),
    };
    let mut shown = format!("{scheme}://{authority}{path}");
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some(("password", _)) => "password=***".to_owned(),
                _ => kv.to_owned(),
            })
            .collect();
        shown.push('?');
        shown.push_str(&params.join("&"));
    }
    shown
}

/// Opens the catalog at `location`: a PostgreSQL URL (`postgres://` or
/// `postgresql://`) or an SQLite file (a path, `sqlite://PATH`). See
/// [`Location::parse`].
pub async fn open(location: &str) -> Result<Arc<dyn Catalog>> {
    Location::parse(location)?.open().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_pick_their_engine() {
        let pg = |s: &str| Location::Postgres(s.to_owned());
        let file = |s: &str| Location::Sqlite(PathBuf::from(s));
        for (input, want) in [
            (
                "postgres://u:p@db:5432/intake",
                pg("postgres://u:p@db:5432/intake"),
            ),
            (
                "postgresql://db/intake?sslmode=require",
                pg("postgresql://db/intake?sslmode=require"),
            ),
            ("POSTGRES://db/x", pg("POSTGRES://db/x")),
            (
                "sqlite:///var/lib/intake/catalog.db",
                file("/var/lib/intake/catalog.db"),
            ),
            ("sqlite://catalog.db", file("catalog.db")),
            ("sqlite:catalog.db", file("catalog.db")),
            ("./data/catalog.db", file("./data/catalog.db")),
            ("/data/catalog.db", file("/data/catalog.db")),
        ] {
            assert_eq!(Location::parse(input).ok(), Some(want), "{input}");
        }
        for bad in [
            "",
            "  ",
            "mysql://db/x",
            "sqlite::memory:",
            "sqlite://x.db?mode=ro",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_stay_out_of_logs() {
        let shown = |s: &str| {
            Location::parse(s)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_string()
        };
        assert_eq!(
            shown("postgres://intake:s3cr%40t@db:5432/intake?sslmode=require"),
            "postgres://intake:***@db:5432/intake?sslmode=require"
        );
        assert_eq!(shown("postgres://db/intake"), "postgres://db/intake");
        assert_eq!(
            shown("postgres://db/intake?user=a&password=b&sslmode=disable"),
            "postgres://db/intake?user=a&password=***&sslmode=disable"
        );
        assert_eq!(shown("/tmp/c.db"), "sqlite:///tmp/c.db");
    }
}
