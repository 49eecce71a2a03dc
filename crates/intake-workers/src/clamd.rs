//! A small async client for clamd, the ClamAV daemon (design.md §4, §8).
//!
//! # Contract
//!
//! - [`Clamd::scan`] streams any [`AsyncRead`] to clamd with `zINSTREAM`: each chunk is a 4-byte
//!   big-endian length followed by that many bytes, and a zero-length chunk ends the stream.
//!   Memory use is one chunk, whatever the size of the data.
//! - Every call opens its own connection (clamd serves one command per connection unless a
//!   session is opened, and sessions buy nothing for a job that scans one file). So a [`Clamd`]
//!   is cheap to clone and share.
//! - One deadline, [`Clamd::timeout`] from the start of the call, bounds the whole call: connect,
//!   sending every chunk, and waiting for the verdict. A clamd that accepts and then stalls
//!   yields [`ScanError::Timeout`], never a hung job.
//! - Errors say whether retrying can help ([`ScanError::is_retryable`]). A scan job should retry
//!   those with backoff and mark the file failed after its last attempt; [`ScanError::TooLarge`]
//!   and [`ScanError::Protocol`] will fail the same way again.
//! - Commands use the null-terminated `z` form, so replies are read up to a NUL.
//! - Two errors go beyond "clamd said no": [`ScanError::Clamd`] is clamd's own `... ERROR` reply
//!   (disk full, out of memory: transient), and [`ScanError::Source`] is a failure of the
//!   caller's reader, kept apart so a blob-store fault is not logged as a clamd outage.
//!
//! # Caveats
//!
//! - clamd's `StreamMaxLength` is enforced by clamd: once the stream passes it, clamd replies
//!   `INSTREAM size limit exceeded. ERROR` and closes. Our next write may then fail with a broken
//!   pipe or reset; the client still reads the reply and reports [`ScanError::TooLarge`]. Set
//!   [`Clamd::with_stream_max_length`] to the same value to refuse before sending (by
//!   [`Clamd::check_size`] when the length is known, or as soon as the count passes the limit).
//! - clamd answers `OK` for data past its `MaxFileSize`/`MaxScanSize` without scanning it. Keep
//!   those at least as large as `StreamMaxLength` in clamd's config (scripts/clamd/start.sh does).
//! - With `AllowAllMatchScan`, clamd may send several `FOUND` replies; only the first is read,
//!   which is enough for the verdict.
//! - The signature name is returned as clamd wrote it, so it can carry suffixes such as
//!   `.UNOFFICIAL` or, with `ExtendedDetectionInfo`, `(md5:size)`.
//!
//! # Why not a crate
//!
//! `clamav-client` (2.3, MIT, has a tokio feature) is the well-kept option. It returns raw reply
//! bytes, has no timeouts, and on clamd's early close it returns the broken-pipe error instead of
//! reading clamd's size-limit reply. Wrapping it to add those would take about as much code as the
//! protocol itself, which is a few dozen lines, so the protocol is written here.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

/// Default bound on one whole call (connect, stream, verdict).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default size of the chunks sent to clamd.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// Chunk sizes are clamped to this: it bounds the buffer and stays far below clamd's limits.
pub const MAX_CHUNK_SIZE: usize = 8 * 1024 * 1024;
/// A reply longer than this is not clamd talking.
const MAX_REPLY_LEN: usize = 16 * 1024;

/// Where clamd listens.
///
/// Parsed from `tcp://host:port`, `host:port`, `unix:///path` or `/path`; displayed and
/// serialized as `tcp://host:port` or `unix:///path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClamdAddr {
    /// `host:port`; the host may be a name, an IPv4 address or a bracketed IPv6 address.
    Tcp(String),
    /// An absolute path to clamd's `LocalSocket`.
    Unix(PathBuf),
}

/// Why a string is not a [`ClamdAddr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid clamd address {input:?}: {reason}")]
pub struct ParseAddrError {
    input: String,
    reason: &'static str,
}

