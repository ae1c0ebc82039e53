//! `GET /sns/jscode2session`: a login code for openid, session_key and maybe unionid.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{WechatApi, WechatClient, WechatError, WechatSession};
use crate::domain::{Openid, WechatCode};

/// The success fields; errors were taken care of by [`super::response::read_answer`].
#[derive(Deserialize)]
pub(super) struct Answer {
    openid: Option<String>,
    session_key: Option<SecretString>,
    unionid: Option<String>,
}

impl WechatClient {
    /// Trades a login code for the user's WeChat session, retrying while WeChat is busy.
    /// Concurrent requests with the same code share one call and its answer.
    pub async fn code_to_session(&self, code: &WechatCode) -> Result<WechatSession, WechatError> {
        self.logins
            .run(code.as_str(), || {
                self.retry.run(|| self.code_to_session_once(code))
            })
            .await
    }

    async fn code_to_session_once(&self, code: &WechatCode) -> Result<WechatSession, WechatError> {
        let request = self.http.get(self.url(WechatApi::Jscode2session)).query(&[
            ("appid", self.config.appid.as_str()),
            ("secret", self.config.secret.expose_secret()),
            ("js_code", code.as_str()),
            ("grant_type", "authorization_code"),
        ]);
        session_from(self.answer(WechatApi::Jscode2session, request).await?)
    }
}

/// What WeChat vouched for in a success answer, or why it cannot be used.
pub(super) fn session_from(answer: Answer) -> Result<WechatSession, WechatError> {
    let (Some(openid), Some(session_key)) = (answer.openid, answer.session_key) else {
        return Err(WechatError::Malformed(
            "success without openid or session_key".into(),
        ));
    };
    if session_key.expose_secret().is_empty() {
        return Err(WechatError::Malformed(
            "success with an empty session_key".into(),
        ));
    }
    let openid = Openid::parse(openid)
        .map_err(|err| WechatError::Malformed(format!("jscode2session: {err}")))?;
    Ok(WechatSession {
        openid,
        unionid: answer.unionid.filter(|u| !u.is_empty()),
        session_key,
    })
}
