//! Scopes: what a credential may do. `admin` implies every other scope of its
//! tenant; `projects:admin` manages projects, folders and webhooks.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "files:read")]
    FilesRead,
    #[serde(rename = "files:write", alias = "mylibrary:file:create")]
    FilesWrite,
    #[serde(rename = "files:delete")]
    FilesDelete,
    #[serde(rename = "folders:write", alias = "mylibrary:folder:create")]
    FoldersWrite,
    #[serde(rename = "lists:write", alias = "contacts:write")]
    ListsWrite,
    #[serde(rename = "projects:admin")]
    ProjectsAdmin,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::FilesRead,
        Scope::FilesWrite,
        Scope::FilesDelete,
        Scope::FoldersWrite,
        Scope::ListsWrite,
        Scope::ProjectsAdmin,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FilesRead => "files:read",
            Scope::FilesWrite => "files:write",
            Scope::FilesDelete => "files:delete",
            Scope::FoldersWrite => "folders:write",
            Scope::ListsWrite => "lists:write",
            Scope::ProjectsAdmin => "projects:admin",
            Scope::Admin => "admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    /// Also accepts the privilege names of the library seed (001).
    fn from_str(s: &str) -> Result<Scope, String> {
        let s = match s {
            "mylibrary:file:create" => "files:write",
            "mylibrary:folder:create" => "folders:write",
            "contacts:write" => "lists:write",
            other => other,
        };
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| format!("unknown scope {s:?}; known: {}", Scopes::all()))
    }
}

/// A set of scopes, stored and shown as a space-separated list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    pub fn new(mut scopes: Vec<Scope>) -> Scopes {
        scopes.sort();
        scopes.dedup();
        Scopes(scopes)
    }

    pub fn all() -> Scopes {
        Scopes::new(Scope::ALL.to_vec())
    }

    /// Whether these scopes allow `scope`. `admin` allows everything.
    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&scope) || self.0.contains(&Scope::Admin)
    }

    /// Whether every scope of `other` is allowed here: a credential may only
    /// mint credentials weaker than itself.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|s| self.allows(*s))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

impl FromStr for Scopes {
    type Err = String;
    /// Space- or comma-separated.
    fn from_str(s: &str) -> Result<Scopes, String> {
        s.split([' ', ','])
            .filter(|p| !p.is_empty())
            .map(Scope::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(Scopes::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin: Scopes = "admin".parse().unwrap();
        let reader: Scopes = "files:read".parse().unwrap();
        assert!(admin.allows(Scope::FilesDelete));
        assert!(reader.allows(Scope::FilesRead));
        assert!(!reader.allows(Scope::FilesWrite));
        assert!(admin.covers(&reader));
        assert!(!reader.covers(&admin));
    }

    #[test]
    fn parses_lists_and_rejects_unknown_scopes() {
        let s: Scopes = "files:write, files:read files:write".parse().unwrap();
        assert_eq!(s.to_string(), "files:read files:write");
        assert!("files:everything".parse::<Scopes>().is_err());
    }
}
