//! Noticing a connection on which nothing happens: no byte moves either way, and the server is
//! not working on any of its requests.
//!
//! A client that sends a request and then stops reading the answer leaves the server's write
//! waiting for ever; hyper has no timeout for that. Every read and write through [`WatchedIo`]
//! stamps the connection's [`Activity`], handlers in progress hold it busy, and [`idle_for`]
//! completes once the connection has been quiet for the limit.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// When a connection last moved a byte, and how many of its requests are being handled.
pub struct Activity {
    opened: Instant,
    /// Milliseconds after `opened`.
    last_moved: AtomicU64,
    in_progress: AtomicUsize,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            last_moved: AtomicU64::new(0),
            in_progress: AtomicUsize::new(0),
        })
    }

    fn moved(&self) {
        let since_opened = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_moved.store(since_opened, Ordering::Relaxed);
    }

    fn last_moved(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_moved.load(Ordering::Relaxed))
    }

    /// Marks the connection busy until the returned guard is dropped: the server may take its
    /// time over a request (a slow WeChat call) without the connection counting as idle.
    pub fn handling(self: &Arc<Self>) -> Handling {
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }
}

pub struct Handling(Arc<Activity>);

impl Drop for Handling {
    fn drop(&mut self) {
        // Idle time counts from the end of the work, not from the last byte before it.
        self.0.moved();
        self.0.in_progress.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Completes once `activity` has moved no byte for `limit` with no request being handled.
pub async fn idle_for(activity: &Activity, limit: Duration) {
    loop {
        tokio::time::sleep_until(activity.last_moved() + limit).await;
        if activity.in_progress.load(Ordering::Relaxed) > 0 {
            // Check again a whole limit after the work ends.
            activity.moved();
            continue;
        }
        if activity.last_moved() + limit <= Instant::now() {
            return;
        }
    }
}

/// A stream whose every read and write of at least one byte counts as activity.
pub struct WatchedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> WatchedIo<T> {
    pub fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.moved();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.note_written(&polled);
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.note_written(&polled);
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T> WatchedIo<T> {
    fn note_written(&self, polled: &Poll<io::Result<usize>>) {
        if matches!(polled, Poll::Ready(Ok(written)) if *written > 0) {
            self.activity.moved();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quiet_counts_from_the_end_of_the_work() {
        let activity = Activity::new();
        let limit = Duration::from_millis(200);

        let work = activity.handling();
        let idle = tokio::spawn({
            let activity = activity.clone();
            async move { idle_for(&activity, limit).await }
        });
        tokio::time::sleep(limit * 3).await;
        assert!(!idle.is_finished(), "busy while a request is handled");
        drop(work);
        tokio::time::sleep(limit / 4).await;
        assert!(
            !idle.is_finished(),
            "the limit counts from the end of the work"
        );
        tokio::time::timeout(limit * 10, idle)
            .await
            .expect("quiet for the limit after the work")
            .unwrap();
    }
}
