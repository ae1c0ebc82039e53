//! Server configuration, read once from the environment at start.
//!
//! Every problem names the variable at fault and never echoes a secret's value: the message
//! is printed to a terminal and may end up in a deployment log.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

mod compliance;
mod connections;
mod database;
mod limits;
mod observability;
mod qr_login;
mod secrets;
mod verifiers;

pub use compliance::{push_aes_key_bytes, ComplianceConfig, FailurePolicy, PushConfig, RiskConfig};
pub use connections::ConnectionLimits;
pub use database::Pooler;
pub use limits::{RateLimit, TrustedProxies};
pub use observability::LogFormat;
pub use qr_login::{EnvVersion, QrLoginConfig};
pub use verifiers::IntrospectionClient;

/// Everything the server needs to run.
///
/// `Debug` is safe to print: the secrets are `SecretString`s, which print as redacted.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: SecretString,
    /// Postgres connections this instance may hold. Small is fast: every extra backend on a
    /// small machine costs context switches without adding throughput.
    pub database_max_connections: u32,
    /// A pooler in transaction mode between wxlogin and Postgres, if any.
    pub database_pooler: Pooler,
    /// Where migrations run, when not over `database_url`.
    pub database_migration_url: Option<SecretString>,
    pub listen_addr: SocketAddr,
    pub wechat: WechatConfig,
    pub signing: SigningConfig,
    /// The secret the at-rest key for WeChat session_keys is derived from.
    pub seal_secret: SecretString,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long an instance trusts what it last learned about a session (live or revoked).
    pub session_cache_ttl: Duration,
    /// Refreshes one session may make per minute.
    pub session_refreshes_per_minute: u32,
    /// How often each instance deletes ended sessions and spent refresh tokens.
    pub prune_interval: Duration,
    /// Timeouts and the cap on open connections.
    pub connections: ConnectionLimits,
    /// How long a request waits for a database connection before answering 503 `unavailable`.
    pub database_acquire_timeout: Duration,
    /// Per client IP and per instance.
    pub rate_limit_login: RateLimit,
    pub rate_limit_refresh: RateLimit,
    /// Peers whose `X-Forwarded-For` names the client; anyone else is the client.
    pub trusted_proxies: TrustedProxies,
    /// The `aud` access tokens carry and wxlogin requires; none when empty.
    pub token_audience: Vec<String>,
    /// Services allowed to introspect tokens; none disables the endpoint.
    pub introspection_clients: Vec<IntrospectionClient>,
    /// Privacy consent, content checks, message push and the sign-up risk check.
    pub compliance: ComplianceConfig,
    /// Scan-to-login tickets: their lifetime and the mini-program version their code opens.
    pub qr_login: QrLoginConfig,
    /// Web origins allowed to call the endpoints a browser uses; none when empty.
    pub cors_allowed_origins: Vec<String>,
    /// Where `GET /metrics` is served; `None` serves no metrics.
    pub metrics_addr: Option<SocketAddr>,
    /// `None`: pretty on a terminal, JSON otherwise.
    pub log_format: Option<LogFormat>,
}

/// How access tokens are signed.
#[derive(Debug, Clone)]
pub enum SigningConfig {
    /// One shared secret signs and verifies; only the server can check tokens.
    Hs256 { secret: SecretString },
    /// Ed25519: anyone can verify with the published public keys (JWKS).
    EdDsa {
        current: Ed25519Key,
        /// Retired keys whose tokens still verify until they expire.
        previous: Vec<Ed25519Key>,
    },
}

/// A parsed Ed25519 private key.
#[derive(Clone)]
pub struct Ed25519Key(pub Box<ed25519_dalek::SigningKey>);

impl std::fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ed25519Key([REDACTED])")
    }
}

#[derive(Debug, Clone)]
pub struct WechatConfig {
    pub appid: String,
    pub secret: SecretString,
    pub api_base: String,
    pub timeout: Duration,
    /// Tries in all, the first included, while WeChat answers "system busy" (errcode -1).
    pub busy_attempts: u32,
    /// The cap of the first backoff after "system busy"; each later one doubles.
    pub busy_backoff: Duration,
    /// WeChat calls this instance makes at once; more wait briefly for a slot, then get 503.
    pub max_in_flight: usize,
}

/// A configuration problem, with the variable it concerns.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

