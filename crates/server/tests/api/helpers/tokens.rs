//! wxlogin's tokens taken apart, and forgeries of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

/// One named token of a login or refresh answer.
pub fn token<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

/// The session an access token belongs to: its `sid` claim.
pub fn session_id(access_token: &str) -> String {
    payload(access_token)["sid"]
        .as_str()
        .expect("a sid claim")
        .to_owned()
}

/// A JWT's header, decoded.
pub fn header(token: &str) -> Value {
    decode_part(token, 0)
}

/// A JWT's claims, decoded without checking anything.
pub fn payload(token: &str) -> Value {
    decode_part(token, 1)
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// The claims wxlogin would sign for `user_id` in `session_id`, valid for an hour from now.
pub fn claims(user_id: Uuid, session_id: Uuid) -> Value {
    let now = now();
    json!({
        "sub": user_id.to_string(),
        "sid": session_id.to_string(),
        "iat": now,
        "exp": now + 3600,
        "iss": "wxlogin",
    })
}

/// An HS256 token over `claims`, signed with `key`.
pub fn sign(claims: &Value, key: &str) -> String {
    sign_with(Header::new(Algorithm::HS256), claims, key.as_bytes())
}

/// A token with this header over `claims`, MACed with `secret` (an HMAC algorithm).
pub fn sign_with(header: Header, claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// An EdDSA token over `claims` with key id `kid`, signed with the PKCS#8 PEM `private_pem`.
pub fn sign_eddsa(claims: &Value, kid: &str, private_pem: &str) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    let key = EncodingKey::from_ed_pem(private_pem.as_bytes()).expect("an Ed25519 PEM");
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// An HS256 token with exactly this `header` JSON, which may hold members `jsonwebtoken` cannot
/// write (such as `crit`), over `claims`, MACed with `secret`.
pub fn sign_raw_hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac::{Hmac, Mac};

    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// `header` (raw JSON) and `claims` with no signature at all, as `alg: none` tokens are.
pub fn unsigned(header: &Value, claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.")
}

/// The same signature over a payload whose `sub` names someone else.
pub fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = payload(token);
    claims["sub"] = json!("00000000-0000-4000-8000-000000000000");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    parts.join(".")
}

/// The same payload and signature under another header.
pub fn reheader(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').expect("a JWT");
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// A fresh Ed25519 key as PKCS#8 PEM, the form `JWT_PRIVATE_KEY` takes, and its raw public key.
pub fn new_ed25519_key() -> (String, [u8; 32]) {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    (pem, key.verifying_key().to_bytes())
}

/// Server configuration that signs with EdDSA under `private` and still accepts `previous`.
pub fn eddsa_env(private: &str, previous: &[&str]) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_ALG", "EdDSA".to_owned()),
        ("JWT_PRIVATE_KEY", private.to_owned()),
        ("JWT_PREVIOUS_KEYS", previous.join(",")),
        (
            "SESSION_KEY_SECRET",
            "session-key-sealing-secret-for-tests-0001".to_owned(),
        ),
    ]
}

/// The JWK wxlogin publishes for the Ed25519 public key `public` under `kid` (RFC 8037).
pub fn ed25519_jwk(public: &[u8; 32], kid: &str) -> Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(public),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}
