//! Liveness and readiness, and the request id every response carries.

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::config::unreachable_database;
use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn healthy_and_ready_while_postgres_answers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({ "status": "ready" })
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn alive_but_not_ready_without_postgres(db: PgPool) {
    drop(db);
    let app = TestApp::spawn(unreachable_database()).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<Value>().await.unwrap(),
        json!({ "status": "ok" })
    );
    assert_error(app.get("/readyz").await, 503, "unavailable").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn every_response_carries_a_request_id(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let id = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    // Made up here when the client sends none: a fresh random UUID each time.
    let first = id(&app.get("/healthz").await);
    let second = id(&app.get("/healthz").await);
    for made_up in [&first, &second] {
        let uuid: Uuid = made_up.parse().expect("a UUID");
        assert_eq!(uuid.get_version_num(), 4, "{made_up}");
    }
    assert_ne!(first, second);
    // Passed back as it is when the client sends one.
    let given = app
        .send(
            app.http
                .get(app.url("/healthz"))
                .header("x-request-id", "trace-me-123"),
        )
        .await;
    assert_eq!(id(&given), "trace-me-123");
}
