//! `POST /wxa/business/getuserphonenumber`: a getPhoneNumber button code for the phone number.
//!
//! Codes are issued by tests for one user and one number, work once, expire like login codes,
//! and are refused (40029) when the request names an openid other than the one they were issued
//! to. Every successful answer is counted, since WeChat bills each one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

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
    issued: HashMap<String, PhoneCode>,
    billed: usize,
}

impl PhoneCodes {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            issued: HashMap::new(),
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
        let issued = self.issued.get(code).ok_or(ERR_INVALID_CODE)?;
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