/// Lifetimes are bounded when read, so that no date computed from them can overflow and no
/// token lives for ever: a day for an access token (logout reaches other instances through the
/// session cache, not through expiry), a year for a refresh token, an hour for a cached session.
const MAX_ACCESS_TOKEN_TTL: u64 = 24 * 3600;
const MAX_REFRESH_TOKEN_TTL: u64 = 365 * 24 * 3600;
const MAX_SESSION_CACHE_TTL: u64 = 3600;
const MAX_REFRESHES_PER_MINUTE: u64 = 1_000_000;
const MAX_PRUNE_INTERVAL: u64 = 24 * 3600;

const RATE_LIMIT_FORM: &str = "<count>/<seconds> (seconds at most 86400) or off";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(&lookup);
        let signing = signing_config(&vars)?;
        let seal_secret =
            secrets::strong("SESSION_KEY_SECRET", vars.required("SESSION_KEY_SECRET")?)?;
        // One guessed or leaked secret must not both forge tokens and open stored session_keys.
        if let SigningConfig::Hs256 { secret } = &signing {
            if secret.expose_secret() == seal_secret {
                return Err(ConfigError {
                    variable: "SESSION_KEY_SECRET",
                    problem: "must differ from JWT_SECRET".into(),
                });
            }
        }
        let database_pooler = vars.parsed("DATABASE_POOLER", "none", "none or transaction")?;
        Ok(Self {
            database_url: vars.required("DATABASE_URL")?.into(),
            database_pooler,
            database_migration_url: database::migration_url(
                database_pooler,
                vars.get("DATABASE_MIGRATION_URL"),
            )?,
            database_max_connections: u32::try_from(vars.positive("DATABASE_MAX_CONNECTIONS", 8)?)
                .map_err(|_| ConfigError {
                    variable: "DATABASE_MAX_CONNECTIONS",
                    problem: "is too large".into(),
                })?,
            listen_addr: vars.parsed("LISTEN_ADDR", "127.0.0.1:8080", "a socket address")?,
            wechat: WechatConfig {
                appid: vars.required("WECHAT_APPID")?,
                secret: vars.required("WECHAT_SECRET")?.into(),
                api_base: vars.url("WECHAT_API_BASE", "https://api.weixin.qq.com")?,
                timeout: Duration::from_millis(vars.positive("WECHAT_TIMEOUT_MS", 5_000)?),
                busy_attempts: u32::try_from(vars.positive("WECHAT_BUSY_ATTEMPTS", 3)?).map_err(
                    |_| ConfigError {
                        variable: "WECHAT_BUSY_ATTEMPTS",
                        problem: "is too large".into(),
                    },
                )?,
                busy_backoff: Duration::from_millis(vars.positive("WECHAT_BUSY_BACKOFF_MS", 100)?),
                max_in_flight: usize::try_from(vars.positive("WECHAT_MAX_IN_FLIGHT", 64)?)
                    .map_err(|_| ConfigError {
                        variable: "WECHAT_MAX_IN_FLIGHT",
                        problem: "is too large".into(),
                    })?,
            },
            signing,
            seal_secret: seal_secret.into(),
            access_token_ttl: Duration::from_secs(vars.bounded(
                "ACCESS_TOKEN_TTL",
                7_200,
                MAX_ACCESS_TOKEN_TTL,
            )?),
            refresh_token_ttl: Duration::from_secs(vars.bounded(
                "REFRESH_TOKEN_TTL",
                30 * 24 * 3600,
                MAX_REFRESH_TOKEN_TTL,
            )?),
            session_cache_ttl: Duration::from_secs(vars.bounded(
                "SESSION_CACHE_TTL",
                5,
                MAX_SESSION_CACHE_TTL,
            )?),
            session_refreshes_per_minute: u32::try_from(vars.bounded(
                "SESSION_REFRESHES_PER_MINUTE",
                10,
                MAX_REFRESHES_PER_MINUTE,
            )?)
            .expect("bounded to fit"),
            prune_interval: Duration::from_secs(vars.bounded(
                "PRUNE_INTERVAL",
                600,
                MAX_PRUNE_INTERVAL,
            )?),
            connections: ConnectionLimits {
                max_connections: usize::try_from(vars.bounded(
                    "HTTP_MAX_CONNECTIONS",
                    connections::DEFAULT_MAX_CONNECTIONS,
                    connections::MAX_CONNECTIONS,
                )?)
                .expect("bounded to fit"),
                header_timeout: Duration::from_millis(vars.bounded(
                    "HTTP_HEADER_TIMEOUT_MS",
                    connections::DEFAULT_HEADER_TIMEOUT_MS,
                    connections::MAX_TIMEOUT_MS,
                )?),
                body_timeout: Duration::from_millis(vars.bounded(
                    "HTTP_BODY_TIMEOUT_MS",
                    connections::DEFAULT_BODY_TIMEOUT_MS,
                    connections::MAX_TIMEOUT_MS,
                )?),
                idle_timeout: Duration::from_millis(vars.bounded(
                    "HTTP_IDLE_TIMEOUT_MS",
                    connections::DEFAULT_IDLE_TIMEOUT_MS,
                    connections::MAX_TIMEOUT_MS,
                )?),
            },
            database_acquire_timeout: Duration::from_secs(
                vars.positive("DATABASE_ACQUIRE_TIMEOUT", 3)?,
            ),
            rate_limit_login: vars.parsed("RATE_LIMIT_LOGIN", "20/60", RATE_LIMIT_FORM)?,
            rate_limit_refresh: vars.parsed("RATE_LIMIT_REFRESH", "60/60", RATE_LIMIT_FORM)?,
            trusted_proxies: vars.parsed(
                "TRUSTED_PROXIES",
                "",
                "comma-separated IP addresses or CIDRs",
            )?,
            token_audience: verifiers::token_audience(vars.get("TOKEN_AUDIENCE")),
            introspection_clients: verifiers::introspection_clients(
                vars.get("INTROSPECTION_CLIENTS"),
            )?,
            compliance: compliance::compliance_config(&vars)?,
            qr_login: QrLoginConfig {
                ttl: qr_login::ttl(vars.positive("QR_LOGIN_TTL", qr_login::DEFAULT_TTL_SECS)?)?,
                env_version: vars.parsed(
                    "WECHAT_ENV_VERSION",
                    "release",
                    "release, trial or develop",
                )?,
            },
            cors_allowed_origins: qr_login::cors_allowed_origins(vars.get("CORS_ALLOWED_ORIGINS"))?,
            metrics_addr: observability::metrics_addr(vars.get("METRICS_ADDR"))?,
            log_format: observability::log_format(vars.get("LOG_FORMAT"))?,
        })
    }
}

