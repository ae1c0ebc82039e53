//! Privacy consent, content checks, WeChat's message push and the sign-up risk check: the
//! settings that turn them on, and requests as the mini program and WeChat send them.

use fake_wechat::{PushTarget, SignedPush};
use serde_json::{json, Value};

use super::server::{TestApp, SELF_URL};

/// The message push Token and EncodingAESKey set in the (fake) admin console.
pub const PUSH_TOKEN: &str = "wxloginPushToken2024";
pub const PUSH_AES_KEY: &str = "kP3vXq9ZtR7wLm2NcY5bH8dJ4fG6sA1eU0iO3pQ7rTx";

/// Where the push endpoint is.
pub const EVENTS: &str = "/api/wechat/events";

/// The server settings for message push, in safe mode when `safe`.
pub fn push_env(safe: bool) -> Vec<(&'static str, String)> {
    let mut env = vec![("WECHAT_PUSH_TOKEN", PUSH_TOKEN.to_owned())];
    if safe {
        env.push(("WECHAT_PUSH_AES_KEY", PUSH_AES_KEY.to_owned()));
    }
    env
}

/// Avatars are checked when WeChat can download them from the server itself.
pub fn avatar_check_env() -> Vec<(&'static str, String)> {
    vec![("PUBLIC_BASE_URL", SELF_URL.to_owned())]
}

impl TestApp {
    /// The push settings for this server, in safe mode when `safe`.
    pub fn push_target(&self, safe: bool) -> PushTarget {
        PushTarget {
            url: self.url(EVENTS),
            token: PUSH_TOKEN.to_owned(),
            encoding_aes_key: safe.then(|| PUSH_AES_KEY.to_owned()),
        }
    }

    /// Points the fake WeChat's message push at this server.
    pub fn connect_push(&self, safe: bool) {
        self.fake.set_push_target(self.push_target(safe));
    }

    /// POSTs a push request as WeChat would send it.
    pub async fn send_push(&self, push: &SignedPush) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url(EVENTS))
                .query(&push.query)
                .header("content-type", "application/json")
                .body(push.body.clone()),
        )
        .await
    }

    pub async fn post_consent(&self, token: &str, body: Value) -> reqwest::Response {
        self.send(
            self.http
                .post(self.url("/api/me/consents"))
                .bearer_auth(token)
                .header("user-agent", "WeChat/8.0.50 MiniProgram")
                .json(&body),
        )
        .await
    }

    pub async fn set_nickname(&self, token: &str, nickname: &str) -> reqwest::Response {
        self.patch_me(token, json!({ "nickname": nickname })).await
    }

    /// The nickname stored for `openid`.
    pub async fn stored_nickname(&self, openid: &str) -> Option<String> {
        sqlx::query_scalar("SELECT nickname FROM users WHERE openid = $1")
            .bind(openid)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Rows in `table`, one of the tables these tests look into.
    pub async fn count_rows(&self, table: &str) -> i64 {
        assert!(
            [
                "users",
                "sessions",
                "avatars",
                "avatar_media_checks",
                "privacy_consents",
                "wechat_push_receipts",
                "phone_lookup_days",
            ]
            .contains(&table),
            "{table} is not a table these tests count"
        );
        sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }
}

/// A `wxa_media_check` event as WeChat pushes it.
pub fn media_check_event(appid: &str, trace_id: &str, suggest: &str) -> String {
    json!({
        "ToUserName": "gh_fake00000000",
        "FromUserName": "o-system",
        "CreateTime": now(),
        "MsgType": "event",
        "Event": "wxa_media_check",
        "appid": appid,
        "trace_id": trace_id,
        "version": 2,
        "errcode": 0,
        "errmsg": "ok",
        "result": { "suggest": suggest, "label": if suggest == "pass" { 100 } else { 20002 } },
    })
    .to_string()
}

/// Now, in Unix seconds, as push timestamps are.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
