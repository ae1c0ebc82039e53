//! A running wxlogin server and fake WeChat, with helpers that read like the API.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use fake_wechat::{FakeWechat, FakeWechatConfig};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;
use wxlogin_server::config::Config;
use wxlogin_server::wechat::RetryPolicy;

pub const APPID: &str = "wxtestappid000001";
pub const WECHAT_SECRET: &str = "wechat-app-secret-for-tests";
pub const JWT_SECRET: &str = "jwt-signing-secret-for-tests-0123456789";

pub struct TestApp {
    pub base_url: String,
    pub fake: FakeWechat,
    pub db: PgPool,
    pub http: reqwest::Client,
}

/// What a test may change about the server it gets.
pub struct Options {
    pub fake: FakeWechatConfig,
    /// Overrides for the server's environment variables.
    pub env: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fake: FakeWechatConfig::new(APPID, WECHAT_SECRET),
            env: Vec::new(),
        }
    }
}

impl TestApp {
    pub async fn spawn(db: PgPool) -> Self {
        Self::spawn_with(db, Options::default()).await
    }

    pub async fn spawn_with(db: PgPool, options: Options) -> Self {
        capture_logs();
        let fake = FakeWechat::start(options.fake).await;
        let base_url = start_server(&db, &fake, &options.env).await;
        Self {
            base_url,
            fake,
            db,
            http: reqwest::Client::new(),
        }
    }

    /// A server with these environment overrides and the default fake WeChat.
    pub async fn spawn_with_env(db: PgPool, env: Vec<(&'static str, String)>) -> Self {
        Self::spawn_with(
            db,
            Options {
                env,
                ..Options::default()
            },
        )
        .await
    }

    /// Another server instance on the same database and fake WeChat, with a cache of its own.
    pub async fn another_instance(&self, env: &[(&'static str, String)]) -> Self {
        Self {
            base_url: start_server(&self.db, &self.fake, env).await,
            fake: self.fake.clone(),
            db: self.db.clone(),
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// POSTs a login with `code`.
    pub async fn login(&self, code: &str) -> reqwest::Response {
        self.login_raw(json!({ "code": code }).to_string()).await
    }

    /// POSTs `body` as is to the login endpoint.
    pub async fn login_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(self.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("login request")
    }

    /// Logs `openid` in with a fresh code and returns the 200 body.
    pub async fn login_as(&self, openid: &str) -> Value {
        let response = self.login(&self.fake.issue_code(openid)).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn get_me(&self, token: &str) -> reqwest::Response {
        self.http
            .get(self.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("me request")
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }))
            .send()
            .await
            .expect("refresh request")
    }

    /// POSTs to an endpoint that takes only a bearer token, such as logout.
    pub async fn post_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn user_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

async fn start_server(
    db: &PgPool,
    fake: &FakeWechat,
    overrides: &[(&'static str, String)],
) -> String {
    let mut env: HashMap<&str, String> = HashMap::from([
        (
            "DATABASE_URL",
            "postgres://unused-the-pool-is-given".to_owned(),
        ),
        ("WECHAT_APPID", APPID.to_owned()),
        ("WECHAT_SECRET", WECHAT_SECRET.to_owned()),
        ("WECHAT_API_BASE", fake.base_url()),
        ("WECHAT_TIMEOUT_MS", "2000".to_owned()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
    ]);
    env.extend(overrides.iter().cloned());
    let config = Config::from_lookup(|name| env.get(name).cloned()).expect("test config");
    let state = wxlogin_server::build_state(&config, db.clone()).expect("state");
    // Keep retries of WeChat's "busy" quick so the tests that provoke it stay fast.
    let state = state.with_wechat_retry(RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(wxlogin_server::serve(
        listener,
        state,
        std::future::pending(),
    ));
    base_url
}

/// One named token of a login or refresh answer.
pub fn token<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

impl TestApp {
    /// Asserts that neither the access nor the refresh token of `pair` works any more.
    pub async fn assert_pair_dead(&self, pair: &Value) {
        assert_error(
            self.get_me(token(pair, "access_token")).await,
            401,
            "invalid_token",
        )
        .await;
        assert_error(
            self.refresh(token(pair, "refresh_token")).await,
            401,
            "invalid_token",
        )
        .await;
    }

    /// `GET /api/auth/sessions` as the holder of `pair`; asserts 200.
    pub async fn list_sessions(&self, pair: &Value) -> Value {
        let response = self
            .http
            .get(self.url("/api/auth/sessions"))
            .bearer_auth(token(pair, "access_token"))
            .send()
            .await
            .expect("sessions request");
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// `DELETE /api/auth/sessions/{session}` as the holder of `pair`.
    pub async fn end_session(&self, session: &str, pair: &Value) -> reqwest::Response {
        self.http
            .delete(self.url(&format!("/api/auth/sessions/{session}")))
            .bearer_auth(token(pair, "access_token"))
            .send()
            .await
            .expect("end session request")
    }

    /// Asserts that the access token of `pair` still works (its refresh token is left unused).
    pub async fn assert_access_live(&self, pair: &Value) {
        assert_eq!(self.get_me(token(pair, "access_token")).await.status(), 200);
    }
}

/// Asserts the wxlogin error shape, status and code, and returns the response's headers.
pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> reqwest::header::HeaderMap {
    let headers = response.headers().clone();
    let actual_status = response.status().as_u16();
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(actual_status, status, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "a human message is present: {body}"
    );
    assert!(body.get("access_token").is_none());
    headers
}

/// Everything any test in this binary logged, at every level, from every crate.
pub fn captured_logs() -> String {
    let buffer = LOGS.get().expect("logs are captured").lock().unwrap();
    String::from_utf8_lossy(&buffer).into_owned()
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn capture_logs() {
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = SharedWriter(buffer.clone());
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        buffer
    });
}

#[derive(Clone)]
struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
