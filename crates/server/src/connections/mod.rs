//! Accepting and serving HTTP connections, with the limits that keep slow or idle clients from
//! holding the server: at most `HTTP_MAX_CONNECTIONS` open at once, a request head within
//! `HTTP_HEADER_TIMEOUT_MS`, its body within `HTTP_BODY_TIMEOUT_MS`, and no connection left
//! without traffic for `HTTP_IDLE_TIMEOUT_MS` (see [`ConnectionLimits`]).
//!
//! `axum::serve` offers none of these, so connections are served with hyper directly. Reaching
//! the cap, and running out of file descriptors, are logged: both mean clients are waiting.

mod body_deadline;
mod idle;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ConnectionLimits;

pub use body_deadline::is_body_timeout;

/// How long accepting pauses after an error such as running out of file descriptors, so that
/// connections can close meanwhile instead of the loop spinning on the error.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How often, at most, reaching the connection cap is logged while it lasts.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` within `limits` until `shutdown` completes; then stops accepting,
/// closes idle connections and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut cap_warned: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = free_slot(&slots, &mut cap_warned, limits.max_connections) => slot,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
        };
        spawn_connection(stream, peer, app.clone(), limits, &graceful, slot);
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection slot, waiting for one to free up when all are taken.
async fn free_slot(
    slots: &Arc<Semaphore>,
    cap_warned: &mut Option<Instant>,
    cap: usize,
) -> OwnedSemaphorePermit {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return slot;
    }
    if cap_warned.is_none_or(|at| at.elapsed() >= CAP_WARNING_EVERY) {
        tracing::warn!(
            max_connections = cap,
            "connection cap reached (HTTP_MAX_CONNECTIONS); new connections wait until one closes"
        );
        *cap_warned = Some(Instant::now());
    }
    slots
        .clone()
        .acquire_owned()
        .await
        .expect("the connection semaphore is never closed")
}

async fn accept_failed(err: io::Error) {
    // A client that gave up between connecting and being accepted: nothing to do.
    if matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    // In practice EMFILE or ENFILE: the process or the system has no file descriptor left.
    tracing::error!(
        error = %err,
        "cannot accept connections (out of file descriptors?); pausing before the next try"
    );
    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
}

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    graceful: &GracefulShutdown,
    slot: OwnedSemaphorePermit,
) {
    let activity = idle::Activity::new();
    let io = TokioIo::new(idle::WatchedIo::new(stream, activity.clone()));
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |request: hyper::Request<Incoming>| {
            let handling = activity.handling();
            let mut request = request
                .map(|body| body_deadline::with_deadline(Body::new(body), limits.body_timeout));
            // What `into_make_service_with_connect_info` would add: the peer, for rate limits.
            request.extensions_mut().insert(ConnectInfo(peer));
            let response = app.clone().oneshot(request);
            async move {
                let response = response.await;
                drop(handling);
                response
            }
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        tokio::select! {
            served = connection => {
                // Header timeouts, resets and clients that vanish mid-request all land here.
                if let Err(err) = served {
                    tracing::debug!(error = %err, "connection ended with an error");
                }
            }
            () = idle::idle_for(&activity, limits.idle_timeout) => {
                tracing::debug!("closed a connection idle for HTTP_IDLE_TIMEOUT_MS");
            }
        }
        drop(slot);
    });
}
