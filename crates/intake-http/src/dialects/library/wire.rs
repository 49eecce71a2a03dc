//! The library dialect's wire format, in the vendor's v2 style: string ids,
//! snake_case keys, `created_date`/`modified_date` timestamps with
//! milliseconds, upper-case enums, and `{"meta":{"pagination":{…}},
//! "results":[…]}` around collections.

use chrono::{DateTime, SecondsFormat, Utc};
use intake_core::{
    Activity, ContactList, Error, FileRecord, FileStatus, Folder, Format, ListStatus, ROOT_FOLDER,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The file types the seed lists, and the format each must be.
const FILE_TYPES: [(&str, Format); 11] = [
    ("JPEG", Format::Jpeg),
    ("JPG", Format::Jpeg),
    ("GIF", Format::Gif),
    ("PNG", Format::Png),
    ("PDF", Format::Pdf),
    ("DOC", Format::Doc),
    ("DOCX", Format::Docx),
    ("XLS", Format::Xls),
    ("XLSX", Format::Xlsx),
    ("PPT", Format::Ppt),
    ("PPTX", Format::Pptx),
];

/// Where a library file came from, as the vendor names it.
const SOURCES: [&str; 7] = [
    "MYCOMPUTER",
    "STOCKIMAGE",
    "FACEBOOK",
    "INSTAGRAM",
    "SHUTTERSTOCK",
    "MOBILE",
    "URL",
];

pub fn date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `file_type` (case-insensitive): its canonical name and the format the
/// bytes must be.
pub fn file_type(raw: &str) -> Result<(&'static str, Format), Error> {
    let upper = raw.trim().to_ascii_uppercase();
    FILE_TYPES
        .iter()
        .find(|(name, _)| *name == upper)
        .map(|(n, f)| (*n, *f))
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_file_type",
                format!("file_type {raw:?} is not one of JPEG, JPG, GIF, PNG, PDF, DOC, DOCX, XLS, XLSX, PPT, PPTX"),
            )
        })
}

pub fn source(raw: Option<&str>) -> Result<String, Error> {
    let upper = raw
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty());
    match upper {
        None => Ok("MYCOMPUTER".into()),
        Some(s) if SOURCES.contains(&s.as_str()) => Ok(s),
        Some(s) => Err(Error::bad_request(
            "invalid_source",
            format!("source {s:?} is not one of {}", SOURCES.join(", ")),
        )),
    }
}

/// `folder_id`: 0 and -1 (and nothing) mean the root.
pub fn folder_id(raw: Option<&str>) -> Result<i64, Error> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None | Some("0") | Some("-1") => Ok(ROOT_FOLDER),
        Some(r) => r.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
            Error::bad_request(
                "invalid_folder_id",
                format!("folder_id {r:?} is not a folder id"),
            )
        }),
    }
}

/// The vendor's upload statuses, with a description.
pub fn upload_status(file: &FileRecord) -> (&'static str, String) {
    match file.status {
        FileStatus::Received | FileStatus::Processing => (
            "Processing",
            "The file is being scanned for viruses and processed".into(),
        ),
        FileStatus::Ready => ("Active", "The file is in the library".into()),
        FileStatus::Infected => (
            "VirusFound",
            "A virus was found in the file; it was not added to the library".into(),
        ),
        FileStatus::Rejected => {
            let why = file
                .reason
                .map_or("it failed the library's checks", |r| match r {
                    intake_core::Reason::Format => "its content is not of its file_type",
                    intake_core::Reason::Unrenderable => "it cannot be read",
                    intake_core::Reason::Preflight => "it failed preflight (e.g. it is encrypted)",
                    intake_core::Reason::Dimensions => "its page dimensions are not allowed",
                    intake_core::Reason::PageCount => "it has too many pages",
                    intake_core::Reason::Duplicate => "it duplicates a file in the library",
                });
            ("Failed", format!("The file was rejected: {why}"))
        }
        FileStatus::Failed => ("Failed", "The file could not be processed".into()),
        FileStatus::Expired => (
            "Deleted",
            "The file was deleted when its retention ended".into(),
        ),
    }
}

#[derive(Debug, Serialize)]
pub struct UploadStatus {
    pub file_id: String,
    pub status: &'static str,
    pub description: String,
}

