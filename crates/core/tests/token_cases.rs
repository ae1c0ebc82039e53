//! The shared token case table, run against the Rust core.
//!
//! `miniprogram/test/core.test.js` runs the same table against the shipped WebAssembly, so the
//! server's rules and the mini program's rules cannot drift apart unnoticed.

use serde_json::Value;
use wxlogin_core::{is_expired, read_expiry, should_renew, TokenError};

fn int(case: &Value, key: &str) -> i64 {
    case[key]
        .as_i64()
        .unwrap_or_else(|| panic!("case {case} has no integer {key}"))
}

#[test]
fn shared_case_table() {
    let table: Value = serde_json::from_str(include_str!("cases/token_cases.json")).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 30, "the table lost cases");

    for case in cases {
        let name = case["name"].as_str().unwrap();
        let token = case["token"].as_str().unwrap();
        let (now, leeway, threshold) = (
            int(case, "now"),
            int(case, "leeway"),
            int(case, "threshold"),
        );
        let expect = &case["expect"];

        match read_expiry(token) {
            Ok(exp) => {
                assert!(
                    expect["error"].is_null(),
                    "{name}: expected {expect}, read exp {exp}"
                );
                assert_eq!(exp, int(expect, "exp"), "{name}: exp");
                assert_eq!(
                    is_expired(exp, now, leeway),
                    expect["expired"].as_bool().unwrap(),
                    "{name}: expired"
                );
                assert_eq!(
                    should_renew(exp, now, threshold),
                    expect["renew"].as_bool().unwrap(),
                    "{name}: renew"
                );
            }
            Err(error) => assert_eq!(
                Some(error.code()),
                expect["error"].as_str(),
                "{name}: error"
            ),
        }
    }
}

#[test]
fn every_error_code_is_covered_by_the_table() {
    let table: Value = serde_json::from_str(include_str!("cases/token_cases.json")).unwrap();
    let covered: Vec<&str> = table["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| case["expect"]["error"].as_str())
        .collect();
    for error in TokenError::ALL {
        assert!(
            covered.contains(&error.code()),
            "no case for {}",
            error.code()
        );
    }
}

/// The server encodes claims with serde; the mini program reads them with the hand-written reader.
#[cfg(feature = "serde")]
mod agreement_with_serde {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use proptest::prelude::*;
    use wxlogin_core::{read_claims, Claims};

    /// Encode claims exactly as the server does (serde_json, then unpadded base64url).
    fn server_style_token(claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        format!("{header}.{payload}.c2lnbmF0dXJl")
    }

    proptest! {
        /// Whatever the server's serde encoding of [`Claims`] produces, the hand-written reader reads
        /// back the same values.
        #[test]
        fn hand_written_reader_agrees_with_serde(
            sub in any::<String>(), sid in any::<String>(), iat in any::<i64>(), exp in any::<i64>(),
            iss in any::<String>(),
        ) {
            let mut claims = Claims::new(sub, sid, iat, 0);
            claims.exp = exp;
            claims.iss = iss;
            let read = read_claims(&server_style_token(&claims)).unwrap();
            prop_assert_eq!(read.exp, claims.exp);
            prop_assert_eq!(read.iat, Some(claims.iat));
            prop_assert_eq!(read.sub.as_deref(), Some(claims.sub.as_str()));
            prop_assert_eq!(read.sid.as_deref(), Some(claims.sid.as_str()));
            prop_assert_eq!(read.iss.as_deref(), Some(claims.iss.as_str()));
        }
    }
}
