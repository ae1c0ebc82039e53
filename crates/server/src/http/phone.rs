//! `POST /api/me/phone`: binds the phone number from a getPhoneNumber button code.
//!
//! WeChat bills every number it hands out, so:
//! - a user who already has a verified number gets it back without a WeChat call, unless the
//!   request says `"change": true`;
//! - each user may send at most [`LOOKUPS_PER_WINDOW`] lookups to WeChat per [`LOOKUP_WINDOW`],
//!   counted in Postgres so that every instance shares the count. Failed lookups count too: an
//!   invalid code costs WeChat a call as well, and a client stuck in a loop must be stopped.

use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::user_view::UserView;
use super::{ApiJson, AuthUser};
use crate::domain::LoginCode;
use crate::error::ApiError;
use crate::platform_token::{PlatformError, PlatformTokens};
use crate::state::AppState;
use crate::wechat::{PhoneInfo, WechatError};
use crate::{profile, users};

/// Enough for a user to bind a number, make a typo-free change or two, and retry a failure;
/// far below anything a real person needs, far above what abuse would want to pay for.
pub const LOOKUPS_PER_WINDOW: i32 = 5;
pub const LOOKUP_WINDOW: Duration = Duration::from_secs(60 * 60);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me/phone", post(bind_phone))
}

#[derive(Deserialize)]
struct PhoneRequest {
    code: String,
    /// Ask WeChat again even though a number is already verified.
    #[serde(default)]
    change: bool,
}

#[tracing::instrument(skip_all, fields(user.id = %auth.user_id))]
async fn bind_phone(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<PhoneRequest>,
) -> Result<Json<UserView>, ApiError> {
    // The button's code has the same shape and limits as a login code.
    let code =
        LoginCode::parse(request.code).map_err(|err| ApiError::InvalidRequest(err.to_string()))?;
    let user = users::find_by_id(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if user.phone.is_some() && !request.change {
        return Ok(Json(user.into()));
    }
    if let Err(retry_after) =
        profile::take_phone_lookup(&state.db, user.id, LOOKUPS_PER_WINDOW, LOOKUP_WINDOW).await?
    {
        return Err(ApiError::RateLimited {
            retry_after,
            reason: "too many phone number requests for this user; retry later",
        });
    }
    let openid = user.openid.as_str();
    let info = PlatformTokens::new(&state.db, &state.wechat)
        .call(|token| {
            let wechat = &state.wechat;
            let code = code.as_str();
            async move { wechat.phone_number(&token, code, openid).await }
        })
        .await
        .map_err(|err| match err {
            PlatformError::Wechat(WechatError::InvalidCode(_)) => ApiError::InvalidPhoneCode,
            other => other.into(),
        })?;
    check_phone(&info)?;
    let user = profile::set_phone(
        &state.db,
        user.id,
        &info.pure_phone_number,
        &info.country_code,
    )
    .await?
    .ok_or(ApiError::InvalidToken)?;
    Ok(Json(user.into()))
}

/// WeChat's numbers are digits; anything else is not stored.
fn check_phone(info: &PhoneInfo) -> Result<(), ApiError> {
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
    };
    if digits(&info.pure_phone_number, 20) && digits(&info.country_code, 4) {
        Ok(())
    } else {
        tracing::warn!("WeChat returned a phone number that is not digits");
        Err(ApiError::UpstreamError)
    }
}
