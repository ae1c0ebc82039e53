//! What an access token's payload holds: wxlogin-core's claims, and the `aud` claim when
//! `TOKEN_AUDIENCE` names the services a token is meant for.
//!
//! `aud` stays out of wxlogin-core on purpose: only verifiers that hold a key act on it, the mini
//! program's reader skips it like any claim it does not know, and so its WebAssembly build does
//! not change when an audience is configured.

use serde::{Deserialize, Serialize};
use wxlogin_core::Claims;

/// The payload wxlogin signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedClaims {
    #[serde(flatten)]
    pub claims: Claims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// One name is written as a string and several as an array, as RFC 7519 §4.1.3 allows; every
/// JWT library reads both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The audience naming `names`; none for no names.
    pub fn of(names: &[String]) -> Option<Self> {
        match names {
            [] => None,
            [one] => Some(Self::One(one.clone())),
            many => Some(Self::Many(many.to_vec())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn one_name_is_a_string_several_an_array_and_none_no_claim() {
        let claims = Claims::new("u", "s", 1, 2);
        let with = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let signed = SignedClaims {
                claims: claims.clone(),
                aud: Audience::of(&names),
            };
            let json = serde_json::to_value(&signed).unwrap();
            assert_eq!(
                serde_json::from_value::<SignedClaims>(json.clone()).unwrap(),
                signed
            );
            json.get("aud").cloned()
        };
        assert_eq!(with(&[]), None);
        assert_eq!(with(&["orders"]), Some(json!("orders")));
        assert_eq!(with(&["orders", "pay"]), Some(json!(["orders", "pay"])));
    }
}
