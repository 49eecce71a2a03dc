//! The clamd client against a real clamd.
//!
//! Start one first (needs the Debian package clamav-daemon):
//!
//! ```sh
//! eval "$(scripts/clamd/start.sh /tmp/intake-clamd)"   # sets INTAKE_TEST_CLAMD{,_SOCKET}
//! cargo test -p intake-workers
//! ```
//!
//! Without those variables the tests that need clamd fail, so a missing clamd is never mistaken
//! for a pass. `INTAKE_TEST_SKIP_CLAMD=1` skips them explicitly. The StreamMaxLength test starts a
//! private clamd of its own with scripts/clamd/start.sh (temp dir, free port).
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::Path;
use std::pin::Pin;
use std::process::Command;
use std::task::{Context, Poll};
use std::time::Duration;

use intake_workers::clamd::{Clamd, ClamdAddr, ScanError, Verdict};
use tokio::io::{AsyncRead, ReadBuf};

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const MIB: u64 = 1024 * 1024;

fn skipped(test: &str) -> bool {
    let skip = std::env::var("INTAKE_TEST_SKIP_CLAMD").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("SKIPPED {test}: INTAKE_TEST_SKIP_CLAMD=1");
    }
    skip
}

/// The clamd named by `var`, or `None` when clamd tests are explicitly skipped.
fn clamd_from_env(var: &str, test: &str) -> Option<Clamd> {
    if skipped(test) {
        return None;
    }
    let value = std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set, so {test} cannot reach clamd. Start one with\n\
             \x20   eval \"$(scripts/clamd/start.sh /tmp/intake-clamd)\"\n\
             (needs: apt-get install -y clamav-daemon), which exports INTAKE_TEST_CLAMD and\n\
             INTAKE_TEST_CLAMD_SOCKET; or set INTAKE_TEST_SKIP_CLAMD=1 to skip the clamd tests."
        )
    });
    let addr: ClamdAddr = value
        .parse()
        .unwrap_or_else(|e| panic!("{var}={value:?}: {e}"));
    Some(Clamd::new(addr).with_timeout(Duration::from_secs(30)))
}

fn tcp_clamd(test: &str) -> Option<Clamd> {
    clamd_from_env("INTAKE_TEST_CLAMD", test)
}

fn unix_clamd(test: &str) -> Option<Clamd> {
    let clamd = clamd_from_env("INTAKE_TEST_CLAMD_SOCKET", test)?;
    // The variable may hold a bare path; make sure this test really uses the socket.
    assert!(
        matches!(clamd.addr(), ClamdAddr::Unix(_)),
        "{}",
        clamd.addr()
    );
    Some(clamd)
}

fn infected_with_eicar(verdict: &Verdict) -> bool {
    matches!(verdict, Verdict::Infected { signature } if signature.contains("Eicar-Test-Signature"))
}

/// `len` deterministic pseudo-random bytes, produced as read: nothing is held in memory.
struct Noise {
    remaining: u64,
    state: u64,
}