impl FromStr for ClamdAddr {
    type Err = ParseAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseAddrError {
            input: input.to_owned(),
            reason,
        };
        let s = input.trim();
        if let Some(path) = s.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(err(
                    "unix:// needs an absolute path, as in unix:///run/clamd.sock",
                ));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if s.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(s)));
        }
        let host_port = s.strip_prefix("tcp://").unwrap_or(s);
        if host_port.contains('/') {
            return Err(err(
                "expected tcp://host:port, host:port, unix:///path or /path",
            ));
        }
        let (host, port) = host_port
            .rsplit_once(':')
            .ok_or_else(|| err("missing :port"))?;
        if host.is_empty() {
            return Err(err("missing host"));
        }
        // A bare IPv6 address would make the port ambiguous.
        if host.contains(':') && !(host.starts_with('[') && host.ends_with(']')) {
            return Err(err("an IPv6 host must be bracketed, as in [::1]:3310"));
        }
        match port.parse::<u16>() {
            Ok(p) if p != 0 => Ok(Self::Tcp(host_port.to_owned())),
            _ => Err(err("the port must be a number from 1 to 65535")),
        }
    }
}

impl fmt::Display for ClamdAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(host_port) => write!(f, "tcp://{host_port}"),
            // A non-UTF-8 path displays lossily; such a path cannot come from our config anyway.
            Self::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

impl Serialize for ClamdAddr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClamdAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// clamd's answer about one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Clean,
    Infected {
        /// As clamd reported it, e.g. `Eicar-Test-Signature.UNOFFICIAL`.
        signature: String,
    },
}

/// Why a call to clamd gave no answer. See [`ScanError::is_retryable`].
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// Connecting failed: clamd is down, restarting, or the address is wrong.
    #[error("clamd at {addr} is unreachable: {source}")]
    Unreachable {
        addr: ClamdAddr,
        #[source]
        source: io::Error,
    },
    /// The call did not finish within the client's timeout.
    #[error("clamd did not answer in time")]
    Timeout,
    /// The stream is over the client's `stream_max_length` (`limit` is set) or over clamd's
    /// `StreamMaxLength` (`limit` is `None`: clamd does not say its limit).
    #[error("the data is too large to scan ({})", match .limit {
        Some(limit) => format!("over the {limit}-byte limit"),
        None => "over clamd's StreamMaxLength".to_owned(),
    })]
    TooLarge { limit: Option<u64> },
    /// clamd answered with an error of its own (`... ERROR`), e.g. it could not write a
    /// temporary file or allocate memory.
    #[error("clamd reported an error: {0}")]
    Clamd(String),
    /// clamd's reply made no sense to us: a different server on that port, or a protocol change.
    #[error("unexpected reply from clamd: {0}")]
    Protocol(String),
    /// The connection to clamd failed after it was established.
    #[error("I/O error talking to clamd: {0}")]
    Io(#[source] io::Error),
    /// Reading the data to scan failed: the caller's reader, not clamd.
    #[error("could not read the data to scan: {0}")]
    Source(#[source] io::Error),
}

impl ScanError {
    /// Whether the same call may succeed later. Outages, timeouts, I/O failures and clamd's own
    /// errors are transient; a too-large stream or a reply we do not understand is not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout | Self::Clamd(_) | Self::Io(_) => true,
            Self::Source(_) => true,
            Self::TooLarge { .. } | Self::Protocol(_) => false,
        }
    }
}

/// A clamd client. Cheap to clone; every call opens its own connection.
#[derive(Debug, Clone)]
pub struct Clamd {
    addr: ClamdAddr,
    timeout: Duration,
    chunk_size: usize,
    stream_max_length: Option<u64>,
}

impl Clamd {
    /// A client with [`DEFAULT_TIMEOUT`], [`DEFAULT_CHUNK_SIZE`] and no client-side size limit.
    pub fn new(addr: ClamdAddr) -> Self {
        Self {
            addr,
            timeout: DEFAULT_TIMEOUT,
            chunk_size: DEFAULT_CHUNK_SIZE,
            stream_max_length: None,
        }
    }

