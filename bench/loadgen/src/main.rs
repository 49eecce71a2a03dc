//! Load generator for intake's benchmark (see bench/run.sh).
//!
//! Three modes, each bounded in count and time, each printing one JSON object:
//! - `big`: one upload of `--size` bytes streamed from a generator (never held in memory);
//! - `small`: `--size`-byte uploads on `--conns` keep-alive connections for `--duration` seconds;
//! - `slow`: `--count` concurrent uploads, each sending `--size` bytes at `--rate` bytes/s.
//!
//! Protocols: `multipart` (POST, field `file`: intake, FastAPI), `put` (a unique name appended to
//! the URL: nginx WebDAV), `tus` (creation-with-upload POST for small/slow; create + one PATCH for
//! big) and `tus-chunked` (create + PATCHes of `--chunk` bytes). Every body carries a unique
//! 16-byte marker at its start so that servers which store identical bytes once (intake does)
//! still write every upload. Only loopback targets are accepted.

use bytes::{BufMut, Bytes, BytesMut};
use clap::{Args, Parser, Subcommand, ValueEnum};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;

const BOUNDARY: &str = "----intakebench7d3f0c1e";
const PATTERN_LEN: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum Proto {
    Multipart,
    Put,
    Tus,
    TusChunked,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Multipart => "multipart",
            Proto::Put => "put",
            Proto::Tus => "tus",
            Proto::TusChunked => "tus-chunked",
        }
    }
}

#[derive(Parser)]
#[command(about = "Upload load generator for intake's benchmark")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Args, Clone)]
struct Common {
    /// multipart: the POST URL; put: a prefix a unique name is appended to; tus: the endpoint
    #[arg(long)]
    url: String,
    #[arg(long, value_enum)]
    proto: Proto,
    /// Bearer token sent with every request
    #[arg(long)]
    key: Option<String>,
    /// Client runtime threads
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Bytes per PATCH for tus-chunked
    #[arg(long, default_value_t = 8 << 20)]
    chunk: u64,
    /// Bytes per body frame handed to the socket
    #[arg(long, default_value_t = 256 << 10)]
    frame: usize,
}

