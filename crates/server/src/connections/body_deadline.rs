//! A deadline for a request's body: it must arrive in full within the body timeout of its head.
//!
//! hyper reads a body as slowly as the client sends it, so a client that sends one byte now and
//! then would hold a handler, and its connection, for as long as it likes. Past the deadline the
//! body yields [`BodyTimedOut`] instead of waiting; the handler reading it answers 408
//! `request_timeout` (see `error.rs`), and the connection, whose body was never finished, closes.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use tokio::time::Sleep;

/// The error a body yields when its deadline passes before its last byte.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within HTTP_BODY_TIMEOUT_MS")]
pub struct BodyTimedOut;

/// `body`, failing with [`BodyTimedOut`] if it has not arrived in full within `timeout`. A body
/// that is already complete (no body at all) is left as it is.
pub fn with_deadline(body: Body, timeout: Duration) -> Body {
    if http_body::Body::is_end_stream(&body) {
        return body;
    }
    Body::new(DeadlineBody {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(timeout)),
    })
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `err` or any error it was caused by is a [`BodyTimedOut`].
pub fn is_body_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(err) = cause {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        cause = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_body_that_stalls_fails_at_its_deadline_and_a_complete_one_is_read() {
        let first = futures::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from_static(
            b"{\"code\":",
        ))]);
        let stalled = Body::from_stream(first.chain(futures::stream::pending()));
        let err = to_bytes(
            with_deadline(stalled, Duration::from_millis(50)),
            usize::MAX,
        )
        .await
        .unwrap_err();
        assert!(is_body_timeout(&err), "{err}");

        let whole = with_deadline(Body::from("{}"), Duration::from_millis(50));
        assert_eq!(to_bytes(whole, usize::MAX).await.unwrap(), "{}");
    }
}
