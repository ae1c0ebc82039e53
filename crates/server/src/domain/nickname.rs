//! The display name a user types into `<input type="nickname">`.

/// A nickname that is safe to store and show: trimmed, 1 to [`Nickname::MAX_CHARS`] characters,
/// with no control characters and no bidirectional overrides (which let a name display as
/// something other than what it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname(String);

/// Why a string is not a nickname; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NicknameError {
    #[error("`nickname` must not be empty or only spaces")]
    Empty,
    #[error("`nickname` must be at most {} characters", Nickname::MAX_CHARS)]
    TooLong,
    #[error("`nickname` must not contain control or text-direction characters")]
    ForbiddenCharacter,
}

impl Nickname {
    /// Counted in characters (Unicode scalar values), not bytes: a Chinese name of 32
    /// characters is as welcome as a Latin one.
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, NicknameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(NicknameError::Empty);
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(NicknameError::TooLong);
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() || is_bidi_control(c))
        {
            return Err(NicknameError::ForbiddenCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode's explicit directional embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_counted_in_characters() {
        assert_eq!(Nickname::parse("  小明 ").unwrap().as_str(), "小明");
        assert!(Nickname::parse(&"微".repeat(32)).is_ok());
        assert_eq!(
            Nickname::parse(&"微".repeat(33)),
            Err(NicknameError::TooLong)
        );
        assert!(Nickname::parse("a").is_ok());
    }

    #[test]
    fn empty_control_and_direction_characters_are_refused() {
        for blank in ["", "   ", "\u{3000}"] {
            assert_eq!(
                Nickname::parse(blank),
                Err(NicknameError::Empty),
                "{blank:?}"
            );
        }
        for bad in ["a\u{0}b", "a\nb", "tab\there", "\u{202E}txt.exe", "x\u{7f}"] {
            assert_eq!(
                Nickname::parse(bad),
                Err(NicknameError::ForbiddenCharacter),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn whatever_parses_is_trimmed_short_and_clean(raw in "\\PC{0,40}") {
            if let Ok(name) = Nickname::parse(&raw) {
                let text = name.as_str();
                prop_assert_eq!(text, text.trim());
                prop_assert!((1..=Nickname::MAX_CHARS).contains(&text.chars().count()));
                prop_assert!(!text.chars().any(char::is_control));
            }
        }

        #[test]
        fn any_control_character_is_refused(prefix in "[a-z]{1,5}", c in "\\p{Cc}", suffix in "[a-z]{1,5}") {
            let raw = format!("{prefix}{c}{suffix}");
            prop_assert!(Nickname::parse(&raw).is_err());
        }
    }
}
