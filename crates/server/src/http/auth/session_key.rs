//! `/api/auth/session-key`: whether WeChat still accepts the session_key the server holds for
//! the signed-in user, and `/api/auth/session-key/reset` to replace it.
//!
//! The key is opened by [`crate::services::session_keys`] and used at once; it never reaches a
//! response or a log line.
//!
//! Each is a WeChat call on the user's behalf, so each user has a budget of them per window
//! ([`session_keys::CHECKS`], [`session_keys::RESETS`]); past it the answer is 429
//! `rate_limited`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::AuthUser;
#[cfg(doc)]
use crate::services::session_keys;
use crate::services::user_budget::UserBudget;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(check_session_key))
        .routes(routes!(reset_session_key))
}

#[derive(Serialize, ToSchema)]
struct SessionKeyCheck {
    /// Whether WeChat still accepts the session_key the server holds.
    valid: bool,
}

#[derive(Serialize, ToSchema)]
struct SessionKeyReset {
    /// Always true: a reset that did not happen is an error.
    reset: bool,
}

errors!(CheckErrors:
    "invalid_token", "mini_program_session_required", "rate_limited", "wechat_token_unavailable", "upstream_busy",
    "upstream_error", "server_misconfigured", "unavailable");

/// Whether WeChat still accepts the session_key the server holds.
///
/// When it does not, data the client gets from WeChat will not decrypt here until it logs in
/// again.
#[utoipa::path(get, path = "/api/auth/session-key", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "Whether the session_key is valid",
        body = SessionKeyCheck), CheckErrors))]
async fn check_session_key(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<SessionKeyCheck>, ApiError> {
    within_budget(
        &state.session_key_checks,
        auth.user_id,
        "session_key checks",
    )?;
    let held = auth.held_session_key(&state).await?;
    let Some(key) = held.session_key else {
        return Ok(Json(SessionKeyCheck { valid: false }));
    };
    let valid = state
        .platform_tokens
        .call(&state.wechat, |token| {
            let (wechat, openid, key) = (&state.wechat, &held.openid, &key);
            async move { wechat.check_session(&token, openid, key).await }
        })
        .await?;
    Ok(Json(SessionKeyCheck { valid }))
}

errors!(ResetErrors:
    "invalid_token", "mini_program_session_required", "rate_limited", "session_key_stale", "wechat_token_unavailable",
    "upstream_busy", "upstream_error", "server_misconfigured", "unavailable");

/// Has WeChat replace the user's session_key and keeps the new one.
///
/// For when the current one may have leaked. WeChat needs a signature made with the current
/// key, so a key that is already stale cannot be reset this way: that answers 409
/// `session_key_stale`, and a new wx.login is the cure. The client's own `wx.checkSession`
/// turns false afterwards, so it logs in again.
#[utoipa::path(post, path = "/api/auth/session-key/reset", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "WeChat replaced the session_key",
        body = SessionKeyReset), ResetErrors))]
async fn reset_session_key(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<SessionKeyReset>, ApiError> {
    within_budget(
        &state.session_key_resets,
        auth.user_id,
        "session_key resets",
    )?;
    let held = auth.held_session_key(&state).await?;
    let key = held.session_key.ok_or(ApiError::SessionKeyStale)?;
    let fresh = state
        .platform_tokens
        .call(&state.wechat, |token| {
            let (wechat, openid, key) = (&state.wechat, &held.openid, &key);
            async move { wechat.reset_session_key(&token, openid, key).await }
        })
        .await?
        .ok_or(ApiError::SessionKeyStale)?;
    state
        .session_keys
        .replace(auth.user_id, state.wechat.appid(), &held.openid, &fresh)
        .await?;
    Ok(Json(SessionKeyReset { reset: true }))
}

/// Counts the call against the user's `budget`, or refuses it with 429 once that is spent.
fn within_budget(budget: &UserBudget, user_id: Uuid, what: &'static str) -> Result<(), ApiError> {
    budget.take(user_id).map_err(|retry_after| {
        tracing::warn!(what, "a user's budget is spent");
        ApiError::RateLimited {
            retry_after,
            reason: "too many session_key requests for this user; retry later",
        }
    })
}
