//! The 002 dialect's bodies.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The request: what will be uploaded.
#[derive(Debug, Default, Deserialize)]
pub struct UploadRequest {
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Upload {
    pub url: String,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct Download {
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct UploadResponse {
    pub upload: Upload,
    pub download: Download,
}

/// A validation failure (400).
#[derive(Debug, Default, Serialize)]
pub struct Invalid {
    pub errors: Vec<String>,
    #[serde(rename = "field-errors")]
    pub field_errors: HashMap<String, String>,
}

/// Any other failure.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub error: String,
}
