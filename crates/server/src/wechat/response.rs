//! Reading any WeChat answer: the one place that knows how WeChat reports success and failure.
//!
//! WeChat reports errors inside HTTP 200 answers, often labelled `text/plain`, so a 200 is never
//! taken for a success on its own: the body is read as JSON whatever its headers say, and a
//! non-zero `errcode` becomes a [`WechatError`].

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::WechatError;

/// The errcode and errmsg every WeChat answer may carry next to its data.
#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

/// Sends `request` and reads WeChat's answer: HTTP 200 and a JSON body whatever its content
/// type, with `errcode` 0 or absent, deserialized as `T`.
pub(super) async fn read_answer<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, WechatError> {
    let response = request.send().await?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(WechatError::HttpStatus(status.as_u16()));
    }
    // Deliberately not `response.json()`: WeChat labels JSON as text/plain.
    let body = response.bytes().await?;
    let head: Status = serde_json::from_slice(&body)
        .map_err(|err| WechatError::Malformed(format!("not JSON: {err}")))?;
    if head.errcode != 0 {
        return Err(classify(head.errcode, head.errmsg));
    }
    serde_json::from_slice(&body).map_err(|err| WechatError::Malformed(err.to_string()))
}

/// Classifies a WeChat `errcode` that is not 0.
fn classify(errcode: i64, errmsg: String) -> WechatError {
    match errcode {
        40029 | 40163 => WechatError::InvalidCode(errcode),
        40226 => WechatError::UserBlocked,
        45011 => WechatError::RateLimited,
        -1 => WechatError::Busy { attempts: 1 },
        40013 | 40125 | 41002 | 41004 => WechatError::BadCredentials { errcode, errmsg },
        _ => WechatError::Other { errcode, errmsg },
    }
}
