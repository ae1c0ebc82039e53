//! WeChat's message push (消息推送), as it arrives at our endpoint: signatures and safe mode.
//!
//! Pure functions, no I/O. In plain mode WeChat signs the request with the SHA-1 of the sorted
//! Token, timestamp and nonce; in safe mode it also signs the encrypted body (`msg_signature`)
//! and encrypts the message with AES-256-CBC under the EncodingAESKey, IV the key's first 16
//! bytes, PKCS#7 padding to 32-byte blocks, over 16 random bytes, the message's length as 4
//! big-endian bytes, the message and the sender's appid.
//!
//! Signatures are compared in constant time. No error carries key material or plaintext.

use aes::Aes256;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// WeChat pads to 32-byte blocks, not AES's 16.
const PAD_BLOCK: usize = 32;
const RANDOM_PREFIX: usize = 16;
const LENGTH_BYTES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("the encrypted message is not valid base64")]
    BadBase64,
    #[error("the encrypted message is not a whole number of blocks")]
    BadLength,
    #[error("the encrypted message does not decrypt under the configured EncodingAESKey")]
    BadPadding,
    #[error("the decrypted message is malformed")]
    Malformed,
    #[error("the message was sent for another app")]
    ForeignAppid,
}

/// SHA-1 hex of `parts` sorted and concatenated: the `signature` (token, timestamp, nonce) and
/// the `msg_signature` (the same and the encrypted text).
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// Whether `given` is the signature `expected`, compared in constant time.
pub fn signature_matches(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// Decrypts a safe-mode message with the 32-byte `key` and checks that it was sent for `appid`;
/// returns the message.
pub fn decrypt(key: &[u8; 32], encrypted: &str, appid: &str) -> Result<Vec<u8>, PushError> {
    let mut data = STANDARD
        .decode(encrypted)
        .map_err(|_| PushError::BadBase64)?;
    if data.is_empty() || data.len() % PAD_BLOCK != 0 {
        return Err(PushError::BadLength);
    }
    let iv: [u8; 16] = key[..16].try_into().expect("16 of 32 bytes");
    let plain = cbc::Decryptor::<Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| PushError::BadLength)?;
    let plain = unpad(plain).ok_or(PushError::BadPadding)?;
    let rest = plain
        .get(RANDOM_PREFIX..)
        .filter(|rest| rest.len() >= LENGTH_BYTES)
        .ok_or(PushError::Malformed)?;
    let (length, rest) = rest.split_at(LENGTH_BYTES);
    let length = u32::from_be_bytes(length.try_into().expect("4 bytes")) as usize;
    if length > rest.len() {
        return Err(PushError::Malformed);
    }
    let (message, sender) = rest.split_at(length);
    if sender.ct_eq(appid.as_bytes()).into() {
        Ok(message.to_vec())
    } else {
        Err(PushError::ForeignAppid)
    }
}

/// Strips PKCS#7 padding of 1 to 32 bytes, every one of which must carry the padding length.
fn unpad(data: &[u8]) -> Option<&[u8]> {
    let pad = usize::from(*data.last()?);
    if !(1..=PAD_BLOCK).contains(&pad) || pad > data.len() {
        return None;
    }
    let (message, padding) = data.split_at(data.len() - pad);
    padding
        .iter()
        .all(|&byte| usize::from(byte) == pad)
        .then_some(message)
}

#[cfg(test)]
mod tests {
    use cbc::cipher::BlockEncryptMut;

    use super::*;

    const APPID: &str = "wx1234567890abcdef";

    fn key() -> [u8; 32] {
        crate::config::push_aes_key_bytes("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap()
    }

    fn encrypt(key: &[u8; 32], message: &[u8], appid: &str) -> String {
        let mut plain = vec![7u8; RANDOM_PREFIX];
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message);
        plain.extend_from_slice(appid.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let len = plain.len();
        let iv: [u8; 16] = key[..16].try_into().unwrap();
        cbc::Encryptor::<Aes256>::new(key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap();
        STANDARD.encode(plain)
    }

    proptest::proptest! {
        /// Whatever arrives as `Encrypt`, decrypting it answers an error or a message, and never
        /// panics: it comes from whoever can reach the endpoint and knows the Token.
        #[test]
        fn any_encrypted_text_is_refused_or_read_without_panicking(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            text in "[A-Za-z0-9+/=%]{0,120}",
        ) {
            let _ = decrypt(&key(), &STANDARD.encode(&bytes), APPID);
            let _ = decrypt(&key(), &text, APPID);
        }
    }

    #[test]
    fn the_signature_is_sha1_of_the_sorted_parts() {
        // sha1("1409304348" + "AAAAA" + "xxxxxx"), sorted: digits before letters.
        let expected = hex::encode(Sha1::digest(b"1409304348AAAAAxxxxxx"));
        assert_eq!(signature(&["AAAAA", "1409304348", "xxxxxx"]), expected);
        assert!(signature_matches(&expected, &expected));
        assert!(!signature_matches(&expected, &expected[1..]));
    }

    #[test]
    fn a_message_round_trips_and_its_appid_is_checked() {
        let message = br#"{"Event":"wxa_media_check"}"#;
        for size in [0, 1, 11, 12, 13, 100] {
            let body = vec![b'x'; size];
            assert_eq!(
                decrypt(&key(), &encrypt(&key(), &body, APPID), APPID).unwrap(),
                body
            );
        }
        let encrypted = encrypt(&key(), message, APPID);
        assert_eq!(decrypt(&key(), &encrypted, APPID).unwrap(), message);
        assert_eq!(
            decrypt(&key(), &encrypted, "wxanotherapp000000"),
            Err(PushError::ForeignAppid)
        );
        let other_key = [9u8; 32];
        assert!(decrypt(&other_key, &encrypted, APPID).is_err());
        assert_eq!(
            decrypt(&key(), "not base64!", APPID),
            Err(PushError::BadBase64)
        );
        assert_eq!(
            decrypt(&key(), &STANDARD.encode([0u8; 16]), APPID),
            Err(PushError::BadLength)
        );
    }
}