fn signing_config<F: Fn(&str) -> Option<String>>(
    vars: &Vars<'_, F>,
) -> Result<SigningConfig, ConfigError> {
    match vars.get("JWT_ALG").as_deref().map(str::trim) {
        None | Some("HS256") => {
            let secret = vars.required("JWT_SECRET")?;
            Ok(SigningConfig::Hs256 {
                secret: secrets::strong("JWT_SECRET", secret)?.into(),
            })
        }
        Some("EdDSA") => {
            let current = vars.required("JWT_PRIVATE_KEY")?;
            let current = ed25519_key("JWT_PRIVATE_KEY", &current)?;
            let previous = vars
                .get("JWT_PREVIOUS_KEYS")
                .unwrap_or_default()
                .split(',')
                .filter(|key| !key.trim().is_empty())
                .map(|key| ed25519_key("JWT_PREVIOUS_KEYS", key))
                .collect::<Result<_, _>>()?;
            Ok(SigningConfig::EdDsa { current, previous })
        }
        Some(_) => Err(ConfigError {
            variable: "JWT_ALG",
            problem: "must be HS256 or EdDSA".into(),
        }),
    }
}

/// An Ed25519 private key in PKCS#8 PEM, given as the text itself or as `@/path/to/file`.
fn ed25519_key(variable: &'static str, value: &str) -> Result<Ed25519Key, ConfigError> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;

    let value = value.trim();
    let pem = match value.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|err| ConfigError {
            variable,
            problem: format!("names a file that cannot be read: {err}"),
        })?,
        // Environment files often carry a PEM on one line with literal "\n"s.
        None => value.replace("\\n", "\n"),
    };
    ed25519_dalek::SigningKey::from_pkcs8_pem(pem.trim())
        .map(|key| Ed25519Key(Box::new(key)))
        .map_err(|_| ConfigError {
            variable,
            problem: "must be an Ed25519 private key in PKCS#8 PEM (BEGIN PRIVATE KEY)".into(),
        })
}

struct Vars<'a, F>(&'a F);