#[derive(Subcommand)]
enum Mode {
    /// One upload of --size bytes
    Big {
        #[command(flatten)]
        c: Common,
        #[arg(long)]
        size: u64,
        /// Give up after this many seconds
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Many small uploads on --conns connections for --duration seconds
    Small {
        #[command(flatten)]
        c: Common,
        #[arg(long, default_value_t = 4096)]
        size: u64,
        #[arg(long, default_value_t = 64)]
        conns: usize,
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        /// Stop after this many requests in all
        #[arg(long, default_value_t = 2_000_000)]
        max_requests: u64,
        /// Per-request timeout in seconds
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// --count concurrent uploads, each sending --size bytes at --rate bytes/s
    Slow {
        #[command(flatten)]
        c: Common,
        #[arg(long, default_value_t = 1 << 20)]
        size: u64,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 128 << 10)]
        rate: u64,
        /// Give up on the whole run after this many seconds
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

type ReqBody = UnsyncBoxBody<Bytes, Infallible>;
type Sender = http1::SendRequest<ReqBody>;

fn pattern() -> &'static Bytes {
    static P: OnceLock<Bytes> = OnceLock::new();
    P.get_or_init(|| {
        // xorshift64*: incompressible, cheap, reproducible.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut b = BytesMut::with_capacity(PATTERN_LEN);
        while b.len() < PATTERN_LEN {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            b.put_u64_le(x.wrapping_mul(0x2545_F491_4F6C_DD1D));
        }
        b.freeze()
    })
}

/// A unique id per upload, different across runs too.
fn next_uid() -> u64 {
    static NEXT: OnceLock<AtomicU64> = OnceLock::new();
    NEXT.get_or_init(|| {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
        AtomicU64::new(nanos.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    })
    .fetch_add(1, Ordering::Relaxed)
}

/// A request body generated on the fly: `head`, then `size` bytes (a 16-byte unique marker, then
/// the pattern), then `tail`; optionally paced to `rate` bytes per second.
struct GenBody {
    head: Option<Bytes>,
    marker: Option<Bytes>,
    remaining: u64,
    pos: usize,
    tail: Option<Bytes>,
    frame: usize,
    total: u64,
    sent: u64,
    rate: Option<u64>,
    started: Option<Instant>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl GenBody {
    fn new(head: Bytes, uid: u64, size: u64, tail: Bytes, frame: usize, rate: Option<u64>) -> Self {
        let marker = format!("{uid:016x}");
        let mlen = (size as usize).min(16);
        let total = head.len() as u64 + size + tail.len() as u64;
        GenBody {
            head: (!head.is_empty()).then_some(head),
            marker: (mlen > 0).then(|| Bytes::copy_from_slice(&marker.as_bytes()[..mlen])),
            remaining: size - mlen as u64,
            pos: mlen,
            tail: (!tail.is_empty()).then_some(tail),
            frame: frame.max(1),
            total,
            sent: 0,
            rate,
            started: None,
            sleep: None,
        }
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        if let Some(h) = self.head.take() {
            return Some(h);
        }
        if let Some(m) = self.marker.take() {
            return Some(m);
        }
        if self.remaining > 0 {
            let n = (self.remaining.min(self.frame as u64) as usize).min(PATTERN_LEN - self.pos);
            let b = pattern().slice(self.pos..self.pos + n);
            self.pos = (self.pos + n) % PATTERN_LEN;
            self.remaining -= n as u64;
            return Some(b);
        }
        self.tail.take()
    }

    /// The whole body in one buffer (small uploads).
    fn materialize(mut self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.total as usize);
        while let Some(c) = self.next_chunk() {
            b.extend_from_slice(&c);
        }
        b.freeze()
    }
}

impl Body for GenBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(rate) = this.rate {
            let started = *this.started.get_or_insert_with(Instant::now);
            if this.sleep.is_none() {
                let due = started + Duration::from_secs_f64(this.sent as f64 / rate.max(1) as f64);
                if due > Instant::now() {
                    this.sleep = Some(Box::pin(tokio::time::sleep_until(due.into())));
                }
            }
            if let Some(s) = this.sleep.as_mut() {
                if s.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.sleep = None;
            }
        }
        match this.next_chunk() {
            Some(b) => {
                this.sent += b.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.head.is_none() && self.marker.is_none() && self.remaining == 0 && self.tail.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total - self.sent)
    }
}

struct Target {
    uri: Uri,
    addr: String,
    host_header: String,
    path: String,
    proto: Proto,
    key: Option<String>,
    frame: usize,
    chunk: u64,
}

impl Target {
    fn new(c: &Common) -> Result<Target, String> {
        let uri: Uri = c.url.parse().map_err(|e| format!("bad --url: {e}"))?;
        let host = uri.host().ok_or("--url has no host")?.trim_matches(['[', ']']).to_string();
        let loopback = host == "localhost"
            || host.parse::<std::net::IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false);
        if !loopback {
            return Err(format!("refusing non-loopback target {host}"));
        }
        let port = uri.port_u16().unwrap_or(80);
        let addr = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
        Ok(Target {
            host_header: uri.authority().map(|a| a.to_string()).unwrap_or_default(),
            path: uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| "/".into()),
            uri,
            addr,
            proto: c.proto,
            key: c.key.clone(),
            frame: c.frame,
            chunk: c.chunk,
        })
    }

    async fn connect(&self) -> Result<Sender, String> {
        let mut last = String::new();
        for attempt in 0..3u64 {
            match TcpStream::connect(&self.addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let (snd, conn) =
                        http1::handshake(TokioIo::new(s)).await.map_err(|e| format!("handshake: {e}"))?;
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    return Ok(snd);
                }
                Err(e) => {
                    last = format!("connect: {e}");
                    tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
                }
            }
        }
        Err(last)
    }

    fn builder(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        let mut b = Request::builder().method(method).uri(path).header("host", &self.host_header);
        if let Some(k) = &self.key {
            b = b.header("authorization", format!("Bearer {k}"));
        }
        b
    }

    /// A one-request upload (multipart POST, PUT, or tus creation-with-upload).
    fn one_shot(&self, uid: u64, size: u64, rate: Option<u64>, materialize: bool) -> Request<ReqBody> {
        let (method, path, head, tail, ctype) = match self.proto {
            Proto::Multipart => {
                let head = format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u{uid:016x}.bin\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                );
                let tail = format!("\r\n--{BOUNDARY}--\r\n");
                (
                    Method::POST,
                    self.path.clone(),
                    Bytes::from(head),
                    Bytes::from(tail),
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
            }
            Proto::Put => (
                Method::PUT,
                format!("{}u{uid:016x}.bin", self.path),
                Bytes::new(),
                Bytes::new(),
                "application/octet-stream".to_string(),
            ),
            Proto::Tus | Proto::TusChunked => (
                Method::POST,
                self.path.clone(),
                Bytes::new(),
                Bytes::new(),
                "application/offset+octet-stream".to_string(),
            ),
        };
        let gen_body = GenBody::new(head, uid, size, tail, self.frame, rate);
        let len = gen_body.total;
        let body: ReqBody = if materialize { Full::new(gen_body.materialize()).boxed_unsync() } else { gen_body.boxed_unsync() };
        let mut b = self.builder(method, &path).header("content-type", ctype).header("content-length", len);
        if matches!(self.proto, Proto::Tus | Proto::TusChunked) {
            b = b.header("tus-resumable", "1.0.0").header("upload-length", size);
        }
        b.body(body).expect("valid request")
    }
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: Bytes,
}

