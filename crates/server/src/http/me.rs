//! `/api/me`: the signed-in user.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use super::user_view::UserView;
use super::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;
use crate::users;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me))
}

async fn me(State(state): State<AppState>, auth: AuthUser) -> Result<Json<UserView>, ApiError> {
    // A valid token for a user who no longer exists is as good as no token.
    let user = users::find_by_id(&state.db, auth.user_id)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    Ok(Json(user.into()))
}
