//! Scan-to-login from a browser: how long a ticket lives (`QR_LOGIN_TTL`), which version of the
//! mini program its code opens (`WECHAT_ENV_VERSION`), and the web origins allowed to call the
//! endpoints a browser uses (`CORS_ALLOWED_ORIGINS`).

use std::time::Duration;

use super::ConfigError;

/// A ticket must outlive a user finding their phone and tapping twice, and a code on screen
/// should not stay usable for long.
pub(super) const DEFAULT_TTL_SECS: u64 = 120;
pub(super) const MIN_TTL_SECS: u64 = 10;
pub(super) const MAX_TTL_SECS: u64 = 600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrLoginConfig {
    pub ttl: Duration,
    pub env_version: EnvVersion,
}

/// Which version of the mini program a scanned code opens: the published one, the trial
/// version, or the developer's version (WeChat's `env_version`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvVersion {
    Release,
    Trial,
    Develop,
}

impl EnvVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Trial => "trial",
            Self::Develop => "develop",
        }
    }
}

impl std::str::FromStr for EnvVersion {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "release" => Ok(Self::Release),
            "trial" => Ok(Self::Trial),
            "develop" => Ok(Self::Develop),
            _ => Err(()),
        }
    }
}

/// `QR_LOGIN_TTL` in whole seconds.
pub(super) fn ttl(value: u64) -> Result<Duration, ConfigError> {
    if (MIN_TTL_SECS..=MAX_TTL_SECS).contains(&value) {
        Ok(Duration::from_secs(value))
    } else {
        Err(ConfigError {
            variable: "QR_LOGIN_TTL",
            problem: format!("must be from {MIN_TTL_SECS} to {MAX_TTL_SECS} seconds"),
        })
    }
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated web origins (`https://console.example.com`, a port
/// when it is not the default), each compared exactly with a request's `Origin`; none when
/// unset. A wildcard is refused: these endpoints hand out tokens.
pub(super) fn cors_allowed_origins(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    let problem = |problem: String| ConfigError {
        variable: "CORS_ALLOWED_ORIGINS",
        problem,
    };
    let mut origins: Vec<String> = Vec::new();
    let entries = value.unwrap_or_default();
    let entries = entries.split(',').map(str::trim).filter(|e| !e.is_empty());
    for (number, entry) in entries.enumerate() {
        let number = number + 1;
        if entry == "*" {
            return Err(problem(
                "must list origins one by one; `*` would let any site call these endpoints".into(),
            ));
        }
        let origin = reqwest::Url::parse(entry)
            .ok()
            .filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some()
                    && url.username().is_empty()
                    && url.password().is_none()
                    && url.path() == "/"
                    && !entry.ends_with('/')
                    && url.query().is_none()
                    && url.fragment().is_none()
            })
            .map(|url| url.origin().ascii_serialization())
            .ok_or_else(|| {
                problem(format!(
                    "entry {number} must be an origin such as https://console.example.com, without a path"
                ))
            })?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_normalised() {
        let origins = cors_allowed_origins(Some(
            " https://Console.Example.com , http://localhost:5173,https://console.example.com:443"
                .into(),
        ))
        .unwrap();
        assert_eq!(
            origins,
            ["https://console.example.com", "http://localhost:5173"]
        );
        assert!(cors_allowed_origins(None).unwrap().is_empty());
        assert!(cors_allowed_origins(Some(" , ".into())).unwrap().is_empty());
    }

    #[test]
    fn wildcards_paths_and_other_schemes_are_refused() {
        for bad in [
            "*",
            "https://a.example.com/",
            "https://a.example.com/console",
            "ftp://a.example.com",
            "a.example.com",
            "https://user:pw@a.example.com",
            "https://a.example.com?x=1",
        ] {
            let err = cors_allowed_origins(Some(bad.into())).unwrap_err();
            assert_eq!(err.variable, "CORS_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn the_ttl_is_bounded() {
        assert!(ttl(9).is_err());
        assert!(ttl(601).is_err());
        assert_eq!(ttl(10).unwrap(), Duration::from_secs(10));
        assert_eq!(ttl(600).unwrap(), Duration::from_secs(600));
    }
}
