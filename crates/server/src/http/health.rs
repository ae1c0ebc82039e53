//! Liveness and readiness probes for orchestrators and load balancers.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::state::AppState;

/// A readiness probe must answer quickly even when the database hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Polled every few seconds by orchestrators: their requests are logged at debug only.
pub const PROBE_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

pub fn router() -> Router<AppState> {
    let [live, ready] = PROBE_ROUTES;
    Router::new()
        .route(live, get(healthz))
        .route(ready, get(readyz))
}

/// The process is up and serving; says nothing about its dependencies.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready only while Postgres answers, so traffic moves away from an instance that cannot log
/// anyone in.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let ping = sqlx::query("SELECT 1").execute(&state.db);
    match tokio::time::timeout(READY_TIMEOUT, ping).await {
        Ok(Ok(_)) => Ok(Json(json!({ "status": "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness check failed");
            Err(ApiError::Unavailable)
        }
        Err(_) => Err(ApiError::Unavailable),
    }
}
