//! multipart/form-data requests, read with multer: the boundary (also from
//! clients that send it only in the body), the limits on parts, fields and
//! files, and multer's errors turned into intake's stable codes.

use crate::body::{self, Body, BodyError, HeaderPhase};
use crate::pipeline::{self, StoredBlob};
use crate::{BlobGuard, Limits};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use intake_blob::BlobStore;
use intake_core::{Error, ErrorKind, Format, name};
use std::sync::Arc;

/// What a part said about itself, for the caller's format decision.
#[derive(Debug, Clone, PartialEq)]
pub struct PartInfo {
    pub field_name: String,
    /// Validated (see `intake_core::name::check_filename`).
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// A file part, stored durably but not yet in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedFile {
    pub part: PartInfo,
    pub blob: StoredBlob,
}

/// What one request carries.
#[derive(Debug)]
pub struct FormSpec<'a> {
    /// Names of the parts that carry files; other parts are text fields.
    pub file_fields: &'a [&'a str],
    pub max_file_size: u64,
    pub max_files: u32,
}

/// A read form: text fields in order, and the staged files. Dropping it
/// deletes the staged blobs unless [`Form::keep`] was called.
#[derive(Debug)]
pub struct Form {
    pub fields: Vec<(String, String)>,
    pub files: Vec<StagedFile>,
    pub guard: BlobGuard,
}

impl Form {
    /// The first text field with this name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The boundary from the request's Content-Type headers. When a client sends
/// two (the 001 seed's Java sample sets a bare `multipart/form-data` and the
/// library adds its own with the boundary), the one with a boundary wins.
/// `Ok(None)`: multipart without a boundary parameter.
pub fn boundary(content_types: &[&str]) -> Result<Option<String>, Error> {
    if content_types.is_empty() {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            "missing_content_type",
            "the request needs Content-Type: multipart/form-data",
        ));
    }
    // Some clients send their own bare `multipart/form-data` beside the
    // library's, which carries the boundary; anything else beside it is a
    // contradiction we refuse rather than guess about.
    let is_form = |ct: &&str| {
        ct.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("multipart/form-data"))
    };
    if content_types.len() > 1 && !content_types.iter().all(is_form) {
        return Err(Error::bad_request(
            "malformed_content_type",
            "the request has conflicting Content-Type headers",
        ));
    }
    let mut multipart_seen = false;
    let mut malformed = false;
    for ct in content_types {
        match multer::parse_boundary(*ct) {
            Ok(b) => return Ok(Some(b)),
            Err(multer::Error::NoBoundary) => multipart_seen = true,
            Err(multer::Error::DecodeContentType(_)) => malformed = true,
            Err(_) => {}
        }
    }
    if multipart_seen {
        Ok(None)
    } else if malformed {
        Err(Error::bad_request(
            "malformed_content_type",
            "the Content-Type header cannot be parsed",
        ))
    } else {
        Err(Error::new(
            ErrorKind::UnsupportedFormat,
            "unsupported_content_type",
            "the request body must be multipart/form-data",
        ))
    }
}

fn headers_too_large(limit: u64) -> Error {
    Error::bad_request(
        "part_headers_too_large",
        format!("a part's headers (or the body before the first boundary) exceed {limit} bytes"),
    )
}

fn missing_boundary() -> Error {
    Error::bad_request(
        "missing_boundary",
        "the multipart Content-Type has no boundary",
    )
}

/// Reads the boundary from the body's first line (`--boundary\r\n`), for
/// clients that send `multipart/form-data` without the parameter. Returns it
/// with the bytes read, which the caller puts back in front of the body.
async fn boundary_from_body(body: &mut Body) -> Result<(String, Bytes), Error> {
    // RFC 2046 §5.1.1: at most 70 characters, plus "--" and CRLF.
    const MAX_LINE: usize = 74;
    let mut head = BytesMut::new();
    while !head.contains(&b'\n') && head.len() < MAX_LINE {
        match body.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) | None => break,
        }
    }
    let line_end = head
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(missing_boundary)?;
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let candidate = line.strip_prefix(b"--").ok_or_else(missing_boundary)?;
    let valid = (1..=70).contains(&candidate.len())
        && candidate
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"'()+_,-./:=? ".contains(&b))
        && !candidate.ends_with(b" ");
    if !valid {
        return Err(missing_boundary());
    }
    Ok((
        String::from_utf8_lossy(candidate).into_owned(),
        head.freeze(),
    ))
}

