//! wxlogin-core's token checks, exported to JavaScript for the mini program.
//!
//! The mini program cannot verify a token (it has no key) but must know when to renew one. These
//! exports read a token's `exp` without verifying it and apply the same rules the server applies,
//! from the same Rust code.
//!
//! JavaScript numbers cross the boundary as `f64`, never `i64`: a WebAssembly 1.0 host cannot
//! pass an `i64` to JavaScript (that needs the later BigInt integration), and seconds since the
//! epoch are exact in an `f64` for the next few million centuries.
//!
//! Every failure is a thrown JavaScript `Error` with a stable `code` property, never a trap: the
//! module is built with `panic = "abort"`, so a panic here would kill the instance for good.

use wasm_bindgen::prelude::*;
use wxlogin_core::{rules, unverified, TokenError};

#[wasm_bindgen]
extern "C" {
    /// The host's own `Error`, so the thrown value has a stack and passes `instanceof Error`.
    #[wasm_bindgen(js_name = Error)]
    type JsError;

    #[wasm_bindgen(constructor, js_class = "Error")]
    fn new(message: &str) -> JsError;

    #[wasm_bindgen(method, setter = code, js_class = "Error")]
    fn set_code(this: &JsError, code: &str);
}

/// The code thrown when a time argument is not a finite number.
pub const INVALID_TIME: &str = "invalid_time";

/// Why a call failed: a token that cannot be read, or a time that is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallError {
    Token(TokenError),
    InvalidTime,
}

impl CallError {
    pub fn code(self) -> &'static str {
        match self {
            CallError::Token(error) => error.code(),
            CallError::InvalidTime => INVALID_TIME,
        }
    }

    fn message(self) -> &'static str {
        match self {
            CallError::Token(error) => error.message(),
            CallError::InvalidTime => "time arguments must be finite numbers of seconds",
        }
    }
}

impl From<TokenError> for CallError {
    fn from(error: TokenError) -> Self {
        CallError::Token(error)
    }
}

impl From<CallError> for JsValue {
    fn from(error: CallError) -> Self {
        let js = JsError::new(error.message());
        js.set_code(error.code());
        js.into()
    }
}

/// Whole seconds from a JavaScript number. Fractions are floored so that `Date.now() / 1000`
/// can be passed as is; NaN and infinities are refused rather than guessed at.
pub fn seconds(value: f64) -> Result<i64, CallError> {
    if value.is_finite() {
        // `as` saturates at the i64 range, which the saturating rules then handle.
        Ok(value.floor() as i64)
    } else {
        Err(CallError::InvalidTime)
    }
}

/// The token's `exp`, in seconds since the Unix epoch (exact up to 2^53).
pub fn expiry(token: &str) -> Result<f64, CallError> {
    Ok(unverified::read_expiry(token)? as f64)
}

/// Whether the token is expired at `now`, allowing `leeway` seconds of clock skew.
pub fn expired(token: &str, now: f64, leeway: f64) -> Result<bool, CallError> {
    let exp = unverified::read_expiry(token)?;
    Ok(rules::is_expired(exp, seconds(now)?, seconds(leeway)?))
}

/// Whether a client should renew the token at `now`, wanting `threshold` seconds of life left.
pub fn renew(token: &str, now: f64, threshold: f64) -> Result<bool, CallError> {
    let exp = unverified::read_expiry(token)?;
    Ok(rules::should_renew(exp, seconds(now)?, seconds(threshold)?))
}

/// `readExpiry(token)`: the token's `exp` in seconds. Throws an `Error` with a `code`.
#[wasm_bindgen(js_name = readExpiry)]
pub fn read_expiry_js(token: &str) -> Result<f64, JsValue> {
    Ok(expiry(token)?)
}

/// `isExpired(token, now, leeway)`. Throws an `Error` with a `code`.
#[wasm_bindgen(js_name = isExpired)]
pub fn is_expired_js(token: &str, now: f64, leeway: f64) -> Result<bool, JsValue> {
    Ok(expired(token, now, leeway)?)
}

/// `shouldRenew(token, now, threshold)`. Throws an `Error` with a `code`.
#[wasm_bindgen(js_name = shouldRenew)]
pub fn should_renew_js(token: &str, now: f64, threshold: f64) -> Result<bool, JsValue> {
    Ok(renew(token, now, threshold)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    // eyJleHAiOjEwMH0 is {"exp":100}.
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjEwMH0.sig";

    #[test]
    fn wrappers_apply_the_core_rules() {
        assert_eq!(expiry(TOKEN), Ok(100.0));
        assert_eq!(expired(TOKEN, 99.9, 0.0), Ok(false), "99.9 floors to 99");
        assert_eq!(expired(TOKEN, 100.0, 0.0), Ok(true));
        assert_eq!(renew(TOKEN, 40.0, 60.0), Ok(true));
        assert_eq!(renew(TOKEN, 39.0, 60.0), Ok(false));
    }

    #[test]
    fn bad_input_is_a_coded_error() {
        assert_eq!(expiry("nope").unwrap_err().code(), "token_segments");
        assert_eq!(
            expired(TOKEN, f64::NAN, 0.0).unwrap_err().code(),
            INVALID_TIME
        );
        assert_eq!(
            renew(TOKEN, 0.0, f64::INFINITY).unwrap_err().code(),
            INVALID_TIME
        );
        assert_eq!(seconds(1e300), Ok(i64::MAX));
    }
}
