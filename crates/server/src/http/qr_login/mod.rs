//! `/api/qr-login*`: scan-to-login. A browser asks for a ticket and shows its mini-program code;
//! the mini program scans it and confirms or denies; the browser learns each change by polling or
//! from an event stream ([`events`]) and receives, once, the tokens of a session of its own.
//!
//! The ticket is public (it is printed in the code); the poll secret is the browser's alone, and
//! a wrong one is answered exactly like an unknown ticket. The steps themselves live in
//! [`crate::services::qr_login`].

mod events;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::auth::tokens::{user_agent, LoginResponse, TokenPair};
use super::avatars::ImageBytes;
use super::client_ip::ClientIp;
use super::extract::ApiQuery;
use super::openapi::{errors, ApiRouter};
use super::rate_limit::{QrTicket, Within};
use crate::error::ApiError;
use crate::http::AuthUser;
use crate::services::qr_login::Poll;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(poll))
        .routes(routes!(qr_code))
        .routes(routes!(scan))
        .routes(routes!(confirm))
        .routes(routes!(deny))
        .routes(routes!(events::stream))
}

#[derive(Serialize, ToSchema)]
struct Created {
    /// 32 letters and digits; public, since it is printed in the code.
    ticket: String,
    /// The browser's alone: it reads this ticket's state and, once, its tokens. Send it only to
    /// wxlogin, never put it in the code.
    poll_secret: String,
    /// Where the ticket's mini-program code is, relative to the server.
    #[schema(example = "/api/qr-login/0123456789abcdefghijklmnopqrstuv/qr.png")]
    qr_url: String,
    /// Seconds until the ticket expires (`QR_LOGIN_TTL`).
    expires_in: u64,
}

errors!(CreateErrors: "rate_limited", "unavailable");

/// A new ticket for this browser.
///
/// What the browser says it is and where it asks from are kept, for the phone to show before the
/// user confirms. Rate-limited per client IP.
#[utoipa::path(post, path = "/api/qr-login", tag = "qr-login", operation_id = "create_qr_login",
    security(()),
    responses((status = 201, description = "The new ticket", body = Created), CreateErrors))]
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

/// The ticket, as a path parameter of the scan-to-login routes.
const TICKET: &str =
    "The ticket `POST /api/qr-login` answered; an unknown or malformed one is 404 `not_found`";

errors!(QrCodeErrors:
    "not_found", "ticket_expired", "qr_page_unpublished", "qr_scene_invalid", "rate_limited",
    "wechat_token_unavailable", "upstream_busy", "upstream_error", "server_misconfigured",
    "unavailable");

/// The mini-program code for the ticket, which opens the scan-to-login page.
///
/// No secret is needed: the ticket is in the image anyway. WeChat is asked once per ticket.
#[utoipa::path(get, path = "/api/qr-login/{ticket}/qr.png", tag = "qr-login",
    operation_id = "qr_login_code", security(()),
    params(("ticket" = String, Path, description = TICKET)),
    responses(
        (status = 200, description = "The code", content((ImageBytes = "image/png"))),
        QrCodeErrors,
    ))]
async fn qr_code(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let png = state.qr_login.qr_code(&ticket).await?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png))
}

#[derive(Serialize, ToSchema)]
struct ScanAnswer {
    ticket: String,
    browser: BrowserView,
    /// Seconds until the ticket expires.
    expires_in: u64,
}

/// The browser that asked for a ticket, as the phone shows it.
#[derive(Serialize, ToSchema)]
struct BrowserView {
    /// What the browser said it is, if anything.
    user_agent: Option<String>,
    /// Where it asked from, as the rate limits see it.
    ip: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    requested_at: OffsetDateTime,
}

errors!(ScanErrors:
    "invalid_token", "mini_program_session_required", "not_found", "ticket_taken",
    "ticket_expired", "ticket_used", "unavailable");

/// Binds the ticket to the signed-in user and says which browser asked for it.
///
/// From a session of the mini program only. Scanning again by the same user answers the same.
#[utoipa::path(post, path = "/api/qr-login/{ticket}/scan", tag = "qr-login",
    operation_id = "scan_qr_login",
    security(("bearer" = [])),
    params(("ticket" = String, Path, description = TICKET)),
    responses((status = 200, description = "The ticket is the user's to confirm or deny",
        body = ScanAnswer), ScanErrors))]
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