/// Maps multer's errors, and the body guard's carried inside them.
fn multipart_error(e: multer::Error) -> Error {
    use multer::Error as M;
    match e {
        M::StreamReadFailed(inner) => match inner.downcast::<BodyError>() {
            Ok(body) => match *body {
                BodyError::Idle(d) => Error::new(
                    ErrorKind::Timeout,
                    "request_timeout",
                    format!("the client sent nothing for {} s", d.as_secs()),
                ),
                BodyError::HeadersTooLarge(n) => headers_too_large(n),
                BodyError::Read(_) => {
                    Error::bad_request("body_read_failed", "the request body could not be read")
                }
            },
            Err(_) => Error::bad_request("body_read_failed", "the request body could not be read"),
        },
        M::IncompleteStream | M::IncompleteFieldData { .. } => Error::bad_request(
            "truncated_body",
            "the body ended before the closing boundary (truncated, or the boundary never appears)",
        ),
        M::ReadHeaderFailed(httparse::Error::TooManyHeaders) => {
            Error::bad_request("part_headers_too_large", "a part has too many headers")
        }
        M::IncompleteHeaders
        | M::ReadHeaderFailed(_)
        | M::DecodeHeaderName { .. }
        | M::DecodeHeaderValue { .. } => Error::bad_request(
            "malformed_part_headers",
            "a part's headers cannot be parsed",
        ),
        other => Error::bad_request(
            "malformed_multipart",
            format!("malformed multipart body: {other}"),
        ),
    }
}

impl From<multer::Error> for crate::MultipartError {
    fn from(e: multer::Error) -> Self {
        crate::MultipartError(multipart_error(e))
    }
}

/// Decides, as a file part begins, whether it may be read and how large it
/// may be, from the text fields before it (for forms whose fields authorize
/// the file, such as S3 POST policies). Answers the largest size allowed,
/// or the error that refuses the request before any of the file is read.
pub type Gate = dyn Fn(Vec<(String, String)>, PartInfo) -> futures::future::BoxFuture<'static, Result<u64, Error>>
    + Send
    + Sync;

/// Reads a whole multipart form: text fields into memory (each bounded),
/// file parts straight into the blob store through the pipeline. `check`
/// decides each file's format from its part and sniffed bytes. Every limit
/// is enforced while the body streams; on any error the staged blobs are
/// deleted and nothing is left.
pub async fn read_form(
    body: Body,
    content_types: &[&str],
    limits: &Limits,
    blobs: &Arc<dyn BlobStore>,
    spec: &FormSpec<'_>,
    check: &(dyn Fn(&PartInfo, Format) -> Result<Format, Error> + Send + Sync),
) -> Result<Form, Error> {
    read_form_gated(body, content_types, limits, blobs, spec, check, None).await
}

/// [`read_form`] with a [`Gate`] asked before each file part is read.
pub async fn read_form_gated(
    mut body: Body,
    content_types: &[&str],
    limits: &Limits,
    blobs: &Arc<dyn BlobStore>,
    spec: &FormSpec<'_>,
    check: &(dyn Fn(&PartInfo, Format) -> Result<Format, Error> + Send + Sync),
    gate: Option<&Gate>,
) -> Result<Form, Error> {
    let boundary = match boundary(content_types)? {
        Some(b) => b,
        None => {
            let (b, head) = boundary_from_body(&mut body).await?;
            body = futures::stream::once(async move { Ok(head) })
                .chain(body)
                .boxed();
            b
        }
    };
    let phase = Arc::new(HeaderPhase::default());
    let guarded = body::guard(
        body,
        limits.idle_timeout,
        limits.max_part_header_bytes,
        phase.clone(),
    );
    let mut multipart = multer::Multipart::new(guarded, boundary);
    let mut form = Form {
        fields: Vec::new(),
        files: Vec::new(),
        guard: BlobGuard::new(blobs.clone()),
    };
    let mut parts = 0u32;
    loop {
        phase.start();
        let next = multipart.next_field().await;
        phase.end();
        let Some(mut field) = next.map_err(multipart_error)? else {
            break;
        };
        let header_bytes: usize = field
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum();
        if header_bytes as u64 > limits.max_part_header_bytes {
            return Err(headers_too_large(limits.max_part_header_bytes));
        }
        parts += 1;
        if parts > limits.max_parts {
            return Err(Error::bad_request(
                "too_many_parts",
                format!("the body has more than {} parts", limits.max_parts),
            ));
        }
        let Some(field_name) = field.name().map(str::to_owned) else {
            return Err(Error::bad_request(
                "part_without_name",
                "a part has no name in its Content-Disposition",
            ));
        };
        let filename = field.file_name().map(name::check_filename).transpose()?;
        if spec.file_fields.contains(&field_name.as_str()) {
            if form.files.len() as u32 >= spec.max_files {
                return Err(Error::bad_request(
                    "too_many_files",
                    format!(
                        "at most {} files may be sent in one request",
                        spec.max_files
                    ),
                ));
            }
            let content_type = field
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let part = PartInfo {
                field_name,
                filename,
                content_type,
            };
            let max_file_size = match gate {
                Some(gate) => gate(form.fields.clone(), part.clone())
                    .await?
                    .min(spec.max_file_size),
                None => spec.max_file_size,
            };
            let chunks = (&mut field).map(|c| c.map_err(crate::MultipartError::from));
            let blob = pipeline::store(
                chunks,
                blobs.as_ref(),
                max_file_size,
                limits.sniff_bytes,
                |detected| check(&part, detected),
            )
            .await?;
            form.guard.add(blob.key.clone());
            form.files.push(StagedFile { part, blob });
        } else if filename.is_some() {
            return Err(Error::bad_request(
                "unexpected_file",
                format!(
                    "files are accepted in the part(s) named {}",
                    spec.file_fields.join(", ")
                ),
            ));
        } else {
            let value = read_text(&mut field, &field_name, limits.max_field_bytes).await?;
            form.fields.push((field_name, value));
        }
    }
    Ok(form)
}

