//! `intake files get`: download a file, verified, without ever leaving a
//! partial file behind.
//!
//! The metadata is fetched first for the expected size and SHA-256. The body
//! streams into a temporary file in the destination's own directory (so the
//! final rename stays on one file system and is atomic), is hashed on the
//! way, and is renamed into place only when both size and hash match. Any
//! failure drops the temporary file. Without `--force` an existing file is
//! never replaced, and the rename itself refuses to clobber, so a file that
//! appears during the download is not overwritten either.
//!
//! With `-o -` the bytes go to stdout as they arrive; a mismatch is then
//! reported (and the command fails) after the bytes were written, since
//! stdout cannot be taken back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::StreamExt;
use indicatif::{HumanBytes, ProgressBar};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::{Client, FileInfo};
use crate::progress;

/// A download with no byte for this long is abandoned.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Smaller downloads get no progress bar: it would only flicker.
const BAR_THRESHOLD: u64 = 1024 * 1024;

pub(crate) async fn get(
    client: &Client,
    id: &str,
    output: Option<&Path>,
    force: bool,
) -> anyhow::Result<()> {
    let info = client.file(id).await?;
    let expected_sha = info
        .sha256
        .as_deref()
        .map(str::to_ascii_lowercase)
        .filter(|s| !s.is_empty());
    if expected_sha.is_none() {
        eprintln!("warning: the server reported no sha256 for {id}; only the size is verified");
    }
    let stdout = output.is_some_and(|p| p == Path::new("-"));
    let target = if stdout {
        None
    } else {
        Some(target_path(&info, output))
    };
    if let Some(target) = &target
        && !force
        && target.exists()
    {
        bail!(
            "{} already exists; use --force to replace it",
            target.display()
        );
    }

    let multi = progress::multi();
    let bar = if info.size >= BAR_THRESHOLD {
        progress::bytes_bar(&multi, info.size, progress::label(id, 30))
    } else {
        ProgressBar::hidden()
    };
    let expected = Expected {
        size: info.size,
        sha256: expected_sha,
    };
    let result = match &target {
        None => {
            let mut out = tokio::io::stdout();
            fetch(client, id, &expected, &mut out, &bar).await
        }
        // On Ctrl-C the save future is dropped, which deletes its temporary
        // file; being killed outright would leave a `.intake-download-*` behind.
        Some(target) => tokio::select! {
            saved = save(client, id, &expected, target, force, &bar) => saved,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted; nothing was saved")),
        },
    };
    bar.finish_and_clear();
    result?;
    if let Some(target) = target {
        println!("{}", target.display());
        eprintln!(
            "saved {} ({}) to {}",
            id,
            HumanBytes(info.size),
            target.display()
        );
    }
    Ok(())
}

/// What the downloaded bytes must match.
struct Expected {
    size: u64,
    sha256: Option<String>,
}

/// `-o DIR` puts the file's own name in DIR; no `-o` puts it in the current directory.
fn target_path(info: &FileInfo, output: Option<&Path>) -> PathBuf {
    let own_name = || {
        [
            info.original_filename.as_deref(),
            Some(info.name.as_str()),
            Some(info.id.as_str()),
        ]
        .into_iter()
        .flatten()
        .find_map(sanitize_filename)
        .unwrap_or_else(|| "download".to_owned())
    };
    match output {
        Some(dir) if dir.is_dir() => dir.join(own_name()),
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(own_name()),
    }
}

async fn save(
    client: &Client,
    id: &str,
    expected: &Expected,
    target: &Path,
    force: bool,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".intake-download-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut file = tokio::fs::File::from_std(temp.as_file().try_clone()?);
    fetch(client, id, expected, &mut file, bar).await?;
    file.sync_all()
        .await
        .context("cannot sync the downloaded file")?;
    drop(file);
    let persisted = if force {
        temp.persist(target)
    } else {
        temp.persist_noclobber(target)
    };
    persisted
        .map_err(|e| e.error)
        .with_context(|| format!("cannot move the download to {}", target.display()))?;
    // Make the rename itself durable; failing to sync a directory is not worth an error.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Streams the content into `out`, checking length and hash.
async fn fetch<W: AsyncWrite + Unpin>(
    client: &Client,
    id: &str,
    expected: &Expected,
    out: &mut W,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let response = client.content(id).await?;
    if let Some(len) = response.content_length()
        && len != expected.size
    {
        bail!(
            "the server announced {len} bytes but the file has {}",
            expected.size
        );
    }
    let mut body = response.bytes_stream();
    let mut hasher = Sha256::new();
    let mut received = 0u64;
    loop {
        let chunk = match tokio::time::timeout(STALL_TIMEOUT, body.next()).await {
            Err(_) => bail!(
                "the download stalled: no data for {} s",
                STALL_TIMEOUT.as_secs()
            ),
            Ok(None) => break,
            Ok(Some(chunk)) => chunk.context("the download was interrupted")?,
        };
        received += chunk.len() as u64;
        if received > expected.size {
            bail!(
                "the server sent more than the file's {} bytes",
                expected.size
            );
        }
        hasher.update(&chunk);
        out.write_all(&chunk)
            .await
            .context("cannot write the download")?;
        bar.inc(chunk.len() as u64);
    }
    out.flush().await.context("cannot write the download")?;
    if received != expected.size {
        bail!(
            "the download ended after {received} of {} bytes",
            expected.size
        );
    }
    let actual = hex::encode(hasher.finalize());
    if let Some(sha) = &expected.sha256
        && *sha != actual
    {
        bail!("SHA-256 mismatch: the file's is {sha}, the bytes received hash to {actual}");
    }
    Ok(())
}

/// Turns a server-supplied name into a safe file name in one directory:
/// only the last path component, no control or shell-hostile characters,
/// no leading dots (no hidden files, no `..`), no Windows device names, at
/// most 200 bytes with the extension kept. `None` when nothing usable is left.
pub fn sanitize_filename(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    if trimmed.is_empty() {
        return None;
    }
    let stem = trimmed
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    let name = if reserved {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    };
    Some(truncate_keeping_extension(&name, 200))
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.len() <= 16)
        .unwrap_or("");
    let mut cut = max - ext.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{ext}", &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitising_keeps_only_a_safe_last_component() {
        let cases = [
            ("report.pdf", Some("report.pdf")),
            ("../../etc/passwd", Some("passwd")),
            ("C:\\Users\\x\\scan 1.PDF", Some("scan 1.PDF")),
            (".bashrc", Some("bashrc")),
            ("a/..", None),
            ("...", None),
            ("   ", None),
            ("bad\u{0}name\n.txt", Some("bad_name_.txt")),
            ("what?<>|*\":.pdf", Some("what_______.pdf")),
            ("trailing. ", Some("trailing")),
            ("CON", Some("_CON")),
            ("nul.txt", Some("_nul.txt")),
            ("com1.pdf", Some("_com1.pdf")),
            ("console.txt", Some("console.txt")),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_filename(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn long_names_are_cut_at_char_boundaries_keeping_the_extension() {
        let long = format!("{}.pdf", "é".repeat(150));
        let got = sanitize_filename(&long).expect("name");
        assert!(got.len() <= 200 && got.ends_with("é.pdf"), "{got}");
    }
}
