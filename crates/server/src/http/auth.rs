//! `/api/auth/*`: logging in with a `wx.login()` code.

use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::user_view::UserView;
use super::ApiJson;
use crate::domain::LoginCode;
use crate::error::ApiError;
use crate::state::AppState;
use crate::users::{self, LoginIdentity};
use crate::wechat::WechatError;

/// WeChat's login quota is per minute; it gives no better hint.
const RATE_LIMIT_RETRY_AFTER: Duration = Duration::from_secs(60);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/auth/login", post(login))
}

#[derive(Deserialize)]
struct LoginRequest {
    code: String,
}

#[derive(Serialize)]
struct LoginResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    user: UserView,
    new_user: bool,
}

/// Trades a `wx.login()` code for a wxlogin token.
///
/// Order matters: nothing is written and no token is signed until WeChat has vouched for the
/// code, so every error path leaves no user behind and hands out nothing.
#[tracing::instrument(skip_all, fields(user.id))]
async fn login(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let code =
        LoginCode::parse(request.code).map_err(|err| ApiError::InvalidRequest(err.to_string()))?;
    let session = state
        .wechat
        .code_to_session(&code)
        .await
        .map_err(wechat_error)?;
    let appid = state.wechat.appid();
    let sealed = state
        .sealer
        .seal(&session.session_key, appid, &session.openid);
    let record = users::record_login(
        &state.db,
        &LoginIdentity {
            appid,
            openid: &session.openid,
            unionid: session.unionid.as_deref(),
            sealed_session_key: &sealed,
        },
    )
    .await?;
    tracing::Span::current().record("user.id", tracing::field::display(record.user.id));
    let issued = state
        .tokens
        .issue(record.user.id, OffsetDateTime::now_utc().unix_timestamp())
        .map_err(ApiError::internal)?;
    Ok(Json(LoginResponse {
        access_token: issued.token,
        token_type: "Bearer",
        expires_in: issued.expires_in,
        user: record.user.into(),
        new_user: record.new_user,
    }))
}

/// Maps a WeChat failure to what the mini program should do about it.
fn wechat_error(err: WechatError) -> ApiError {
    match err {
        WechatError::InvalidCode(_) => ApiError::InvalidCode,
        WechatError::UserBlocked => ApiError::UserBlocked,
        WechatError::RateLimited => ApiError::RateLimited {
            retry_after: RATE_LIMIT_RETRY_AFTER,
        },
        WechatError::Busy { .. } => {
            tracing::warn!(error = %err, "WeChat busy");
            ApiError::UpstreamBusy
        }
        WechatError::BadCredentials { .. } => {
            // Every login fails until an operator fixes WECHAT_APPID / WECHAT_SECRET.
            tracing::error!(error = %err, "WeChat rejected the configured credentials");
            ApiError::ServerMisconfigured
        }
        WechatError::Other { .. }
        | WechatError::HttpStatus(_)
        | WechatError::Malformed(_)
        | WechatError::Timeout
        | WechatError::Transport(_) => {
            tracing::warn!(error = %err, "WeChat call failed");
            ApiError::UpstreamError
        }
    }
}