async fn read_text(field: &mut multer::Field<'_>, name: &str, max: u64) -> Result<String, Error> {
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        if (value.len() + chunk.len()) as u64 > max {
            return Err(Error::new(
                ErrorKind::PayloadTooLarge,
                "field_too_large",
                format!("the field {name:?} exceeds {max} bytes"),
            ));
        }
        value.extend_from_slice(&chunk);
    }
    String::from_utf8(value).map_err(|_| {
        Error::bad_request("invalid_field", format!("the field {name:?} is not UTF-8"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_with_a_boundary_wins() {
        assert_eq!(
            boundary(&["multipart/form-data", "multipart/form-data; boundary=xyz"]).unwrap(),
            Some("xyz".into())
        );
        assert_eq!(boundary(&["multipart/form-data"]).unwrap(), None);
        assert_eq!(boundary(&[]).unwrap_err().code, "missing_content_type");
        assert_eq!(
            boundary(&["application/json"]).unwrap_err().code,
            "unsupported_content_type"
        );
        assert_eq!(
            boundary(&["/;"]).unwrap_err().code,
            "malformed_content_type"
        );
    }

    fn gated_body() -> Body {
        let body = "--b\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\nsmall\r\n\
                    --b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n\
                    0123456789\r\n--b--\r\n";
        futures::stream::iter(vec![Ok(Bytes::from(body))]).boxed()
    }

    #[tokio::test]
    async fn a_gate_sees_the_fields_before_the_file_and_bounds_it() {
        let dir = tempfile::tempdir().unwrap();
        let blobs: Arc<dyn BlobStore> =
            Arc::new(intake_blob::FileStore::open(dir.path()).await.unwrap());
        let spec = FormSpec {
            file_fields: &["file"],
            max_file_size: 1 << 20,
            max_files: 1,
        };
        let limit = |max: u64| -> Box<Gate> {
            Box::new(move |fields: Vec<(String, String)>, part: PartInfo| {
                Box::pin(async move {
                    assert_eq!(fields, vec![("policy".to_owned(), "small".to_owned())]);
                    assert_eq!(part.filename.as_deref(), Some("a.txt"));
                    if max == 0 {
                        Err(Error::forbidden("no"))
                    } else {
                        Ok(max)
                    }
                })
            })
        };
        let spec = &spec;
        let read = |gate: Box<Gate>| {
            let blobs = blobs.clone();
            async move {
                read_form_gated(
                    gated_body(),
                    &["multipart/form-data; boundary=b"],
                    &Limits::default(),
                    &blobs,
                    spec,
                    &|_, f| Ok(f),
                    Some(gate.as_ref()),
                )
                .await
            }
        };
        let form = read(limit(10)).await.unwrap();
        assert_eq!(form.files[0].blob.size, 10);
        assert_eq!(read(limit(9)).await.unwrap_err().code, "payload_too_large");
        assert_eq!(read(limit(0)).await.unwrap_err().code, "forbidden");
    }

    #[tokio::test]
    async fn the_boundary_can_come_from_the_body() {
        let mut body: Body = futures::stream::iter(vec![Ok(Bytes::from_static(
            b"--abc123\r\nContent-Disposition: x\r\n",
        ))])
        .boxed();
        let (b, head) = boundary_from_body(&mut body).await.unwrap();
        assert_eq!(b, "abc123");
        assert!(head.starts_with(b"--abc123\r\n"));
        let mut junk: Body =
            futures::stream::iter(vec![Ok(Bytes::from_static(b"hello world\r\n"))]).boxed();
        assert_eq!(
            boundary_from_body(&mut junk).await.unwrap_err().code,
            "missing_boundary"
        );
    }
}
