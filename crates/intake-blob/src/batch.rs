//! Chunks gathered for one call on the blocking pool.
//!
//! Handing every chunk to a thread costs a hand-off each, and holding a
//! thread per upload costs a stack and an allocator arena each (a thousand
//! slow uploads held 1 GiB that way). So chunks are gathered and handed over
//! in batches: when enough bytes are in, or when the oldest has waited long
//! enough, which keeps what a slow upload holds to what arrives in that time.

use bytes::Bytes;
use std::time::{Duration, Instant};

/// A batch is ready at this many bytes...
pub const BATCH_BYTES: usize = 256 << 10;
/// ...or once its oldest chunk has waited this long.
pub const BATCH_AGE: Duration = Duration::from_millis(50);

#[derive(Debug, Default)]
pub struct Batch {
    chunks: Vec<Bytes>,
    len: usize,
    since: Option<Instant>,
}

impl Batch {
    /// Adds a chunk; true when the batch should be handed over.
    pub fn push(&mut self, chunk: Bytes) -> bool {
        if chunk.is_empty() {
            return false;
        }
        let since = *self.since.get_or_insert_with(Instant::now);
        self.len += chunk.len();
        self.chunks.push(chunk);
        self.len >= BATCH_BYTES || since.elapsed() >= BATCH_AGE
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn take(&mut self) -> Vec<Bytes> {
        self.len = 0;
        self.since = None;
        std::mem::take(&mut self.chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_by_size_or_by_age() {
        let mut batch = Batch::default();
        assert!(!batch.push(Bytes::from(vec![0; 1000])));
        assert!(!batch.push(Bytes::new()));
        assert!(batch.push(Bytes::from(vec![0; BATCH_BYTES])));
        assert_eq!(batch.len(), BATCH_BYTES + 1000);
        assert_eq!(batch.take().len(), 2);
        assert!(batch.is_empty());

        assert!(!batch.push(Bytes::from_static(b"slow")));
        std::thread::sleep(BATCH_AGE);
        assert!(batch.push(Bytes::from_static(b"client")));
    }
}
