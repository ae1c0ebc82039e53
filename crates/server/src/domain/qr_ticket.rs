//! A scan-to-login ticket and the secret of the browser that asked for it.
//!
//! The ticket is public: it is the `scene` of the mini-program code, printed in the QR image and
//! in URLs. Only letters and digits are used, a subset of what WeChat allows in a scene that needs
//! no escaping in a URL path. The poll secret is what makes the browser the browser: 256 random
//! bits, shown once, stored only as a hash.

use rand::distr::{Alphanumeric, SampleString};

use super::{RefreshToken, RefreshTokenHash};

/// WeChat allows at most 32 characters in a scene; 32 alphanumerics carry about 190 bits.
const TICKET_CHARS: usize = 32;

/// A ticket as it appears in a URL and in the QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket(String);

impl Ticket {
    pub fn generate() -> Self {
        Self(Alphanumeric.sample_string(&mut rand::rng(), TICKET_CHARS))
    }

    /// Accepts only what [`Ticket::generate`] can produce; anything else is no ticket of ours.
    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == TICKET_CHARS && raw.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The browser's secret for reading a ticket's state and receiving its tokens. Shaped, made and
/// hashed like a refresh token, which has the same needs.
pub struct PollSecret(RefreshToken);

impl PollSecret {
    pub fn generate() -> Self {
        Self(RefreshToken::generate())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        RefreshToken::parse(raw).map(Self)
    }

    /// SHA-256 of the secret's text: what the database keeps.
    pub fn hash(&self) -> RefreshTokenHash {
        self.0.hash()
    }

    /// The secret's text, for the one response that hands it to the browser.
    pub fn reveal(self) -> String {
        self.0.reveal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What WeChat accepts in a scene (see getwxacodeunlimit).
    fn is_wechat_scene(text: &str) -> bool {
        text.chars().count() <= 32
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&'()*+,/:;=?@-._~".contains(c))
    }

    #[test]
    fn tickets_are_wechat_scenes_and_parse_back() {
        let ticket = Ticket::generate();
        assert!(is_wechat_scene(ticket.as_str()));
        assert_eq!(Ticket::parse(ticket.as_str()), Some(ticket.clone()));
        assert_ne!(Ticket::generate(), ticket);
    }

    #[test]
    fn foreign_tickets_are_refused() {
        for raw in [
            "",
            "abc",
            &"a".repeat(31),
            &"a".repeat(33),
            &format!("{}!", "a".repeat(31)),
        ] {
            assert!(Ticket::parse(raw).is_none(), "{raw:?}");
        }
    }

    #[test]
    fn poll_secrets_have_256_bits_and_hash_like_they_parse() {
        let secret = PollSecret::generate();
        let hash = secret.hash();
        let text = secret.reveal();
        assert_eq!(text.len(), 43);
        assert_eq!(PollSecret::parse(&text).unwrap().hash(), hash);
        assert!(PollSecret::parse("short").is_none());
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Ticket::parse(&raw);
            let _ = PollSecret::parse(&raw);
        }
    }
}
