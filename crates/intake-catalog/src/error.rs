//! Catalog errors: few kinds, with predicates so callers need not match
//! nested variants.

use intake_core::{Error, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or emptiness rule; `code` is the stable API code.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The project already holds these bytes and its policy refuses duplicates.
    #[error("duplicate of {existing}")]
    Duplicate { existing: String },
    #[error("catalog unavailable: {0}")]
    Unavailable(String),
    #[error("catalog: {0}")]
    Other(String),
}

impl CatalogError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> CatalogError {
        CatalogError::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, CatalogError::NotFound)
    }
}

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> CatalogError {
        match e {
            sqlx::Error::RowNotFound => CatalogError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                CatalogError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                CatalogError::conflict("already_exists", "a record with that name already exists")
            }
            other => CatalogError::Other(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for CatalogError {
    fn from(e: serde_json::Error) -> CatalogError {
        CatalogError::Other(format!("stored JSON: {e}"))
    }
}

/// How the core sees a catalog failure. Internal detail stays in the log.
impl From<CatalogError> for Error {
    fn from(e: CatalogError) -> Error {
        match e {
            CatalogError::NotFound => Error::not_found("resource"),
            CatalogError::Conflict { code, message } => Error::conflict(code, message),
            CatalogError::Duplicate { existing } => Error::duplicate(&existing),
            CatalogError::Unavailable(detail) => {
                tracing::error!(%detail, "catalog unavailable");
                Error::new(
                    ErrorKind::Unavailable,
                    "unavailable",
                    "the catalog is unavailable",
                )
            }
            CatalogError::Other(detail) => {
                tracing::error!(%detail, "catalog error");
                Error::internal()
            }
        }
    }
}
