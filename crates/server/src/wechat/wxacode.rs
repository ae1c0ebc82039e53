//! `POST /wxa/getwxacodeunlimit`: the mini-program code that opens a page with a `scene`, for
//! scan-to-login. The answer is the PNG itself, or an error as JSON.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::calls::WechatApi;
use super::{WechatClient, WechatError};

/// WeChat's answer for a page the chosen version of the mini program does not have.
pub const ERR_PAGE_NOT_PUBLISHED: i64 = 41030;
/// WeChat's answer for a scene that is too long or holds characters it does not allow.
pub const ERR_SCENE_INVALID: i64 = 40169;

/// What the code opens.
pub struct CodeRequest<'a> {
    pub scene: &'a str,
    /// A page path without a leading slash, such as `pages/qr-login/index`.
    pub page: &'a str,
    /// `release`, `trial` or `develop`.
    pub env_version: &'a str,
    /// Pixels; WeChat accepts 280 to 1280.
    pub width: u32,
}

impl WechatClient {
    /// Draws the code. `check_path` is asked only of the released version: WeChat checks pages
    /// against the published version, which a trial or develop page need not be in yet.
    ///
    /// Not retried on "busy" beyond the usual policy; the caller keeps the image, so a ticket
    /// costs one call however often it is shown.
    pub async fn mini_program_code(
        &self,
        token: &SecretString,
        code: &CodeRequest<'_>,
    ) -> Result<Vec<u8>, WechatError> {
        let body = json!({
            "scene": code.scene,
            "page": code.page,
            "check_path": code.env_version == "release",
            "env_version": code.env_version,
            "width": code.width,
        })
        .to_string();
        self.retry
            .run(|| async {
                let request = self
                    .http
                    .post(self.url(WechatApi::GetWxacodeUnlimit))
                    .query(&[("access_token", token.expose_secret())])
                    .body(body.clone());
                self.png_answer(WechatApi::GetWxacodeUnlimit, request).await
            })
            .await
    }
}
