//! WeChat's security APIs, all made with the app's access token: `msg_sec_check` (text),
//! `media_check_async` (images, answered later by a push event) and `getuserriskrank`.
//!
//! Like every call here they only talk to WeChat; what a verdict leads to is decided by
//! [`crate::services::content_checks`] and [`crate::services::signup_risk`].

use std::net::IpAddr;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::calls::WechatApi;
use super::{WechatClient, WechatError};
use crate::domain::Openid;

/// msg_sec_check's scene for profile data (nicknames); 2 is comments, 3 forums, 4 social logs.
pub const SCENE_PROFILE: u8 = 1;
/// media_check_async's media type for an image (1 is audio).
const MEDIA_TYPE_IMAGE: u8 = 2;
/// getuserriskrank's scene for a registration (1 is marketing).
const RISK_SCENE_SIGNUP: u8 = 0;

/// WeChat's advice about a piece of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suggest {
    Pass,
    Review,
    Risky,
}

/// msg_sec_check's answer, and a `wxa_media_check` event's.
#[derive(Debug, Clone, Deserialize)]
pub struct Verdict {
    pub suggest: Suggest,
    /// 100 normal, 10001 ads, 20001 politics, 20002 porn, 20003 abuse, ... 21000 other.
    pub label: i64,
}

/// A text check's verdict with the trace_id WeChat files it under.
#[derive(Debug, Clone)]
pub struct TextCheck {
    pub verdict: Verdict,
    pub trace_id: String,
}

#[derive(Deserialize)]
struct TextAnswer {
    trace_id: Option<String>,
    result: Option<Verdict>,
}

#[derive(Deserialize)]
struct MediaAnswer {
    trace_id: Option<String>,
}

#[derive(Deserialize)]
struct RiskAnswer {
    risk_rank: Option<u8>,
}

impl WechatClient {
    /// `POST /wxa/msg_sec_check` (version 2): WeChat's verdict on `content` written by `openid`.
    pub async fn check_text(
        &self,
        token: &SecretString,
        openid: &Openid,
        scene: u8,
        content: &str,
    ) -> Result<TextCheck, WechatError> {
        let body = json!({
            "version": 2,
            "openid": openid.as_str(),
            "scene": scene,
            "content": content,
        });
        let answer: TextAnswer = self
            .post_with_token(WechatApi::MsgSecCheck, token, &body)
            .await?;
        match (answer.result, answer.trace_id) {
            (Some(verdict), Some(trace_id)) => Ok(TextCheck { verdict, trace_id }),
            _ => Err(WechatError::Malformed(
                "msg_sec_check success without result or trace_id".into(),
            )),
        }
    }

    /// `POST /wxa/media_check_async` (version 2) for the image at `media_url`, which WeChat
    /// downloads; returns the trace_id its verdict will carry.
    pub async fn submit_image_check(
        &self,
        token: &SecretString,
        openid: &Openid,
        media_url: &str,
    ) -> Result<String, WechatError> {
        let body = json!({
            "media_url": media_url,
            "media_type": MEDIA_TYPE_IMAGE,
            "version": 2,
            "openid": openid.as_str(),
            "scene": SCENE_PROFILE,
        });
        let answer: MediaAnswer = self
            .post_with_token(WechatApi::MediaCheckAsync, token, &body)
            .await?;
        answer.trace_id.filter(|id| !id.is_empty()).ok_or_else(|| {
            WechatError::Malformed("media_check_async success without trace_id".into())
        })
    }

    /// `POST /wxa/getuserriskrank` for a registration by `openid` from `client_ip`: 0 (no risk)
    /// to 4.
    pub async fn signup_risk_rank(
        &self,
        token: &SecretString,
        openid: &Openid,
        client_ip: IpAddr,
    ) -> Result<u8, WechatError> {
        let body = json!({
            "appid": self.config.appid,
            "openid": openid.as_str(),
            "scene": RISK_SCENE_SIGNUP,
            "client_ip": client_ip.to_canonical().to_string(),
        });
        let answer: RiskAnswer = self
            .post_with_token(WechatApi::GetUserRiskRank, token, &body)
            .await?;
        answer
            .risk_rank
            .filter(|rank| *rank <= 4)
            .ok_or_else(|| WechatError::Malformed("getuserriskrank success without a rank".into()))
    }

    /// A JSON POST with the access token in the query, retried while WeChat is busy: every call
    /// here may be repeated without harm.
    async fn post_with_token<T: DeserializeOwned>(
        &self,
        api: WechatApi,
        token: &SecretString,
        body: &Value,
    ) -> Result<T, WechatError> {
        let body = body.to_string();
        self.retry
            .run(|| async {
                let request = self
                    .http
                    .post(self.url(api))
                    .query(&[("access_token", token.expose_secret())])
                    .body(body.clone());
                self.answer(api, request).await
            })
            .await
    }
}
