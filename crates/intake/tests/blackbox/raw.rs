//! HTTP/1.1 over a bare `TcpStream`, for what a proper client will not do:
//! stop sending mid-body, send less than `Content-Length`, or keep sending
//! after the server has answered. The reader understands just enough HTTP:
//! a status line, headers, and a body by `Content-Length`, chunked, or to
//! the end of the connection.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn code(&self) -> Option<String> {
        let value: Value = serde_json::from_slice(&self.body).ok()?;
        value["code"].as_str().map(str::to_owned)
    }

    pub fn describe(&self) -> String {
        format!(
            "{} {:?} {}",
            self.status,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }
}

pub async fn connect(addr: &str) -> TcpStream {
    TcpStream::connect(addr)
        .await
        .expect("connect to the server")
}

/// The request head of a multipart upload with a bearer key.
pub fn upload_head(
    addr: &str,
    path: &str,
    key: &str,
    content_type: &str,
    content_length: u64,
) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {content_length}\r\n\r\n"
    )
    .into_bytes()
}

/// Reads one response. `Ok(None)` when the connection ends (or is reset)
/// before a status line arrives; an error when it stalls past `limit`.
pub async fn read_reply(
    stream: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> Result<Option<RawReply>, String> {
    tokio::time::timeout(limit, read_reply_inner(stream))
        .await
        .map_err(|_| format!("no complete response within {limit:?}"))?
}

async fn read_reply_inner(
    stream: &mut (impl AsyncRead + Unpin),
) -> Result<Option<RawReply>, String> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos;
        }
        match read_more(stream, &mut buf).await {
            Ok(0) | Err(_) if buf.is_empty() => return Ok(None),
            Ok(0) => {
                return Err(format!(
                    "connection ended inside the head: {:?}",
                    String::from_utf8_lossy(&buf)
                ));
            }
            Err(e) => return Err(format!("read error inside the head: {e}")),
            Ok(_) => {}
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut rest = buf[head_end + 4..].to_vec();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let body = if let Some(len) = header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad Content-Length {len:?}"))?;
        while rest.len() < len {
            if read_more(stream, &mut rest).await.unwrap_or(0) == 0 {
                return Err("connection ended inside the body".into());
            }
        }
        rest.truncate(len);
        rest
    } else if header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        dechunk(stream, rest).await?
    } else {
        while read_more(stream, &mut rest).await.unwrap_or(0) > 0 {}
        rest
    };
    Ok(Some(RawReply {
        status,
        headers,
        body,
    }))
}

async fn dechunk(
    stream: &mut (impl AsyncRead + Unpin),
    mut buf: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(pos) = find(&buf, b"\r\n") {
                break pos;
            }
            if read_more(stream, &mut buf).await.unwrap_or(0) == 0 {
                return Err("connection ended inside a chunk size".into());
            }
        };
        let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            return Ok(body);
        }
        while buf.len() < size + 2 {
            if read_more(stream, &mut buf).await.unwrap_or(0) == 0 {
                return Err("connection ended inside a chunk".into());
            }
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

async fn read_more(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