    /// Bounds each whole call. Size it for the largest file at clamd's scan speed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Size of the chunks sent, clamped to `1..=MAX_CHUNK_SIZE`.
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size.clamp(1, MAX_CHUNK_SIZE);
        self
    }

    /// Refuse streams over `limit` bytes on our side. Set it to clamd's `StreamMaxLength`.
    pub fn with_stream_max_length(mut self, limit: Option<u64>) -> Self {
        self.stream_max_length = limit;
        self
    }

    pub fn addr(&self) -> &ClamdAddr {
        &self.addr
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Refuses a known length over `stream_max_length` without connecting, so a job can fail a
    /// huge file before reading it.
    pub fn check_size(&self, len: u64) -> Result<(), ScanError> {
        match self.stream_max_length {
            Some(limit) if len > limit => Err(ScanError::TooLarge { limit: Some(limit) }),
            _ => Ok(()),
        }
    }

    /// `zPING`: succeeds when clamd answers `PONG`.
    pub async fn ping(&self) -> Result<(), ScanError> {
        let reply = self.command(b"zPING\0").await?;
        if reply == "PONG" {
            Ok(())
        } else {
            Err(unexpected("PING", &reply))
        }
    }

    /// `zVERSION`: e.g. `ClamAV 1.4.6/27000/Mon Nov 23 09:00:00 2026` with the official
    /// databases, or just `ClamAV 1.4.6` with only local signatures (as in the test clamd).
    pub async fn version(&self) -> Result<String, ScanError> {
        let reply = self.command(b"zVERSION\0").await?;
        if reply.starts_with("ClamAV ") {
            Ok(reply)
        } else {
            Err(unexpected("VERSION", &reply))
        }
    }

    /// Streams `reader` to clamd with zINSTREAM in chunks (4-byte big-endian length prefix +
    /// data, ended by a zero-length chunk), whole operation bounded by the timeout.
    #[tracing::instrument(skip_all, fields(clamd = %self.addr))]
    pub async fn scan<R: AsyncRead + Unpin + Send>(&self, reader: R) -> Result<Verdict, ScanError> {
        let deadline = Instant::now() + self.timeout;
        let result = timeout_at(deadline, async {
            let mut conn = self.connect().await?;
            stream_to(&mut conn, reader, self.chunk_size, self.stream_max_length).await
        })
        .await
        .unwrap_or(Err(ScanError::Timeout));
        match &result {
            Ok(verdict) => tracing::debug!(?verdict, "clamd scan finished"),
            Err(error) => tracing::debug!(%error, "clamd scan failed"),
        }
        result
    }

    async fn command(&self, command: &[u8]) -> Result<String, ScanError> {
        let deadline = Instant::now() + self.timeout;
        timeout_at(deadline, async {
            let mut conn = self.connect().await?;
            conn.write_all(command).await.map_err(ScanError::Io)?;
            read_reply(&mut conn).await
        })
        .await
        .unwrap_or(Err(ScanError::Timeout))
    }

    async fn connect(&self) -> Result<Box<dyn Conn>, ScanError> {
        let conn: io::Result<Box<dyn Conn>> = match &self.addr {
            ClamdAddr::Tcp(host_port) => {
                match tokio::net::TcpStream::connect(host_port.as_str()).await {
                    Ok(stream) => {
                        // Commands and the final chunk are tiny; do not let Nagle hold them back.
                        let _ = stream.set_nodelay(true);
                        Ok(Box::new(stream))
                    }
                    Err(e) => Err(e),
                }
            }
            #[cfg(unix)]
            ClamdAddr::Unix(path) => tokio::net::UnixStream::connect(path)
                .await
                .map(|stream| Box::new(stream) as Box<dyn Conn>),
            #[cfg(not(unix))]
            ClamdAddr::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "unix sockets are not supported on this platform",
            )),
        };
        conn.map_err(|source| ScanError::Unreachable {
            addr: self.addr.clone(),
            source,
        })
    }
}

