//! Test data made in code: a valid one-page PDF, a 1×1 PNG, and
//! deterministic pseudo-random bytes, either whole or as a throttled
//! stream that hashes what it yields (so a 1 GiB upload needs neither a
//! file in the repository nor 1 GiB of memory).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
/// SHA-256 through ring: its assembly runs at full speed in a debug build,
/// where sha2 manages about 30 MB/s, too slow for a 1 GiB round trip.
#[derive(Clone)]
pub struct Sha256(ring::digest::Context);

impl Sha256 {
    pub fn new() -> Sha256 {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn hex(self) -> String {
        hex::encode(self.0.finish())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut digest = Sha256::new();
    digest.update(bytes);
    digest.hex()
}

/// A minimal but well-formed PDF with one A4 page and a correct xref table.
pub fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> >>",
    ];
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A valid 1×1 RGBA PNG.
pub fn png() -> Vec<u8> {
    hex::decode(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489\
         0000000d4944415478da636460f85f0f0002870180eb47ba920000000049454e44ae426082",
    )
    .expect("valid hex")
}

/// `len` pseudo-random bytes, the same for the same seed.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    fill(seed, &mut out);
    out
}

/// splitmix64: fast, deterministic, and good enough that no two test
/// files share a prefix a sniffer could mistake for a format.
fn fill(seed: u64, out: &mut [u8]) {
    let mut state = seed ^ 0x9e37_79b9_7f4a_7c15;
    for chunk in out.chunks_mut(8) {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
    }
}

/// A generated body: `len` bytes in `chunk`-sized pieces, optionally with a
/// pause after each piece. `sent` counts the bytes handed to the client and
/// `digest` becomes the SHA-256 of the whole once the stream has ended.
pub struct Generated {
    pub sent: Arc<AtomicU64>,
    digest: Arc<Mutex<Option<Sha256>>>,
    seed: u64,
    /// Pseudo-random bytes that every piece starts from: copying is far
    /// cheaper than generating, which matters in a debug build at 1 GiB.
    block: Arc<Vec<u8>>,
    len: u64,
    chunk: usize,
    pause: Option<Duration>,
}

impl Generated {
    pub fn new(seed: u64, len: u64) -> Generated {
        Generated {
            sent: Arc::new(AtomicU64::new(0)),
            digest: Arc::new(Mutex::new(Some(Sha256::new()))),
            seed,
            block: Arc::new(pseudo_random(seed, BLOCK)),
            len,
            chunk: 1 << 20,
            pause: None,
        }
    }

    /// Throttles the stream: `chunk` bytes (at most 1 MiB), then `pause`, and so on.
    pub fn throttled(mut self, chunk: usize, pause: Duration) -> Generated {
        self.chunk = chunk.min(BLOCK);
        self.pause = Some(pause);
        self
    }

    /// The SHA-256 of everything the stream yielded, once it has ended.
    pub fn sha256(&self) -> Option<String> {
        let done = self.sent.load(Ordering::SeqCst) == self.len;
        let digest = self.digest.lock().expect("lock").clone()?;
        done.then(|| digest.hex())
    }

    /// The SHA-256 the whole body will have, computed without streaming.
    pub fn expected_sha256(&self) -> String {
        let mut digest = Sha256::new();
        let mut index = 0u64;
        let mut left = self.len;
        while left > 0 {
            let n = left.min(self.chunk as u64) as usize;
            digest.update(&piece(&self.block, self.seed, index, n));
            left -= n as u64;
            index += 1;
        }
        digest.hex()
    }

    /// The body stream; call once.
    pub fn stream(&self) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
        let (sent, digest) = (Arc::clone(&self.sent), Arc::clone(&self.digest));
        let block = Arc::clone(&self.block);
        let (seed, len, chunk, pause) = (self.seed, self.len, self.chunk, self.pause);
        futures::stream::unfold(0u64, move |index| {
            let (sent, digest, block) =
                (Arc::clone(&sent), Arc::clone(&digest), Arc::clone(&block));
            async move {
                let offset = index * chunk as u64;
                if offset >= len {
                    return None;
                }
                if index > 0
                    && let Some(pause) = pause
                {
                    tokio::time::sleep(pause).await;
                }
                let n = (len - offset).min(chunk as u64) as usize;
                let buf = piece(&block, seed, index, n);
                if let Some(d) = digest.lock().expect("lock").as_mut() {
                    d.update(&buf);
                }
                sent.fetch_add(n as u64, Ordering::SeqCst);
                Some((Ok(Bytes::from(buf)), index + 1))
            }
        })
    }

    pub fn body(&self) -> reqwest::Body {
        reqwest::Body::wrap_stream(self.stream())
    }
}

const BLOCK: usize = 1 << 20;

/// Piece `index` of a generated body: the block's first `n` bytes with the
/// piece number and seed stamped in front, so no two pieces are equal.
fn piece(block: &[u8], seed: u64, index: u64, n: usize) -> Vec<u8> {
    let mut buf = block[..n].to_vec();
    let stamp = (index ^ seed.rotate_left(32)).to_le_bytes();
    let k = n.min(stamp.len());
    buf[..k].copy_from_slice(&stamp[..k]);
    buf
}
