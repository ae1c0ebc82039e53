//! `/api/wechat/decrypt`: data the mini program got from `wx.getWeRunData`, `wx.getShareInfo`
//! and the like, decrypted with the user's session_key.
//!
//! The key is opened by [`crate::services::session_keys`] and used at once; it never reaches a
//! response or a log line.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use crate::wechat::crypto;

/// Thirty days of WeRun steps are a few kilobytes of base64; share info is far less.
const MAX_ENCRYPTED_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/wechat/decrypt",
        post(decrypt).layer(DefaultBodyLimit::max(MAX_ENCRYPTED_BODY_BYTES)),
    )
}

#[derive(Deserialize)]
struct EncryptedData {
    encrypted_data: String,
    iv: String,
}

async fn decrypt(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<EncryptedData>,
) -> Result<Json<Map<String, Value>>, ApiError> {
    let held = auth.held_session_key(&state).await?;
    let key = held.session_key.ok_or(ApiError::SessionKeyStale)?;
    let data =
        crypto::decrypt_user_data(&key, &body.encrypted_data, &body.iv, state.wechat.appid())?;
    Ok(Json(data))
}
