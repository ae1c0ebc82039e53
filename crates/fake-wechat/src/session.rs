//! `GET /wxa/checksession` and `GET /wxa/resetusersessionkey`.
//!
//! Both prove knowledge of the user's current session_key without sending it: the signature is
//! the lowercase hex HMAC-SHA256 of the empty string, keyed with the session_key's base64 text.
//! A wrong signature, or one made with an old key, answers 87009.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::{reply, Shared};

const ERR_BAD_SIG_METHOD: i64 = 87008;
const ERR_BAD_SIGNATURE: i64 = 87009;

/// The signature WeChat expects for a request signed with `session_key`.
pub fn session_signature(session_key: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(session_key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(b"");
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the token, the method and the signature; answers the errcode on failure.
fn verify(shared: &Shared, params: &HashMap<String, String>) -> Result<String, i64> {
    let token = params.get("access_token").map(String::as_str);
    shared.tokens.lock().unwrap().check(token)?;
    if params.get("sig_method").map(String::as_str) != Some("hmac_sha256") {
        return Err(ERR_BAD_SIG_METHOD);
    }
    let openid = params.get("openid").ok_or(ERR_BAD_SIGNATURE)?;
    let current = shared.codes.lock().unwrap().session_key_of(openid);
    let expected = current.map(|key| session_signature(&key));
    match (expected, params.get("signature")) {
        (Some(expected), Some(given)) if expected == *given => Ok(openid.clone()),
        _ => Err(ERR_BAD_SIGNATURE),
    }
}

pub(crate) async fn check(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    shared.checksession_calls.fetch_add(1, Ordering::SeqCst);
    match verify(&shared, &params) {
        Ok(_) => reply::json(json!({ "errcode": 0, "errmsg": "ok" })),
        Err(errcode) => reply::error(errcode),
    }
}

pub(crate) async fn reset(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match verify(&shared, &params) {
        Ok(openid) => {
            let session_key = shared.codes.lock().unwrap().rotate_session_key(&openid);
            reply::json(json!({
                "errcode": 0,
                "errmsg": "ok",
                "openid": openid,
                "session_key": session_key,
            }))
        }
        Err(errcode) => reply::error(errcode),
    }
}
