//! The one-time codes WeChat hands the mini program: `wx.login()`'s login code and the phone
//! number button's code. Both are short-lived, single-use, sent to us as `code`, and forwarded
//! to WeChat as they are.

/// A one-time WeChat code that is safe to forward to WeChat.
///
/// WeChat's codes are 32 or so URL-safe characters. We do not pin the alphabet (WeChat has never
/// promised one), but we refuse what can only be a client bug or an attack: nothing, more than
/// [`WechatCode::MAX_CHARS`] characters, or control and white-space characters.
#[derive(Clone, PartialEq, Eq)]
pub struct WechatCode(String);

/// Why a string is not a WeChat code; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WechatCodeError {
    #[error("`code` must not be empty")]
    Empty,
    #[error("`code` must be at most {} characters", WechatCode::MAX_CHARS)]
    TooLong,
    #[error("`code` must not contain control or white-space characters")]
    ForbiddenCharacter,
}

impl WechatCode {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, WechatCodeError> {
        if raw.is_empty() {
            return Err(WechatCodeError::Empty);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(WechatCodeError::TooLong);
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(WechatCodeError::ForbiddenCharacter);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A code is a one-time credential: keep it out of logs even at debug level.
impl std::fmt::Debug for WechatCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WechatCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_wechat_shaped_code_parses() {
        let code = WechatCode::parse("0a3Xyz-_9bcdEFghIJ0kLmNo1pQrSt2u".into()).unwrap();
        assert_eq!(code.as_str(), "0a3Xyz-_9bcdEFghIJ0kLmNo1pQrSt2u");
        assert_eq!(format!("{code:?}"), "WechatCode(..)");
    }

    #[test]
    fn bad_codes_are_refused_with_the_reason() {
        assert_eq!(
            WechatCode::parse(String::new()),
            Err(WechatCodeError::Empty)
        );
        assert_eq!(
            WechatCode::parse("x".repeat(129)),
            Err(WechatCodeError::TooLong)
        );
        for bad in ["a\u{0}b", "ab\n", "a b", "\u{7f}", "a\u{85}"] {
            assert_eq!(
                WechatCode::parse(bad.into()),
                Err(WechatCodeError::ForbiddenCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(WechatCode::parse("码".repeat(128)).is_ok());
        assert_eq!(
            WechatCode::parse("码".repeat(129)),
            Err(WechatCodeError::TooLong)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_clean_input(raw in any::<String>()) {
            if let Ok(code) = WechatCode::parse(raw.clone()) {
                prop_assert!(!code.as_str().is_empty());
                prop_assert!(code.as_str().chars().count() <= WechatCode::MAX_CHARS);
                prop_assert!(!code.as_str().chars().any(|c| c.is_control() || c.is_whitespace()));
            }
        }

        #[test]
        fn printable_codes_within_the_limit_are_accepted(raw in "[!-~]{1,128}") {
            prop_assert!(WechatCode::parse(raw).is_ok());
        }
    }
}
