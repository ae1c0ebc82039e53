//! The `qr_login_tickets` table: scan-to-login tickets and their one-way life.
//!
//! Every change is one conditional UPDATE whose WHERE clause states what must still be true
//! (the state it leaves, the user who scanned, the ticket not expired), so that when two
//! instances race, the database decides and the loser changes nothing. Expiry is always judged
//! against the database's `now()`, never an instance's clock.

use sqlx::{PgExecutor, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{RefreshTokenHash, Ticket};

/// A ticket as the browser's request left it.
pub struct NewTicket<'a> {
    pub ticket: &'a Ticket,
    pub poll_secret_hash: &'a RefreshTokenHash,
    pub browser_user_agent: Option<&'a str>,
    pub browser_ip: &'a str,
    pub ttl_secs: i32,
}

/// What the browser told us, as the phone shows it before the user confirms.
#[derive(Debug, Clone)]
pub struct Browser {
    pub user_agent: Option<String>,
    pub ip: String,
    pub requested_at: OffsetDateTime,
}

/// A ticket as every step reads it.
#[derive(Debug)]
pub struct TicketRow {
    pub poll_secret_hash: Vec<u8>,
    pub state: String,
    pub user_id: Option<Uuid>,
    pub expired: bool,
    /// Whole seconds left, rounded up; 0 once expired.
    pub expires_in: i64,
    pub handed_out: bool,
}

/// The browser a scan is about, and how long the ticket has left.
pub struct Scanned {
    pub browser: Browser,
    pub expires_in: i64,
}

/// The session a confirmed ticket's hand-out opens.
pub struct HandOut {
    pub user_id: Uuid,
    pub browser_user_agent: Option<String>,
}

/// Stores a new pending ticket that expires `ttl_secs` from the database's now.
pub async fn insert(db: impl PgExecutor<'_>, new: &NewTicket<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO qr_login_tickets
            (ticket, poll_secret_hash, browser_user_agent, browser_ip, expires_at)
        VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))
        "#,
        new.ticket.as_str(),
        new.poll_secret_hash.as_slice(),
        new.browser_user_agent,
        new.browser_ip,
        f64::from(new.ttl_secs),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The ticket's state: one indexed read, which a waiting event stream repeats.
pub async fn find(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
) -> Result<Option<TicketRow>, sqlx::Error> {
    sqlx::query_as!(
        TicketRow,
        r#"
        SELECT poll_secret_hash, state, user_id,
               expires_at <= now() AS "expired!",
               GREATEST(0, ceil(extract(epoch FROM expires_at - now())))::bigint AS "expires_in!",
               handed_out_at IS NOT NULL AS "handed_out!"
        FROM qr_login_tickets WHERE ticket = $1
        "#,
        ticket.as_str(),
    )
    .fetch_optional(db)
    .await
}

/// Binds a pending ticket to `user_id`, or confirms it is already theirs; `None` when it is
/// neither (unknown, expired, another user's, or decided), which [`find`] then tells apart.
pub async fn scan(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
    user_id: Uuid,
) -> Result<Option<Scanned>, sqlx::Error> {
    let row = sqlx::query!(
        r#"
        UPDATE qr_login_tickets
        SET state = 'scanned', user_id = $2, scanned_at = COALESCE(scanned_at, now())
        WHERE ticket = $1 AND expires_at > now()
          AND (state = 'pending' OR (state = 'scanned' AND user_id = $2))
        RETURNING browser_user_agent, browser_ip, requested_at,
                  GREATEST(0, ceil(extract(epoch FROM expires_at - now())))::bigint AS "expires_in!"
        "#,
        ticket.as_str(),
        user_id,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| Scanned {
        browser: Browser {
            user_agent: row.browser_user_agent,
            ip: row.browser_ip,
            requested_at: row.requested_at,
        },
        expires_in: row.expires_in,
    }))
}

/// The scanner's answer: moves a ticket `user_id` scanned to `confirmed` or `denied`; false when
/// it was not theirs to decide (unknown, expired, not scanned, another user's, or decided).
pub async fn decide(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
    user_id: Uuid,
    confirmed: bool,
) -> Result<bool, sqlx::Error> {
    let state = if confirmed { "confirmed" } else { "denied" };
    let result = sqlx::query!(
        r#"
        UPDATE qr_login_tickets SET state = $3, decided_at = now()
        WHERE ticket = $1 AND user_id = $2 AND state = 'scanned' AND expires_at > now()
        "#,
        ticket.as_str(),
        user_id,
        state,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks a confirmed ticket's tokens handed out, to the session `session_id`; `None` when they
/// were already, or the ticket is not confirmed or has expired. Runs in the transaction that opens
/// the session, so that either both happen or neither does.
pub async fn hand_out(
    tx: &mut Transaction<'_, Postgres>,
    ticket: &Ticket,
    session_id: Uuid,
) -> Result<Option<HandOut>, sqlx::Error> {
    sqlx::query_as!(
        HandOut,
        r#"
        UPDATE qr_login_tickets SET handed_out_at = now(), session_id = $2
        WHERE ticket = $1 AND state = 'confirmed' AND handed_out_at IS NULL
          AND expires_at > now()
        RETURNING user_id AS "user_id!", browser_user_agent
        "#,
        ticket.as_str(),
        session_id,
    )
    .fetch_optional(&mut **tx)
    .await
}

/// The ticket's mini-program code, once drawn, for a ticket that has not expired. The outer
/// `None` is an unknown ticket.
pub struct QrCode {
    pub expired: bool,
    pub png: Option<Vec<u8>>,
}

pub async fn qr_code(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
) -> Result<Option<QrCode>, sqlx::Error> {
    sqlx::query_as!(
        QrCode,
        r#"
        SELECT expires_at <= now() AS "expired!", qr_code AS png
        FROM qr_login_tickets WHERE ticket = $1
        "#,
        ticket.as_str(),
    )
    .fetch_optional(db)
    .await
}

/// Claims the one WeChat call that draws the ticket's code: true for the caller that should make
/// it. A claim older than `stale_after_secs` is taken over, since its holder died or gave up.
pub async fn claim_qr_fetch(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
    stale_after_secs: f64,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        UPDATE qr_login_tickets SET qr_fetch_started_at = now()
        WHERE ticket = $1 AND qr_code IS NULL AND expires_at > now()
          AND (qr_fetch_started_at IS NULL
               OR qr_fetch_started_at < now() - make_interval(secs => $2))
        "#,
        ticket.as_str(),
        stale_after_secs,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Keeps the code WeChat drew; every later fetch is served from here.
pub async fn store_qr_code(
    db: impl PgExecutor<'_>,
    ticket: &Ticket,
    png: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE qr_login_tickets SET qr_code = $2 WHERE ticket = $1",
        ticket.as_str(),
        png,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Gives up a claim whose call failed, so that a later fetch may try again at once.
pub async fn release_qr_fetch(db: impl PgExecutor<'_>, ticket: &Ticket) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE qr_login_tickets SET qr_fetch_started_at = NULL WHERE ticket = $1 AND qr_code IS NULL",
        ticket.as_str(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes up to `batch` expired tickets; returns how many. Rows another instance is deleting
/// at the same moment are skipped, not waited for.
pub async fn delete_expired(db: impl PgExecutor<'_>, batch: i64) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        r#"
        DELETE FROM qr_login_tickets WHERE ticket IN (
            SELECT ticket FROM qr_login_tickets WHERE expires_at <= now()
            LIMIT $1 FOR UPDATE SKIP LOCKED
        )
        "#,
        batch,
    )
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
