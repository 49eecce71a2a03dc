//! `intake files ls|get|rm|info`: look at and manage stored files.
//!
//! Tables go to stdout for people; `--json` prints one JSON document per
//! line for scripts. Commands over several ids keep going after a failure,
//! explain each on stderr, and fail at the end.

use std::path::PathBuf;

use anyhow::bail;
use chrono::{DateTime, Local};
use indicatif::HumanBytes;

use crate::api::{Client, FileInfo, ListQuery};
use crate::config::ServerArgs;
use crate::download;

/// The file statuses a server reports, offered to `ls --status`.
const STATUSES: [&str; 7] = [
    "received",
    "processing",
    "ready",
    "rejected",
    "infected",
    "failed",
    "expired",
];

/// `intake files …` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FilesCommand {
    /// List a project's files, newest first.
    Ls {
        /// Project to list.
        #[arg(short, long, default_value = "default")]
        project: String,
        /// Only files with this status.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(STATUSES))]
        status: Option<String>,
        /// Only files whose name starts with this.
        #[arg(long)]
        name_prefix: Option<String>,
        /// Only files created at or after this RFC 3339 time.
        #[arg(long, value_name = "RFC3339")]
        created_after: Option<String>,
        /// Only files created before this RFC 3339 time.
        #[arg(long, value_name = "RFC3339")]
        created_before: Option<String>,
        /// Only files in this folder (0 is the root).
        #[arg(long, value_name = "ID")]
        folder: Option<i64>,
        /// Page size.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: Option<u32>,
        /// Start from this cursor (printed by a previous `ls` without `--all`).
        #[arg(long)]
        cursor: Option<String>,
        /// Follow `next_cursor` until every page is listed.
        #[arg(long)]
        all: bool,
        /// One JSON document per file and line instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Download a file's content, verified against its size and SHA-256.
    Get {
        /// File id (`file_…`).
        id: String,
        /// Where to write: a path, a directory, or `-` for stdout.
        /// Default: the file's original name in the current directory.
        #[arg(short, long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete files.
    Rm {
        /// File ids (`file_…`).
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show one file's details.
    Info {
        /// File id (`file_…`).
        id: String,
        /// Print the server's JSON instead of a summary.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Runs an `intake files` subcommand.
pub async fn files(cmd: FilesCommand) -> anyhow::Result<()> {
    match cmd {
        FilesCommand::Ls {
            project,
            status,
            name_prefix,
            created_after,
            created_before,
            folder,
            limit,
            cursor,
            all,
            json,
            server,
        } => {
            let query = ListQuery {
                limit,
                cursor,
                status,
                name_prefix,
                created_after,
                created_before,
                folder_id: folder,
            };
            ls(&Client::from_args(&server)?, &project, query, all, json).await
        }
        FilesCommand::Get {
            id,
            output,
            force,
            server,
        } => download::get(&Client::from_args(&server)?, &id, output.as_deref(), force).await,
        FilesCommand::Rm { ids, server } => rm(&Client::from_args(&server)?, &ids).await,
        FilesCommand::Info { id, json, server } => {
            let file = Client::from_args(&server)?.file(&id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&file)?);
            } else {
                print!("{}", describe(&file));
            }
            Ok(())
        }
    }
}

async fn ls(
    client: &Client,
    project: &str,
    mut query: ListQuery,
    all: bool,
    json: bool,
) -> anyhow::Result<()> {
    let mut header = !json;
    loop {
        let page = client.list(project, &query).await?;
        for file in &page.files {
            if json {
                println!("{}", serde_json::to_string(file)?);
            } else {
                if header {
                    println!(
                        "{}",
                        table_row(["ID", "SIZE", "FORMAT", "STATUS", "CREATED", "NAME"])
                    );
                    header = false;
                }
                println!("{}", table_row(row(file)));
            }
        }
        match page.next_cursor {
            Some(next) if all && !page.files.is_empty() => query.cursor = Some(next),
            Some(next) if !all => {
                eprintln!("more files: add --all, or --cursor {next}");
                break;
            }
            _ => break,
        }
    }
    Ok(())
}

/// The name comes last so the fixed-width columns line up across pages
/// without buffering a whole listing to measure it.
fn table_row(cells: [impl AsRef<str>; 6]) -> String {
    let [id, size, format, status, created, name] = cells.map(|c| c.as_ref().to_owned());
    format!("{id:<30} {size:>10} {format:<8} {status:<10} {created:<16} {name}")
}

fn row(file: &FileInfo) -> [String; 6] {
    [
        file.id.clone(),
        HumanBytes(file.size).to_string(),
        file.detected_format.clone().unwrap_or_else(|| "-".into()),
        file.status.clone(),
        file.created_at
            .as_deref()
            .map_or_else(|| "-".into(), local_time),
        display_name(file).to_owned(),
    ]
}

fn display_name(file: &FileInfo) -> &str {
    if file.name.is_empty() {
        file.original_filename.as_deref().unwrap_or("")
    } else {
        &file.name
    }
}

/// An RFC 3339 time as local `YYYY-MM-DD HH:MM`; unparsable text is shown as is.
fn local_time(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// `intake files info` as aligned `field: value` lines.
fn describe(file: &FileInfo) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut lines = vec![
        ("id", file.id.clone()),
        ("name", display_name(file).to_owned()),
        ("original name", opt(&file.original_filename)),
        ("project", opt(&file.project_id)),
        (
            "folder",
            file.folder_id.map_or_else(|| "-".into(), |f| f.to_string()),
        ),
        ("upload", opt(&file.upload_id)),
        (
            "size",
            format!("{} ({} bytes)", HumanBytes(file.size), file.size),
        ),
        ("sha256", opt(&file.sha256)),
        ("format", opt(&file.detected_format)),
        ("declared type", opt(&file.declared_content_type)),
        ("status", file.status.clone()),
    ];
    if let Some(reason) = &file.reason {
        lines.push(("reason", reason.clone()));
    }
    lines.push(("created", opt(&file.created_at)));
    lines.push(("updated", opt(&file.updated_at)));
    lines.push((
        "expires",
        file.expires_at.clone().unwrap_or_else(|| "never".into()),
    ));
    for (key, value) in &file.metadata {
        let value = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_owned);
        lines.push(("meta", format!("{key} = {value}")));
    }
    lines
        .iter()
        .map(|(k, v)| format!("{:<14} {v}\n", format!("{k}:")))
        .collect()
}

async fn rm(client: &Client, ids: &[String]) -> anyhow::Result<()> {
    let mut failed = 0usize;
    for id in ids {
        // Looked up first so the output says what was deleted, not just an id.
        let result = async {
            let file = client.file(id).await?;
            client.delete(id).await?;
            anyhow::Ok(file)
        }
        .await;
        match result {
            Ok(file) => println!("deleted\t{}\t{}", file.id, display_name(&file)),
            Err(e) => {
                failed += 1;
                eprintln!("error: {id}: {e:#}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} files could not be deleted", ids.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileInfo {
        serde_json::from_str(
            r#"{"id":"file_1","name":"letter.pdf","size":1536,"sha256":"ab","detected_format":"pdf",
            "status":"rejected","reason":"format","created_at":"not a time","metadata":{"customer":"42"}}"#,
        )
        .expect("parse")
    }

    #[test]
    fn rows_are_human_readable() {
        let row = row(&file());
        assert_eq!(row[1], "1.50 KiB");
        assert_eq!(row[4], "not a time");
        let line = table_row(row);
        assert!(
            line.starts_with("file_1 ") && line.ends_with(" letter.pdf"),
            "{line}"
        );
    }

    #[test]
    fn info_lists_reason_and_metadata() {
        let text = describe(&file());
        assert!(text.contains("reason:        format\n"), "{text}");
        assert!(text.contains("meta:          customer = 42\n"), "{text}");
        assert!(text.contains("(1536 bytes)"), "{text}");
    }
}
