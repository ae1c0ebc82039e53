//! `GET /sns/jscode2session`: a login code for openid, session_key and maybe unionid.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{classify, WechatClient, WechatError, WechatSession};
use crate::domain::LoginCode;

/// Every field optional: WeChat mixes success and error fields in one shape.
#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    openid: Option<String>,
    session_key: Option<SecretString>,
    unionid: Option<String>,
}

impl WechatClient {
    /// Trades a login code for the user's WeChat session, retrying while WeChat is busy.
    pub async fn code_to_session(&self, code: &LoginCode) -> Result<WechatSession, WechatError> {
        self.retry.run(|| self.code_to_session_once(code)).await
    }

    async fn code_to_session_once(&self, code: &LoginCode) -> Result<WechatSession, WechatError> {
        let response = self
            .http
            .get(format!("{}/sns/jscode2session", self.config.api_base))
            .query(&[
                ("appid", self.config.appid.as_str()),
                ("secret", self.config.secret.expose_secret()),
                ("js_code", code.as_str()),
                ("grant_type", "authorization_code"),
            ])
            .send()
            .await?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(WechatError::HttpStatus(status.as_u16()));
        }
        // Deliberately not `response.json()`: WeChat labels JSON as text/plain.
        let body = response.bytes().await?;
        let answer: Answer = serde_json::from_slice(&body)
            .map_err(|err| WechatError::Malformed(format!("not JSON: {err}")))?;
        if answer.errcode != 0 {
            return Err(classify(answer.errcode, answer.errmsg));
        }
        match (answer.openid, answer.session_key) {
            (Some(openid), Some(session_key))
                if !openid.is_empty() && !session_key.expose_secret().is_empty() =>
            {
                Ok(WechatSession {
                    openid,
                    unionid: answer.unionid.filter(|u| !u.is_empty()),
                    session_key,
                })
            }
            _ => Err(WechatError::Malformed(
                "success without openid or session_key".into(),
            )),
        }
    }
}