async fn send(snd: &mut Sender, req: Request<ReqBody>) -> Result<Reply, String> {
    snd.ready().await.map_err(|e| format!("connection: {e}"))?;
    let resp = snd.send_request(req).await.map_err(|e| format!("request: {e}"))?;
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map_err(|e| format!("response body: {e}"))?.to_bytes();
    let location = parts.headers.get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    Ok(Reply { status: parts.status, location, body })
}

fn check(r: &Reply, what: &str) -> Result<(), String> {
    if r.status.is_success() {
        Ok(())
    } else {
        let body = String::from_utf8_lossy(&r.body[..r.body.len().min(200)]).to_string();
        Err(format!("{what}: HTTP {} {body}", r.status.as_u16()))
    }
}

/// A tus upload in PATCHes: create, then PATCH `chunk` bytes at a time (one PATCH when chunk >= size).
async fn tus_patches(t: &Target, snd: &mut Sender, uid: u64, size: u64, chunk: u64) -> Result<u64, String> {
    let create = t
        .builder(Method::POST, &t.path)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", size)
        .header("content-length", 0)
        .body(Full::new(Bytes::new()).boxed_unsync())
        .expect("valid request");
    let r = send(snd, create).await?;
    check(&r, "tus create")?;
    let loc = r.location.ok_or("tus create: no Location")?;
    let path = match loc.parse::<Uri>() {
        Ok(u) if u.scheme().is_some() => u.path_and_query().map(|p| p.to_string()).unwrap_or(loc.clone()),
        _ => loc.clone(),
    };
    let mut offset = 0u64;
    let mut requests = 1u64;
    while offset < size {
        let n = chunk.min(size - offset);
        // Each chunk carries its own marker: the whole file still differs from any other.
        let body = GenBody::new(Bytes::new(), uid.wrapping_add(offset), n, Bytes::new(), t.frame, None);
        let req = t
            .builder(Method::PATCH, &path)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset)
            .header("content-type", "application/offset+octet-stream")
            .header("content-length", n)
            .body(body.boxed_unsync())
            .expect("valid request");
        let r = send(snd, req).await?;
        check(&r, "tus patch")?;
        offset += n;
        requests += 1;
    }
    Ok(requests)
}