impl Noise {
    fn new(len: u64) -> Self {
        Self {
            remaining: len,
            state: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl AsyncRead for Noise {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = buf
            .remaining()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let mut x = self.state;
        for byte in buf.initialize_unfilled_to(n) {
            // xorshift64: cheap, and no accidental long runs of one byte.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        self.state = x;
        buf.advance(n);
        self.remaining -= n as u64;
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn ping_and_version() {
    let Some(clamd) = tcp_clamd("ping_and_version") else {
        return;
    };
    clamd.ping().await.unwrap();
    let version = clamd.version().await.unwrap();
    assert!(version.starts_with("ClamAV "), "{version}");
}

#[tokio::test]
async fn eicar_is_infected() {
    let Some(clamd) = tcp_clamd("eicar_is_infected") else {
        return;
    };
    let verdict = clamd.scan(EICAR).await.unwrap();
    assert!(infected_with_eicar(&verdict), "{verdict:?}");
    assert_eq!(
        verdict,
        Verdict::Infected {
            signature: "Eicar-Test-Signature.UNOFFICIAL".to_owned()
        }
    );
}

#[tokio::test]
async fn eicar_in_tiny_chunks_is_infected() {
    let Some(clamd) = tcp_clamd("eicar_in_tiny_chunks_is_infected") else {
        return;
    };
    let verdict = clamd.with_chunk_size(7).scan(EICAR).await.unwrap();
    assert!(infected_with_eicar(&verdict), "{verdict:?}");
}

#[tokio::test]
async fn clean_bytes_are_clean() {
    let Some(clamd) = tcp_clamd("clean_bytes_are_clean") else {
        return;
    };
    let verdict = clamd.scan(&b"%PDF-1.7 just a letter\n"[..]).await.unwrap();
    assert_eq!(verdict, Verdict::Clean);
    // EICAR with one byte changed must not match the hash signature.
    let mut almost = EICAR.to_vec();
    almost[0] = b'Y';
    assert_eq!(clamd.scan(&almost[..]).await.unwrap(), Verdict::Clean);
    assert_eq!(
        clamd.scan(tokio::io::empty()).await.unwrap(),
        Verdict::Clean
    );
}

#[tokio::test]
async fn multi_mib_clean_stream_in_small_chunks() {
    let Some(clamd) = tcp_clamd("multi_mib_clean_stream_in_small_chunks") else {
        return;
    };
    let verdict = clamd
        .with_chunk_size(4096)
        .scan(Noise::new(8 * MIB + 123))
        .await
        .unwrap();
    assert_eq!(verdict, Verdict::Clean);
}

#[tokio::test]
async fn eicar_over_the_unix_socket() {
    let Some(clamd) = unix_clamd("eicar_over_the_unix_socket") else {
        return;
    };
    clamd.ping().await.unwrap();
    let verdict = clamd.scan(EICAR).await.unwrap();
    assert!(infected_with_eicar(&verdict), "{verdict:?}");
    assert_eq!(clamd.scan(&b"hello"[..]).await.unwrap(), Verdict::Clean);
}

#[tokio::test]
async fn client_limit_refuses_without_sending() {
    let Some(clamd) = tcp_clamd("client_limit_refuses_without_sending") else {
        return;
    };
    let clamd = clamd.with_stream_max_length(Some(MIB));
    let err = clamd.scan(Noise::new(2 * MIB)).await.unwrap_err();
    assert!(
        matches!(err, ScanError::TooLarge { limit: Some(l) } if l == MIB),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(clamd.check_size(2 * MIB).is_err());
    // Exactly at the limit is allowed, as in clamd.
    assert_eq!(clamd.scan(Noise::new(MIB)).await.unwrap(), Verdict::Clean);
}

/// A clamd of our own on a unix socket and a free TCP port, stopped on drop (also when the
/// test panics).
struct PrivateClamd {
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivateClamd {
    fn start(stream_max_length: &str) -> Self {
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/clamd");
        let dir = tempfile::Builder::new()
            .prefix("intake-clamd-")
            .tempdir()
            .unwrap();
        // Free a moment ago; if another process takes it meanwhile, start.sh says so.
        let port = free_port();
        let out = Command::new(scripts.join("start.sh"))
            .arg(dir.path())
            .env("CLAMD_PORT", port.to_string())
            .env("CLAMD_STREAM_MAX_LENGTH", stream_max_length)
            .output()
            .expect("run scripts/clamd/start.sh");
        assert!(
            out.status.success(),
            "scripts/clamd/start.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir, port }
    }

    fn addrs(&self) -> [ClamdAddr; 2] {
        [
            ClamdAddr::Unix(self.dir.path().join("clamd.sock")),
            ClamdAddr::Tcp(format!("127.0.0.1:{}", self.port)),
        ]
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Drop for PrivateClamd {
    fn drop(&mut self) {
        let stop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/clamd/stop.sh");
        let _ = Command::new(stop).arg(self.dir.path()).output();
    }
}

#[tokio::test]
async fn clamd_stream_max_length_is_too_large() {
    if skipped("clamd_stream_max_length_is_too_large") {
        return;
    }
    let private = PrivateClamd::start("1M");
    for addr in private.addrs() {
        let clamd = Clamd::new(addr).with_timeout(Duration::from_secs(30));
        assert_eq!(
            clamd.scan(Noise::new(MIB / 2)).await.unwrap(),
            Verdict::Clean
        );
        for chunk_size in [64 * 1024, 1000] {
            let err = clamd
                .clone()
                .with_chunk_size(chunk_size)
                .scan(Noise::new(4 * MIB))
                .await
                .unwrap_err();
            let addr = clamd.addr();
            assert!(
                matches!(err, ScanError::TooLarge { limit: None }),
                "{addr}: {err:?}"
            );
            assert!(!err.is_retryable());
        }
        // The refusal left clamd healthy.
        let verdict = clamd.scan(EICAR).await.unwrap();
        assert!(infected_with_eicar(&verdict), "{verdict:?}");
    }
}

#[tokio::test]
async fn unreachable_clamd_is_retryable() {
    // A port that was free a moment ago: nothing listens there now.
    let port = free_port();
    let tcp = Clamd::new(format!("127.0.0.1:{port}").parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let unix = Clamd::new(ClamdAddr::Unix(dir.path().join("no-such.sock")));
    for clamd in [tcp, unix] {
        let err = clamd.ping().await.unwrap_err();
        assert!(matches!(err, ScanError::Unreachable { .. }), "{err:?}");
        assert!(err.is_retryable());
        assert!(err.to_string().contains(&clamd.addr().to_string()), "{err}");
        let err = clamd.scan(EICAR).await.unwrap_err();
        assert!(matches!(err, ScanError::Unreachable { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn silent_server_times_out() {
    // Accepts and then says nothing, like a wedged clamd.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    let timeout = Duration::from_millis(300);
    let clamd = Clamd::new(format!("tcp://{addr}").parse().unwrap()).with_timeout(timeout);

    let started = tokio::time::Instant::now();
    let err = clamd.ping().await.unwrap_err();
    assert!(matches!(err, ScanError::Timeout), "{err:?}");
    assert!(err.is_retryable());
    // Small input: everything is sent, then the reply never comes.
    let err = clamd.scan(&b"hello"[..]).await.unwrap_err();
    assert!(matches!(err, ScanError::Timeout), "{err:?}");
    // Big input: the server never reads, so the sending itself stalls.
    let err = clamd.scan(Noise::new(64 * MIB)).await.unwrap_err();
    assert!(matches!(err, ScanError::Timeout), "{err:?}");
    assert!(started.elapsed() < timeout * 3 + Duration::from_secs(2));
    server.abort();
}
