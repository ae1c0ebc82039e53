//! `/api/me*`: the signed-in user, and the profile they fill in (nickname here, the avatar in
//! [`avatar`], the phone number in [`phone`]).

mod avatar;
mod phone;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::domain::Nickname;
use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::state::AppState;
use crate::storage::users;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(me, update_profile))
        .merge(avatar::router())
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
    Ok(Json(user.into()))
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
    "invalid_request", "payload_too_large", "request_timeout", "invalid_token", "unavailable");

/// Sets the nickname typed into `<input type="nickname">`.
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
    let user = users::set_nickname(&state.db, auth.user_id, &nickname)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(Json(user.into()))
}
