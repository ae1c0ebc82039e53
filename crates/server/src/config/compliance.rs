//! What WeChat's rules for mini programs ask of the server: the privacy policy version users
//! accept, content checks, the message push endpoint and the risk check at sign-up. See
//! `docs/compliance.md` for what each setting does.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use secrecy::SecretString;

use super::{ConfigError, Vars};

#[derive(Debug, Clone)]
pub struct ComplianceConfig {
    /// `PRIVACY_POLICY_VERSION`: the version of the privacy guide users must have accepted.
    pub privacy_policy_version: String,
    /// `CONTENT_CHECK_FAILURE`: what to do with a nickname when WeChat cannot check it.
    pub content_check_failure: FailurePolicy,
    /// `PUBLIC_BASE_URL`: where WeChat can download avatars from; no avatar check without it.
    pub public_base_url: Option<String>,
    /// `WECHAT_PUSH_TOKEN` and `WECHAT_PUSH_AES_KEY`; no push endpoint without the token.
    pub push: Option<PushConfig>,
    /// `RISK_CHECK`, `RISK_BLOCK_RANK`, `RISK_CHECK_FAILURE`.
    pub risk: RiskConfig,
}

/// What a check that WeChat could not perform decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    Accept,
    Reject,
}

#[derive(Debug, Clone)]
pub struct PushConfig {
    /// The Token set in the admin console's message push settings.
    pub token: SecretString,
    /// The EncodingAESKey, for safe mode; `None` means plain mode.
    pub aes_key: Option<SecretString>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskConfig {
    pub enabled: bool,
    /// Ranks at or above this are refused sign-up; `None` records ranks without blocking.
    pub block_rank: Option<u8>,
    pub on_failure: FailurePolicy,
}

/// WeChat's ranks run from 0 (no risk) to 4.
const MAX_RISK_RANK: u8 = 4;
const MAX_VERSION_CHARS: usize = 64;

pub(super) fn compliance_config<F: Fn(&str) -> Option<String>>(
    vars: &Vars<'_, F>,
) -> Result<ComplianceConfig, ConfigError> {
    Ok(ComplianceConfig {
        privacy_policy_version: policy_version(vars.get("PRIVACY_POLICY_VERSION"))?,
        content_check_failure: failure_policy(
            vars,
            "CONTENT_CHECK_FAILURE",
            FailurePolicy::Reject,
        )?,
        public_base_url: public_base_url(vars.get("PUBLIC_BASE_URL"))?,
        push: push_config(
            vars.get("WECHAT_PUSH_TOKEN"),
            vars.get("WECHAT_PUSH_AES_KEY"),
        )?,
        risk: RiskConfig {
            enabled: switch(vars, "RISK_CHECK")?,
            block_rank: block_rank(vars.get("RISK_BLOCK_RANK"))?,
            on_failure: failure_policy(vars, "RISK_CHECK_FAILURE", FailurePolicy::Accept)?,
        },
    })
}

fn policy_version(value: Option<String>) -> Result<String, ConfigError> {
    let value = value.unwrap_or_else(|| "1".to_owned()).trim().to_owned();
    let printable = value.chars().all(|c| c.is_ascii_graphic());
    if !printable || value.chars().count() > MAX_VERSION_CHARS {
        return Err(ConfigError {
            variable: "PRIVACY_POLICY_VERSION",
            problem: format!(
                "must be at most {MAX_VERSION_CHARS} visible ASCII characters, such as 2024-05 or 3"
            ),
        });
    }
    Ok(value)
}

fn failure_policy<F: Fn(&str) -> Option<String>>(
    vars: &Vars<'_, F>,
    variable: &'static str,
    default: FailurePolicy,
) -> Result<FailurePolicy, ConfigError> {
    match vars.get(variable).as_deref().map(str::trim) {
        None => Ok(default),
        Some("accept") => Ok(FailurePolicy::Accept),
        Some("reject") => Ok(FailurePolicy::Reject),
        Some(_) => Err(ConfigError {
            variable,
            problem: "must be accept or reject".into(),
        }),
    }
}

fn switch<F: Fn(&str) -> Option<String>>(
    vars: &Vars<'_, F>,
    variable: &'static str,
) -> Result<bool, ConfigError> {
    match vars.get(variable).as_deref().map(str::trim) {
        None | Some("off") => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(ConfigError {
            variable,
            problem: "must be on or off".into(),
        }),
    }
}

fn block_rank(value: Option<String>) -> Result<Option<u8>, ConfigError> {
    value
        .map(|value| match value.trim().parse::<u8>() {
            Ok(rank @ 1..=MAX_RISK_RANK) => Ok(rank),
            _ => Err(ConfigError {
                variable: "RISK_BLOCK_RANK",
                problem: format!("must be a risk rank from 1 to {MAX_RISK_RANK}"),
            }),
        })
        .transpose()
}

fn public_base_url(value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim().trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {
            Ok(Some(value))
        }
        // Not the value: a URL may carry a password in its user info.
        _ => Err(ConfigError {
            variable: "PUBLIC_BASE_URL",
            problem: "must be an http(s) URL without a query, such as https://api.example.com"
                .into(),
        }),
    }
}

