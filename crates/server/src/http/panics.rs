//! A handler that panics still answers: 500 with the standard error body, logged once.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::with_layers;
use crate::config::Config;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_handler_answers_500_internal_and_is_logged_once() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let env = [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none"),
        ("WECHAT_APPID", "wxpanictest000000"),
        ("WECHAT_SECRET", "secret"),
        ("JWT_SECRET", "a-signing-secret-of-at-least-32-bytes"),
        (
            "SESSION_KEY_SECRET",
            "a-sealing-secret-of-at-least-32-bytes",
        ),
    ];
    let config = Config::from_lookup(|name| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| (*value).to_owned())
    })
    .unwrap();
    let db = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let state = crate::build_state(&config, db).unwrap();
    let routes = Router::new().route(
        "/boom",
        get(|| async {
            // A value to answer with gives the handler its type; the panic comes first.
            let fuse: Vec<&str> = Vec::new();
            fuse.first()
                .copied()
                .unwrap_or_else(|| panic!("the fuse was lit"))
        }),
    );
    let metrics = state.metrics.clone();
    let app = with_layers(routes, metrics).with_state(state);

    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value =
        serde_json::from_slice(&to_bytes(response.into_body(), usize::MAX).await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "error": { "code": "internal", "message": "internal error" } })
    );
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let errors: Vec<&str> = logs.lines().filter(|line| line.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{logs}");
    assert!(
        errors[0].contains("handler panicked: the fuse was lit"),
        "{logs}"
    );
}
