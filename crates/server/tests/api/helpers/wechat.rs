//! What WeChat hands the mini program, made here the way WeChat makes it.

use aes::Aes128;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockEncryptMut, KeyIvInit};
use fake_wechat::PhoneNumber;

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

/// A mainland China mobile number.
pub fn china(pure: &str) -> PhoneNumber {
    PhoneNumber::new("86", pure)
}
