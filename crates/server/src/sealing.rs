//! Encryption at rest for WeChat session_keys.
//!
//! A session_key decrypts a user's WeChat data and vouches for them to WeChat, so a leaked
//! database must not leak it. It is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
//! `SESSION_KEY_SECRET`, which must differ from `JWT_SECRET` (see [`crate::config`]), and
//! bound to the (appid, openid) it belongs to, so a sealed value copied onto another user's row
//! does not open.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use hkdf::Hkdf;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// The first byte of every sealed value, so the format can change without guessing.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
/// Separates this key from any other derived from the same secret.
const HKDF_INFO: &[u8] = b"wxlogin session_key at rest v1";

#[derive(Clone)]
pub struct SessionKeySealer {
    cipher: Aes256Gcm,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("sealed session_key does not open: wrong key, wrong owner or damaged")]
pub struct UnsealError;

impl SessionKeySealer {
    pub fn from_secret(secret: &SecretString) -> Self {
        let mut key = Key::<Aes256Gcm>::default();
        Hkdf::<Sha256>::new(Some(b"wxlogin"), secret.expose_secret().as_bytes())
            .expand(HKDF_INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self {
            cipher: Aes256Gcm::new(&key),
        }
    }

    pub fn seal(&self, session_key: &SecretString, appid: &str, openid: &str) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = owner(appid, openid);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: session_key.expose_secret().as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    pub fn open(
        &self,
        sealed: &[u8],
        appid: &str,
        openid: &str,
    ) -> Result<SecretString, UnsealError> {
        let Some((&FORMAT_V1, rest)) = sealed.split_first() else {
            return Err(UnsealError);
        };
        if rest.len() < NONCE_LEN {
            return Err(UnsealError);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let aad = owner(appid, openid);
        let plaintext = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| UnsealError)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| UnsealError)
    }
}

/// Associated data naming the owner; the length prefix keeps ("ab", "c") apart from ("a", "bc").
fn owner(appid: &str, openid: &str) -> Vec<u8> {
    format!("{}:{appid}{openid}", appid.len()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(secret: &str) -> SessionKeySealer {
        SessionKeySealer::from_secret(&SecretString::from(secret))
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn sealed_keys_open_for_their_owner_only() {
        let sealer = sealer(SECRET);
        let key = SecretString::from("tiihtNczf5v6AKRyjwEUhQ==");
        let sealed = sealer.seal(&key, "wx1", "openid-a");
        let opened = sealer.open(&sealed, "wx1", "openid-a").unwrap();
        assert_eq!(opened.expose_secret(), "tiihtNczf5v6AKRyjwEUhQ==");
        assert!(sealer.open(&sealed, "wx1", "openid-b").is_err());
        assert!(sealer.open(&sealed, "wx2", "openid-a").is_err());
    }

    #[test]
    fn the_plaintext_is_not_stored_and_nonces_differ() {
        let sealer = sealer(SECRET);
        let key = SecretString::from("tiihtNczf5v6AKRyjwEUhQ==");
        let first = sealer.seal(&key, "wx1", "o");
        let second = sealer.seal(&key, "wx1", "o");
        assert_ne!(first, second);
        assert!(!first.windows(24).any(|w| w == b"tiihtNczf5v6AKRyjwEUhQ=="));
    }

    #[test]
    fn another_server_secret_or_damage_does_not_open() {
        let key = SecretString::from("k");
        let mut sealed = sealer(SECRET).seal(&key, "wx1", "o");
        let other = sealer("another secret of at least 32 bytes!!");
        assert!(other.open(&sealed, "wx1", "o").is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(sealer(SECRET).open(&sealed, "wx1", "o").is_err());
        assert!(sealer(SECRET).open(&[], "wx1", "o").is_err());
        assert!(sealer(SECRET).open(&[1, 2, 3], "wx1", "o").is_err());
    }
}
