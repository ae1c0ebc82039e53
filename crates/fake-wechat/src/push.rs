//! WeChat's message push, from WeChat's side: messages signed and, in safe mode, encrypted the
//! way WeChat does it, and delivered to the URL set in the (fake) admin console.
//!
//! Plain mode: `signature` = SHA-1 hex of the sorted Token, timestamp and nonce, in the query; the
//! JSON message is the body. Safe mode: the body is `{"ToUserName", "Encrypt"}`, where `Encrypt`
//! is AES-256-CBC under the EncodingAESKey (IV its first 16 bytes, PKCS#7 padding to 32-byte
//! blocks) of 16 random bytes, the message's length (4 bytes, big-endian), the message and the
//! appid; `msg_signature` also covers the encrypted text, and `encrypt_type=aes` says so.

use aes::Aes256;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::Engine;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use serde_json::json;
use sha1::{Digest, Sha1};

/// What the admin console's message push settings say.
#[derive(Debug, Clone)]
pub struct PushTarget {
    /// The URL messages are POSTed to.
    pub url: String,
    /// The Token.
    pub token: String,
    /// The EncodingAESKey (43 characters) for safe mode; `None` for plain mode.
    pub encoding_aes_key: Option<String>,
}

/// A push request as WeChat sends it: the query string's parameters and the body.
#[derive(Debug, Clone)]
pub struct SignedPush {
    pub query: Vec<(String, String)>,
    pub body: String,
}

impl PushTarget {
    /// Signs (and in safe mode encrypts) `message` for `appid`, sent at `timestamp` with `nonce`.
    pub fn sign(&self, appid: &str, message: &str, timestamp: i64, nonce: &str) -> SignedPush {
        let timestamp = timestamp.to_string();
        let signature = sha1_sorted(&[&self.token, &timestamp, nonce]);
        let mut query = vec![
            ("signature".to_owned(), signature),
            ("timestamp".to_owned(), timestamp.clone()),
            ("nonce".to_owned(), nonce.to_owned()),
        ];
        let Some(aes_key) = &self.encoding_aes_key else {
            return SignedPush {
                query,
                body: message.to_owned(),
            };
        };
        let encrypted = encrypt(&aes_key_bytes(aes_key), message.as_bytes(), appid);
        let msg_signature = sha1_sorted(&[&self.token, &timestamp, nonce, &encrypted]);
        query.push(("encrypt_type".to_owned(), "aes".to_owned()));
        query.push(("msg_signature".to_owned(), msg_signature));
        SignedPush {
            query,
            body: json!({ "ToUserName": FAKE_ORIGINAL_ID, "Encrypt": encrypted }).to_string(),
        }
    }

    /// The URL-verification request WeChat makes when the settings are saved.
    pub fn verification_query(
        &self,
        timestamp: i64,
        nonce: &str,
        echostr: &str,
    ) -> Vec<(String, String)> {
        let timestamp = timestamp.to_string();
        vec![
            (
                "signature".to_owned(),
                sha1_sorted(&[&self.token, &timestamp, nonce]),
            ),
            ("timestamp".to_owned(), timestamp),
            ("nonce".to_owned(), nonce.to_owned()),
            ("echostr".to_owned(), echostr.to_owned()),
        ]
    }
}

/// The mini program's original id (`gh_...`), which WeChat puts in `ToUserName`.
pub const FAKE_ORIGINAL_ID: &str = "gh_fake00000000";

/// SHA-1 hex of `parts`, sorted and concatenated.
pub fn sha1_sorted(parts: &[&str]) -> String {
    let mut parts = parts.to_vec();
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat()))
}

/// Whether `encoding_aes_key` is one the admin console could have made: 43 characters of base64.
pub fn is_encoding_aes_key(encoding_aes_key: &str) -> bool {
    decode_aes_key(encoding_aes_key).is_some()
}

fn decode_aes_key(encoding_aes_key: &str) -> Option<[u8; 32]> {
    // The console's keys are 43 random characters: the last one's spare bits are rarely zero.
    let lenient = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    if encoding_aes_key.len() != 43 {
        return None;
    }
    lenient
        .decode(format!("{encoding_aes_key}="))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
}

/// The 32 bytes an EncodingAESKey stands for. Panics on a malformed key: a test's mistake.
fn aes_key_bytes(encoding_aes_key: &str) -> [u8; 32] {
    decode_aes_key(encoding_aes_key).expect("an EncodingAESKey is 43 characters of base64")
}

/// WeChat's safe-mode envelope around `message`, as base64.
fn encrypt(key: &[u8; 32], message: &[u8], appid: &str) -> String {
    const BLOCK: usize = 32;
    let prefix: [u8; 16] = rand::random();
    let mut plain = prefix.to_vec();
    plain.extend_from_slice(
        &u32::try_from(message.len())
            .expect("a small message")
            .to_be_bytes(),
    );
    plain.extend_from_slice(message);
    plain.extend_from_slice(appid.as_bytes());
    let pad = BLOCK - plain.len() % BLOCK;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let iv: [u8; 16] = key[..16].try_into().expect("16 of 32 bytes");
    cbc::Encryptor::<Aes256>::new(key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .expect("whole blocks");
    STANDARD.encode(plain)
}

/// A random nonce shaped like WeChat's: digits.
pub fn nonce() -> String {
    format!("{}", rand::random::<u32>())
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(key: Option<&str>) -> PushTarget {
        PushTarget {
            url: "http://127.0.0.1:1/events".into(),
            token: "Token123".into(),
            encoding_aes_key: key.map(str::to_owned),
        }
    }

    #[test]
    fn plain_pushes_carry_the_message_and_its_signature() {
        let signed = target(None).sign("wxapp", r#"{"Event":"x"}"#, 1_700_000_000, "42");
        assert_eq!(signed.body, r#"{"Event":"x"}"#);
        assert_eq!(signed.query[0].0, "signature");
        assert_eq!(
            signed.query[0].1,
            sha1_sorted(&["Token123", "1700000000", "42"])
        );
        assert_eq!(signed.query.len(), 3);
    }

    #[test]
    fn safe_pushes_are_encrypted_in_whole_32_byte_blocks_and_signed_over_the_text() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFx";
        assert!(is_encoding_aes_key(key));
        assert!(!is_encoding_aes_key(&key[1..]));
        let signed = target(Some(key)).sign("wxapp", r#"{"Event":"x"}"#, 1_700_000_000, "42");
        let body: serde_json::Value = serde_json::from_str(&signed.body).unwrap();
        let encrypted = body["Encrypt"].as_str().unwrap();
        assert_eq!(STANDARD.decode(encrypted).unwrap().len() % 32, 0);
        let msg_signature = &signed
            .query
            .iter()
            .find(|(k, _)| k == "msg_signature")
            .unwrap()
            .1;
        assert_eq!(
            *msg_signature,
            sha1_sorted(&["Token123", "1700000000", "42", encrypted])
        );
        assert!(signed
            .query
            .contains(&("encrypt_type".into(), "aes".into())));
    }
}
