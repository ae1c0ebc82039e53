//! WeChat calls made with the app's access token: stable_token itself, the phone number,
//! checksession and resetusersessionkey.
//!
//! These calls only talk to WeChat. Which token to use, and when to get a new one, is decided by
//! [`crate::services::access_token`]. The access token travels in query strings like the app secret does,
//! so the same rule holds: no URL built here reaches a log line or an error.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;

use super::{WechatApi, WechatClient, WechatError};
use crate::domain::{Openid, PhoneNumber, WechatCode};

/// WeChat's answer for a checksession or reset signed with a key it no longer accepts.
const ERR_INVALID_SIGNATURE: i64 = 87009;

/// An access token and how many seconds WeChat says it has left.
pub struct StableToken {
    pub token: SecretString,
    pub expires_in: u64,
}

/// `phone_info` as WeChat sends it; parsed into a [`PhoneNumber`] before it leaves this module.
#[derive(Deserialize)]
struct PhoneInfo {
    #[serde(rename = "purePhoneNumber")]
    pure_phone_number: String,
    #[serde(rename = "countryCode")]
    country_code: String,
}

impl WechatError {
    /// Whether WeChat refused the access token the call carried: 40001 (invalid, or not the
    /// latest) or 42001 (expired). Either may be cured by a new token.
    pub fn is_token_rejected(&self) -> bool {
        matches!(
            self,
            WechatError::Other {
                errcode: 40001 | 42001,
                ..
            }
        )
    }
}

impl WechatClient {
    /// `POST /cgi-bin/stable_token`. The secret goes in the JSON body, not the URL.
    pub async fn stable_token(&self, force_refresh: bool) -> Result<StableToken, WechatError> {
        let body = json!({
            "grant_type": "client_credential",
            "appid": self.config.appid,
            "secret": self.config.secret.expose_secret(),
            "force_refresh": force_refresh,
        });
        let answer: StableTokenAnswer = self
            .retry
            .run(|| async {
                let request = self
                    .http
                    .post(self.url(WechatApi::StableToken))
                    .body(body.to_string());
                self.answer(WechatApi::StableToken, request).await
            })
            .await?;
        stable_token_from(answer)
    }

    /// `POST /wxa/business/getuserphonenumber`, binding the code to `openid` so that a code
    /// obtained by one user cannot reveal a number to another.
    ///
    /// Not retried on "busy" beyond the usual policy: a busy answer is not billed, a success is.
    pub async fn phone_number(
        &self,
        token: &SecretString,
        code: &WechatCode,
        openid: &Openid,
    ) -> Result<PhoneNumber, WechatError> {
        let body = json!({ "code": code.as_str(), "openid": openid.as_str() }).to_string();
        let answer: PhoneAnswer = self
            .retry
            .run(|| async {
                let request = self
                    .http
                    .post(self.url(WechatApi::GetUserPhoneNumber))
                    .query(&[("access_token", token.expose_secret())])
                    .body(body.clone());
                self.answer(WechatApi::GetUserPhoneNumber, request).await
            })
            .await?;
        phone_from(answer)
    }

    /// `GET /wxa/checksession`: whether WeChat still accepts `session_key` for `openid`.
    pub async fn check_session(
        &self,
        token: &SecretString,
        openid: &Openid,
        session_key: &SecretString,
    ) -> Result<bool, WechatError> {
        let signature = session_signature(session_key);
        let result: Result<serde_json::Value, _> = self
            .retry
            .run(|| self.signed_get(WechatApi::CheckSession, token, openid, &signature))
            .await;
        session_valid(result)
    }

    /// `GET /wxa/resetusersessionkey`: replaces the user's session_key with a new one, which it
    /// returns. WeChat requires a signature made with the current key, so this only works while
    /// `session_key` is still valid; `Ok(None)` says it was not.
    pub async fn reset_session_key(
        &self,
        token: &SecretString,
        openid: &Openid,
        session_key: &SecretString,
    ) -> Result<Option<SecretString>, WechatError> {
        let signature = session_signature(session_key);
        // Not retried: a reset that WeChat performed but whose answer was lost would be repeated
        // with a key that no longer works.
        reset_key_from(
            self.signed_get(WechatApi::ResetUserSessionKey, token, openid, &signature)
                .await,
        )
    }

