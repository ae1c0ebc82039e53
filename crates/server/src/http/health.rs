//! Liveness and readiness probes for orchestrators and load balancers.

use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::openapi::{errors, ApiRouter};
use crate::state::AppState;

/// A readiness probe must answer quickly even when the database hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Polled every few seconds by orchestrators: their requests are logged at debug only. The
/// paths of the two handlers' annotations below.
pub const PROBE_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

#[derive(Serialize, ToSchema)]
struct Status {
    #[schema(example = "ok")]
    status: &'static str,
}

errors!(HealthErrors:);

/// Liveness: the process is up and serving.
///
/// Says nothing about its dependencies.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Status), HealthErrors))]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

errors!(ReadyErrors: "unavailable");

/// Readiness: ready only while Postgres answers.
///
/// So traffic moves away from an instance that cannot log anyone in.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, description = "`{\"status\": \"ready\"}`", body = Status), ReadyErrors))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let ping = sqlx::query("SELECT 1").execute(&state.db);
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => Ok(Json(Status { status: "ready" })),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::Unavailable)
        }
        Err(_) => Err(ApiError::Unavailable),
    }
}
