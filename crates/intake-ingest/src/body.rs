//! The request body as the multipart parser sees it, with two guards that
//! multer does not have: an idle timeout (a client that stops sending is cut
//! off, and its staging data with it) and a limit on the bytes the parser may
//! pull while it looks for a part's headers. multer buffers until it finds a
//! boundary or a blank line, so without that limit a body whose boundary
//! never appears, or a part with endless headers, would be held in memory.
//!
//! The header limit is counted in body chunks as they arrive: the parser
//! holds at most the limit plus one chunk, which bounds memory. The exact
//! limit on a part's headers is checked once they are parsed.
//!
//! The stream also pauses (yields to the scheduler) every [`PACE`] bytes:
//! multer copies everything the stream has ready into its buffer before it
//! hands any of it on, so a client sending in large bursts would grow that
//! buffer to the burst, and keep it for the request's life.

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Why the body stopped, carried through multer as its stream error.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the client sent nothing for {0:?}")]
    Idle(Duration),
    #[error("part headers exceed {0} bytes")]
    HeadersTooLarge(u64),
    #[error("reading the body failed: {0}")]
    Read(std::io::Error),
}

pub type Body = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Bytes handed to the parser between pauses.
const PACE: usize = 64 << 10;

/// Shared switch between the reader (which knows when it asks for the next
/// part) and the stream (which counts bytes).
#[derive(Debug, Default)]
pub struct HeaderPhase {
    active: AtomicBool,
    pulled: AtomicU64,
}

impl HeaderPhase {
    /// Called before asking the parser for the next part.
    pub fn start(&self) {
        self.pulled.store(0, Ordering::Relaxed);
        self.active.store(true, Ordering::Relaxed);
    }

    /// Called once the parser has produced a part.
    pub fn end(&self) {
        self.active.store(false, Ordering::Relaxed);
    }
}

/// Wraps `body` with the idle timeout and the header-phase limit.
pub fn guard(
    body: Body,
    idle: Duration,
    max_header_bytes: u64,
    phase: Arc<HeaderPhase>,
) -> BoxStream<'static, Result<Bytes, BodyError>> {
    futures::stream::unfold(Some((body, 0)), move |state| {
        let phase = phase.clone();
        async move {
            let (mut body, mut since_pause) = state?;
            if since_pause >= PACE {
                tokio::task::yield_now().await;
                since_pause = 0;
            }
            let item = match tokio::time::timeout(idle, body.next()).await {
                Err(_) => Err(BodyError::Idle(idle)),
                Ok(None) => return None,
                Ok(Some(Err(e))) => Err(BodyError::Read(e)),
                Ok(Some(Ok(chunk))) => {
                    // A chunk may begin with a part's headers and carry
                    // its data too, so the parser may always take one more
                    // chunk; headers themselves are measured exactly once
                    // parsed (see `multipart::read_form`).
                    if phase.active.load(Ordering::Relaxed) {
                        let before = phase
                            .pulled
                            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        if before >= max_header_bytes {
                            return Some((Err(BodyError::HeadersTooLarge(max_header_bytes)), None));
                        }
                    }
                    since_pause += chunk.len();
                    Ok(chunk)
                }
            };
            // After an error the stream ends.
            let next = if item.is_ok() {
                Some((body, since_pause))
            } else {
                None
            };
            Some((item, next))
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: Vec<&'static [u8]>) -> Body {
        futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from_static(c)))).boxed()
    }

    #[tokio::test]
    async fn header_phase_counts_only_while_active() {
        let phase = Arc::new(HeaderPhase::default());
        let mut s = guard(
            body(vec![b"0123456789", b"0123456789", b"x"]),
            Duration::from_secs(5),
            15,
            phase.clone(),
        );
        assert!(s.next().await.unwrap().is_ok());
        assert!(s.next().await.unwrap().is_ok());
        phase.start();
        assert!(s.next().await.unwrap().is_ok());
        phase.end();
        assert!(s.next().await.is_none());

        let phase = Arc::new(HeaderPhase::default());
        phase.start();
        let mut s = guard(
            body(vec![b"0123456789", b"0123456789", b"0123456789"]),
            Duration::from_secs(5),
            15,
            phase,
        );
        assert!(s.next().await.unwrap().is_ok());
        assert!(s.next().await.unwrap().is_ok());
        assert!(matches!(
            s.next().await.unwrap(),
            Err(BodyError::HeadersTooLarge(15))
        ));
        assert!(s.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_times_out() {
        let silent: Body = futures::stream::pending().boxed();
        let mut s = guard(
            silent,
            Duration::from_secs(30),
            100,
            Arc::new(HeaderPhase::default()),
        );
        assert!(matches!(s.next().await.unwrap(), Err(BodyError::Idle(_))));
    }
}
