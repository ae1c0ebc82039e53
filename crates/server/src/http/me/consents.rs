//! `POST /api/me/consents`: the user accepted the privacy policy shown in the mini program.
//!
//! Only the version in force (`PRIVACY_POLICY_VERSION`) can be accepted. Each consent is kept
//! with its time, client IP and user agent; `consent_required` in the user's view turns false.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::auth::user_agent;
use crate::http::client_ip::ClientIp;
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::services::consents;
use crate::state::AppState;
use crate::storage::privacy_consents::NewConsent;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me/consents", post(accept))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentRequest {
    version: String,
}

async fn accept(
    State(state): State<AppState>,
    auth: AuthUser,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ConsentRequest>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    if request.version != state.privacy_policy_version {
        return Err(ApiError::InvalidRequest(format!(
            "`version` must be the privacy policy version in force, {:?}",
            state.privacy_policy_version
        )));
    }
    let user_agent = user_agent(&headers);
    let consent = NewConsent {
        user_id: auth.user_id,
        version: &request.version,
        client_ip: &client_ip.to_canonical().to_string(),
        user_agent: user_agent.as_deref(),
    };
    let user = consents::record(&state.db, &consent)
        .await?
        .ok_or(ApiError::InvalidToken)?;
    tracing::info!(version = %request.version, "privacy policy accepted");
    Ok((StatusCode::CREATED, Json(state.view(user))))
}
