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

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::config::{push_aes_key_bytes, PushConfig};
use crate::error::ApiError;
use crate::http::extract::{ApiBytes, ApiQuery};
use crate::http::openapi::{errors, ApiRouter};
use crate::services::push_events::{self, Received};
use crate::state::AppState;
use crate::wechat::push;

/// How far a request's timestamp may be from our clock, either way.
const TIMESTAMP_WINDOW_SECS: i64 = 5 * 60;

pub fn router() -> ApiRouter {
    ApiRouter::new().routes(routes!(verify_url, receive))
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

fn push_config(state: &AppState) -> Result<&PushConfig, ApiError> {
    state.push.as_ref().ok_or(ApiError::NotFound)
}

/// The query parameters WeChat signs every request with, as the document describes them.
const SIGNATURE: &str = "SHA-1 of `WECHAT_PUSH_TOKEN`, `timestamp` and `nonce`, sorted and joined";
const TIMESTAMP: &str = "Unix seconds; refused when more than five minutes from the server's clock";
const NONCE: &str = "WeChat's random string";

errors!(VerifyUrlErrors: "not_found", "invalid_request", "invalid_signature");

/// The URL check WeChat makes when the push settings are saved.
///
/// Called by WeChat, with no bearer token: `signature`, over `WECHAT_PUSH_TOKEN`, `timestamp`
/// and `nonce`, vouches for the request. The answer is `echostr`.
/// Without `WECHAT_PUSH_TOKEN` configured the endpoint answers 404 `not_found`.
#[utoipa::path(get, path = "/api/wechat/events", tag = "wechat-push", operation_id = "verify_push_url",
    security(()),
    params(
        ("signature" = Option<String>, Query, description = SIGNATURE),
        ("timestamp" = Option<String>, Query, description = TIMESTAMP),
        ("nonce" = Option<String>, Query, description = NONCE),
        ("echostr" = Option<String>, Query, description = "Echoed back when the signature is right"),
    ),
    responses(
        (status = 200, description = "`echostr`, as sent", body = String, content_type = "text/plain"),
        VerifyUrlErrors,
    ))]
async fn verify_url(
    State(state): State<AppState>,
    // Read after the configuration check, so that an unconfigured endpoint is a 404 whatever
    // its query.
    signed: Result<ApiQuery<Signed>, ApiError>,
) -> Result<Response, ApiError> {
    let config = push_config(&state)?;
    let ApiQuery(signed) = signed?;
    check_request_signature(config, &signed)?;
    let echostr = signed
        .echostr
        .ok_or_else(|| ApiError::InvalidRequest("`echostr` is required".into()))?;
    Ok(plain_text(echostr))
}

/// A message WeChat pushes: a plain-mode message, or safe mode's encrypted one.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PushBody {
    Plain(PlainMessage),
    Safe(SafeModeMessage),
}

/// A plain-mode message, WeChat's JSON event (e.g. `wxa_media_check`, the result of an avatar's
/// image check) with the fields of its kind next to these. Events other than the ones handled are
/// acknowledged and ignored.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct PlainMessage {
    /// The mini program's original id.
    #[serde(rename = "ToUserName")]
    to_user_name: String,
    #[serde(rename = "FromUserName")]
    from_user_name: String,
    /// Unix seconds.
    #[serde(rename = "CreateTime")]
    create_time: i64,
    #[schema(example = "event")]
    #[serde(rename = "MsgType")]
    msg_type: String,
    #[schema(example = "wxa_media_check")]
    #[serde(rename = "Event")]
    event: Option<String>,
    /// Must be the server's appid when present.
    appid: Option<String>,
}

/// A safe-mode message: the plain message, AES-encrypted with `WECHAT_PUSH_AES_KEY` and naming
/// the server's appid once decrypted.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
struct SafeModeMessage {
    #[serde(rename = "ToUserName")]
    to_user_name: Option<String>,
    /// Base64 of the encrypted message (also accepted as `encrypt`).
    #[serde(rename = "Encrypt")]
    encrypt: String,
}

errors!(ReceiveErrors: "not_found", "invalid_request", "invalid_signature",
    "payload_too_large", "request_timeout", "unavailable");

/// A message WeChat pushes.
///
/// Called by WeChat, with no bearer token: its signature vouches for the request. In plain mode `signature` vouches for the request (over `WECHAT_PUSH_TOKEN`, `timestamp` and
/// `nonce`); in safe mode, when `WECHAT_PUSH_AES_KEY` is set, only encrypted messages are taken
/// and `msg_signature` vouches for them (over the token, `timestamp`, `nonce` and `Encrypt`).
/// A message seen before is acknowledged and not handled again. Without `WECHAT_PUSH_TOKEN`
/// configured the endpoint answers 404 `not_found`.
#[utoipa::path(post, path = "/api/wechat/events", tag = "wechat-push", operation_id = "receive_push",
    security(()),
    params(
        ("signature" = Option<String>, Query, description = SIGNATURE),
        ("timestamp" = Option<String>, Query, description = TIMESTAMP),
        ("nonce" = Option<String>, Query, description = NONCE),
        ("msg_signature" = Option<String>, Query,
            description = "Safe mode: SHA-1 of `WECHAT_PUSH_TOKEN`, `timestamp`, `nonce` and `Encrypt`, sorted and joined"),
        ("encrypt_type" = Option<String>, Query,
            description = "`aes` in safe mode; the server goes by its own configuration, not this"),
    ),
    request_body(content = PushBody, content_type = "application/json"),
    responses(
        (status = 200, description = "`success`: WeChat's acknowledgement; any other answer makes it retry",
            body = String, content_type = "text/plain", example = "success"),
        ReceiveErrors,
    ))]
async fn receive(
    State(state): State<AppState>,
    // Read after the configuration check, so that an unconfigured endpoint is a 404 whatever
    // its query.
    signed: Result<ApiQuery<Signed>, ApiError>,
    ApiBytes(body): ApiBytes,
) -> Result<Response, ApiError> {
    let config = push_config(&state)?;
    let ApiQuery(signed) = signed?;
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
