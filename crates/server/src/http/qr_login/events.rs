//! `GET /api/qr-login/{ticket}/events?poll_secret=`: the ticket's changes as Server-Sent Events.
//!
//! The first event is the ticket's state now; each later one is a change, named by the state
//! (`pending`, `scanned`, `confirmed`, `denied`, `expired`) with the poll answer as its data, and
//! `confirmed` carries the browser's tokens. The stream ends after `confirmed`, `denied` or
//! `expired`, and sends a comment every [`KEEP_ALIVE_EVERY`] meanwhile, so that proxies and the
//! idle-connection limit see traffic.
//!
//! Waiting holds no database connection: the stream sleeps, then asks for the state again with
//! one indexed read ([`CHECK_EVERY`]). That works through any connection pooler and on any
//! instance, whichever instance the phone's request reached. Two changes within one check are
//! seen as the later one. When the instance shuts down, waiting streams end without an event;
//! `EventSource` reconnects, to another instance, and is told the current state.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use serde_json::json;

use super::{PollAnswer, PollErrors, PollQuery, POLL_SECRET, TICKET};
use crate::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::services::qr_login::QrLoginError;
use crate::state::AppState;

/// At most this long passes without a byte on an open stream; under the 15 s that browsers and
/// proxies are known to tolerate, and under the default `HTTP_IDLE_TIMEOUT_MS`.
pub const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(10);

/// How often a waiting stream reads the ticket's state: the delay a browser sees after a tap on
/// the phone, and one primary-key read per second per open stream.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// What a stream needs to look again.
struct Watch {
    state: AppState,
    ticket: String,
    poll_secret: String,
    /// The state the browser was last told.
    last: &'static str,
}

enum Next {
    /// The first event, already read, before the watching starts.
    First(Box<PollAnswer>, Watch),
    Watching(Watch),
    Done,
}

/// The ticket's changes as Server-Sent Events.
///
/// Each event is named by the state (`pending`, `scanned`, `confirmed`, `denied`, `expired`), with
/// the poll answer (`PollAnswer`) as its data; `confirmed` carries the browser's tokens. The
/// first event is the state now; the stream ends after `confirmed`, `denied` or `expired`, and
/// sends a `: keep-alive` comment every 10 s meanwhile. Should the tokens go to a poll instead,
/// the stream sends one `error` event with an `ErrorBody` (`ticket_used`) and ends.
///
/// What the poll would refuse (unknown ticket, wrong secret, expired, tokens already handed out)
/// is refused here the same way, before the stream starts.
#[utoipa::path(get, path = "/api/qr-login/{ticket}/events", tag = "qr-login",
    operation_id = "qr_login_events", security(()),
    params(
        ("ticket" = String, Path, description = TICKET),
        ("poll_secret" = String, Query, description = POLL_SECRET),
    ),
    responses(
        (status = 200, description = "The event stream",
            content_type = "text/event-stream", body = String,
            headers(("X-Accel-Buffering" = String, description = "`no`: proxies must pass events on at once"))),
        PollErrors,
    ))]
pub(super) async fn stream(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    ApiQuery(query): ApiQuery<PollQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let poll_secret = query.poll_secret.unwrap_or_default();
    let now = state.qr_login.poll(&ticket, &poll_secret).await?;
    let first = PollAnswer::new(now, &state);
    let watch = Watch {
        last: first.state,
        state,
        ticket,
        poll_secret,
    };
    let events = futures::stream::unfold(Next::First(Box::new(first), watch), |next| async move {
        match next {
            Next::First(answer, watch) => Some(emit(*answer, watch)),
            Next::Watching(watch) => watch_for_change(watch).await,
            Next::Done => None,
        }
    });
    let sse = Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(KEEP_ALIVE_EVERY)
            .text("keep-alive"),
    );
    // nginx buffers proxied answers by default, which would hold every event back.
    Ok(([(X_ACCEL_BUFFERING, "no")], sse))
}

/// Reads the state every [`CHECK_EVERY`] until it differs from what the browser was told; `None`
/// when the instance shuts down first.
async fn watch_for_change(watch: Watch) -> Option<(Result<Event, Infallible>, Next)> {
    let closed = watch.state.qr_login.closed();
    tokio::pin!(closed);
    loop {
        tokio::select! {
            () = tokio::time::sleep(CHECK_EVERY) => {}
            () = &mut closed => return None,
        }
        match watch
            .state
            .qr_login
            .poll(&watch.ticket, &watch.poll_secret)
            .await
        {
            Ok(poll) => {
                let answer = PollAnswer::new(poll, &watch.state);
                if answer.state != watch.last {
                    return Some(emit(answer, watch));
                }
            }
            Err(QrLoginError::Expired) => return Some(emit(PollAnswer::expired(), watch)),
            // The database blinked: the stream outlives it, and looks again at the next check.
            Err(QrLoginError::Database(err)) => {
                tracing::warn!(error = %err, "cannot read a ticket for its event stream; retrying");
            }
            // The tokens went to a poll of the same browser, say: nothing more will happen.
            Err(other) => {
                tracing::warn!(error = %other, "a ticket's event stream ends with an error");
                let error = ApiError::from(other);
                let data =
                    json!({ "error": { "code": error.code(), "message": error.to_string() } });
                let event = Event::default().event("error").data(data.to_string());
                return Some((Ok(event), Next::Done));
            }
        }
    }
}

/// The event for `answer`, and what comes after it.
fn emit(answer: PollAnswer, mut watch: Watch) -> (Result<Event, Infallible>, Next) {
    let data = serde_json::to_string(&answer).expect("a poll answer serializes");
    let event = Event::default().event(answer.state).data(data);
    let next = if answer.is_final {
        Next::Done
    } else {
        watch.last = answer.state;
        Next::Watching(watch)
    };
    (Ok(event), next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alives_come_at_least_every_15_seconds() {
        assert!(KEEP_ALIVE_EVERY <= Duration::from_secs(15));
        assert!(CHECK_EVERY < KEEP_ALIVE_EVERY);
    }
}
