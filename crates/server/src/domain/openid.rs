//! A user's openid: who they are to one mini program.

/// An openid as WeChat hands it out in `jscode2session`.
///
/// WeChat's openids are 28 URL-safe characters today, but it has never promised a format, so
/// only what would break storage or logs is refused: nothing, more than [`Openid::MAX_CHARS`]
/// characters, or anything but printable ASCII without spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Openid(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an openid: empty, longer than {} characters, or not printable ASCII",
    Openid::MAX_CHARS
)]
pub struct OpenidError;

impl Openid {
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: String) -> Result<Self, OpenidError> {
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic());
        well_formed.then_some(Self(raw)).ok_or(OpenidError)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_shaped_openids_parse_and_junk_does_not() {
        let openid = Openid::parse("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()).unwrap();
        assert_eq!(openid.as_str(), "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
        for bad in ["", "a b", "o\n", "用户", &"o".repeat(129)] {
            assert_eq!(Openid::parse(bad.into()), Err(OpenidError), "{bad:?}");
        }
        assert!(Openid::parse("o".repeat(128)).is_ok());
    }
}