impl From<&FileRecord> for UploadStatus {
    fn from(f: &FileRecord) -> UploadStatus {
        let (status, description) = upload_status(f);
        UploadStatus {
            file_id: f.id.clone(),
            status,
            description,
        }
    }
}

/// A library file.
#[derive(Debug, Serialize)]
pub struct LibraryFile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub file_type: String,
    pub folder_id: String,
    pub source: String,
    pub size: u64,
    pub image: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    pub status: &'static str,
    /// The bytes, through the native API (same credentials).
    pub url: String,
    pub created_date: String,
    pub modified_date: String,
}

fn property(f: &FileRecord, key: &str) -> Option<u64> {
    let props = f.properties.as_ref()?;
    props
        .get(key)
        .or_else(|| props.get("image").and_then(|i| i.get(key)))
        .and_then(Value::as_u64)
}

impl From<&FileRecord> for LibraryFile {
    fn from(f: &FileRecord) -> LibraryFile {
        let meta = |k: &str| f.metadata.get(k).cloned();
        let image = matches!(f.detected_format, Format::Jpeg | Format::Png | Format::Gif);
        LibraryFile {
            id: f.id.clone(),
            name: f.name.clone(),
            description: meta("description").unwrap_or_default(),
            file_type: meta("file_type")
                .unwrap_or_else(|| f.detected_format.as_str().to_ascii_uppercase()),
            folder_id: f.folder_id.to_string(),
            source: meta("source").unwrap_or_else(|| "MYCOMPUTER".into()),
            size: f.size,
            image,
            width: property(f, "width"),
            height: property(f, "height"),
            status: upload_status(f).0,
            url: format!("/v1/files/{}/content", f.id),
            created_date: date(f.created_at),
            modified_date: date(f.updated_at),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewFolder {
    pub name: String,
    /// A string (`"0"`) or a number; absent or 0: the root.
    #[serde(default)]
    pub parent_id: Option<Value>,
}

impl NewFolder {
    pub fn parent(&self) -> Result<i64, Error> {
        match &self.parent_id {
            None | Some(Value::Null) => Ok(ROOT_FOLDER),
            Some(Value::String(s)) => folder_id(Some(s)),
            Some(Value::Number(n)) => folder_id(Some(&n.to_string())),
            Some(_) => Err(Error::bad_request(
                "invalid_parent_id",
                "parent_id must be a folder id",
            )),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LibraryFolder {
    pub id: String,
    pub name: String,
    pub parent_id: String,
    /// 1 for a folder at the root.
    pub level: u32,
    pub children: Vec<LibraryFolder>,
    pub created_date: String,
    pub modified_date: String,
}

impl LibraryFolder {
    /// `folder` with its subtree, from every folder of the project.
    pub fn tree(folder: &Folder, all: &[Folder], level: u32) -> LibraryFolder {
        let children = if level > 64 {
            Vec::new() // folder cycles cannot exist, but never recurse without bound
        } else {
            all.iter()
                .filter(|c| c.parent_id == folder.id)
                .map(|c| LibraryFolder::tree(c, all, level + 1))
                .collect()
        };
        LibraryFolder {
            id: folder.id.to_string(),
            name: folder.name.clone(),
            parent_id: folder.parent_id.to_string(),
            level,
            children,
            created_date: date(folder.created_at),
            modified_date: date(folder.created_at),
        }
    }

    pub fn level_of(folder: &Folder, all: &[Folder]) -> u32 {
        let mut level = 1;
        let mut parent = folder.parent_id;
        while parent != ROOT_FOLDER && level < 64 {
            level += 1;
            parent = all
                .iter()
                .find(|f| f.id == parent)
                .map_or(ROOT_FOLDER, |f| f.parent_id);
        }
        level
    }
}

/// A collection, with the link to the next page when there is one.
#[derive(Debug, Serialize)]
pub struct Collection<T> {
    pub meta: Meta,
    pub results: Vec<T>,
}

#[derive(Debug, Serialize)]
pub struct Meta {
    pub pagination: Pagination,
}

#[derive(Debug, Serialize)]
pub struct Pagination {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> Collection<T> {
    pub fn new(results: Vec<T>, next_link: Option<String>) -> Collection<T> {
        Collection {
            meta: Meta {
                pagination: Pagination { next_link },
            },
            results,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct List {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub contact_count: u64,
    pub created_date: String,
    pub modified_date: String,
}

impl From<&ContactList> for List {
    fn from(l: &ContactList) -> List {
        List {
            id: l.id.to_string(),
            name: l.name.clone(),
            status: match l.status {
                ListStatus::Active => "ACTIVE",
                ListStatus::Hidden => "HIDDEN",
            },
            contact_count: l.member_count,
            created_date: date(l.created_at),
            modified_date: date(l.updated_at),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct NewList {
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct EmailAddress {
    pub email_address: String,
    #[serde(default, skip_deserializing)]
    pub status: &'static str,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ListRef {
    /// A string (`"1"`) or a number.
    pub id: Value,
    #[serde(default, skip_deserializing)]
    pub status: &'static str,
}

/// `POST /v2/contacts`: the addresses join every list named. Other contact
/// fields (names, phone numbers…) are accepted and not kept.
#[derive(Debug, Deserialize)]
pub struct NewContact {
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub lists: Vec<ListRef>,
}

#[derive(Debug, Serialize)]
pub struct Contact {
    pub status: &'static str,
    pub email_addresses: Vec<EmailAddress>,
    pub lists: Vec<ListRef>,
}

impl Contact {
    pub fn new(email: &str, lists: &[i64]) -> Contact {
        Contact {
            status: "ACTIVE",
            email_addresses: vec![EmailAddress {
                email_address: email.to_owned(),
                status: "ACTIVE",
            }],
            lists: lists
                .iter()
                .map(|id| ListRef {
                    id: Value::String(id.to_string()),
                    status: "ACTIVE",
                })
                .collect(),
        }
    }
}

/// A list id in a body or a path: `"1"` or `1`.
pub fn list_id(value: &Value) -> Result<i64, Error> {
    let parsed = match value {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    parsed.ok_or_else(|| Error::bad_request("invalid_list_id", format!("{value} is not a list id")))
}

/// `lists` of a removal: comma-separated ids (`"1,4"`).
pub fn list_ids(raw: Option<&str>) -> Result<Vec<i64>, Error> {
    let raw = raw.unwrap_or("");
    let mut ids = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = part.trim_matches('"').parse().map_err(|_| {
            Error::bad_request("invalid_lists", format!("lists: {part:?} is not a list id"))
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(Error::bad_request(
            "missing_lists",
            "lists must name at least one list id (e.g. \"1,4\")",
        ));
    }
    Ok(ids)
}

#[derive(Debug, Serialize)]
pub struct ActivityErrorView {
    pub message: String,
    pub line_number: u64,
    pub email_address: String,
}

#[derive(Debug, Serialize)]
pub struct ActivityView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: &'static str,
    pub file_name: String,
    pub lists: Vec<String>,
    pub contact_count: u64,
    pub removed_count: u64,
    pub not_found_count: u64,
    pub error_count: u64,
    pub errors: Vec<ActivityErrorView>,
    pub warnings: Vec<ActivityErrorView>,
    pub created_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_date: Option<String>,
    pub last_modified_date: String,
}

impl From<&Activity> for ActivityView {
    fn from(a: &Activity) -> ActivityView {
        ActivityView {
            id: a.id.clone(),
            kind: "REMOVE_CONTACTS_FROM_LISTS",
            status: a.status.as_str(),
            file_name: a.file_name.clone().unwrap_or_default(),
            lists: a.lists.iter().map(ToString::to_string).collect(),
            contact_count: a.contact_count,
            removed_count: a.removed_count,
            not_found_count: a.not_found_count,
            error_count: a.error_count,
            errors: a
                .errors
                .iter()
                .map(|e| ActivityErrorView {
                    message: e.message.clone(),
                    line_number: e.line.unwrap_or(0),
                    email_address: e.value.clone().unwrap_or_default(),
                })
                .collect(),
            warnings: Vec::new(),
            created_date: date(a.created_at),
            finish_date: a.status.is_final().then(|| date(a.updated_at)),
            last_modified_date: date(a.updated_at),
        }
    }
}