/// A TCP or Unix connection, boxed so one code path serves both.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Sends `zINSTREAM`, the chunks and the terminator over an open connection, then reads the
/// verdict. Separate from [`Clamd::scan`] so tests can drive it over an in-memory pipe.
async fn stream_to<C, R>(
    conn: &mut C,
    mut reader: R,
    chunk_size: usize,
    limit: Option<u64>,
) -> Result<Verdict, ScanError>
where
    C: AsyncRead + AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    if let Err(e) = conn.write_all(b"zINSTREAM\0").await {
        return after_write_error(conn, e).await;
    }
    // Length prefix and data in one buffer, so each chunk is one write.
    let mut buf = vec![0u8; 4 + chunk_size];
    let mut total: u64 = 0;
    loop {
        let n = reader
            .read(&mut buf[4..])
            .await
            .map_err(ScanError::Source)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if let Some(limit) = limit
            && total > limit
        {
            return Err(ScanError::TooLarge { limit: Some(limit) });
        }
        // n <= MAX_CHUNK_SIZE, so it fits in u32.
        buf[..4].copy_from_slice(&(n as u32).to_be_bytes());
        if let Err(e) = conn.write_all(&buf[..4 + n]).await {
            return after_write_error(conn, e).await;
        }
    }
    if let Err(e) = conn.write_all(&[0; 4]).await {
        return after_write_error(conn, e).await;
    }
    let reply = read_reply(conn).await?;
    parse_scan_reply(&reply)
}

/// clamd closes the connection when the stream passes `StreamMaxLength`, after writing its
/// reply, so a failed write can still have a reply waiting: that reply says more than the
/// broken pipe does.
async fn after_write_error<C>(conn: &mut C, error: io::Error) -> Result<Verdict, ScanError>
where
    C: AsyncRead + Unpin,
{
    tracing::debug!(%error, "clamd stopped reading the stream; reading its reply");
    match read_reply(conn).await {
        Ok(reply) => parse_scan_reply(&reply),
        Err(_) => Err(ScanError::Io(error)),
    }
}

/// Reads one NUL-terminated reply (or up to EOF, for a server that does not terminate it).
async fn read_reply<C: AsyncRead + Unpin>(conn: &mut C) -> Result<String, ScanError> {
    let mut reply = Vec::with_capacity(64);
    let mut buf = [0u8; 512];
    loop {
        let n = conn.read(&mut buf).await.map_err(ScanError::Io)?;
        if n == 0 {
            break;
        }
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            reply.extend_from_slice(&buf[..end]);
            break;
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.len() > MAX_REPLY_LEN {
            return Err(ScanError::Protocol(format!(
                "reply longer than {MAX_REPLY_LEN} bytes"
            )));
        }
    }
    let reply = String::from_utf8_lossy(&reply).trim_end().to_owned();
    if reply.is_empty() {
        // clamd closes without a word when it is shutting down or overloaded.
        return Err(ScanError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "clamd closed the connection without a reply",
        )));
    }
    Ok(reply)
}

/// Interprets clamd's reply to INSTREAM.
fn parse_scan_reply(reply: &str) -> Result<Verdict, ScanError> {
    if reply == "stream: OK" {
        return Ok(Verdict::Clean);
    }
    if let Some(signature) = reply
        .strip_prefix("stream: ")
        .and_then(|rest| rest.strip_suffix(" FOUND"))
        && !signature.is_empty()
    {
        return Ok(Verdict::Infected {
            signature: signature.to_owned(),
        });
    }
    if reply.starts_with("INSTREAM size limit exceeded") {
        return Err(ScanError::TooLarge { limit: None });
    }
    Err(unexpected("INSTREAM", reply))
}

/// A reply that is not the expected one: clamd's own `... ERROR`, or something else entirely.
fn unexpected(command: &str, reply: &str) -> ScanError {
    match reply.strip_suffix(" ERROR") {
        Some(message) => ScanError::Clamd(message.to_owned()),
        None => ScanError::Protocol(format!("to {command}: {reply:?}")),
    }
}

#[cfg(test)]
mod tests;
