//! The hand-written token reader against hostile payloads shaped like real claims: wrong types,
//! numbers beyond 64 bits, duplicated and extra claims, and every truncation. It must never
//! panic (in the mini program a panic is a trap the app cannot catch), must answer only with a
//! documented [`TokenError`], and must agree with serde_json on `exp` whenever both read the payload.
//!
//! Cases: proptest's default (256 per property), or `PROPTEST_CASES` (a million outside CI).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use serde_json::Value;
use wxlogin_core::{read_claims, TokenError};

/// JSON text for a claim value: every type, and integers too big for i64 or u64.
fn claim_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "-?[1-9][0-9]{19,30}",
        any::<f64>().prop_map(|n| format!("{n:?}")),
        "-?[0-9]{1,5}[eE][+-]?[0-9]{1,3}",
        Just("null".to_owned()),
        Just("true".to_owned()),
        "\"[ -~]{0,12}\"",
        Just("[]".to_owned()),
        Just("{\"exp\":1}".to_owned()),
    ]
}

/// A claims object as text: registered and unknown names, possibly repeated.
fn claims_text() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("exp"),
        Just("iat"),
        Just("sub"),
        Just("sid"),
        Just("iss"),
        Just("aud"),
        Just("x"),
    ];
    prop::collection::vec((name, claim_value()), 0..7).prop_map(|claims| {
        let fields: Vec<String> = claims
            .iter()
            .map(|(name, value)| format!("\"{name}\":{value}"))
            .collect();
        format!("{{{}}}", fields.join(","))
    })
}

fn token_with_payload(payload: &[u8]) -> String {
    format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
        URL_SAFE_NO_PAD.encode(payload)
    )
}

proptest! {
    #[test]
    fn claims_of_any_shape_are_read_or_refused_with_a_documented_error(text in claims_text()) {
        match read_claims(&token_with_payload(text.as_bytes())) {
            Ok(claims) => {
                // What was read agrees with a general-purpose JSON parser. serde_json refuses
                // numbers beyond f64 (`1e310`) in claims nobody reads; JSON's grammar allows them.
                if let Ok(parsed) = serde_json::from_str::<Value>(&text) {
                    prop_assert_eq!(parsed["exp"].as_i64(), Some(claims.exp));
                }
            }
            Err(error) => prop_assert!(TokenError::ALL.contains(&error)),
        }
    }

    #[test]
    fn every_truncation_of_a_payload_is_refused_without_panicking(
        text in claims_text(),
        cut in any::<prop::sample::Index>(),
    ) {
        let end = cut.index(text.len().max(1));
        let _ = read_claims(&token_with_payload(&text.as_bytes()[..end]));
        // Cut inside the base64 text itself too, where a segment ends mid-character.
        let token = token_with_payload(text.as_bytes());
        let _ = read_claims(&token[..cut.index(token.len())]);
    }
}