    async fn signed_get<T: DeserializeOwned>(
        &self,
        api: WechatApi,
        token: &SecretString,
        openid: &Openid,
        signature: &str,
    ) -> Result<T, WechatError> {
        let request = self.http.get(self.url(api)).query(&[
            ("access_token", token.expose_secret()),
            ("openid", openid.as_str()),
            ("signature", signature),
            ("sig_method", "hmac_sha256"),
        ]);
        self.answer(api, request).await
    }
}

/// stable_token's success fields.
#[derive(Deserialize)]
pub(super) struct StableTokenAnswer {
    access_token: Option<SecretString>,
    expires_in: Option<u64>,
}

pub(super) fn stable_token_from(answer: StableTokenAnswer) -> Result<StableToken, WechatError> {
    match (answer.access_token, answer.expires_in) {
        (Some(token), Some(expires_in)) if !token.expose_secret().is_empty() => {
            Ok(StableToken { token, expires_in })
        }
        _ => Err(WechatError::Malformed(
            "stable_token success without access_token or expires_in".into(),
        )),
    }
}

/// getuserphonenumber's success fields.
#[derive(Deserialize)]
pub(super) struct PhoneAnswer {
    phone_info: Option<PhoneInfo>,
}

pub(super) fn phone_from(answer: PhoneAnswer) -> Result<PhoneNumber, WechatError> {
    let info = answer
        .phone_info
        .ok_or_else(|| WechatError::Malformed("success without phone_info".into()))?;
    PhoneNumber::parse(info.pure_phone_number, info.country_code)
        .map_err(|err| WechatError::Malformed(err.to_string()))
}

/// checksession's answer: any success means valid; a refused signature means not.
pub(super) fn session_valid(
    answer: Result<serde_json::Value, WechatError>,
) -> Result<bool, WechatError> {
    match answer {
        Ok(_) => Ok(true),
        Err(WechatError::Other {
            errcode: ERR_INVALID_SIGNATURE,
            ..
        }) => Ok(false),
        Err(err) => Err(err),
    }
}

/// resetusersessionkey's success fields.
#[derive(Deserialize)]
pub(super) struct ResetAnswer {
    session_key: Option<SecretString>,
}

pub(super) fn reset_key_from(
    answer: Result<ResetAnswer, WechatError>,
) -> Result<Option<SecretString>, WechatError> {
    match answer {
        Ok(ResetAnswer {
            session_key: Some(key),
        }) if !key.expose_secret().is_empty() => Ok(Some(key)),
        Ok(_) => Err(WechatError::Malformed(
            "reset success without session_key".into(),
        )),
        Err(WechatError::Other {
            errcode: ERR_INVALID_SIGNATURE,
            ..
        }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The user-state signature WeChat asks for: lowercase hex HMAC-SHA256 of the request body (the
/// empty string for a GET), keyed with the session_key's base64 text itself, not its bytes.
fn session_signature(session_key: &SecretString) -> String {
    signature_over(session_key, b"")
}

fn signature_over(session_key: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(session_key.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_wechats_published_example() {
        // From WeChat's "user login state signature" documentation.
        let key = SecretString::from("o0q0otL8aEzpcZL/FT9WsQ==");
        assert_eq!(
            signature_over(&key, br#"{"foo":"bar"}"#),
            "654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b"
        );
    }

    #[test]
    fn the_session_signature_is_keyed_with_the_base64_text_not_its_bytes() {
        use base64::Engine;
        let text = "o0q0otL8aEzpcZL/FT9WsQ==";
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap();
        let mut by_bytes = Hmac::<Sha256>::new_from_slice(&bytes).unwrap();
        by_bytes.update(b"");
        let signature = session_signature(&SecretString::from(text));
        assert_eq!(signature.len(), 64);
        assert_ne!(signature, hex::encode(by_bytes.finalize().into_bytes()));
        assert_eq!(signature, signature_over(&SecretString::from(text), b""));
    }

    #[test]
    fn only_40001_and_42001_count_as_a_rejected_token() {
        let other = |errcode| WechatError::Other {
            errcode,
            errmsg: String::new(),
        };
        assert!(other(40001).is_token_rejected());
        assert!(other(42001).is_token_rejected());
        assert!(!other(40029).is_token_rejected());
        assert!(!WechatError::RateLimited.is_token_rejected());
    }
}
