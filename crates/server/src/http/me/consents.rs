//! `POST /api/me/consents`: the user accepted the privacy policy shown in the mini program.
//!
//! Only the version in force (`PRIVACY_POLICY_VERSION`) can be accepted. Each consent is kept
//! with its time, client IP and user agent; `consent_required` in the user's view turns false.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::auth::user_agent;
use crate::http::client_ip::ClientIp;
use crate::http::openapi::{errors, ApiRouter};
use crate::http::user_view::UserView;
use crate::http::{ApiJson, AuthUser};
use crate::services::consents;
use crate::state::AppState;
use crate::storage::privacy_consents::NewConsent;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(accept))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ConsentRequest {
    /// The version of the privacy policy the user was shown; only the one in force
    /// (`PRIVACY_POLICY_VERSION`) is accepted.
    version: String,
}

errors!(ConsentErrors:
    "invalid_request", "payload_too_large", "request_timeout", "invalid_token", "unavailable");

/// Records that the user accepted the privacy policy in force.
///
/// Kept with its time, client IP and user agent; the user's `consent_required` turns false.
#[utoipa::path(post, path = "/api/me/consents", tag = "me",
    operation_id = "accept_privacy_policy", security(("bearer" = [])),
    request_body = ConsentRequest,
    responses((status = 201, description = "The user, with `consent_required` false",
        body = UserView), ConsentErrors))]

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
