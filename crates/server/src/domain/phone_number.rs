//! A phone number as WeChat vouches for it in `getuserphonenumber`.

/// A verified number: national digits and the country calling code, both digits only.
///
/// WeChat's `purePhoneNumber` and `countryCode`. Anything else in those fields is not a number
/// we can store or show, so it is refused where WeChat's answer is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    national: String,
    country_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WeChat's phone number is not digits of a plausible length")]
pub struct PhoneNumberError;

impl PhoneNumber {
    /// E.164 allows 15 digits in all; 20 leaves room for extensions WeChat might add.
    const MAX_NATIONAL_DIGITS: usize = 20;
    const MAX_COUNTRY_CODE_DIGITS: usize = 4;

    pub fn parse(national: String, country_code: String) -> Result<Self, PhoneNumberError> {
        let digits = |s: &str, max: usize| {
            !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit())
        };
        if digits(&national, Self::MAX_NATIONAL_DIGITS)
            && digits(&country_code, Self::MAX_COUNTRY_CODE_DIGITS)
        {
            Ok(Self {
                national,
                country_code,
            })
        } else {
            Err(PhoneNumberError)
        }
    }

    /// The number without its country code ("13800138000").
    pub fn national(&self) -> &str {
        &self.national
    }

    /// The country calling code without a plus ("86").
    pub fn country_code(&self) -> &str {
        &self.country_code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_parse_and_anything_else_is_refused() {
        let number = PhoneNumber::parse("13800138000".into(), "86".into()).unwrap();
        assert_eq!(number.national(), "13800138000");
        assert_eq!(number.country_code(), "86");
        for (national, country) in [
            ("", "86"),
            ("13800138000", ""),
            ("+8613800138000", "86"),
            ("138 0013 8000", "86"),
            ("13800138000", "+86"),
            (&"1".repeat(21), "86"),
            ("13800138000", "12345"),
        ] {
            assert_eq!(
                PhoneNumber::parse(national.into(), country.into()),
                Err(PhoneNumberError),
                "{national:?} {country:?}"
            );
        }
    }
}
