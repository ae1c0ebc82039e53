//! Observes every answer in one place: the per-request log line, and the HTTP, login and refresh
//! metrics.
//!
//! Runs inside the request span (`super::request_span`), so its line carries the method, route
//! template, request id and user id; the line adds the status and the latency. Health probes,
//! polled every few seconds by orchestrators, are logged at debug only. Nothing here allocates
//! per request: the labels are an enum, a counted reference to the route template, and a number.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::{auth, health};
use crate::error::ErrorCode;
use crate::metrics::{HttpMethod, Metrics, Route};

#[derive(Clone)]
pub(super) struct ObserveLayer {
    metrics: Metrics,
}

impl ObserveLayer {
    pub(super) fn new(metrics: Metrics) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct Observe<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, B, R> Service<Request<B>> for Observe<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let seen = Seen {
            started: Instant::now(),
            method: HttpMethod::of(request.method()),
            route: Route::new(request.extensions().get::<MatchedPath>()),
            metrics: self.metrics.clone(),
        };
        Observed {
            inner: self.inner.call(request),
            seen: Some(seen),
        }
    }
}

/// What is known of a request before it is answered.
struct Seen {
    started: Instant,
    method: HttpMethod,
    route: Route,
    metrics: Metrics,
}

pin_project! {
    pub(super) struct Observed<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
    }
}

impl<F, R, E> Future for Observed<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Some(seen), Ok(response)) = (this.seen.take(), &output) {
            seen.answered(response);
        }
        Poll::Ready(output)
    }
}

impl Seen {
    fn answered<R>(self, response: &Response<R>) {
        let took = self.started.elapsed();
        let status = response.status();
        let route = self.route.as_str();
        log_line(route, status.as_u16(), took);
        self.metrics
            .http_request(self.method, &self.route, status.as_u16(), took);
        if self.method == HttpMethod::Post {
            // What the client got: `ok`, or the code of the error it was answered.
            let outcome = match response.extensions().get::<ErrorCode>() {
                _ if status.is_success() => "ok",
                Some(ErrorCode(code)) => code,
                None => "other",
            };
            match route {
                auth::LOGIN_ROUTE => self.metrics.login(outcome),
                auth::REFRESH_ROUTE => self.metrics.refresh(outcome),
                _ => {}
            }
        }
    }
}

/// The one line per request. The span it is logged in names the method, route, request id and
/// user.
fn log_line(route: &str, status: u16, took: Duration) {
    let latency_ms = crate::telemetry::millis(took);
    if health::PROBE_ROUTES.contains(&route) {
        tracing::debug!(status, latency_ms, "answered");
    } else {
        tracing::info!(status, latency_ms, "answered");
    }
}
