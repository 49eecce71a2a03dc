//! Test support (feature `testing`): a throwaway PostgreSQL database per
//! test, so tests run in parallel against one server and leave nothing.
//!
//! `INTAKE_TEST_DATABASE_URL` names a database on a server where the tests
//! may create databases (`scripts/postgres/start.sh DIR` starts one and
//! prints it). When it is missing, a PostgreSQL test fails and says how to
//! start one, unless `INTAKE_TEST_SKIP_POSTGRES=1`, which skips it.

use crate::{Catalog, Location, PgCatalog};
use sqlx::{Connection, PgConnection};
use std::sync::Arc;

pub const DATABASE_URL_VAR: &str = "INTAKE_TEST_DATABASE_URL";
pub const SKIP_VAR: &str = "INTAKE_TEST_SKIP_POSTGRES";

/// Connections each test catalog may open: enough for two runners, few
/// enough for many tests at once on one server.
const TEST_CONNECTIONS: u32 = 8;

/// Whether PostgreSQL tests are skipped (`INTAKE_TEST_SKIP_POSTGRES=1`);
/// says so on stderr for `test`.
pub fn skip_postgres(test: &str) -> bool {
    let skip = std::env::var(SKIP_VAR).is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED {test}: {SKIP_VAR}=1");
    }
    skip
}

/// The server the tests use; panics with instructions when it is not set.
pub fn server_url() -> String {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "{DATABASE_URL_VAR} is not set, so the PostgreSQL tests cannot run. Start a test \
             server with\n\
             \x20   eval \"$(scripts/postgres/start.sh /tmp/intake-postgres)\"\n\
             (stop it with scripts/postgres/stop.sh /tmp/intake-postgres), or point \
             {DATABASE_URL_VAR} at a server where the tests may create databases, e.g.\n\
             \x20   export {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres\n\
             or set {SKIP_VAR}=1 to skip the PostgreSQL tests."
        ),
    }
}

/// A fresh database for `test`, or None when PostgreSQL tests are skipped.
pub async fn postgres(test: &str) -> Option<TestDatabase> {
    if skip_postgres(test) {
        return None;
    }
    Some(TestDatabase::create().await)
}

/// A database created for one test and dropped (its connections closed by
/// force) when this value is dropped, even when the test panicked.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database on the server of `INTAKE_TEST_DATABASE_URL`.
    pub async fn create() -> TestDatabase {
        let server = server_url();
        let shown = Location::Postgres(server.clone()).to_string();
        let name = intake_core::new_id("intake_test");
        let mut conn = PgConnection::connect(&server).await.unwrap_or_else(|e| {
            panic!(
                "cannot connect to {DATABASE_URL_VAR} ({shown}): {e}\n\
                 Is the server running? scripts/postgres/start.sh DIR starts one."
            )
        });
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database on {shown}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&server, &name);
        TestDatabase { server, name, url }
    }

    /// The URL of this test's database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many sessions are connected to this database under
    /// `application_name` (intake names its own `intake`), as the server
    /// counts them.
    pub async fn sessions(&self, application_name: &str) -> i64 {
        let mut conn = PgConnection::connect(&self.server)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        )
        .bind(&self.name)
        .bind(application_name)
        .fetch_one(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot count the sessions of {}: {e}", self.name));
        let _ = conn.close().await;
        count
    }

    /// The single number a query on this database answers (`SELECT count(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        let mut conn = PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name));
        let count: i64 = sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
        count
    }

    /// A catalog on this database, migrated.
    pub async fn catalog(&self) -> Arc<dyn Catalog> {
        let catalog = PgCatalog::connect_with(&self.url, TEST_CONNECTIONS)
            .await
            .unwrap_or_else(|e| panic!("cannot open the test catalog {}: {e}", self.name));
        Arc::new(catalog)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and may run inside a runtime: drop the database
        // from a thread of its own with a runtime of its own.
        let server = self.server.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop the test database {}", self.name),
        }
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{name}", &base[..path]);
    // A `dbname` parameter would override the path.
    let params: Vec<&str> = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|kv| !kv.starts_with("dbname="))
        .collect();
    if !params.is_empty() {
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@127.0.0.1:5432/postgres", "t1"),
            "postgres://u:p@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://127.0.0.1:5432", "t1"),
            "postgres://127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgresql://h/db?sslmode=disable&dbname=x", "t1"),
            "postgresql://h/t1?sslmode=disable"
        );
    }
}
