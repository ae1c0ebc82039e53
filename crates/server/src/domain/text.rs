//! The Unicode character classes that decide what text users give us may be stored and shown.
//!
//! Read from ICU's property data (`icu_properties`), so that they follow the Unicode standard
//! rather than a hand-kept list.

use icu_properties::props::{
    BidiControl, DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup,
};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Characters that reorder the text around them (U+061C, U+200E, U+200F, U+202A to U+202E,
/// U+2066 to U+2069): they let a name or a device display as something other than what it is.
pub fn is_bidi_control(c: char) -> bool {
    CodePointSetData::new::<BidiControl>().contains(c)
}

/// Characters that render as nothing: zero-width spaces and joiners, word joiners, the byte
/// order mark, variation selectors, tag characters, Hangul fillers and the like.
pub fn is_default_ignorable(c: char) -> bool {
    CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// Control (Cc), format (Cf), line separator (Zl) and paragraph separator (Zp) characters:
/// none has any business in a one-line name.
pub fn is_control_or_format(c: char) -> bool {
    const CONTROL_OR_FORMAT: GeneralCategoryGroup = GeneralCategoryGroup::Control
        .union(GeneralCategoryGroup::Format)
        .union(GeneralCategoryGroup::LineSeparator)
        .union(GeneralCategoryGroup::ParagraphSeparator);
    CONTROL_OR_FORMAT.contains(general_category(c))
}

/// A combining mark (Mn, Mc, Me), drawn on the character before it.
pub fn is_combining_mark(c: char) -> bool {
    GeneralCategoryGroup::Mark.contains(general_category(c))
}

/// Whether `c` shows something by itself: a letter, digit, punctuation mark or symbol that is
/// not default-ignorable. U+2800 BRAILLE PATTERN BLANK is a symbol that draws an empty cell, so
/// it does not count.
pub fn is_visible(c: char) -> bool {
    const SHOWN: GeneralCategoryGroup = GeneralCategoryGroup::Letter
        .union(GeneralCategoryGroup::Number)
        .union(GeneralCategoryGroup::Punctuation)
        .union(GeneralCategoryGroup::Symbol);
    SHOWN.contains(general_category(c)) && !is_default_ignorable(c) && c != '\u{2800}'
}

fn general_category(c: char) -> GeneralCategory {
    CodePointMapData::<GeneralCategory>::new().get(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_standard() {
        for c in ['\u{061C}', '\u{200E}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            assert!(is_bidi_control(c), "{c:?}");
        }
        assert!(!is_bidi_control('a'));
        for c in [
            '\u{200B}',
            '\u{2060}',
            '\u{FEFF}',
            '\u{3164}',
            '\u{E0041}',
            '\u{FE0F}',
        ] {
            assert!(is_default_ignorable(c), "{c:?}");
            assert!(!is_visible(c), "{c:?}");
        }
        for c in [
            '\u{0}',
            '\u{7F}',
            '\u{200B}',
            '\u{2028}',
            '\u{2029}',
            '\u{E0041}',
        ] {
            assert!(is_control_or_format(c), "{c:?}");
        }
        assert!(is_combining_mark('\u{0301}'));
        for c in ['a', '小', '7', '!', '😀'] {
            assert!(is_visible(c) && !is_control_or_format(c), "{c:?}");
        }
        assert!(!is_visible('\u{2800}'));
        assert!(!is_visible(' '));
        assert!(!is_visible('\u{3000}'));
    }
}
