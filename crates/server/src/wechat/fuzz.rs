//! Property tests of everything WeChat or a client can hand this module: every answer the server
//! parses, and encrypted user data with its iv. Each must end in a value or a [`WechatError`] /
//! [`CryptoError`], never a panic.
//!
//! Cases: proptest's default (256 per property), or `PROPTEST_CASES` (a million outside CI).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::crypto::{decrypt_user_data, CryptoError};
use super::response::{parse_answer, parse_png_answer, PNG_SIGNATURE};
use super::{jscode2session, platform, WechatError};

/// Any JSON value, with the numbers most likely to break a reader: beyond i64 and u64, negative
/// where a count is expected, fractions, and floats at their limits.
fn any_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number,
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bodies derived from a well-formed `answer`: garbage, the answer cut short, a field of it (or
/// `errcode`, `errmsg`) given another value of any type, extra fields, and numbers too big for
/// any Rust integer written out as text.
fn bodies_like(answer: Value) -> impl Strategy<Value = Vec<u8>> {
    let text = answer.to_string();
    let mut fields: Vec<String> = answer.as_object().unwrap().keys().cloned().collect();
    fields.extend([
        "errcode".to_owned(),
        "errmsg".to_owned(),
        "extra".to_owned(),
    ]);
    let truncated = {
        let text = text.clone();
        (0..text.len()).prop_map(move |end| text.as_bytes()[..end].to_vec())
    };
    let changed = {
        let answer = answer.clone();
        (prop::sample::select(fields.clone()), any_json()).prop_map(move |(field, value)| {
            let mut answer = answer.clone();
            answer[&field] = value;
            answer.to_string().into_bytes()
        })
    };
    let huge = (
        prop::sample::select(fields),
        "-?[1-9][0-9]{19,40}(\\.[0-9]+)?(e[0-9]{3})?",
    )
        .prop_map(move |(field, digits)| {
            let mut answer = answer.clone();
            answer[&field] = json!("HUGE");
            answer.to_string().replace("\"HUGE\"", &digits).into_bytes()
        });
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        truncated,
        changed,
        huge,
        any_json().prop_map(|value| value.to_string().into_bytes()),
    ]
}

/// Reads `body` as the server reads an answer of type `T`, then as the caller reads `T`.
fn read<T: DeserializeOwned, U>(
    body: &[u8],
    then: impl FnOnce(T) -> Result<U, WechatError>,
) -> Result<U, WechatError> {
    parse_answer::<T>(body).and_then(then)
}

proptest! {
    #[test]
    fn jscode2session_answers_never_panic(body in bodies_like(json!({
        "openid": "oABCDEFGHIJKLMNOPQRSTUVWXYZa",
        "session_key": "tiihtNczf5v6AKRyjwEUhQ==",
        "unionid": "uABCDEFGHIJKLMNOPQRSTUVWXYZa",
    }))) {
        if let Ok(session) = read(&body, jscode2session::session_from) {
            prop_assert!(!session.session_key.expose_secret().is_empty());
            prop_assert!(session.unionid.as_deref() != Some(""));
        }
    }

    #[test]
    fn stable_token_answers_never_panic(body in bodies_like(json!({
        "access_token": "ACCESS_TOKEN",
        "expires_in": 7200,
    }))) {
        if let Ok(token) = read(&body, platform::stable_token_from) {
            prop_assert!(!token.token.expose_secret().is_empty());
        }
    }

    #[test]
    fn phone_number_answers_never_panic(body in bodies_like(json!({
        "phone_info": {
            "phoneNumber": "+86 13800138000",
            "purePhoneNumber": "13800138000",
            "countryCode": "86",
            "watermark": { "appid": "wx0000000000000000", "timestamp": 1_700_000_000 },
        },
    }))) {
        let _ = read(&body, platform::phone_from);
    }

    /// An image answer is a PNG only if it starts like one; anything else, JSON or not, with an
    /// errcode or not, is an error.
    #[test]
    fn mini_program_code_answers_never_panic(
        body in prop_oneof![
            bodies_like(json!({ "errcode": 41030, "errmsg": "invalid page" })),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(any::<u8>(), 0..64)
                .prop_map(|tail| [PNG_SIGNATURE, &tail].concat()),
        ]
    ) {
        let is_png = body.starts_with(PNG_SIGNATURE);
        match parse_png_answer(body.clone()) {
            Ok(png) => prop_assert!(is_png && png == body),
            Err(_) => prop_assert!(!is_png),
        }
    }

    #[test]
    fn session_key_check_and_reset_answers_never_panic(body in bodies_like(json!({
        "session_key": "tiihtNczf5v6AKRyjwEUhQ==",
        "errcode": 0,
        "errmsg": "ok",
    }))) {
        let _ = platform::session_valid(parse_answer::<Value>(&body));
        if let Ok(Some(key)) = platform::reset_key_from(parse_answer(&body)) {
            prop_assert!(!key.expose_secret().is_empty());
        }
    }

    /// Whatever the client sends as encrypted data and iv: a value or a documented refusal.
    #[test]
    fn encrypted_data_and_iv_of_any_text_never_panic(
        data in prop_oneof![".{0,80}", "[A-Za-z0-9+/ =]{0,96}"],
        iv in prop_oneof![".{0,40}", "[A-Za-z0-9+/ =]{0,32}"],
    ) {
        let key = SecretString::from("tiihtNczf5v6AKRyjwEUhQ==");
        let _ = decrypt_user_data(&key, &data, &iv, "wx4f4bc4dec97d474b");
    }

    /// Well-formed base64 of any length decrypts to a refusal unless it is data for this app.
    #[test]
    fn encrypted_data_of_any_bytes_is_refused_or_for_this_app(
        data in prop::collection::vec(any::<u8>(), 0..96),
        iv in prop::collection::vec(any::<u8>(), 0..24),
        key in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        let key = SecretString::from(STANDARD.encode(&key));
        match decrypt_user_data(&key, &STANDARD.encode(&data), &STANDARD.encode(&iv), "wxapp") {
            Ok(object) => prop_assert_eq!(&object["watermark"]["appid"], "wxapp"),
            Err(
                CryptoError::BadIvLength
                | CryptoError::BadCiphertextLength
                | CryptoError::BadKey
                | CryptoError::BadPadding
                | CryptoError::NotJson
                | CryptoError::NotAnObject
                | CryptoError::NoWatermark
                | CryptoError::ForeignWatermark,
            ) => {}
            Err(other) => prop_assert!(false, "base64 was valid, yet {other:?}"),
        }
    }
}
