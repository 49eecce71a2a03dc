//! `intake upload FILE…`: one streamed multipart request per file, several
//! at once, each with its own progress bar.
//!
//! Files are read in 64 KiB chunks straight into the request body, so memory
//! stays flat whatever their size. A failure of one file does not stop the
//! others; each is explained on stderr and the command fails at the end.
//! stdout gets one line per uploaded file, `<id>\t<path>\t<status>`, or with
//! `--json` the server's whole answer per request, one JSON document a line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar};
use reqwest::{Body, multipart};
use serde_json::{Map, Value};
use tokio_util::io::ReaderStream;

use crate::api::{Client, UploadResponse};
use crate::config::ServerArgs;
use crate::progress::{self, Counted};

/// Arguments of `intake upload`.
#[derive(Debug, Clone, clap::Args)]
pub struct UploadArgs {
    /// Files to upload.
    #[arg(required = true, num_args = 1.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Project to upload into.
    #[arg(short, long, default_value = "default")]
    pub project: String,
    /// Display name for the file (only with a single file).
    #[arg(long)]
    pub name: Option<String>,
    /// Metadata as a JSON object of string values, e.g. '{"customer":"42"}'.
    #[arg(long, value_name = "JSON")]
    pub meta: Option<String>,
    /// Folder id to upload into (0 is the root).
    #[arg(long, value_name = "ID")]
    pub folder: Option<i64>,
    /// Print the server's full JSON answer (one line per file) instead of ids.
    #[arg(long)]
    pub json: bool,
    /// How many files to upload at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// The form fields shared by every file of one command.
#[derive(Debug, Default)]
struct Fields {
    name: Option<String>,
    meta: Option<String>,
    folder: Option<i64>,
}

/// Runs `intake upload`.
pub async fn upload(args: UploadArgs) -> anyhow::Result<()> {
    if args.name.is_some() && args.files.len() > 1 {
        bail!(
            "--name names one file; it cannot be used with {} files",
            args.files.len()
        );
    }
    let fields = Arc::new(Fields {
        name: args.name.clone(),
        meta: args.meta.as_deref().map(check_meta).transpose()?,
        folder: args.folder,
    });
    let client = Client::from_args(&args.server)?;
    let multi = progress::multi();
    let total = args.files.len();
    let overall = (total > 1).then(|| progress::count_bar(&multi, total as u64));

    let uploads = args.files.iter().map(|path| {
        let (client, fields, multi) = (client.clone(), Arc::clone(&fields), multi.clone());
        let project = args.project.clone();
        async move {
            let result = upload_one(&client, &project, &fields, path, &multi).await;
            (path, result)
        }
    });
    let mut results =
        futures::stream::iter(uploads).buffer_unordered(usize::from(args.concurrency));

    let mut failed = 0usize;
    while let Some((path, result)) = results.next().await {
        match result {
            Ok(answer) => multi.suspend(|| print_result(path, &answer, args.json))?,
            Err(e) => {
                failed += 1;
                multi.suspend(|| eprintln!("error: {}: {e:#}", path.display()));
            }
        }
        if let Some(bar) = &overall {
            bar.inc(1);
            bar.set_message(if failed > 0 {
                format!("{failed} failed")
            } else {
                String::new()
            });
        }
    }
    if let Some(bar) = overall {
        bar.finish_and_clear();
    }
    if failed > 0 {
        bail!("{failed} of {total} files failed to upload");
    }
    Ok(())
}

fn print_result(path: &Path, answer: &UploadResponse, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(answer)?);
    } else {
        for file in &answer.files {
            println!("{}\t{}\t{}", file.id, path.display(), file.status);
        }
    }
    Ok(())
}

/// Streams one file in its own request.
async fn upload_one(
    client: &Client,
    project: &str,
    fields: &Fields,
    path: &Path,
    multi: &MultiProgress,
) -> anyhow::Result<UploadResponse> {
    let file = tokio::fs::File::open(path).await.context("cannot open")?;
    let meta = file.metadata().await.context("cannot read its size")?;
    if !meta.is_file() {
        bail!("not a regular file");
    }
    let len = meta.len();
    let bar = progress::bytes_bar(multi, len, progress::label(&path.display().to_string(), 30));
    let result = send(client, project, fields, path, file, len, &bar).await;
    bar.finish_and_clear();
    multi.remove(&bar);
    result
}

async fn send(
    client: &Client,
    project: &str,
    fields: &Fields,
    path: &Path,
    file: tokio::fs::File,
    len: u64,
    bar: &ProgressBar,
) -> anyhow::Result<UploadResponse> {
    let body = Counted::new(
        ReaderStream::with_capacity(file, 64 * 1024),
        bar.clone(),
        len,
    );
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let part = multipart::Part::stream_with_length(Body::wrap_stream(body), len)
        .file_name(filename)
        .mime_str(content_type(path))?;
    // Text fields go first so a streaming server knows them before the bytes arrive.
    let mut form = multipart::Form::new();
    if let Some(name) = &fields.name {
        form = form.text("name", name.clone());
    }
    if let Some(meta) = &fields.meta {
        form = form.text("meta", meta.clone());
    }
    if let Some(folder) = fields.folder {
        form = form.text("folder_id", folder.to_string());
    }
    form = form.part("file", part);
    bar.set_message("");
    let answer = client.upload(project, form).await?;
    if answer.files.is_empty() {
        bail!("the server accepted the upload but listed no file");
    }
    Ok(answer)
}

/// The content type declared for a file, guessed from its extension.
pub fn content_type(path: &Path) -> &'static str {
    mime_guess::from_path(path)
        .first_raw()
        .unwrap_or("application/octet-stream")
}

/// Checks `--meta` locally (a JSON object of strings) so a typo fails before
/// any byte is sent; returns it compacted.
fn check_meta(text: &str) -> anyhow::Result<String> {
    let hint = r#"--meta must be a JSON object of string values, e.g. '{"customer":"42"}'"#;
    let value: Map<String, Value> = serde_json::from_str(text).with_context(|| hint.to_owned())?;
    if let Some((key, _)) = value.iter().find(|(_, v)| !v.is_string()) {
        bail!("{hint}; the value of {key:?} is not a string");
    }
    Ok(serde_json::to_string(&value)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_extensions() {
        assert_eq!(content_type(Path::new("a.pdf")), "application/pdf");
        assert_eq!(content_type(Path::new("dir/SCAN.PDF")), "application/pdf");
        assert_eq!(content_type(Path::new("x.png")), "image/png");
        assert_eq!(
            content_type(Path::new("x.docx")),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(content_type(Path::new("list.csv")), "text/csv");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
        assert_eq!(
            content_type(Path::new("x.unknownext")),
            "application/octet-stream"
        );
    }

    #[test]
    fn meta_must_be_an_object_of_strings() {
        assert_eq!(
            check_meta(r#"{ "customer" : "42" }"#).expect("ok"),
            r#"{"customer":"42"}"#
        );
        assert!(
            check_meta(r#"{"customer":42}"#)
                .expect_err("number")
                .to_string()
                .contains("customer")
        );
        assert!(check_meta(r#"["a"]"#).is_err());
        assert!(check_meta("customer=42").is_err());
    }
}
