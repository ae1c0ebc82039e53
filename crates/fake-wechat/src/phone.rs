//! `POST /wxa/business/getuserphonenumber`: a getPhoneNumber button code for the phone number.
//!
//! Codes are issued by tests for one user and one number, work once, expire like login codes,
//! and are refused (40029) when the request names an openid other than the one they were issued
//! to. Every successful answer is counted, since WeChat bills each one.
//!
//! In dev mode an unknown code is accepted once, as for login codes: `err<errcode>:<anything>`
//! fails with that errcode, and any other code reveals a made-up mainland number that is the same
//! for the same code, so the mini program's getPhoneNumber button works in DevTools.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::jscode2session::serve_fault;
use crate::{reply, Shared};

const ERR_INVALID_CODE: i64 = 40029;
const ERR_MISSING_CODE: i64 = 41008;

/// A phone number as WeChat reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    pub country_code: String,
    pub pure: String,
}

impl PhoneNumber {
    pub fn new(country_code: impl Into<String>, pure: impl Into<String>) -> Self {
        Self {
            country_code: country_code.into(),
            pure: pure.into(),
        }
    }
}

struct PhoneCode {
    openid: String,
    phone: PhoneNumber,
    issued_at: Instant,
}

pub(crate) struct PhoneCodes {
    ttl: Duration,
    dev: bool,
    issued: HashMap<String, PhoneCode>,
    /// Codes dev mode accepted, so that a replay fails as it would on WeChat.
    dev_used: HashSet<String>,
    billed: usize,
}

impl PhoneCodes {
    pub(crate) fn new(ttl: Duration, dev: bool) -> Self {
        Self {
            ttl,
            dev,
            issued: HashMap::new(),
            dev_used: HashSet::new(),
            billed: 0,
        }
    }

    pub(crate) fn issue(&mut self, openid: &str, phone: PhoneNumber) -> String {
        let bytes: [u8; 24] = rand::random();
        let code = URL_SAFE_NO_PAD.encode(bytes);
        self.issued.insert(
            code.clone(),
            PhoneCode {
                openid: openid.to_owned(),
                phone,
                issued_at: Instant::now(),
            },
        );
        code
    }

    pub(crate) fn billed(&self) -> usize {
        self.billed
    }

    fn redeem(&mut self, code: &str, openid: Option<&str>) -> Result<PhoneNumber, i64> {
        let Some(issued) = self.issued.get(code) else {
            return self.redeem_dev(code);
        };
        if issued.issued_at.elapsed() > self.ttl {
            self.issued.remove(code);
            return Err(ERR_INVALID_CODE);
        }
        if openid.is_some_and(|openid| openid != issued.openid) {
            return Err(ERR_INVALID_CODE);
        }
        let issued = self.issued.remove(code).expect("present above");
        self.billed += 1;
        Ok(issued.phone)
    }
}

impl PhoneCodes {
    fn redeem_dev(&mut self, code: &str) -> Result<PhoneNumber, i64> {
        if !self.dev || !self.dev_used.insert(code.to_owned()) {
            return Err(ERR_INVALID_CODE);
        }
        if let Some(errcode) = code
            .split_once(':')
            .and_then(|(prefix, _)| prefix.strip_prefix("err"))
            .and_then(|n| n.parse().ok())
        {
            return Err(errcode);
        }
        let digest = Sha256::digest(format!("wxlogin-fake-phone:{code}"));
        let number = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % 100_000_000;
        self.billed += 1;
        Ok(PhoneNumber::new("86", format!("138{number:08}")))
    }
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if let Some(fault) = shared.phone_faults.next_call() {
        return serve_fault(fault).await;
    }
    let token = params.get("access_token").map(String::as_str);
    if let Err(errcode) = shared.tokens.lock().unwrap().check(token) {
        return reply::error(errcode);
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return reply::error(47001);
    };
    let Some(code) = request
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    else {
        return reply::error(ERR_MISSING_CODE);
    };
    let openid = request.get("openid").and_then(Value::as_str);
    let redeemed = shared.phone_codes.lock().unwrap().redeem(code, openid);
    match redeemed {
        Ok(phone) => {
            let timestamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            reply::json(json!({
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": format!("+{}{}", phone.country_code, phone.pure),
                    "purePhoneNumber": phone.pure,
                    "countryCode": phone.country_code,
                    "watermark": { "timestamp": timestamp, "appid": shared.config.appid },
                },
            }))
        }
        Err(errcode) => reply::error(errcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_codes_work_once_and_only_for_their_user() {
        let mut codes = PhoneCodes::new(Duration::from_secs(300), false);
        let code = codes.issue("o1", PhoneNumber::new("86", "13800000000"));
        assert_eq!(codes.redeem(&code, Some("o2")), Err(ERR_INVALID_CODE));
        assert_eq!(codes.redeem(&code, Some("o1")).unwrap().pure, "13800000000");
        assert_eq!(codes.redeem(&code, Some("o1")), Err(ERR_INVALID_CODE));
        assert_eq!(codes.redeem("unknown", None), Err(ERR_INVALID_CODE));
        assert_eq!(codes.billed(), 1);
    }

    #[test]
    fn expired_codes_are_invalid() {
        let mut codes = PhoneCodes::new(Duration::ZERO, false);
        let code = codes.issue("o1", PhoneNumber::new("86", "13800000000"));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(codes.redeem(&code, Some("o1")), Err(ERR_INVALID_CODE));
    }

    #[test]
    fn dev_mode_accepts_unknown_codes_once() {
        let mut codes = PhoneCodes::new(Duration::from_secs(300), true);
        let phone = codes.redeem("devtools-code", Some("o1")).unwrap();
        assert_eq!(phone.country_code, "86");
        assert!(phone.pure.starts_with("138") && phone.pure.len() == 11);
        assert_eq!(
            codes.redeem("devtools-code", Some("o1")),
            Err(ERR_INVALID_CODE)
        );
        assert_eq!(codes.redeem("err45011:x", Some("o1")), Err(45011));
    }
}
