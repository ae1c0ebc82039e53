//! `GET /sns/jscode2session`: trades a login code for openid, session_key and maybe unionid.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::{Fault, OVERSIZED_PADDING};
use crate::{reply, Shared};

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if let Some(fault) = shared.faults.next_call() {
        return serve_fault(fault).await;
    }
    let delay = *shared.jscode2session_delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Err(errcode) = check_credentials(&shared, &params) {
        return reply::error(errcode);
    }
    if params.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return reply::error(40002);
    }
    let Some(code) = params.get("js_code").filter(|code| !code.is_empty()) else {
        return reply::error(41008);
    };
    let redeemed = shared.codes.lock().unwrap().redeem(code);
    match redeemed {
        Ok((identity, session_key)) => {
            // Real WeChat omits `unionid` unless the app is bound to an Open Platform account,
            // and omits `errcode` on success.
            let mut body = json!({ "openid": identity.openid, "session_key": session_key });
            if let Some(unionid) = identity.unionid {
                body["unionid"] = json!(unionid);
            }
            reply::json(body)
        }
        Err(errcode) => reply::error(errcode),
    }
}

fn check_credentials(shared: &Shared, params: &HashMap<String, String>) -> Result<(), i64> {
    let config = &shared.config;
    match params.get("appid") {
        None => return Err(41002),
        Some(appid) if *appid != config.appid => return Err(40013),
        Some(_) => {}
    }
    match params.get("secret") {
        None => Err(41004),
        Some(secret) if *secret != config.secret => Err(40125),
        Some(_) => Ok(()),
    }
}

pub(crate) async fn serve_fault(fault: Fault) -> Response {
    match fault {
        Fault::Errcode(errcode) => reply::error(errcode),
        Fault::ServerError => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "<html><body>500 Internal Server Error</body></html>",
        )
            .into_response(),
        Fault::Garbage => (StatusCode::OK, "<html>upstream maintenance</html>").into_response(),
        Fault::Hang => std::future::pending().await,
        Fault::Oversized => oversized(),
    }
}

/// An errcode answer behind megabytes of white space, streamed in chunks with no length given.
fn oversized() -> Response {
    const CHUNK: usize = 64 * 1024;
    let padding = (0..OVERSIZED_PADDING / CHUNK).map(|_| Ok::<_, Infallible>(vec![b' '; CHUNK]));
    let answer = serde_json::json!({ "errcode": 40029, "errmsg": "invalid code" }).to_string();
    let chunks = padding.chain(std::iter::once(Ok(answer.into_bytes())));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(futures::stream::iter(chunks)),
    )
        .into_response()
}
