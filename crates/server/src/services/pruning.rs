//! Deleting what no request will read again: ended sessions, spent refresh tokens and expired
//! scan-to-login tickets.
//!
//! Every instance runs [`run`] in the background. The deletes skip rows that another instance
//! (or a refresh) has locked instead of waiting for them, so N instances prune side by side
//! without blocking one another or the requests, and work in small batches so that no statement
//! holds locks for long.
//!
//! What goes:
//! - sessions that were revoked or have run out, with their refresh tokens: nothing accepts them;
//! - refresh tokens past their expiry: they are refused whatever else is true of them;
//! - used refresh tokens, once they have been used for longer than an access token lives. A used
//!   token is kept that long so that a replay still ends its session: a client whose token was
//!   stolen and used by someone else comes back with it at the latest when its access token runs
//!   out. After that, a replay is refused as an unknown token instead (the session lives on);
//! - scan-to-login tickets past their expiry: every step refuses them. Until a pass deletes one,
//!   its browser is told 410 `ticket_expired`; afterwards, 404 `not_found`.

use std::time::Duration;

use sqlx::PgExecutor;

use crate::db::Db;

use crate::storage::{qr_login_tickets, sessions};

/// Rows deleted per statement.
const BATCH: i64 = 1_000;

/// What one pruning pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub refresh_tokens: u64,
    pub qr_login_tickets: u64,
}

/// One pass: deletes in batches until nothing is left to delete. `used_tokens_kept_for` is how
/// long a used refresh token is kept after its use (the access-token lifetime).
pub async fn prune_once<'d>(
    db: impl PgExecutor<'d> + Copy,
    used_tokens_kept_for: Duration,
) -> Result<Pruned, sqlx::Error> {
    let mut pruned = Pruned::default();
    loop {
        let deleted = sessions::delete_ended(db, BATCH).await?;
        pruned.sessions += deleted;
        if deleted < BATCH as u64 {
            break;
        }
    }
    loop {
        let deleted =
            sessions::delete_spent_refresh_tokens(db, used_tokens_kept_for, BATCH).await?;
        pruned.refresh_tokens += deleted;
        if deleted < BATCH as u64 {
            break;
        }
    }
    loop {
        let deleted = qr_login_tickets::delete_expired(db, BATCH).await?;
        pruned.qr_login_tickets += deleted;
        if deleted < BATCH as u64 {
            break;
        }
    }
    Ok(pruned)
}

/// Prunes now and then every `interval`, for as long as the process runs. A failed pass is
/// logged and tried again at the next interval.
pub async fn run(db: Db, interval: Duration, used_tokens_kept_for: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match prune_once(&db, used_tokens_kept_for).await {
            Ok(pruned) if pruned != Pruned::default() => tracing::info!(
                sessions = pruned.sessions,
                refresh_tokens = pruned.refresh_tokens,
                qr_login_tickets = pruned.qr_login_tickets,
                "pruned ended sessions, spent refresh tokens and expired tickets"
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "pruning sessions failed; retrying later"),
        }
    }
}
