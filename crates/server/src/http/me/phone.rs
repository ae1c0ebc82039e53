//! `POST /api/me/phone`: binds the phone number from a getPhoneNumber button code.
//!
//! WeChat bills every number it hands out, so:
//! - a user who already has a verified number gets it back without a WeChat call, unless the
//!   request says `"change": true`;
//! - each user may send at most [`LOOKUPS_PER_WINDOW`] lookups to WeChat per [`LOOKUP_WINDOW`],
//!   counted in Postgres so that every instance shares the count. Failed lookups count too: an
//!   invalid code costs WeChat a call as well, and a client stuck in a loop must be stopped;
//! - successful lookups are counted per day across instances, and the count is logged.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::domain::{Openid, WechatCode};
use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use crate::storage::{phone_lookup_days, phone_quota, users};

/// Enough for a user to bind a number, make a typo-free change or two, and retry a failure;
/// far below anything a real person needs, far above what abuse would want to pay for.
const LOOKUPS_PER_WINDOW: i32 = 5;
const LOOKUP_WINDOW: Duration = Duration::from_secs(60 * 60);

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(bind_phone))
}

#[derive(Deserialize, ToSchema)]
struct PhoneRequest {
    /// The code of a `<button open-type="getPhoneNumber">` tap.
    code: String,
    /// Ask WeChat again even though a number is already verified.
    #[serde(default)]
    change: bool,
}

errors!(PhoneErrors:
    "invalid_request", "payload_too_large", "request_timeout", "invalid_token",
    "invalid_phone_code", "rate_limited", "wechat_token_unavailable",
    "upstream_busy", "upstream_error", "server_misconfigured", "unavailable");

/// Binds the phone number behind a getPhoneNumber button's code.
///
/// A user who already has a verified number gets it back without asking WeChat, unless
/// `change` is true; each user may have WeChat look a number up 5 times an hour.
#[utoipa::path(post, path = "/api/me/phone", tag = "me", security(("bearer" = [])),
    request_body = PhoneRequest,
    responses((status = 200, description = "The user, with the phone number", body = UserView),
        PhoneErrors))]
async fn bind_phone(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<PhoneRequest>,
) -> Result<Json<UserView>, ApiError> {
    let code = WechatCode::parse(request.code)?;
    let user = users::find_by_id(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if user.phone.is_some() && !request.change {
        return Ok(Json(state.view(user)));
    }
    if let Err(retry_after) =
        phone_quota::take(&state.db, user.id, LOOKUPS_PER_WINDOW, LOOKUP_WINDOW).await?
    {
        return Err(ApiError::RateLimited {
            retry_after,
            reason: "too many phone number requests for this user; retry later",
        });
    }
    let openid = Openid::parse(user.openid).map_err(ApiError::internal)?;
    let phone = state
        .platform_tokens
        .call(&state.wechat, |token| {
            let (wechat, code, openid) = (&state.wechat, &code, &openid);
            async move { wechat.phone_number(&token, code, openid).await }
        })
        .await
        .map_err(ApiError::from_phone_lookup)?;
    let user = users::set_phone(&state.db, user.id, &phone).await;
    // Counted once the number is safe: a failed count must not lose what WeChat billed for.
    match phone_lookup_days::count_one(&state.db).await {
        Ok(billed_today) => tracing::info!(billed_today, "phone number lookup billed by WeChat"),
        Err(err) => tracing::warn!(error = %err, "a billed phone number lookup went uncounted"),
    }
    let user = user?.ok_or(ApiError::InvalidToken)?;
    Ok(Json(state.view(user)))
}
