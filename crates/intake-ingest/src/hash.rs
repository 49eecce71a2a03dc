//! SHA-256 beside the socket reads rather than between them: a large file's
//! chunks are hashed in batches on the blocking pool while the next ones
//! arrive, one batch at a time so the order holds. The chunks are shared
//! with the blob writer (`Bytes` are counted references), never copied.

use bytes::Bytes;
use intake_blob::batch::Batch;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

/// Batches smaller than this are hashed in place: handing them over would
/// cost more than hashing them (about 40 µs here).
const HASH_IN_PLACE: usize = 64 << 10;

#[derive(Default)]
pub struct Hasher {
    batch: Batch,
    state: Option<Sha256>,
    flight: Option<JoinHandle<Sha256>>,
}

impl Hasher {
    pub async fn update(&mut self, chunk: Bytes) {
        if self.batch.push(chunk) {
            self.hand_over().await;
        }
    }

    /// The source has nothing more for now: hash what is gathered rather
    /// than hold it through the wait.
    pub async fn idle(&mut self) {
        if !self.batch.is_empty() {
            self.hand_over().await;
        }
    }

    /// The digest, in lower-case hex.
    pub async fn finish(mut self) -> String {
        self.hand_over().await;
        let state = self.land().await;
        hex::encode(state.finalize())
    }

    async fn hand_over(&mut self) {
        let mut state = self.land().await;
        let in_place = self.batch.len() < HASH_IN_PLACE;
        let chunks = self.batch.take();
        if in_place {
            chunks.iter().for_each(|c| state.update(c));
            self.state = Some(state);
        } else {
            self.flight = Some(tokio::task::spawn_blocking(move || {
                chunks.iter().for_each(|c| state.update(c));
                state
            }));
        }
    }

    async fn land(&mut self) -> Sha256 {
        if let Some(flight) = self.flight.take() {
            // Hashing does not fail; a panic in it is a bug worth surfacing.
            return flight.await.expect("hashing task");
        }
        self.state.take().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn equals_the_one_shot_digest_for_any_chunking() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
        for size in [1, 1000, 65_536, 300_000, 3_000_000] {
            let mut hasher = Hasher::default();
            for chunk in data
                .chunks(size)
                .take(if size == 1 { 5000 } else { usize::MAX })
            {
                hasher.update(Bytes::copy_from_slice(chunk)).await;
            }
            let hashed = if size == 1 { &data[..5000] } else { &data[..] };
            assert_eq!(
                hasher.finish().await,
                hex::encode(Sha256::digest(hashed)),
                "{size}"
            );
        }
        assert_eq!(
            Hasher::default().finish().await,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