fn push_config(
    token: Option<String>,
    aes_key: Option<String>,
) -> Result<Option<PushConfig>, ConfigError> {
    let Some(token) = token else {
        return match aes_key {
            Some(_) => Err(ConfigError {
                variable: "WECHAT_PUSH_AES_KEY",
                problem: "is set but WECHAT_PUSH_TOKEN is not; message push needs both".into(),
            }),
            None => Ok(None),
        };
    };
    // The admin console's own rule for the Token.
    let token_ok =
        (3..=32).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric());
    if !token_ok {
        return Err(ConfigError {
            variable: "WECHAT_PUSH_TOKEN",
            problem: "must be 3 to 32 letters and digits, as the admin console requires".into(),
        });
    }
    let aes_key = aes_key
        .map(|key| match push_aes_key_bytes(&key) {
            Some(_) => Ok(SecretString::from(key)),
            None => Err(ConfigError {
                variable: "WECHAT_PUSH_AES_KEY",
                problem: "must be the 43-character EncodingAESKey from the admin console".into(),
            }),
        })
        .transpose()?;
    Ok(Some(PushConfig {
        token: token.into(),
        aes_key,
    }))
}

/// Base64 that ignores the unused low bits of the last character. The console draws an
/// EncodingAESKey's 43 characters at random, so those bits are mostly not zero, and WeChat's own
/// decoders ignore them.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The 32-byte AES key an EncodingAESKey stands for: its 43 characters are base64 without the
/// final `=`.
pub fn push_aes_key_bytes(encoding_aes_key: &str) -> Option<[u8; 32]> {
    if encoding_aes_key.len() != 43 {
        return None;
    }
    LENIENT
        .decode(format!("{encoding_aes_key}="))
        .ok()?
        .try_into()
        .ok()
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn an_encoding_aes_key_is_43_characters_of_base64() {
        assert_eq!(push_aes_key_bytes(KEY).map(|k| k.len()), Some(32));
        // The last character's unused low bits need not be zero ('x' leaves 01).
        let loose = "kP3vXq9ZtR7wLm2NcY5bH8dJ4fG6sA1eU0iO3pQ7rTx";
        assert_eq!(push_aes_key_bytes(loose).map(|k| k.len()), Some(32));
        assert_eq!(push_aes_key_bytes(&KEY[1..]), None);
        assert_eq!(push_aes_key_bytes(&format!("{KEY}=")), None);
        assert_eq!(push_aes_key_bytes(&KEY.replace('a', "*")), None);
    }

    #[test]
    fn push_needs_a_console_token_and_a_valid_key_and_never_echoes_them() {
        assert!(push_config(None, None).unwrap().is_none());
        let err = push_config(None, Some(KEY.into())).unwrap_err();
        assert_eq!(err.variable, "WECHAT_PUSH_AES_KEY");
        for bad in [
            "ab",
            "has space in it",
            "secret-with-dash!",
            &"x".repeat(33),
        ] {
            let err = push_config(Some(bad.into()), None).unwrap_err();
            assert_eq!(err.variable, "WECHAT_PUSH_TOKEN");
            assert!(!err.to_string().contains(bad), "{err}");
        }
        let bad_key = "not-a-key-hunter2";
        let err = push_config(Some("Token123".into()), Some(bad_key.into())).unwrap_err();
        assert!(!err.to_string().contains(bad_key));
        let push = push_config(Some("Token123".into()), Some(KEY.into()))
            .unwrap()
            .unwrap();
        assert_eq!(push.token.expose_secret(), "Token123");
        assert!(!format!("{push:?}").contains("Token123"));
        assert!(!format!("{push:?}").contains(KEY));
    }

    fn config_with(vars: &[(&str, &str)]) -> Result<ComplianceConfig, ConfigError> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        compliance_config(&Vars(&lookup))
    }

    #[test]
    fn defaults_turn_on_nothing_that_needs_the_admin_console() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.privacy_policy_version, "1");
        assert_eq!(config.content_check_failure, FailurePolicy::Reject);
        assert_eq!(config.public_base_url, None);
        assert!(config.push.is_none());
        assert_eq!(
            config.risk,
            RiskConfig {
                enabled: false,
                block_rank: None,
                on_failure: FailurePolicy::Accept,
            }
        );
        let config = config_with(&[
            ("CONTENT_CHECK_FAILURE", "accept"),
            ("RISK_CHECK", "on"),
            ("RISK_BLOCK_RANK", "4"),
            ("RISK_CHECK_FAILURE", "reject"),
        ])
        .unwrap();
        assert_eq!(config.content_check_failure, FailurePolicy::Accept);
        assert_eq!(
            config.risk,
            RiskConfig {
                enabled: true,
                block_rank: Some(4),
                on_failure: FailurePolicy::Reject,
            }
        );
        for (name, value) in [
            ("CONTENT_CHECK_FAILURE", "ignore"),
            ("RISK_CHECK", "yes"),
            ("RISK_CHECK_FAILURE", "maybe"),
        ] {
            assert_eq!(config_with(&[(name, value)]).unwrap_err().variable, name);
        }
    }

    #[test]
    fn versions_ranks_and_urls_are_checked() {
        assert_eq!(policy_version(None).unwrap(), "1");
        assert_eq!(policy_version(Some(" 2024-05 ".into())).unwrap(), "2024-05");
        assert!(policy_version(Some("two words".into())).is_err());
        assert!(policy_version(Some("v".repeat(65))).is_err());
        assert_eq!(block_rank(None).unwrap(), None);
        assert_eq!(block_rank(Some("3".into())).unwrap(), Some(3));
        for bad in ["0", "5", "-1", "high"] {
            assert!(block_rank(Some(bad.into())).is_err(), "{bad}");
        }
        assert_eq!(
            public_base_url(Some("https://api.example.com/".into())).unwrap(),
            Some("https://api.example.com".to_owned())
        );
        assert!(public_base_url(Some("ftp://example.com".into())).is_err());
        assert!(public_base_url(Some("https://example.com/?x=1".into())).is_err());
    }
}