/// The ticket's state after the scanner's decision.
#[derive(Serialize, ToSchema)]
struct Decided {
    /// `confirmed` or `denied`.
    #[schema(example = "confirmed")]
    state: &'static str,
}

errors!(DecideErrors:
    "invalid_token", "mini_program_session_required", "not_found", "ticket_not_scanned",
    "ticket_taken", "ticket_expired", "ticket_used", "unavailable");

/// The scanner lets the browser in: its next poll or event receives tokens of a new session.
///
/// From the session of the mini program that scanned the ticket.
#[utoipa::path(post, path = "/api/qr-login/{ticket}/confirm", tag = "qr-login",
    operation_id = "confirm_qr_login",
    security(("bearer" = [])),
    params(("ticket" = String, Path, description = TICKET)),
    responses((status = 200, description = "`{\"state\": \"confirmed\"}`", body = Decided),
        DecideErrors))]
async fn confirm(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(ticket): Path<String>,
) -> Result<Json<Decided>, ApiError> {
    decide(&state, auth, &ticket, true).await
}

/// The scanner turns the browser away: its next poll or event says `denied`.
///
/// From the session of the mini program that scanned the ticket.
#[utoipa::path(post, path = "/api/qr-login/{ticket}/deny", tag = "qr-login",
    operation_id = "deny_qr_login",
    security(("bearer" = [])),
    params(("ticket" = String, Path, description = TICKET)),
    responses((status = 200, description = "`{\"state\": \"denied\"}`", body = Decided),
        DecideErrors))]
async fn deny(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(ticket): Path<String>,
) -> Result<Json<Decided>, ApiError> {
    decide(&state, auth, &ticket, false).await
}

async fn decide(
    state: &AppState,
    auth: AuthUser,
    ticket: &str,
    confirm: bool,
) -> Result<Json<Decided>, ApiError> {
    let decided = state
        .qr_login
        .decide(ticket, auth.user_id, auth.session_id, confirm)
        .await?;
    Ok(Json(Decided {
        state: decided.as_str(),
    }))
}

/// `?poll_secret=`; a missing one is as wrong as a wrong one.
#[derive(Deserialize)]
struct PollQuery {
    poll_secret: Option<String>,
}

/// The poll secret, as a query parameter of the poll and the event stream.
const POLL_SECRET: &str = "The `poll_secret` `POST /api/qr-login` answered; a wrong or missing one is 404 `not_found`, as an unknown ticket";

errors!(PollErrors:
    "invalid_request", "not_found", "ticket_expired", "ticket_used", "unavailable");

/// The ticket's state; on the first answer that finds it confirmed, the browser's tokens too.
///
/// The tokens are handed out once: a poll after that is 410 `ticket_used`.
#[utoipa::path(get, path = "/api/qr-login/{ticket}", tag = "qr-login", operation_id = "poll_qr_login",
    security(()),
    params(
        ("ticket" = String, Path, description = TICKET),
        ("poll_secret" = String, Query, description = POLL_SECRET),
    ),
    responses((status = 200, description = "The ticket's state", body = PollAnswer), PollErrors))]
async fn poll(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
    ApiQuery(query): ApiQuery<PollQuery>,
) -> Result<Json<PollAnswer>, ApiError> {
    let secret = query.poll_secret.unwrap_or_default();
    let poll = state.qr_login.poll(&ticket, &secret).await?;
    Ok(Json(PollAnswer::new(poll, &state)))
}

/// The poll answer, which is also each event's data.
#[derive(Serialize, ToSchema)]
struct PollAnswer {
    /// `pending`, `scanned`, `confirmed` or `denied`; on the event stream also `expired`.
    #[schema(example = "scanned")]
    state: &'static str,
    /// Seconds until the ticket expires.
    expires_in: u64,
    /// What `POST /api/auth/login` answers, for a new session of the user who confirmed: only in
    /// the first answer that finds the ticket confirmed.
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
