//! WeChat's encrypted user data (`wx.getWeRunData`, `wx.getShareInfo`, ...).
//!
//! Pure functions, no I/O. The data is AES-128-CBC under the user's session_key with PKCS#7
//! padding, and every field travels as standard base64. The errors are told apart because the
//! client has to act differently on each: a '+' turned into a space is a bug in how the client
//! sent the data; padding that does not verify means the session_key has moved on (the user
//! logged in again since WeChat encrypted the data) and the client must log in, then ask WeChat
//! for the data again.
//!
//! Nothing here logs, and no error carries key material or plaintext.

use aes::Aes128;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};

const BLOCK: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("`{field}` has spaces where base64 has '+': it was URL-decoded on the way; send it as is in a JSON body")]
    SpacesInBase64 { field: &'static str },
    #[error("`{field}` is not valid base64")]
    BadBase64 { field: &'static str },
    #[error("`iv` must decode to 16 bytes")]
    BadIvLength,
    #[error("`encrypted_data` is not a whole number of AES blocks: it was damaged or cut short")]
    BadCiphertextLength,
    #[error("the stored session_key is not a 16-byte base64 key")]
    BadKey,
    /// The padding did not verify: the data was encrypted under another session_key.
    #[error("the data does not decrypt under the stored session_key")]
    BadPadding,
    /// The padding happened to verify but the result is not JSON: also another session_key.
    #[error("the data decrypts to something that is not JSON")]
    NotJson,
    #[error("the decrypted data is not a JSON object")]
    NotAnObject,
    #[error("the decrypted data carries no watermark")]
    NoWatermark,
    #[error("the data's watermark names another app")]
    ForeignWatermark,
}

impl CryptoError {
    /// Whether the session_key is to blame rather than the data sent.
    pub fn means_stale_key(&self) -> bool {
        matches!(self, Self::BadKey | Self::BadPadding | Self::NotJson)
    }
}

/// Strict standard base64, naming the '+'-became-space accident when it is the cause.
pub fn decode_base64(field: &'static str, text: &str) -> Result<Vec<u8>, CryptoError> {
    if text.contains(' ') {
        return Err(CryptoError::SpacesInBase64 { field });
    }
    STANDARD
        .decode(text)
        .map_err(|_| CryptoError::BadBase64 { field })
}

/// Decrypts `encrypted_data` with `session_key` and `iv` (all base64 text, as WeChat gives them)
/// and checks PKCS#7 padding strictly: every padding byte must carry the padding length.
pub fn decrypt(
    session_key: &SecretString,
    encrypted_data: &str,
    iv: &str,
) -> Result<Vec<u8>, CryptoError> {
    let key = STANDARD
        .decode(session_key.expose_secret())
        .map_err(|_| CryptoError::BadKey)?;
    let key: [u8; BLOCK] = key.try_into().map_err(|_| CryptoError::BadKey)?;
    let iv: [u8; BLOCK] = decode_base64("iv", iv)?
        .try_into()
        .map_err(|_| CryptoError::BadIvLength)?;
    let mut data = decode_base64("encrypted_data", encrypted_data)?;
    if data.is_empty() || data.len() % BLOCK != 0 {
        return Err(CryptoError::BadCiphertextLength);
    }
    let plaintext_len = cbc::Decryptor::<Aes128>::new(&key.into(), &iv.into())
        .decrypt_padded_mut::<Pkcs7>(&mut data)
        .map_err(|_| CryptoError::BadPadding)?
        .len();
    data.truncate(plaintext_len);
    Ok(data)
}

/// Decrypts user data and checks that its watermark names `appid`: data encrypted for another
/// mini program must not be accepted as ours.
pub fn decrypt_user_data(
    session_key: &SecretString,
    encrypted_data: &str,
    iv: &str,
    appid: &str,
) -> Result<Map<String, Value>, CryptoError> {
    let plaintext = decrypt(session_key, encrypted_data, iv)?;
    let value: Value = serde_json::from_slice(&plaintext).map_err(|_| CryptoError::NotJson)?;
    let Value::Object(object) = value else {
        return Err(CryptoError::NotAnObject);
    };
    match object
        .get("watermark")
        .and_then(|watermark| watermark.get("appid"))
        .and_then(Value::as_str)
    {
        None => Err(CryptoError::NoWatermark),
        Some(owner) if owner != appid => Err(CryptoError::ForeignWatermark),
        Some(_) => Ok(object),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::BlockEncryptMut;

    const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
    const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
    const APPID: &str = "wx4f4bc4dec97d474b";

    fn key() -> SecretString {
        SecretString::from(KEY)
    }

    /// Encrypts the way WeChat does, independently of the code under test.
    fn encrypt(key: &str, iv: &str, plaintext: &[u8]) -> String {
        let key: [u8; 16] = STANDARD.decode(key).unwrap().try_into().unwrap();
        let iv: [u8; 16] = STANDARD.decode(iv).unwrap().try_into().unwrap();
        let mut buffer = plaintext.to_vec();
        buffer.resize(plaintext.len() + BLOCK, 0);
        let ciphertext = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_mut::<Pkcs7>(&mut buffer, plaintext.len())
            .unwrap();
        STANDARD.encode(ciphertext)
    }

    /// Encrypts `blocks` as they are, with no padding added, so tests can craft bad padding.
    fn encrypt_raw(blocks: &[u8]) -> String {
        let key: [u8; 16] = STANDARD.decode(KEY).unwrap().try_into().unwrap();
        let iv: [u8; 16] = STANDARD.decode(IV).unwrap().try_into().unwrap();
        let mut buffer = blocks.to_vec();
        let ciphertext = cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_mut::<cbc::cipher::block_padding::NoPadding>(&mut buffer, blocks.len())
            .unwrap();
        STANDARD.encode(ciphertext)
    }

    fn user_data(appid: &str) -> String {
        format!(
            r#"{{"stepInfoList":[{{"timestamp":1445866601,"step":100}}],"watermark":{{"appid":"{appid}","timestamp":1477314187}}}}"#
        )
    }

    #[test]
    fn a_round_trip_returns_the_object_as_it_was() {
        let encrypted = encrypt(KEY, IV, user_data(APPID).as_bytes());
        let object = decrypt_user_data(&key(), &encrypted, IV, APPID).unwrap();
        assert_eq!(object["stepInfoList"][0]["step"], 100);
        assert_eq!(
            Value::Object(object),
            serde_json::from_str::<Value>(&user_data(APPID)).unwrap()
        );
    }

    #[test]
    fn every_plaintext_length_round_trips_including_whole_blocks() {
        for len in 0..=48 {
            let plaintext = vec![b'x'; len];
            let encrypted = encrypt(KEY, IV, &plaintext);
            assert_eq!(decrypt(&key(), &encrypted, IV).unwrap(), plaintext, "{len}");
        }
    }

    #[test]
    fn another_key_is_reported_as_stale() {
        let encrypted = encrypt("AAAAAAAAAAAAAAAAAAAAAA==", IV, user_data(APPID).as_bytes());
        let err = decrypt_user_data(&key(), &encrypted, IV, APPID).unwrap_err();
        assert!(err.means_stale_key(), "{err:?}");
    }

    #[test]
    fn padding_is_checked_strictly() {
        let mut block = [b'a'; 16];
        // Claims 3 bytes of padding but only the last one says so.
        block[15] = 3;
        assert_eq!(
            decrypt(&key(), &encrypt_raw(&block), IV),
            Err(CryptoError::BadPadding)
        );
        // Zero is never a valid padding length, nor is anything above 16.
        block[15] = 0;
        assert_eq!(
            decrypt(&key(), &encrypt_raw(&block), IV),
            Err(CryptoError::BadPadding)
        );
        block[15] = 17;
        assert_eq!(
            decrypt(&key(), &encrypt_raw(&block), IV),
            Err(CryptoError::BadPadding)
        );
        // Three bytes of 3 is fine.
        block[13..].copy_from_slice(&[3, 3, 3]);
        assert_eq!(
            decrypt(&key(), &encrypt_raw(&block), IV).unwrap(),
            &block[..13]
        );
    }

    #[test]
    fn valid_padding_over_garbage_is_still_a_stale_key() {
        let mut block = [0xC3u8; 16];
        block[15] = 1;
        let err = decrypt_user_data(&key(), &encrypt_raw(&block), IV, APPID).unwrap_err();
        assert_eq!(err, CryptoError::NotJson);
        assert!(err.means_stale_key());
    }

    #[test]
    fn plus_turned_into_space_is_named() {
        let encrypted = encrypt(KEY, IV, user_data(APPID).as_bytes());
        assert!(encrypted.contains('+') || encrypted.contains('/'));
        let mangled = format!("{} ", &encrypted[..encrypted.len() - 1]);
        let err = decrypt(&key(), &mangled, IV).unwrap_err();
        assert_eq!(
            err,
            CryptoError::SpacesInBase64 {
                field: "encrypted_data"
            }
        );
        assert!(err.to_string().contains("'+'"));
        let err = decrypt(&key(), &encrypted, "r7BXXKkLb8qrSNn05n0qiA== ").unwrap_err();
        assert_eq!(err, CryptoError::SpacesInBase64 { field: "iv" });
    }

    #[test]
    fn damaged_input_is_refused_before_decrypting() {
        let encrypted = encrypt(KEY, IV, user_data(APPID).as_bytes());
        assert_eq!(
            decrypt(&key(), "not*base64", IV),
            Err(CryptoError::BadBase64 {
                field: "encrypted_data"
            })
        );
        assert_eq!(
            decrypt(&key(), &encrypted, "AAAA"),
            Err(CryptoError::BadIvLength)
        );
        let short = STANDARD.encode(&STANDARD.decode(&encrypted).unwrap()[..20]);
        assert_eq!(
            decrypt(&key(), &short, IV),
            Err(CryptoError::BadCiphertextLength)
        );
        assert_eq!(
            decrypt(&key(), "", IV),
            Err(CryptoError::BadCiphertextLength)
        );
        assert_eq!(
            decrypt(&SecretString::from("c2hvcnQ="), &encrypted, IV),
            Err(CryptoError::BadKey)
        );
    }

    #[test]
    fn a_watermark_for_another_app_or_none_is_refused() {
        let foreign = encrypt(KEY, IV, user_data("wxsomeoneelse00000").as_bytes());
        assert_eq!(
            decrypt_user_data(&key(), &foreign, IV, APPID),
            Err(CryptoError::ForeignWatermark)
        );
        let unmarked = encrypt(KEY, IV, br#"{"openGId":"x"}"#);
        assert_eq!(
            decrypt_user_data(&key(), &unmarked, IV, APPID),
            Err(CryptoError::NoWatermark)
        );
        let array = encrypt(KEY, IV, b"[1,2]");
        assert_eq!(
            decrypt_user_data(&key(), &array, IV, APPID),
            Err(CryptoError::NotAnObject)
        );
    }
}
