//! `/api/auth/sessions`: a user's logins on their devices, and ending one of them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::AuthUser;
use crate::state::AppState;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(list)).routes(routes!(end))
}

#[derive(Serialize, ToSchema)]
struct SessionList {
    sessions: Vec<SessionView>,
}

/// One login on one device.
#[derive(Serialize, ToSchema)]
struct SessionView {
    id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    last_used_at: OffsetDateTime,
    /// The device's User-Agent at login, for display.
    user_agent: Option<String>,
    /// The session of the token that asked.
    current: bool,
}

errors!(ListErrors: "invalid_token", "unavailable");

/// The user's live sessions, one per login on a device.
#[utoipa::path(get, path = "/api/auth/sessions", tag = "auth", operation_id = "list_sessions",
    security(("bearer" = [])),
    responses((status = 200, description = "The live sessions", body = SessionList), ListErrors))]
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

errors!(EndErrors: "invalid_token", "not_found", "unavailable");

/// Ends one of the caller's sessions.
///
/// Another user's session, a malformed id and an unknown one all get the same 404, so ids cannot
/// be probed.
#[utoipa::path(delete, path = "/api/auth/sessions/{id}", tag = "auth",
    operation_id = "end_session", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session's `id`, from the list")),
    responses((status = 204, description = "The session has ended"), EndErrors))]
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
