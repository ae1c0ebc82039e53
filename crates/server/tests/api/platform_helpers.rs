//! Helpers for the tests of WeChat platform calls, the profile and encrypted data.

use aes::Aes128;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use fake_wechat::PhoneNumber;
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub fn token_of(login: &Value) -> String {
    login["access_token"].as_str().expect("a token").to_owned()
}

impl TestApp {
    /// Logs `openid` in and returns its bearer token.
    pub async fn token_for(&self, openid: &str) -> String {
        token_of(&self.login_as(openid).await)
    }

    pub async fn post_phone(&self, token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/me/phone"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("phone request")
    }

    /// Binds `phone` to `openid`'s account with a fresh button code.
    pub async fn bind_phone(
        &self,
        token: &str,
        openid: &str,
        phone: PhoneNumber,
        change: bool,
    ) -> reqwest::Response {
        let code = self.fake.issue_phone_code(openid, phone);
        self.post_phone(token, json!({ "code": code, "change": change }))
            .await
    }

    pub async fn patch_me(&self, token: &str, body: Value) -> reqwest::Response {
        self.http
            .patch(self.url("/api/me"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("patch request")
    }

    /// Uploads `bytes` the way `wx.uploadFile` does: multipart with the file under `name` and a
    /// text field next to it.
    pub async fn upload_avatar(
        &self,
        token: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let (content_type, body) = multipart_file("file", file_name, bytes);
        self.http
            .post(self.url("/api/me/avatar"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("upload request")
    }

    pub async fn decrypt(&self, token: &str, encrypted_data: &str, iv: &str) -> reqwest::Response {
        self.http
            .post(self.url("/api/wechat/decrypt"))
            .bearer_auth(token)
            .json(&json!({ "encrypted_data": encrypted_data, "iv": iv }))
            .send()
            .await
            .expect("decrypt request")
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// The WeChat access token the servers share, as stored.
    pub async fn stored_access_token(&self) -> Option<String> {
        sqlx::query_scalar("SELECT access_token FROM wechat_access_tokens")
            .fetch_optional(&self.db)
            .await
            .unwrap()
    }
}

pub const BOUNDARY: &str = "----wxlogin-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with one text field and one file part.
pub fn multipart_file(field: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\navatar\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// Encrypts `plaintext` the way WeChat encrypts user data, returning it as base64.
pub fn encrypt(session_key: &str, iv: &[u8; 16], plaintext: &[u8]) -> String {
    let key: [u8; 16] = STANDARD
        .decode(session_key)
        .unwrap()
        .try_into()
        .expect("a session_key is 16 bytes");
    let mut buffer = plaintext.to_vec();
    buffer.resize(plaintext.len() + 16, 0);
    let ciphertext = cbc::Encryptor::<Aes128>::new(&key.into(), iv.into())
        .encrypt_padded_mut::<Pkcs7>(&mut buffer, plaintext.len())
        .unwrap();
    STANDARD.encode(ciphertext)
}

pub fn china(pure: &str) -> PhoneNumber {
    PhoneNumber::new("86", pure)
}