fn percentile(sorted: &[f64], p: f64) -> Value {
    if sorted.is_empty() {
        return Value::Null;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    json!((sorted[i.min(sorted.len() - 1)] * 1000.0).round() / 1000.0)
}

fn latency_summary(mut ms: Vec<f64>) -> Value {
    ms.sort_by(|a, b| a.total_cmp(b));
    json!({
        "p50_ms": percentile(&ms, 50.0),
        "p90_ms": percentile(&ms, 90.0),
        "p99_ms": percentile(&ms, 99.0),
        "max_ms": ms.last().map(|m| json!((m * 1000.0).round() / 1000.0)).unwrap_or(Value::Null),
    })
}

async fn big(c: Common, size: u64, timeout: u64) -> Value {
    let t = match Target::new(&c) {
        Ok(t) => t,
        Err(e) => return json!({"mode": "big", "ok": 0, "errors": 1, "error_samples": [e]}),
    };
    let start = Instant::now();
    let uid = next_uid();
    let run = async {
        let mut snd = t.connect().await?;
        match t.proto {
            Proto::Tus => tus_patches(&t, &mut snd, uid, size, u64::MAX).await,
            Proto::TusChunked => tus_patches(&t, &mut snd, uid, size, t.chunk).await,
            _ => {
                let r = send(&mut snd, t.one_shot(uid, size, None, false)).await?;
                check(&r, "upload")?;
                Ok(1)
            }
        }
    };
    let res = tokio::time::timeout(Duration::from_secs(timeout), run).await;
    let secs = start.elapsed().as_secs_f64();
    let res = res.unwrap_or_else(|_| Err(format!("timed out after {timeout} s")));
    let mut out = json!({
        "mode": "big", "proto": t.proto.name(), "url": t.uri.to_string(),
        "bytes": size, "seconds": secs,
    });
    match res {
        Ok(requests) => {
            out["ok"] = json!(1);
            out["errors"] = json!(0);
            out["requests"] = json!(requests);
            out["mb_per_s"] = json!(size as f64 / 1e6 / secs);
        }
        Err(e) => {
            out["ok"] = json!(0);
            out["errors"] = json!(1);
            out["error_samples"] = json!([e]);
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    samples: Vec<String>,
    lat_ms: Vec<f64>,
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        if self.samples.len() < 5 {
            self.samples.push(e);
        }
    }
    fn merge(&mut self, o: Tally) {
        self.ok += o.ok;
        self.errors += o.errors;
        for s in o.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
        self.lat_ms.extend(o.lat_ms);
    }
}

async fn small(c: Common, size: u64, conns: usize, duration: f64, max_requests: u64, timeout: u64) -> Value {
    let t = match Target::new(&c) {
        Ok(t) => std::sync::Arc::new(t),
        Err(e) => return json!({"mode": "small", "ok": 0, "errors": 1, "error_samples": [e]}),
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(duration);
    let issued = std::sync::Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let t = t.clone();
        let issued = issued.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut snd: Option<Sender> = None;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max_requests {
                if snd.is_none() {
                    match t.connect().await {
                        Ok(s) => snd = Some(s),
                        Err(e) => {
                            tally.error(e);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    }
                }
                let Some(s) = snd.as_mut() else { continue };
                // A connection the server closed after its keep-alive limit is no error: reconnect.
                if s.ready().await.is_err() {
                    snd = None;
                    continue;
                }
                let req = t.one_shot(next_uid(), size, None, true);
                let t0 = Instant::now();
                match tokio::time::timeout(Duration::from_secs(timeout), send(s, req)).await {
                    Ok(Ok(r)) if r.status.is_success() => {
                        tally.ok += 1;
                        tally.lat_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    Ok(Ok(r)) => tally.error(check(&r, "upload").err().unwrap_or_default()),
                    Ok(Err(e)) => {
                        tally.error(e);
                        snd = None;
                    }
                    Err(_) => {
                        tally.error(format!("timed out after {timeout} s"));
                        snd = None;
                    }
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(tl) = task.await {
            all.merge(tl);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = json!({
        "mode": "small", "proto": t.proto.name(), "url": t.uri.to_string(),
        "size": size, "conns": conns, "seconds": secs,
        "ok": all.ok, "errors": all.errors, "error_samples": all.samples,
        "uploads_per_s": all.ok as f64 / secs,
        "mb_per_s": all.ok as f64 * size as f64 / 1e6 / secs,
    });
    if let (Value::Object(o), Value::Object(l)) = (&mut out, latency_summary(all.lat_ms)) {
        o.extend(l);
    }
    out
}

async fn slow(c: Common, size: u64, count: usize, rate: u64, timeout: u64) -> Value {
    let t = match Target::new(&c) {
        Ok(t) => std::sync::Arc::new(t),
        Err(e) => return json!({"mode": "slow", "ok": 0, "errors": 1, "error_samples": [e]}),
    };
    let start = Instant::now();
    let deadline = tokio::time::Instant::from(start + Duration::from_secs(timeout));
    let mut tasks = Vec::new();
    for _ in 0..count {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let run = async {
                let mut snd = t.connect().await?;
                let t0 = Instant::now();
                // Small frames so the pacing is smooth.
                let req = t.one_shot(next_uid(), size, Some(rate), false);
                let r = send(&mut snd, req).await?;
                check(&r, "upload")?;
                Ok::<f64, String>(t0.elapsed().as_secs_f64() * 1000.0)
            };
            match tokio::time::timeout_at(deadline, run).await {
                Ok(Ok(ms)) => {
                    tally.ok += 1;
                    tally.lat_ms.push(ms);
                }
                Ok(Err(e)) => tally.error(e),
                Err(_) => tally.error(format!("not finished within {timeout} s")),
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for task in tasks {
        if let Ok(tl) = task.await {
            all.merge(tl);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let mut out = json!({
        "mode": "slow", "proto": t.proto.name(), "url": t.uri.to_string(),
        "size": size, "count": count, "rate": rate, "seconds": secs,
        "ok": all.ok, "errors": all.errors, "error_samples": all.samples,
        "all_ok": all.ok as usize == count,
    });
    if let (Value::Object(o), Value::Object(l)) = (&mut out, latency_summary(all.lat_ms)) {
        o.extend(l);
    }
    out
}

fn main() {
    let cli = Cli::parse();
    let threads = match &cli.mode {
        Mode::Big { c, .. } | Mode::Small { c, .. } | Mode::Slow { c, .. } => c.threads.max(1),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let out = rt.block_on(async move {
        match cli.mode {
            Mode::Big { c, size, timeout } => big(c, size, timeout).await,
            Mode::Small { c, size, conns, duration, max_requests, timeout } => {
                small(c, size, conns, duration, max_requests, timeout).await
            }
            Mode::Slow { mut c, size, count, rate, timeout } => {
                c.frame = c.frame.min(16 << 10);
                slow(c, size, count, rate, timeout).await
            }
        }
    });
    println!("{out}");
    let failed = out["errors"].as_u64().unwrap_or(1) > 0 || out["ok"].as_u64().unwrap_or(0) == 0;
    std::process::exit(if failed { 1 } else { 0 });
}
