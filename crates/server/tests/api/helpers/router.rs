//! The fast tier: the real router driven in-process with `oneshot`, with no socket and no fake
//! WeChat.
//!
//! WeChat is configured at a loopback port nothing listens on, so a request that gets as far as
//! calling WeChat answers 502 `upstream_error`. Any other answer proves the request was settled
//! before WeChat was asked.

use axum::body::{to_bytes, Body};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{request, Request};
use axum::Router;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use super::config::{test_state, APPID, JWT_SECRET};
use super::logs::capture_logs;
use super::reply::Reply;
use super::tokens::{claims, sign};

/// Where the fast tier's WeChat would be: port 1 refuses every connection at once.
const UNREACHABLE_WECHAT: &str = "http://127.0.0.1:1";

/// The router of one server, on the test's database.
pub struct TestRouter {
    router: Router,
    pub db: PgPool,
}

/// A user with a live session, and an access token for it.
pub struct SignedIn {
    pub user_id: Uuid,
    pub session_id: Uuid,
    pub token: String,
}

impl TestRouter {
    pub fn new(db: PgPool) -> Self {
        Self::with_env(db, &[])
    }

    /// A router configured with these environment overrides.
    pub fn with_env(db: PgPool, overrides: &[(&'static str, String)]) -> Self {
        capture_logs();
        let state = test_state(db.clone(), UNREACHABLE_WECHAT, overrides);
        Self {
            router: wxlogin_server::app(state),
            db,
        }
    }

    /// Sends `request` through the router and reads the whole response.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let asked = format!("{} {}", request.method(), request.uri());
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router never fails");
        let (parts, body) = response.into_parts();
        let reply = Reply {
            request: asked,
            status: parts.status,
            headers: parts.headers,
            body: to_bytes(body, usize::MAX).await.expect("response body"),
        };
        reply.assert_documented(Some(method.as_str()), &path);
        reply
    }

    /// Every path the router routes, read from its `Debug`, which prints axum's path table
    /// (`node: Node { paths: {RouteId(..): "/path", ..} }`); the fallback router's own table
    /// comes after `fallback_router` and is left out.
    pub fn routed_paths(&self) -> Vec<String> {
        let debug = format!("{:?}", self.router);
        let routes = debug
            .split("fallback_router")
            .next()
            .expect("split yields at least one part");
        let table = &routes[routes.find("paths: {").expect("axum prints its path table")..];
        table
            .split("): \"")
            .skip(1)
            .map(|rest| rest.split('"').next().expect("a closing quote").to_owned())
            .collect()
    }

    /// Sends `body` labelled as JSON, with `token` as the bearer token when given.
    pub async fn send_json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: impl Into<String>,
    ) -> Reply {
        let body = body.into();
        let mut builder = request(method, path);
        if let Some(token) = token {
            builder = builder.bearer(token);
        }
        let mut reply = self.send(builder.json(body.clone())).await;
        let shown: String = body.chars().take(160).collect();
        reply.request = format!("{} {shown:?}", reply.request);
        reply
    }

    /// A user with a live session, written straight to the database (the fast tier has no
    /// WeChat to log in with), and an HS256 token for it as the server would sign it.
    pub async fn sign_in(&self, openid: &str) -> SignedIn {
        let (user_id, session_id) = self.seed_session(openid).await;
        SignedIn {
            user_id,
            session_id,
            token: sign(&claims(user_id, session_id), JWT_SECRET),
        }
    }

    /// A user `openid` (created if new) with a new live session; returns both ids.
    pub async fn seed_session(&self, openid: &str) -> (Uuid, Uuid) {
        let user_id: Uuid = sqlx::query_scalar(
            "INSERT INTO users (appid, openid) VALUES ($1, $2)
             ON CONFLICT (appid, openid) DO UPDATE SET openid = EXCLUDED.openid
             RETURNING id",
        )
        .bind(APPID)
        .bind(openid)
        .fetch_one(&self.db)
        .await
        .unwrap();
        let session_id: Uuid = sqlx::query_scalar(
            "INSERT INTO sessions (id, user_id, expires_at)
             VALUES (gen_random_uuid(), $1, now() + interval '30 days') RETURNING id",
        )
        .bind(user_id)
        .fetch_one(&self.db)
        .await
        .unwrap();
        (user_id, session_id)
    }

    /// How many rows `table` holds.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

/// Starts a request to `path`.
pub fn request(method: &str, path: &str) -> request::Builder {
    Request::builder().method(method).uri(path)
}

/// Finishing touches for a request started with [`request`].
pub trait RequestExt {
    /// Adds `Authorization: Bearer <token>`.
    fn bearer(self, token: &str) -> Self;
    /// Finishes with `body`, labelled as JSON whether or not it is.
    fn json(self, body: impl Into<Body>) -> Request<Body>;
    /// Finishes with `body` under this content type.
    fn body_as(self, content_type: &str, body: impl Into<Body>) -> Request<Body>;
    /// Finishes with no body.
    fn empty(self) -> Request<Body>;
}

impl RequestExt for request::Builder {
    fn bearer(self, token: &str) -> Self {
        self.header(AUTHORIZATION, format!("Bearer {token}"))
    }

    fn json(self, body: impl Into<Body>) -> Request<Body> {
        self.body_as("application/json", body)
    }

    fn body_as(self, content_type: &str, body: impl Into<Body>) -> Request<Body> {
        self.header(CONTENT_TYPE, content_type)
            .body(body.into())
            .expect("a valid request")
    }

    fn empty(self) -> Request<Body> {
        self.body(Body::empty()).expect("a valid request")
    }
}
