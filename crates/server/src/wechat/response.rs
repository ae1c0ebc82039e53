//! Reading any WeChat answer: the one place that knows how WeChat reports success and failure.
//!
//! WeChat reports errors inside HTTP 200 answers, often labelled `text/plain`, so a 200 is never
//! taken for a success on its own: the body is read as JSON whatever its headers say, and a
//! non-zero `errcode` becomes a [`WechatError`]. A body is read up to [`MAX_ANSWER_BYTES`] and no
//! further: whoever answers in WeChat's place cannot make this server buffer without end.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::WechatError;

/// The largest answer read. WeChat's largest legitimate answer is a mini-program code image,
/// which stays well under a megabyte; every JSON answer is a few hundred bytes.
pub(super) const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

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
    let body = read_capped(response).await?;
    parse_answer(&body)
}

/// Sends `request` for an image: WeChat answers the image's bytes, or an error as JSON in an
/// HTTP 200 answer. The bytes count as the image only if they are a PNG; anything else is read
/// as an answer that must carry a non-zero `errcode`.
pub(super) async fn read_png_answer(
    request: reqwest::RequestBuilder,
) -> Result<Vec<u8>, WechatError> {
    let response = request.send().await?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(WechatError::HttpStatus(status.as_u16()));
    }
    let body = read_capped(response).await?;
    parse_png_answer(body)
}

pub(super) const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Reads an image answer's body: a PNG, or a JSON error. Pure, for the fuzz tests.
pub(super) fn parse_png_answer(body: Vec<u8>) -> Result<Vec<u8>, WechatError> {
    if body.starts_with(PNG_SIGNATURE) {
        return Ok(body);
    }
    // A JSON body without an error is no image either.
    parse_answer::<serde_json::Value>(&body)?;
    Err(WechatError::Malformed(
        "neither an image nor an error".into(),
    ))
}

/// The body, read chunk by chunk and given up on as soon as it passes [`MAX_ANSWER_BYTES`],
/// whatever `Content-Length` claimed.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, WechatError> {
    let too_large = || WechatError::Malformed(format!("answer over {MAX_ANSWER_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_ANSWER_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads the body of an HTTP 200 answer: JSON, with `errcode` 0 or absent, as `T`. Pure, so that
/// every answer can be fuzzed without a server.
pub(super) fn parse_answer<T: DeserializeOwned>(body: &[u8]) -> Result<T, WechatError> {
    let head: Status = serde_json::from_slice(body)
        .map_err(|err| WechatError::Malformed(format!("not JSON: {err}")))?;
    if head.errcode != 0 {
        return Err(classify(head.errcode, head.errmsg));
    }
    serde_json::from_slice(body).map_err(|err| WechatError::Malformed(err.to_string()))
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
