//! The display name a user types into `<input type="nickname">`.

use unicode_normalization::UnicodeNormalization;

use super::text::{is_combining_mark, is_control_or_format, is_default_ignorable, is_visible};

/// A nickname that is safe to store and show: trimmed, in NFC, 1 to [`Nickname::MAX_CHARS`]
/// characters with at least one visible, and nothing that renders as nothing or changes how the
/// text around it displays (control, format and default-ignorable characters, line and paragraph
/// separators, bidirectional controls, towers of combining marks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nickname(String);

/// Why a string is not a nickname; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NicknameError {
    #[error("`nickname` must not be empty or only spaces")]
    Empty,
    #[error("`nickname` must be at most {} characters", Nickname::MAX_CHARS)]
    TooLong,
    #[error("`nickname` must not contain control, format, invisible or text-direction characters")]
    ForbiddenCharacter,
    #[error(
        "`nickname` must not stack more than {} marks on one character",
        Nickname::MAX_MARKS_IN_A_ROW
    )]
    TooManyMarks,
    #[error("`nickname` must contain at least one visible character")]
    NothingVisible,
}

impl Nickname {
    /// Counted in characters (Unicode scalar values) after NFC, not bytes: a Chinese name of 32
    /// characters is as welcome as a Latin one.
    pub const MAX_CHARS: usize = 32;
    /// Marks drawn on one character. Scripts that stack marks (Thai, Vietnamese, Devanagari)
    /// need two or three after NFC; more only smears a name over the lines around it.
    pub const MAX_MARKS_IN_A_ROW: usize = 4;

    pub fn parse(raw: &str) -> Result<Self, NicknameError> {
        // NFC, so that the same name typed on two keyboards is stored alike and counted alike.
        let name: String = raw.trim().nfc().collect();
        if name.is_empty() {
            return Err(NicknameError::Empty);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(NicknameError::TooLong);
        }
        if name
            .chars()
            .any(|c| is_control_or_format(c) || is_default_ignorable(c))
        {
            return Err(NicknameError::ForbiddenCharacter);
        }
        if longest_run_of_marks(&name) > Self::MAX_MARKS_IN_A_ROW {
            return Err(NicknameError::TooManyMarks);
        }
        if !name.chars().any(is_visible) {
            return Err(NicknameError::NothingVisible);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn longest_run_of_marks(name: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in name.chars() {
        run = if is_combining_mark(c) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
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

    #[test]
    fn invisible_and_format_characters_are_refused() {
        let forbidden = [
            "\u{200B}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{3164}",
            "\u{200B}\u{2060}\u{FEFF}",
            "a\u{061C}b",
            "a\u{2028}b",
            "a\u{2029}b",
            "a\u{E0041}\u{E0042}",
            "\u{200D}",
            "a\u{00AD}b",
        ];
        for bad in forbidden {
            assert_eq!(
                Nickname::parse(bad),
                Err(NicknameError::ForbiddenCharacter),
                "{bad:?}"
            );
        }
        for blank in ["\u{2800}", "\u{2800}\u{2800}", "\u{0301}"] {
            assert_eq!(
                Nickname::parse(blank),
                Err(NicknameError::NothingVisible),
                "{blank:?}"
            );
        }
        let tower = format!("a{}", "\u{0301}".repeat(31));
        assert_eq!(Nickname::parse(&tower), Err(NicknameError::TooManyMarks));
    }

    #[test]
    fn names_are_stored_in_nfc_and_scripts_with_marks_are_welcome() {
        // "é" typed as e + combining acute is stored as the one character U+00E9.
        assert_eq!(Nickname::parse("Jose\u{0301}").unwrap().as_str(), "José");
        for name in ["Nguyễn", "สมชาย", "नमस्ते", "小明 🐼", "a\u{2800}b"]
        {
            assert!(Nickname::parse(name).is_ok(), "{name:?}");
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
                prop_assert!(text.chars().any(super::super::text::is_visible));
            }
        }

        #[test]
        fn any_control_character_is_refused(prefix in "[a-z]{1,5}", c in "\\p{Cc}", suffix in "[a-z]{1,5}") {
            let raw = format!("{prefix}{c}{suffix}");
            prop_assert!(Nickname::parse(&raw).is_err());
        }

        #[test]
        fn any_format_character_is_refused(prefix in "[a-z]{1,5}", c in "[\\p{Cf}\\p{Zl}\\p{Zp}]", suffix in "[a-z]{1,5}") {
            let raw = format!("{prefix}{c}{suffix}");
            prop_assert_eq!(Nickname::parse(&raw), Err(NicknameError::ForbiddenCharacter));
        }
    }
}
