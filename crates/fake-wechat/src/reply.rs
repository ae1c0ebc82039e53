//! Answers shaped like WeChat's: JSON bodies sent as `text/plain`, errors with HTTP 200.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// A JSON body with WeChat's habitual `text/plain` content type.
pub(crate) fn json(body: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        body.to_string(),
    )
        .into_response()
}

/// An error the way WeChat sends one: HTTP 200, `errcode` and an `errmsg` with a request id.
pub(crate) fn error(errcode: i64) -> Response {
    let rid: u32 = rand::random();
    json(serde_json::json!({
        "errcode": errcode,
        "errmsg": format!("{}, rid: {rid:08x}", errmsg(errcode)),
    }))
}

fn errmsg(errcode: i64) -> &'static str {
    match errcode {
        -1 => "system error",
        40013 => "invalid appid",
        40125 => "invalid appsecret",
        40029 => "invalid code",
        40163 => "code been used",
        40226 => "high risk user",
        40001 => "invalid credential, access_token is invalid or not latest",
        40002 => "invalid grant_type",
        41001 => "access_token missing",
        42001 => "access_token expired",
        45009 => "reach max api daily quota limit",
        47001 => "data format error",
        40097 => "invalid args",
        40169 => "invalid length for scene, or the data is not json string",
        41030 => "invalid page rid",
        87008 => "invalid sig_method",
        87009 => "invalid signature",
        40003 => "invalid openid",
        40129 => "invalid scene",
        43104 => "appid does not match openid",
        48001 => "api unauthorized",
        61010 => "user is not active in the last 2 hours",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41008 => "missing code",
        45011 => "api minute-quota reach limit mustslower retry next minute",
        _ => "error",
    }
}