impl<F: Fn(&str) -> Option<String>> Vars<'_, F> {
    /// An unset or blank variable counts as missing: `FOO=` in a `.env` file is a common slip.
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|value| !value.trim().is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or(ConfigError {
            variable: name,
            problem: "is required but not set".into(),
        })
    }

    fn parsed<T: std::str::FromStr>(
        &self,
        name: &'static str,
        default: &str,
        what: &str,
    ) -> Result<T, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        value.trim().parse().map_err(|_| ConfigError {
            variable: name,
            problem: format!("must be {what}"),
        })
    }

    fn positive(&self, name: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.parsed::<u64>(name, &default.to_string(), "a positive whole number")? {
            0 => Err(ConfigError {
                variable: name,
                problem: "must be greater than zero".into(),
            }),
            value => Ok(value),
        }
    }

    /// A whole number from 1 to `max`, or `default` when unset.
    fn bounded(&self, name: &'static str, default: u64, max: u64) -> Result<u64, ConfigError> {
        match self.positive(name, default)? {
            value if value > max => Err(ConfigError {
                variable: name,
                problem: format!("must be at most {max}"),
            }),
            value => Ok(value),
        }
    }

    fn url(&self, name: &'static str, default: &str) -> Result<String, ConfigError> {
        let value = self.get(name).unwrap_or_else(|| default.to_owned());
        let value = value.trim().trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(value),
            // Not the value: a URL may carry a password in its user info.
            _ => Err(ConfigError {
                variable: name,
                problem: "must be an http(s) URL".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const SEAL: &str = "a-separate-sealing-secret-of-32-bytes!";

    fn config_with(overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars: HashMap<&str, &str> = HashMap::from([
            ("DATABASE_URL", "postgres://localhost/wxlogin"),
            ("WECHAT_APPID", "wx123"),
            ("WECHAT_SECRET", "appsecret"),
            ("JWT_SECRET", SECRET),
            ("SESSION_KEY_SECRET", SEAL),
        ]);
        vars.extend(overrides.iter().copied());
        Config::from_lookup(|name| vars.get(name).map(|v| v.to_string()))
    }

    #[test]
    fn defaults_fill_the_optional_variables() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.listen_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.wechat.api_base, "https://api.weixin.qq.com");
        assert_eq!(config.wechat.timeout, Duration::from_millis(5_000));
        assert_eq!(config.access_token_ttl, Duration::from_secs(7_200));
        assert_eq!(
            config.refresh_token_ttl,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(config.session_cache_ttl, Duration::from_secs(5));
        assert_eq!(config.database_acquire_timeout, Duration::from_secs(3));
        assert_eq!(config.wechat.max_in_flight, 64);
        assert_eq!(config.rate_limit_login, "20/60".parse().unwrap());
        assert_eq!(config.rate_limit_refresh, "60/60".parse().unwrap());
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.database_max_connections, 8);
        assert!(matches!(config.signing, SigningConfig::Hs256 { .. }));
        assert_eq!(config.seal_secret.expose_secret(), SEAL);
        assert_eq!(config.session_refreshes_per_minute, 10);
        assert_eq!(config.prune_interval, Duration::from_secs(600));
        assert_eq!(config.qr_login.ttl, Duration::from_secs(120));
        assert_eq!(config.qr_login.env_version, EnvVersion::Release);
        assert!(config.cors_allowed_origins.is_empty());
        assert_eq!(
            config.connections,
            ConnectionLimits {
                max_connections: 1_024,
                header_timeout: Duration::from_secs(10),
                body_timeout: Duration::from_secs(30),
                idle_timeout: Duration::from_secs(30),
            }
        );
    }

    #[test]
    fn a_transaction_pooler_needs_a_direct_url_for_migrations() {
        let direct = config_with(&[]).unwrap();
        assert_eq!(direct.database_pooler, Pooler::None);
        assert!(direct.database_migration_url.is_none());

        let err = config_with(&[("DATABASE_POOLER", "transaction")]).unwrap_err();
        assert_eq!(err.variable, "DATABASE_MIGRATION_URL");

        let migrations = "postgres://wxlogin:hunter2@db:5432/wxlogin";
        let pooled = config_with(&[
            ("DATABASE_POOLER", "transaction"),
            ("DATABASE_MIGRATION_URL", migrations),
        ])
        .unwrap();
        assert_eq!(pooled.database_pooler, Pooler::Transaction);
        assert_eq!(
            pooled.database_migration_url.unwrap().expose_secret(),
            migrations
        );
        assert!(!format!(
            "{:?}",
            config_with(&[("DATABASE_MIGRATION_URL", migrations)])
        )
        .contains("hunter2"));
        for value in ["statement", "pgbouncer", "Transaction"] {
            let err = config_with(&[("DATABASE_POOLER", value)]).unwrap_err();
            assert_eq!(err.variable, "DATABASE_POOLER");
        }
    }

    #[test]
    fn each_required_variable_is_named_when_missing() {
        for name in [
            "DATABASE_URL",
            "WECHAT_APPID",
            "WECHAT_SECRET",
            "JWT_SECRET",
            "SESSION_KEY_SECRET",
        ] {
            let err = config_with(&[(name, " ")]).unwrap_err();
            assert_eq!(err.variable, name);
        }
    }

    #[test]
    fn a_short_jwt_secret_is_refused_without_echoing_it() {
        let err = config_with(&[("JWT_SECRET", "short-but-secret")]).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        assert!(!err.to_string().contains("short-but-secret"));
    }

    #[test]
    fn malformed_values_are_refused() {
        for (name, value) in [
            ("LISTEN_ADDR", "localhost"),
            ("WECHAT_TIMEOUT_MS", "0"),
            ("WECHAT_TIMEOUT_MS", "-5"),
            ("ACCESS_TOKEN_TTL", "2h"),
            ("REFRESH_TOKEN_TTL", "0"),
            ("SESSION_CACHE_TTL", "soon"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "99999999999"),
            ("SESSION_KEY_SECRET", "too-short"),
            ("WECHAT_API_BASE", "ftp://example.com"),
            ("DATABASE_ACQUIRE_TIMEOUT", "0"),
            ("WECHAT_MAX_IN_FLIGHT", "0"),
            ("RATE_LIMIT_LOGIN", "20 per minute"),
            ("RATE_LIMIT_REFRESH", "60/0"),
            ("TRUSTED_PROXIES", "10.0.0.0/8,nonsense"),
            ("QR_LOGIN_TTL", "5"),
            ("QR_LOGIN_TTL", "2m"),
            ("WECHAT_ENV_VERSION", "beta"),
            ("CORS_ALLOWED_ORIGINS", "*"),
        ] {
            assert_eq!(config_with(&[(name, value)]).unwrap_err().variable, name);
        }
    }

    #[test]
    fn eddsa_needs_a_valid_key_and_a_seal_secret() {
        assert_eq!(
            config_with(&[("JWT_ALG", "EdDSA")]).unwrap_err().variable,
            "JWT_PRIVATE_KEY"
        );
        let err = config_with(&[("JWT_ALG", "EdDSA"), ("JWT_PRIVATE_KEY", "not a pem")]);
        assert_eq!(err.unwrap_err().variable, "JWT_PRIVATE_KEY");
        let err = config_with(&[
            ("JWT_ALG", "EdDSA"),
            ("JWT_PRIVATE_KEY", "@/nonexistent/key.pem"),
        ]);
        assert_eq!(err.unwrap_err().variable, "JWT_PRIVATE_KEY");
        assert_eq!(
            config_with(&[("JWT_ALG", "RS256")]).unwrap_err().variable,
            "JWT_ALG"
        );
    }

    #[test]
    fn eddsa_reads_pem_text_with_escaped_newlines_and_needs_its_own_seal_secret() {
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        use ed25519_dalek::pkcs8::EncodePrivateKey;

        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        // How a PEM usually arrives from a one-line .env entry.
        let one_line = pem.trim().replace('\n', "\\n");
        let eddsa = [("JWT_ALG", "EdDSA"), ("JWT_PRIVATE_KEY", one_line.as_str())];

        let err = config_with(&[eddsa[0], eddsa[1], ("SESSION_KEY_SECRET", "")]).unwrap_err();
        assert_eq!(err.variable, "SESSION_KEY_SECRET");

        let seal = "another-sealing-secret-for-eddsa-0123456789";
        let config = config_with(&[eddsa[0], eddsa[1], ("SESSION_KEY_SECRET", seal)]).unwrap();
        let SigningConfig::EdDsa { current, previous } = &config.signing else {
            panic!("EdDSA configured");
        };
        assert_eq!(current.0.to_bytes(), key.to_bytes());
        assert!(previous.is_empty());
        assert_eq!(config.seal_secret.expose_secret(), seal);
        assert!(!format!("{config:?}").contains(one_line.as_str()));
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let printed = format!("{:?}", config_with(&[]).unwrap());
        assert!(!printed.contains(SECRET));
        assert!(!printed.contains("appsecret"));
        assert!(!printed.contains(SEAL));
    }

    #[test]
    fn the_seal_secret_is_required_and_apart_from_the_signing_secret() {
        let err = config_with(&[("SESSION_KEY_SECRET", "")]).unwrap_err();
        assert_eq!(err.variable, "SESSION_KEY_SECRET");
        let err = config_with(&[("SESSION_KEY_SECRET", SECRET)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SESSION_KEY_SECRET must differ from JWT_SECRET"
        );
    }

    #[test]
    fn the_published_example_secrets_are_refused() {
        let example = include_str!("../../../.env.example");
        let mut seen = 0;
        for line in example.lines() {
            let line = line.trim_start_matches('#');
            for name in ["JWT_SECRET", "SESSION_KEY_SECRET"] {
                if let Some(value) = line.strip_prefix(&format!("{name}=")) {
                    seen += 1;
                    let err = config_with(&[(name, value)]).unwrap_err();
                    assert_eq!(err.variable, name, "{line}");
                    assert!(!err.to_string().contains(value), "{err}");
                }
            }
        }
        assert_eq!(seen, 2, ".env.example shows both secrets");
    }

    #[test]
    fn weak_secrets_and_whitespace_padding_are_refused() {
        for name in ["JWT_SECRET", "SESSION_KEY_SECRET"] {
            for weak in [
                "a".repeat(32),
                format!("abc{}", " ".repeat(29)),
                format!("{SECRET} "),
                format!("\t{SEAL}"),
            ] {
                assert_eq!(config_with(&[(name, &weak)]).unwrap_err().variable, name);
            }
        }
    }

    #[test]
    fn lifetimes_are_bounded() {
        for (name, value) in [
            ("REFRESH_TOKEN_TTL", "18446744073709551615"),
            ("REFRESH_TOKEN_TTL", "31536001"),
            ("ACCESS_TOKEN_TTL", "18446744073709551615"),
            ("ACCESS_TOKEN_TTL", "9223372036854775807"),
            ("ACCESS_TOKEN_TTL", "86401"),
            ("SESSION_CACHE_TTL", "3601"),
            ("HTTP_HEADER_TIMEOUT_MS", "3600001"),
            ("SESSION_REFRESHES_PER_MINUTE", "0"),
            ("PRUNE_INTERVAL", "0"),
            ("HTTP_MAX_CONNECTIONS", "0"),
        ] {
            assert_eq!(config_with(&[(name, value)]).unwrap_err().variable, name);
        }
        let longest = config_with(&[
            ("ACCESS_TOKEN_TTL", "86400"),
            ("REFRESH_TOKEN_TTL", "31536000"),
        ])
        .unwrap();
        assert_eq!(longest.access_token_ttl, Duration::from_secs(86_400));
        assert_eq!(longest.refresh_token_ttl, Duration::from_secs(31_536_000));
    }

    #[test]
    fn no_problem_echoes_the_value_it_refuses() {
        let secret = "hunter2-in-the-value";
        for (name, value) in [
            (
                "WECHAT_API_BASE",
                format!("ftp://admin:{secret}@example.com"),
            ),
            ("WECHAT_API_BASE", format!("not a url {secret}")),
            ("LISTEN_ADDR", secret.to_owned()),
            ("ACCESS_TOKEN_TTL", secret.to_owned()),
            ("JWT_ALG", secret.to_owned()),
            ("RATE_LIMIT_LOGIN", secret.to_owned()),
            ("TRUSTED_PROXIES", secret.to_owned()),
            ("HTTP_IDLE_TIMEOUT_MS", secret.to_owned()),
        ] {
            let err = config_with(&[(name, &value)]).unwrap_err();
            assert_eq!(err.variable, name);
            assert!(!err.to_string().contains(secret), "{err}");
        }
        let err = config_with(&[
            ("JWT_ALG", "EdDSA"),
            ("JWT_PRIVATE_KEY", "@/nonexistent/hunter2-in-the-value.pem"),
        ])
        .unwrap_err();
        assert!(!err.to_string().contains(secret), "{err}");
    }
}
