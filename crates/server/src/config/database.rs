//! What sits between wxlogin and Postgres (`DATABASE_POOLER`), and where migrations run
//! (`DATABASE_MIGRATION_URL`). Acted on in `db.rs` and `main.rs`.

use std::str::FromStr;

use secrecy::SecretString;

use super::ConfigError;

/// A connection pooler in front of Postgres, as far as it changes how wxlogin talks to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pooler {
    /// Postgres itself, or a pooler in session mode: a connection is one server session.
    #[default]
    None,
    /// A pooler in transaction mode (PgBouncer's `pool_mode = transaction`): only within a
    /// transaction do two round trips reach the same server session.
    Transaction,
}

impl FromStr for Pooler {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value {
            "none" | "session" => Ok(Self::None),
            "transaction" => Ok(Self::Transaction),
            _ => Err(()),
        }
    }
}

/// Migrations take a session-level advisory lock, which a transaction pooler cannot keep: behind
/// one they need a direct connection of their own.
pub(super) fn migration_url(
    pooler: Pooler,
    migration_url: Option<String>,
) -> Result<Option<SecretString>, ConfigError> {
    match (pooler, migration_url) {
        (Pooler::Transaction, None) => Err(ConfigError {
            variable: "DATABASE_MIGRATION_URL",
            problem: "is required with DATABASE_POOLER=transaction: migrations need a direct \
                      connection to Postgres"
                .into(),
        }),
        (_, url) => Ok(url.map(SecretString::from)),
    }
}
