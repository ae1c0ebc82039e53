//! `/api/auth/sessions`: a user's logins on their devices, and ending one of them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::AuthUser;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/sessions", get(list))
        .route("/api/auth/sessions/{id}", delete(end))
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<SessionView>,
}

#[derive(Serialize)]
struct SessionView {
    id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_used_at: OffsetDateTime,
    user_agent: Option<String>,
    /// The session of the token that asked.
    current: bool,
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<SessionList>, ApiError> {
    let rows = state.sessions.list_live(auth.user_id).await?;
    let sessions = rows
        .into_iter()
        .map(|row| SessionView {
            current: row.id == auth.session_id,
            id: row.id,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            user_agent: row.user_agent,
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// Ends one of the caller's sessions. Another user's session, a malformed id and an unknown
/// one all get the same 404, so ids cannot be probed.
async fn end(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    let ended = state
        .sessions
        .revoke(id, auth.user_id, "ended from the sessions list")
        .await?;
    if !ended {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}
