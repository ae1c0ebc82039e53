//! The HTTP tier: a wxlogin server on a real port with the fake WeChat on another, and helpers
//! that read like the API.

use fake_wechat::{FakeWechat, FakeWechatConfig, PhoneNumber};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::TcpListener;

use super::config::{test_config, APPID, WECHAT_SECRET};
use super::logs::capture_logs;
use super::reply::assert_error;
use super::tokens::token;
use super::uploads::{multipart_content_type, multipart_file};

/// Stands for the server's own base URL in an environment override, such as `PUBLIC_BASE_URL`,
/// which cannot be known before the server has its port.
pub const SELF_URL: &str = "http://wxlogin-test-self";

pub struct TestApp {
    pub base_url: String,
    /// Where this instance serves `GET /metrics`, apart from `base_url`.
    pub metrics_url: String,
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
        let (base_url, metrics_url) = start_server(&db, &fake, &options.env).await;
        Self {
            base_url,
            metrics_url,
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
        let (base_url, metrics_url) = start_server(&self.db, &self.fake, env).await;
        Self {
            base_url,
            metrics_url,
            fake: self.fake.clone(),
            db: self.db.clone(),
            http: reqwest::Client::new(),
        }
    }

    /// Sends a request to this server; only a failure to get any answer panics.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> reqwest::Response {
        request.send().await.expect("an answer from the server")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// GETs `path` without a token.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(self.http.get(self.url(path)).bearer_auth(token))
            .await
    }

    /// POSTs to an endpoint that takes only a bearer token, such as logout.
    pub async fn post_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(self.http.post(self.url(path)).bearer_auth(token))
            .await
    }

    /// POSTs a login with `code`.
    pub async fn login(&self, code: &str) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/auth/login"))
                .json(&json!({ "code": code })),
        )
        .await
    }

    /// Logs `openid` in with a fresh code and returns the 200 body.
    pub async fn login_as(&self, openid: &str) -> Value {
        let response = self.login(&self.fake.issue_code(openid)).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Logs `openid` in from a device that sends `user_agent`, or none, and returns the 200 body.
    pub async fn login_from_device(&self, openid: &str, user_agent: Option<&str>) -> Value {
        let mut request = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&json!({ "code": self.fake.issue_code(openid) }));
        if let Some(agent) = user_agent {
            request = request.header("user-agent", agent);
        }
        let response = self.send(request).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Logs `openid` in and returns its access token.
    pub async fn token_for(&self, openid: &str) -> String {
        token(&self.login_as(openid).await, "access_token").to_owned()
    }

    pub async fn get_me(&self, token: &str) -> reqwest::Response {
        self.get_bearer("/api/me", token).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/auth/refresh"))
                .json(&json!({ "refresh_token": refresh_token })),
        )
        .await
    }

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

    /// Asserts that the access token of `pair` still works (its refresh token is left unused).
    pub async fn assert_access_live(&self, pair: &Value) {
        assert_eq!(self.get_me(token(pair, "access_token")).await.status(), 200);
    }

    /// `GET /api/auth/sessions` as the holder of `pair`; asserts 200.
    pub async fn list_sessions(&self, pair: &Value) -> Value {
        let response = self
            .get_bearer("/api/auth/sessions", token(pair, "access_token"))
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// `DELETE /api/auth/sessions/{session}` as the holder of `pair`.
    pub async fn end_session(&self, session: &str, pair: &Value) -> reqwest::Response {
        self.send(
            self.http
                .delete(self.url(&format!("/api/auth/sessions/{session}")))
                .bearer_auth(token(pair, "access_token")),
        )
        .await
    }

    pub async fn post_phone(&self, token: &str, body: Value) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/me/phone"))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// Binds `phone` to `openid`'s account with a fresh button code.
    pub async fn bind_phone(
        &self,
        token: &str,
        openid: &str,
        phone: PhoneNumber,
        change: bool,
    ) -> reqwest::Response {
        let code = self.fake.issue_phone_code(openid, phone);
        self.post_phone(token, json!({ "code": code, "change": change }))
            .await
    }

    pub async fn patch_me(&self, token: &str, body: Value) -> reqwest::Response {
        self.send(
            self.http
                .patch(self.url("/api/me"))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// Uploads `bytes` as the avatar file named `file_name`.
    pub async fn upload_avatar(
        &self,
        token: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/me/avatar"))
                .bearer_auth(token)
                .header("content-type", multipart_content_type())
                .body(multipart_file("file", file_name, bytes)),
        )
        .await
    }

    pub async fn decrypt(&self, token: &str, encrypted_data: &str, iv: &str) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/wechat/decrypt"))
                .bearer_auth(token)
                .json(&json!({ "encrypted_data": encrypted_data, "iv": iv })),
        )
        .await
    }

    pub async fn user_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM users")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// The WeChat access token the servers share, as stored.
    pub async fn stored_access_token(&self) -> Option<String> {
        sqlx::query_scalar("SELECT access_token FROM wechat_access_tokens")
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }
}

/// Serves the app on a free loopback port, and its metrics on another, until the test's runtime
/// ends; returns the app's base URL and the metrics URL. [`SELF_URL`] in an override's value
/// stands for the server's own base URL.
async fn start_server(
    db: &PgPool,
    fake: &FakeWechat,
    overrides: &[(&'static str, String)],
) -> (String, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let overrides: Vec<_> = overrides
        .iter()
        .map(|(name, value)| (*name, value.replace(SELF_URL, &base_url)))
        .collect();
    let config = test_config(&fake.base_url(), &overrides);
    let state = wxlogin_server::build_state(&config, db.clone()).expect("state");
    let metrics_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let metrics_url = format!("http://{}/metrics", metrics_listener.local_addr().unwrap());
    tokio::spawn(wxlogin_server::serve_metrics(
        metrics_listener,
        &state,
        config.connections,
    ));
    tokio::spawn(wxlogin_server::serve(
        listener,
        state,
        config.connections,
        std::future::pending(),
    ));
    (base_url, metrics_url)
}
