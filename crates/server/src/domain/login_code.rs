//! The one-time code the mini program gets from `wx.login()`.

/// A login code that is safe to forward to WeChat.
///
/// WeChat's codes are 32 or so URL-safe characters. We do not pin the alphabet (WeChat has never
/// promised one), but we refuse what can only be a client bug or an attack: nothing, more than
/// [`LoginCode::MAX_CHARS`] characters, or control and white-space characters.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginCode(String);

/// Why a string is not a login code; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginCodeError {
    #[error("`code` must not be empty")]
    Empty,
    #[error("`code` must be at most {} characters", LoginCode::MAX_CHARS)]
    TooLong,
    #[error("`code` must not contain control or white-space characters")]
    ForbiddenCharacter,
}

impl LoginCode {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, LoginCodeError> {
        if raw.is_empty() {
            return Err(LoginCodeError::Empty);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(LoginCodeError::TooLong);
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(LoginCodeError::ForbiddenCharacter);
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A code is a one-time credential: keep it out of logs even at debug level.
impl std::fmt::Debug for LoginCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_wechat_shaped_code_parses() {
        let code = LoginCode::parse("0a3Xyz-_9bcdEFghIJ0kLmNo1pQrSt2u".into()).unwrap();
        assert_eq!(code.as_str(), "0a3Xyz-_9bcdEFghIJ0kLmNo1pQrSt2u");
        assert_eq!(format!("{code:?}"), "LoginCode(..)");
    }

    #[test]
    fn bad_codes_are_refused_with_the_reason() {
        assert_eq!(LoginCode::parse(String::new()), Err(LoginCodeError::Empty));
        assert_eq!(
            LoginCode::parse("x".repeat(129)),
            Err(LoginCodeError::TooLong)
        );
        for bad in ["a\u{0}b", "ab\n", "a b", "\u{7f}", "a\u{85}"] {
            assert_eq!(
                LoginCode::parse(bad.into()),
                Err(LoginCodeError::ForbiddenCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(LoginCode::parse("码".repeat(128)).is_ok());
        assert_eq!(
            LoginCode::parse("码".repeat(129)),
            Err(LoginCodeError::TooLong)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_accepts_only_clean_input(raw in any::<String>()) {
            if let Ok(code) = LoginCode::parse(raw.clone()) {
                prop_assert!(!code.as_str().is_empty());
                prop_assert!(code.as_str().chars().count() <= LoginCode::MAX_CHARS);
                prop_assert!(!code.as_str().chars().any(|c| c.is_control() || c.is_whitespace()));
            }
        }

        #[test]
        fn printable_codes_within_the_limit_are_accepted(raw in "[!-~]{1,128}") {
            prop_assert!(LoginCode::parse(raw).is_ok());
        }
    }
}
