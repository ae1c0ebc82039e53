//! `/api/wechat/events`: WeChat's message push (消息推送), configured in the admin console with
//! this URL, `WECHAT_PUSH_TOKEN` and, for safe mode, `WECHAT_PUSH_AES_KEY`.
//!
//! - `GET`: the URL check WeChat makes when the settings are saved; the answer is `echostr`.
//! - `POST`: a JSON message. In plain mode `signature` vouches for the request; in safe mode the
//!   body is `{"Encrypt": ...}`, `msg_signature` vouches for it too, and the decrypted message
//!   must name our appid. With an EncodingAESKey configured only safe-mode messages are taken:
//!   plain mode's signature does not cover the body.
//!
//! A request whose signature is wrong or whose timestamp is more than five minutes away from
//! ours gets 401 `invalid_signature`; one that does not decrypt, names another app or is not a
//! message gets 400; none of them changes anything. What a good message does is decided in
//! [`crate::services::push_events`]. Without `WECHAT_PUSH_TOKEN` the endpoint does not exist.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::Value;

use crate::config::{push_aes_key_bytes, PushConfig};
use crate::error::ApiError;
use crate::services::push_events::{self, Received};
use crate::state::AppState;
use crate::wechat::push;

/// How far a request's timestamp may be from our clock, either way.
const TIMESTAMP_WINDOW_SECS: i64 = 5 * 60;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/wechat/events", get(verify_url).post(receive))
}

#[derive(Deserialize)]
struct Signed {
    signature: Option<String>,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    nonce: String,
    msg_signature: Option<String>,
    echostr: Option<String>,
}

fn query(signed: Result<Query<Signed>, QueryRejection>) -> Result<Signed, ApiError> {
    signed
        .map(|Query(signed)| signed)
        .map_err(|rejection| ApiError::InvalidRequest(rejection.body_text()))
}

fn push_config(state: &AppState) -> Result<&PushConfig, ApiError> {
    state.push.as_ref().ok_or(ApiError::NotFound)
}

/// The URL check: the signature over token, timestamp and nonce, answered with `echostr`.
async fn verify_url(
    State(state): State<AppState>,
    signed: Result<Query<Signed>, QueryRejection>,
) -> Result<Response, ApiError> {
    let config = push_config(&state)?;
    let signed = query(signed)?;
    check_request_signature(config, &signed)?;
    let echostr = signed
        .echostr
        .ok_or_else(|| ApiError::InvalidRequest("`echostr` is required".into()))?;
    Ok(plain_text(echostr))
}

async fn receive(
    State(state): State<AppState>,
    signed: Result<Query<Signed>, QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = push_config(&state)?;
    let signed = query(signed)?;
    let message = match &config.aes_key {
        None => {
            check_request_signature(config, &signed)?;
            body.to_vec()
        }
        Some(aes_key) => {
            check_fresh(&signed.timestamp)?;
            let encrypted = encrypted_field(&body)?;
            let given = signed.msg_signature.as_deref().unwrap_or_default();
            let expected = push::signature(&[
                config.token.expose_secret(),
                &signed.timestamp,
                &signed.nonce,
                &encrypted,
            ]);
            if !push::signature_matches(&expected, given) {
                return Err(ApiError::InvalidSignature);
            }
            let key = push_aes_key_bytes(aes_key.expose_secret())
                .ok_or_else(|| ApiError::internal("WECHAT_PUSH_AES_KEY was checked at start"))?;
            push::decrypt(&key, &encrypted, state.wechat.appid()).map_err(|err| {
                tracing::warn!(error = %err, "WeChat push message refused");
                ApiError::InvalidRequest(err.to_string())
            })?
        }
    };
    let received = push_events::receive(
        &state.db,
        state.wechat.appid(),
        &message,
        &signed.timestamp,
        &signed.nonce,
    )
    .await?;
    if received == Received::Handled {
        tracing::debug!("WeChat push message handled");
    }
    // WeChat's acknowledgement: anything else makes it retry.
    Ok(plain_text("success".to_owned()))
}

/// Plain mode's, and the URL check's, signature: over token, timestamp and nonce.
fn check_request_signature(config: &PushConfig, signed: &Signed) -> Result<(), ApiError> {
    check_fresh(&signed.timestamp)?;
    let expected = push::signature(&[
        config.token.expose_secret(),
        &signed.timestamp,
        &signed.nonce,
    ]);
    let given = signed.signature.as_deref().unwrap_or_default();
    if push::signature_matches(&expected, given) {
        Ok(())
    } else {
        Err(ApiError::InvalidSignature)
    }
}

/// A timestamp within five minutes of ours: a captured request cannot be replayed later.
fn check_fresh(timestamp: &str) -> Result<(), ApiError> {
    let sent: i64 = timestamp.parse().map_err(|_| ApiError::InvalidSignature)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if now.abs_diff(sent) > TIMESTAMP_WINDOW_SECS as u64 {
        tracing::warn!(
            skew_secs = now.saturating_sub(sent),
            "WeChat push with a stale timestamp refused"
        );
        return Err(ApiError::InvalidSignature);
    }
    Ok(())
}

/// The `Encrypt` (or, in some of WeChat's JSON, `encrypt`) field of a safe-mode body.
fn encrypted_field(body: &[u8]) -> Result<String, ApiError> {
    let fields: Value = serde_json::from_slice(body).map_err(|_| {
        ApiError::InvalidRequest("a safe-mode push body must be JSON with `Encrypt`".into())
    })?;
    ["Encrypt", "encrypt"]
        .iter()
        .find_map(|name| fields.get(name).and_then(Value::as_str))
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::InvalidRequest("a safe-mode push body must carry `Encrypt`".into())
        })
}

fn plain_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}
