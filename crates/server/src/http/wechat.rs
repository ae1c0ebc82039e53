//! `/api/wechat/decrypt`: data the mini program got from `wx.getWeRunData`, `wx.getShareInfo`
//! and the like, decrypted with the user's session_key.
//!
//! The key is opened by [`crate::services::session_keys`] and used at once; it never reaches a
//! response or a log line.

use axum::extract::{DefaultBodyLimit, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use crate::wechat::crypto;

/// Thirty days of WeRun steps are a few kilobytes of base64; share info is far less.
const MAX_ENCRYPTED_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(decrypt).layer(DefaultBodyLimit::max(MAX_ENCRYPTED_BODY_BYTES)))
}

/// What `wx.getWeRunData`, `wx.getShareInfo` and the like give the mini program.
#[derive(Deserialize, ToSchema)]
struct EncryptedData {
    /// `encryptedData`, base64.
    encrypted_data: String,
    /// `iv`, base64.
    iv: String,
}

errors!(DecryptErrors:
    "invalid_request", "payload_too_large", "request_timeout", "invalid_token",
    "session_key_stale", "invalid_encrypted_data", "mini_program_session_required",
    "unavailable");

/// Decrypts data the mini program got from WeChat, with the user's session_key.
///
/// The answer is the data as WeChat wrote it, once its watermark shows it is for this app.
#[utoipa::path(post, path = "/api/wechat/decrypt", tag = "wechat", security(("bearer" = [])),
    request_body = EncryptedData,
    responses(
        (status = 200, description = "The decrypted data, as WeChat wrote it", body = Object),
        DecryptErrors,
    ))]
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
