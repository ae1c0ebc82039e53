//! `/api/qr-login*`: scan-to-login. A browser asks for a ticket and shows its mini-program code;
//! the mini program scans it and confirms or denies; the browser learns each change by polling or
//! from an event stream ([`events`]) and receives, once, the tokens of a session of its own.
//!
//! The ticket is public (it is printed in the code); the poll secret is the browser's alone, and
//! a wrong one is answered exactly like an unknown ticket. The steps themselves live in
//! [`crate::services::qr_login`].

mod events;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::auth::tokens::{user_agent, LoginResponse, TokenPair};
use super::client_ip::ClientIp;
use super::rate_limit::{QrTicket, Within};
use crate::error::ApiError;
use crate::http::AuthUser;
use crate::services::qr_login::Poll;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/qr-login", post(create))
        .route("/api/qr-login/{ticket}", get(poll))
        .route("/api/qr-login/{ticket}/qr.png", get(qr_code))
        .route("/api/qr-login/{ticket}/scan", post(scan))
        .route("/api/qr-login/{ticket}/confirm", post(confirm))
        .route("/api/qr-login/{ticket}/deny", post(deny))
        .route("/api/qr-login/{ticket}/events", get(events::stream))
}

#[derive(Serialize)]
struct Created {
    ticket: String,
    poll_secret: String,
    qr_url: String,
    expires_in: u64,
}

/// A new ticket for this browser. What the browser says it is and where it asks from are kept,
/// for the phone to show before the user confirms.
async fn create(
    _: Within<QrTicket>,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let agent = user_agent(&headers);
    let created = state
        .qr_login
        .create(agent.as_deref(), &ip.to_canonical().to_string())
        .await?;
    let ticket = created.ticket.as_str().to_owned();
    Ok((
        StatusCode::CREATED,
        Json(Created {
            qr_url: format!("/api/qr-login/{ticket}/qr.png"),
            ticket,
            poll_secret: created.poll_secret.reveal(),
            expires_in: created.expires_in,
        }),
    ))
}

/// The mini-program code for the ticket. No secret is needed: the ticket is in the image anyway.
async fn qr_code(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let png = state.qr_login.qr_code(&ticket).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

#[derive(Serialize)]
struct ScanAnswer {
    ticket: String,
    browser: BrowserView,
    expires_in: u64,
}

/// The browser that asked for a ticket, as the phone shows it.
#[derive(Serialize)]
struct BrowserView {
    user_agent: Option<String>,
    ip: String,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
}

/// Binds the ticket to the signed-in user and says which browser asked for it.
async fn scan(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(ticket): Path<String>,
) -> Result<Json<ScanAnswer>, ApiError> {
    let scan = state
        .qr_login
        .scan(&ticket, auth.user_id, auth.session_id)
        .await?;
    Ok(Json(ScanAnswer {
        ticket,
        browser: BrowserView {
            user_agent: scan.browser.user_agent,
            ip: scan.browser.ip,
            requested_at: scan.browser.requested_at,
        },
        expires_in: scan.expires_in,
    }))
}

async fn confirm(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(ticket): Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide(&state, auth, &ticket, true).await
}

async fn deny(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(ticket): Path<String>,
) -> Result<Json<Value>, ApiError> {
    decide(&state, auth, &ticket, false).await
}

async fn decide(
    state: &AppState,
    auth: AuthUser,
    ticket: &str,
    confirm: bool,
) -> Result<Json<Value>, ApiError> {
    let decided = state
        .qr_login
        .decide(ticket, auth.user_id, auth.session_id, confirm)
        .await?;
    Ok(Json(json!({ "state": decided.as_str() })))
}

/// `?poll_secret=`; a missing one is as wrong as a wrong one.
#[derive(Deserialize)]
struct PollQuery {
    poll_secret: Option<String>,
}

/// The ticket's state; on the first answer that finds it confirmed, the browser's tokens too.
async fn poll(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    Query(query): Query<PollQuery>,
) -> Result<Json<PollAnswer>, ApiError> {
    let secret = query.poll_secret.unwrap_or_default();
    let poll = state.qr_login.poll(&ticket, &secret).await?;
    Ok(Json(PollAnswer::new(poll, &state)))
}

/// The poll answer, which is also each event's data.
#[derive(Serialize)]
struct PollAnswer {
    state: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<LoginResponse>,
    /// Whether the ticket changes no more: confirmed, denied or expired.
    #[serde(skip)]
    is_final: bool,
}

impl PollAnswer {
    fn new(poll: Poll, state: &AppState) -> Self {
        Self {
            state: poll.state.as_str(),
            is_final: poll.state.is_final(),
            expires_in: poll.expires_in,
            tokens: poll.tokens.map(|handed| LoginResponse {
                tokens: TokenPair::new(handed.access, handed.refresh_token, state),
                user: state.view(handed.user),
                new_user: false,
            }),
        }
    }

    /// What the stream says once the ticket has expired.
    fn expired() -> Self {
        Self {
            state: "expired",
            is_final: true,
            expires_in: 0,
            tokens: None,
        }
    }
}
