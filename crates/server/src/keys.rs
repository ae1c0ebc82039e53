//! The keys access tokens are signed and verified with, and their public half as a JWKS.
//!
//! Every token carries a `kid` naming its key, so a rotation can add a key without invalidating
//! the tokens signed with the one before: retired keys stay here for verification only.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::{Ed25519Key, SigningConfig};

pub struct SigningKeys {
    pub algorithm: Algorithm,
    pub current_kid: String,
    pub encoding: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: Value,
}

impl SigningKeys {
    pub fn from_config(config: &SigningConfig) -> Self {
        match config {
            SigningConfig::Hs256 { secret } => {
                let secret = secret.expose_secret().as_bytes();
                let kid = hs256_key_id(secret);
                let verifying = DecodingKey::from_secret(secret);
                Self {
                    algorithm: Algorithm::HS256,
                    encoding: EncodingKey::from_secret(secret),
                    verifying: HashMap::from([
                        (kid.clone(), verifying.clone()),
                        (legacy_hs256_key_id(secret), verifying),
                    ]),
                    current_kid: kid,
                    // A shared secret is never published.
                    jwks: json!({ "keys": [] }),
                }
            }
            SigningConfig::EdDsa { current, previous } => {
                let der = current
                    .0
                    .to_pkcs8_der()
                    .expect("an Ed25519 key always encodes as PKCS#8");
                let mut verifying = HashMap::new();
                let mut published = Vec::new();
                for key in std::iter::once(current).chain(previous) {
                    let (kid, jwk) = public_jwk(key);
                    let x = jwk["x"].as_str().expect("x is set").to_owned();
                    let decoding = DecodingKey::from_ed_components(&x)
                        .expect("a 32-byte Ed25519 public key is valid");
                    verifying.insert(kid, decoding);
                    published.push(jwk);
                }
                Self {
                    algorithm: Algorithm::EdDSA,
                    current_kid: public_jwk(current).0,
                    encoding: EncodingKey::from_ed_der(der.as_bytes()),
                    verifying,
                    jwks: json!({ "keys": published }),
                }
            }
        }
    }

    /// The key that verifies a token signed under `kid`, if it is one of ours.
    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// The public keys, as RFC 7517 JSON Web Key Set.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

/// The public half of `key` as an RFC 8037 OKP JWK, with its key id.
fn public_jwk(key: &Ed25519Key) -> (String, Value) {
    let public = key.0.verifying_key().to_bytes();
    let kid = key_id(&public);
    let jwk = json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(public),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    });
    (kid, jwk)
}

/// A short stable id for a key: the start of its SHA-256, base64url. Only for public keys.
fn key_id(material: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(material)[..12])
}

/// The id of an HS256 secret: an HMAC of a fixed label under the secret. Every instance with the
/// secret, before and after any restart, names it alike; a new secret gets a new id, so tokens
/// signed under the old one are refused as naming a key we do not have. Without the secret the id
/// is as good as random; with a guess of it, it confirms no more than the token's signature
/// already does, which is why weak secrets are refused at start (see `config/secrets.rs`).
fn hs256_key_id(secret: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(b"wxlogin HS256 key id v1");
    URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..12])
}

/// The id tokens were signed under before [`hs256_key_id`]: a plain hash of the secret, which
/// lets anyone test a guessed secret against a token header. Still accepted so that tokens
/// issued before the change keep working until they expire; never issued.
fn legacy_hs256_key_id(secret: &[u8]) -> String {
    key_id(&[b"hs256:".as_slice(), secret].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn hs256(secret: &str) -> SigningKeys {
        SigningKeys::from_config(&SigningConfig::Hs256 {
            secret: secret.to_owned().into(),
        })
    }

    #[test]
    fn an_hs256_key_id_is_no_hash_of_the_secret_and_stays_stable() {
        let keys = hs256(SECRET);
        let digest = |material: &[u8]| URL_SAFE_NO_PAD.encode(&Sha256::digest(material)[..12]);
        // Neither the hash an attacker would try first nor the one issued before.
        assert_ne!(keys.current_kid, digest(SECRET.as_bytes()));
        assert_ne!(
            keys.current_kid,
            digest(format!("hs256:{SECRET}").as_bytes())
        );
        // The same on every instance and after a restart; another secret, another id.
        assert_eq!(keys.current_kid, hs256(SECRET).current_kid);
        assert_ne!(
            keys.current_kid,
            hs256(&SECRET.replace('0', "z")).current_kid
        );
        // Tokens signed under the former id still verify.
        assert!(keys
            .verifying_key(&digest(format!("hs256:{SECRET}").as_bytes()))
            .is_some());
    }
}
