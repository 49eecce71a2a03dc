//! Progress bars and the byte-counting stream that drives them.
//!
//! Bars draw on stderr and only when stderr is a terminal, so stdout stays a
//! clean, scriptable list of results and CI logs are not filled with
//! redraws. [`Counted`] also enforces the length announced up front: a file
//! that grows or shrinks during an upload fails that upload rather than
//! sending a body that disagrees with its `Content-Length`.

use std::io::{self, IsTerminal};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A `MultiProgress` on stderr, hidden when stderr is not a terminal.
pub fn multi() -> MultiProgress {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    MultiProgress::with_draw_target(target)
}

/// A bytes bar (sent, total, rate, ETA) labelled `prefix`, added to `multi`.
pub fn bytes_bar(multi: &MultiProgress, total: u64, prefix: String) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{prefix:30!} [{bar:25.cyan/blue}] {bytes:>10}/{total_bytes:10} {binary_bytes_per_sec:>12} eta {eta:>4} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let bar = multi.add(ProgressBar::new(total));
    bar.set_style(style);
    bar.set_prefix(prefix);
    bar
}

/// A bar counting whole files, shown above the per-file bars.
pub fn count_bar(multi: &MultiProgress, total: u64) -> ProgressBar {
    let style = ProgressStyle::with_template("{prefix:30!} {pos}/{len} files, {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = multi.add(ProgressBar::new(total));
    bar.set_style(style);
    bar.set_prefix("total");
    bar
}

/// The last `width` characters of a path-like label, so long paths keep
/// the part that tells files apart.
pub fn label(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - width + 1).collect();
    format!("…{tail}")
}

/// Wraps a byte stream: advances `bar` per chunk and fails if the stream
/// yields more or fewer than `expected` bytes.
pub struct Counted<S> {
    inner: S,
    bar: ProgressBar,
    seen: u64,
    expected: u64,
}

impl<S> Counted<S> {
    pub fn new(inner: S, bar: ProgressBar, expected: u64) -> Self {
        Counted {
            inner,
            bar,
            seen: 0,
            expected,
        }
    }
}

fn changed(expected: u64, seen: u64) -> io::Error {
    io::Error::other(format!(
        "the file changed while it was read: expected {expected} bytes, got {seen}"
    ))
}

impl<S> Stream for Counted<S>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                if self.seen > self.expected {
                    return Poll::Ready(Some(Err(changed(self.expected, self.seen))));
                }
                self.bar.inc(chunk.len() as u64);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) if self.seen != self.expected => {
                Poll::Ready(Some(Err(changed(self.expected, self.seen))))
            }
            Poll::Ready(None) => {
                // Every byte is sent; the server may still be hashing or scanning.
                self.bar.set_message("waiting for the server");
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, stream};

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = io::Result<Bytes>> + Unpin {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    async fn drain(expected: u64, parts: &[&'static [u8]]) -> (io::Result<u64>, u64) {
        let bar = ProgressBar::hidden();
        let mut counted = Counted::new(chunks(parts), bar.clone(), expected);
        let mut total = 0;
        while let Some(item) = counted.next().await {
            match item {
                Ok(chunk) => total += chunk.len() as u64,
                Err(e) => return (Err(e), bar.position()),
            }
        }
        (Ok(total), bar.position())
    }

    #[tokio::test]
    async fn counts_exact_lengths() {
        let (total, pos) = drain(5, &[b"ab", b"cde"]).await;
        assert_eq!((total.expect("ok"), pos), (5, 5));
    }

    #[tokio::test]
    async fn fails_on_short_and_long_streams() {
        let (short, _) = drain(6, &[b"ab", b"cde"]).await;
        assert!(
            short
                .expect_err("short")
                .to_string()
                .contains("expected 6 bytes, got 5")
        );
        let (long, pos) = drain(4, &[b"ab", b"cde"]).await;
        assert!(long.is_err());
        assert_eq!(pos, 2, "the overflowing chunk is not counted as sent");
    }

    #[test]
    fn labels_keep_the_tail() {
        assert_eq!(label("short.pdf", 10), "short.pdf");
        assert_eq!(label("a/very/long/path/file.pdf", 10), "…/file.pdf");
    }
}
