//! What the server does with a user's session_key: `POST /api/wechat/decrypt` (data the mini
//! program got from `wx.getWeRunData`, `wx.getShareInfo` and the like), `GET
//! /api/auth/session-key` (does WeChat still accept ours?) and `POST
//! /api/auth/session-key/reset`.
//!
//! The session_key is opened here and used at once; it never reaches a response or a log line.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{ApiJson, AuthUser};
use crate::error::ApiError;
use crate::platform_token::PlatformTokens;
use crate::profile;
use crate::state::AppState;
use crate::wechat::crypto::{self, CryptoError};

/// Thirty days of WeRun steps are a few kilobytes of base64; share info is far less.
const MAX_ENCRYPTED_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/wechat/decrypt",
            post(decrypt).layer(DefaultBodyLimit::max(MAX_ENCRYPTED_BODY_BYTES)),
        )
        .route("/api/auth/session-key", get(check_session_key))
        .route("/api/auth/session-key/reset", post(reset_session_key))
}

#[derive(Deserialize)]
struct EncryptedData {
    encrypted_data: String,
    iv: String,
}

/// The user's openid and current session_key, if the server holds one that opens.
async fn session_key(
    state: &AppState,
    user_id: Uuid,
) -> Result<(String, Option<SecretString>), ApiError> {
    let identity = profile::wechat_identity(&state.db, user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let key = identity.session_key_sealed.and_then(|sealed| {
        state
            .sealer
            .open(&sealed, &identity.appid, &identity.openid)
            .map_err(|err| tracing::warn!(error = %err, "stored session_key does not open"))
            .ok()
    });
    Ok((identity.openid, key))
}

#[tracing::instrument(skip_all, fields(user.id = %auth.user_id))]
async fn decrypt(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<EncryptedData>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let (_, key) = session_key(&state, auth.user_id).await?;
    let key = key.ok_or(ApiError::SessionKeyStale)?;
    crypto::decrypt_user_data(&key, &body.encrypted_data, &body.iv, state.wechat.appid())
        .map(Json)
        .map_err(|err| {
            tracing::debug!(error = %err, "encrypted data refused");
            crypto_error(err)
        })
}

fn crypto_error(err: CryptoError) -> ApiError {
    if err.means_stale_key() {
        ApiError::SessionKeyStale
    } else {
        ApiError::InvalidEncryptedData(err.to_string())
    }
}

/// `{"valid": bool}`: whether WeChat still accepts the session_key the server holds. When it
/// does not, data the client gets from WeChat will not decrypt here until it logs in again.
#[tracing::instrument(skip_all, fields(user.id = %auth.user_id))]
async fn check_session_key(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let (openid, key) = session_key(&state, auth.user_id).await?;
    let Some(key) = key else {
        return Ok(Json(json!({ "valid": false })));
    };
    let valid = PlatformTokens::new(&state.db, &state.wechat)
        .call(|token| {
            let (wechat, openid, key) = (&state.wechat, openid.as_str(), &key);
            async move { wechat.check_session(&token, openid, key).await }
        })
        .await?;
    Ok(Json(json!({ "valid": valid })))
}

/// Has WeChat replace the user's session_key and keeps the new one, for when the current one may
/// have leaked. WeChat needs a signature made with the current key, so a key that is already
/// stale cannot be reset this way: that answers 409 `session_key_stale`, and a new wx.login is
/// the cure. The client's own `wx.checkSession` turns false afterwards, so it logs in again.
#[tracing::instrument(skip_all, fields(user.id = %auth.user_id))]
async fn reset_session_key(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Value>, ApiError> {
    let (openid, key) = session_key(&state, auth.user_id).await?;
    let key = key.ok_or(ApiError::SessionKeyStale)?;
    let fresh = PlatformTokens::new(&state.db, &state.wechat)
        .call(|token| {
            let (wechat, openid, key) = (&state.wechat, openid.as_str(), &key);
            async move { wechat.reset_session_key(&token, openid, key).await }
        })
        .await?
        .ok_or(ApiError::SessionKeyStale)?;
    let sealed = state.sealer.seal(&fresh, state.wechat.appid(), &openid);
    profile::store_session_key(&state.db, auth.user_id, &sealed).await?;
    Ok(Json(json!({ "reset": true })))
}
