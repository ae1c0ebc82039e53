//! `/api/me*`: the signed-in user, and the profile they fill in (nickname here, the avatar in
//! [`avatar`], the phone number in [`phone`]), and their consent to the privacy policy
//! ([`consents`]).

mod avatar;
mod consents;
mod phone;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::domain::{Nickname, Openid};
use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::services::content_checks::TextOutcome;
use crate::state::AppState;
use crate::storage::users;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(me, update_profile))
        .merge(avatar::router())
        .merge(consents::router())
        .merge(phone::router())
}

errors!(MeErrors: "invalid_token", "unavailable");

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserView), MeErrors))]
async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<UserView>, ApiError> {
    // A valid token for a user who no longer exists is as good as no token.
    let user = users::find_by_id(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(Json(state.view(user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ProfilePatch {
    /// Stored trimmed and in NFC: 1 to 32 characters, at least one visible, and no control,
    /// format, invisible or text-direction characters.
    #[schema(required = true, value_type = String)]
    nickname: Option<String>,
}

errors!(ProfileErrors:
    "invalid_request", "content_rejected", "upstream_busy", "payload_too_large", "request_timeout", "invalid_token", "unavailable");

/// Sets the nickname typed into `<input type="nickname">`, once WeChat's content check lets it
/// through (see [`crate::services::content_checks`]).
#[utoipa::path(patch, path = "/api/me", tag = "me", security(("bearer" = [])),
    request_body = ProfilePatch,
    responses((status = 200, description = "The user, with the new nickname", body = UserView),
        ProfileErrors))]
async fn update_profile(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(patch): ApiJson<ProfilePatch>,
) -> Result<Json<UserView>, ApiError> {
    let raw = patch
        .nickname
        .ok_or_else(|| ApiError::InvalidRequest("`nickname` is required".into()))?;
    let nickname = Nickname::parse(&raw)?;
    let user = users::find_by_id(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    if user.nickname.as_deref() == Some(nickname.as_str()) {
        // Checked when it was saved: no need to ask WeChat again.
        return Ok(Json(state.view(user)));
    }
    let openid = Openid::parse(user.openid).map_err(ApiError::internal)?;
    let outcome = state
        .content_checks
        .check_nickname(
            &state.wechat,
            &state.platform_tokens,
            &openid,
            nickname.as_str(),
        )
        .await?;
    if let TextOutcome::Refuse { label } = outcome {
        return Err(ApiError::ContentRejected { label });
    }
    let user = users::set_nickname(&state.db, auth.user_id, &nickname)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(Json(state.view(user)))
}
