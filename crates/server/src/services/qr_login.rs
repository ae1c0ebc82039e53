//! Scan-to-login: a browser's ticket, its mini-program code, the phone's scan and answer, and
//! the one hand-out of the browser's tokens.
//!
//! The tickets live in Postgres ([`crate::storage::qr_login_tickets`]), so any instance serves any
//! step, and every state change is a conditional UPDATE that the database decides. The hand-out
//! marks the ticket and opens the browser's session in one transaction, and the access token is
//! signed before it commits: either the browser gets its tokens and the session exists, or
//! nothing changed and the ticket still holds them.
//!
//! Nothing here waits while holding a database connection: the event stream asks [`QrLogin::poll`]
//! again after a pause, which takes a pooled connection for one indexed read.

use std::sync::Arc;
use std::time::Duration;

use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

use super::access_token::{PlatformError, PlatformTokens};
use super::sessions::Sessions;
use crate::config::QrLoginConfig;
use crate::db::Db;
use crate::domain::{PollSecret, RefreshToken, Ticket};
use crate::storage::login::NewSession;
use crate::storage::qr_login_tickets::{self, Browser, NewTicket, TicketRow};
use crate::storage::users::{self, User};
use crate::tokens::{AccessTokens, IssuedToken, TokenSubject};
use crate::wechat::wxacode::CodeRequest;
use crate::wechat::WechatClient;

/// The page of the mini program that a scanned code opens.
pub const PAGE: &str = "pages/qr-login/index";

/// The width of the drawn code in pixels: sharp on a laptop screen, small to send.
const CODE_WIDTH: u32 = 430;

/// How long a fetch waits for another instance's call to WeChat for the same ticket's code.
const WAIT_FOR_OTHER_DRAW: Duration = Duration::from_secs(10);
/// How often a waiting fetch looks whether the code has arrived.
const DRAW_CHECK_EVERY: Duration = Duration::from_millis(100);
/// A claim on the WeChat call older than this was abandoned (its instance died mid-call): a
/// fetch may take it over. Longer than any call with its retries takes.
const DRAW_CLAIM_STALE_AFTER: Duration = Duration::from_secs(30);

/// Where a ticket is in its life. Expiry is not among them: it is a matter of the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketState {
    Pending,
    Scanned,
    Confirmed,
    Denied,
}

impl TicketState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scanned => "scanned",
            Self::Confirmed => "confirmed",
            Self::Denied => "denied",
        }
    }

    /// Confirmed and denied tickets change no more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Confirmed | Self::Denied)
    }

    fn of(row: &TicketRow) -> Self {
        match row.state.as_str() {
            "scanned" => Self::Scanned,
            "confirmed" => Self::Confirmed,
            "denied" => Self::Denied,
            // The column's CHECK allows nothing else.
            _ => Self::Pending,
        }
    }
}

/// Why a step was refused.
#[derive(Debug, thiserror::Error)]
pub enum QrLoginError {
    /// Unknown ticket, or a wrong or missing poll secret: the same answer for both.
    #[error("no such ticket")]
    NotFound,
    #[error("the ticket has expired")]
    Expired,
    #[error("the ticket was already decided, or its tokens handed out")]
    Used,
    #[error("another user scanned the ticket")]
    Taken,
    #[error("the ticket has not been scanned")]
    NotScanned,
    /// Scan, confirm and deny come from the mini program; a browser's own session from an
    /// earlier scan may not approve more browsers.
    #[error("only a session of the mini program may scan or decide")]
    NotMiniProgram,
    #[error("another instance is asking WeChat for this ticket's code")]
    DrawInProgress,
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("cannot sign the access token: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
    #[error("REFRESH_TOKEN_TTL overflows the calendar")]
    TtlOverflow,
}

/// A new ticket, for the browser that asked.
pub struct Created {
    pub ticket: Ticket,
    pub poll_secret: PollSecret,
    pub expires_in: u64,
}

/// What the phone learns by scanning.
pub struct Scan {
    pub browser: Browser,
    pub expires_in: u64,
}

/// What the browser learns by polling.
pub struct Poll {
    pub state: TicketState,
    pub expires_in: u64,
    /// Present once: in the answer that finds the ticket confirmed first.
    pub tokens: Option<HandedOut>,
}

/// The browser's new session and its tokens.
pub struct HandedOut {
    pub user: User,
    pub access: IssuedToken,
    pub refresh_token: RefreshToken,
}

pub struct QrLogin {
    /// Turns true when the instance shuts down, so that waiting event streams end instead of
    /// holding the shutdown until their tickets expire; browsers reconnect elsewhere.
    closing: tokio::sync::watch::Sender<bool>,
    db: Db,
    config: QrLoginConfig,
    wechat: WechatClient,
    platform_tokens: Arc<PlatformTokens>,
    sessions: Arc<Sessions>,
    tokens: Arc<AccessTokens>,
    refresh_token_ttl: Duration,
}

impl QrLogin {
    pub fn new(
        db: Db,
        config: QrLoginConfig,
        wechat: WechatClient,
        platform_tokens: Arc<PlatformTokens>,
        sessions: Arc<Sessions>,
        tokens: Arc<AccessTokens>,
        refresh_token_ttl: Duration,
    ) -> Self {
        Self {
            closing: tokio::sync::watch::Sender::new(false),
            db,
            config,
            wechat,
            platform_tokens,
            sessions,
            tokens,
            refresh_token_ttl,
        }
    }

    /// Tells every waiting event stream of this instance to end.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once [`Self::close_streams`] was called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the sender is gone with the service: closed all the same.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// A new pending ticket for a browser that says it is `user_agent`, asking from `ip`.
    pub async fn create(
        &self,
        user_agent: Option<&str>,
        ip: &str,
    ) -> Result<Created, QrLoginError> {
        let ticket = Ticket::generate();
        let poll_secret = PollSecret::generate();
        let ttl_secs = self.config.ttl.as_secs();
        qr_login_tickets::insert(
            &self.db,
            &NewTicket {
                ticket: &ticket,
                poll_secret_hash: &poll_secret.hash(),
                browser_user_agent: user_agent,
                browser_ip: ip,
                ttl_secs: i32::try_from(ttl_secs).expect("configuration bounds the TTL"),
            },
        )
        .await?;
        Ok(Created {
            ticket,
            poll_secret,
            expires_in: ttl_secs,
        })
    }

    /// The ticket's mini-program code as PNG. WeChat is asked once per ticket: the first fetch
    /// claims the call and keeps the image, and a fetch meanwhile, on any instance, waits for it.
    pub async fn qr_code(&self, ticket: &str) -> Result<Vec<u8>, QrLoginError> {
        let ticket = Ticket::parse(ticket).ok_or(QrLoginError::NotFound)?;
        let give_up_at = tokio::time::Instant::now() + WAIT_FOR_OTHER_DRAW;
        loop {
            let code = qr_login_tickets::qr_code(&self.db, &ticket)
                .await?
                .ok_or(QrLoginError::NotFound)?;
            if code.expired {
                return Err(QrLoginError::Expired);
            }
            if let Some(png) = code.png {
                return Ok(png);
            }
            let stale_after = DRAW_CLAIM_STALE_AFTER.as_secs_f64();
            if qr_login_tickets::claim_qr_fetch(&self.db, &ticket, stale_after).await? {
                return self.draw(&ticket).await;
            }
            if tokio::time::Instant::now() >= give_up_at {
                return Err(QrLoginError::DrawInProgress);
            }
            tokio::time::sleep(DRAW_CHECK_EVERY).await;
        }
    }

    /// Asks WeChat for the code under a claim this caller holds, and keeps it. A failed call
    /// gives the claim up so that the next fetch tries again, after a fix of the setting WeChat
    /// complained about, say.
    async fn draw(&self, ticket: &Ticket) -> Result<Vec<u8>, QrLoginError> {
        let request = CodeRequest {
            scene: ticket.as_str(),
            page: PAGE,
            env_version: self.config.env_version.as_str(),
            width: CODE_WIDTH,
        };
        let drawn = self
            .platform_tokens
            .call(&self.wechat, |token| {
                let (wechat, request) = (&self.wechat, &request);
                async move { wechat.mini_program_code(&token, request).await }
            })
            .await;
        match drawn {
            Ok(png) => {
                qr_login_tickets::store_qr_code(&self.db, ticket, &png).await?;
                Ok(png)
            }
            Err(err) => {
                if let Err(release) = qr_login_tickets::release_qr_fetch(&self.db, ticket).await {
                    tracing::warn!(error = %release, "cannot release a failed code fetch; it goes stale instead");
                }
                Err(err.into())
            }
        }
    }

    /// Binds the ticket to `user_id` (again, harmlessly, if it already is) and says which
    /// browser asked. `session_id` is the scanning session, which must be the mini program's.
    pub async fn scan(
        &self,
        ticket: &str,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Scan, QrLoginError> {
        let ticket = Ticket::parse(ticket).ok_or(QrLoginError::NotFound)?;
        self.require_mini_program(session_id).await?;
        match qr_login_tickets::scan(&self.db, &ticket, user_id).await? {
            Some(scanned) => Ok(Scan {
                browser: scanned.browser,
                expires_in: u64::try_from(scanned.expires_in).unwrap_or(0),
            }),
            None => Err(self.refusal(&ticket, user_id).await),
        }
    }

    /// The scanner's answer: confirm (`true`) or deny, from a session of the mini program.
    pub async fn decide(
        &self,
        ticket: &str,
        user_id: Uuid,
        session_id: Uuid,
        confirm: bool,
    ) -> Result<TicketState, QrLoginError> {
        let ticket = Ticket::parse(ticket).ok_or(QrLoginError::NotFound)?;
        self.require_mini_program(session_id).await?;
        if qr_login_tickets::decide(&self.db, &ticket, user_id, confirm).await? {
            Ok(if confirm {
                TicketState::Confirmed
            } else {
                TicketState::Denied
            })
        } else {
            Err(self.refusal(&ticket, user_id).await)
        }
    }

    /// Refuses a browser's session: otherwise whoever holds one could approve further browsers
    /// without the phone, and keep access after the user ends the first.
    async fn require_mini_program(&self, session_id: Uuid) -> Result<(), QrLoginError> {
        if self.sessions.is_from_mini_program(session_id).await? {
            Ok(())
        } else {
            Err(QrLoginError::NotMiniProgram)
        }
    }

    /// Why a scan or a decision by `user_id` changed nothing, read after the fact.
    async fn refusal(&self, ticket: &Ticket, user_id: Uuid) -> QrLoginError {
        let row = match qr_login_tickets::find(&self.db, ticket).await {
            Ok(row) => row,
            Err(err) => return err.into(),
        };
        let Some(row) = row else {
            return QrLoginError::NotFound;
        };
        if row.expired {
            return QrLoginError::Expired;
        }
        match TicketState::of(&row) {
            TicketState::Confirmed | TicketState::Denied => QrLoginError::Used,
            TicketState::Pending => QrLoginError::NotScanned,
            TicketState::Scanned if row.user_id != Some(user_id) => QrLoginError::Taken,
            // Ours and still scanned: the clock ran out between the update and this read.
            TicketState::Scanned => QrLoginError::Expired,
        }
    }

    /// The ticket's state for the browser holding `poll_secret`; when it is confirmed, the
    /// browser's new session and its tokens, once.
    pub async fn poll(&self, ticket: &str, poll_secret: &str) -> Result<Poll, QrLoginError> {
        let ticket = Ticket::parse(ticket).ok_or(QrLoginError::NotFound)?;
        let secret = PollSecret::parse(poll_secret).ok_or(QrLoginError::NotFound)?;
        let row = qr_login_tickets::find(&self.db, &ticket)
            .await?
            .ok_or(QrLoginError::NotFound)?;
        let secret_matches: bool = row.poll_secret_hash.ct_eq(&secret.hash()).into();
        if !secret_matches {
            return Err(QrLoginError::NotFound);
        }
        if row.expired {
            return Err(QrLoginError::Expired);
        }
        if row.handed_out {
            return Err(QrLoginError::Used);
        }
        let state = TicketState::of(&row);
        let tokens = if state == TicketState::Confirmed {
            // A racing poll that got there first leaves nothing to hand out.
            Some(self.hand_out(&ticket).await?.ok_or(QrLoginError::Used)?)
        } else {
            None
        };
        Ok(Poll {
            state,
            expires_in: u64::try_from(row.expires_in).unwrap_or(0),
            tokens,
        })
    }

    /// Marks the tokens handed out and opens the browser's session, in one transaction, with the
    /// access token signed before it commits; `None` when another request handed them out first
    /// (or the ticket expired meanwhile).
    async fn hand_out(&self, ticket: &Ticket) -> Result<Option<HandedOut>, QrLoginError> {
        let session_id = Uuid::new_v4();
        let refresh_token = RefreshToken::generate();
        let now = OffsetDateTime::now_utc();
        let expires_at = time::Duration::try_from(self.refresh_token_ttl)
            .ok()
            .and_then(|ttl| now.checked_add(ttl))
            .ok_or(QrLoginError::TtlOverflow)?;
        let mut tx = self.db.begin().await?;
        let Some(handed) = qr_login_tickets::hand_out(&mut tx, ticket, session_id).await? else {
            return Ok(None);
        };
        self.sessions
            .open_for_browser(
                &mut tx,
                handed.user_id,
                &NewSession {
                    id: session_id,
                    user_agent: handed.browser_user_agent.as_deref(),
                    refresh_token_hash: &refresh_token.hash(),
                    expires_at,
                },
            )
            .await?;
        // The user's row goes with their tickets (ON DELETE CASCADE), so it is there.
        let user = users::find_by_id(&mut *tx, handed.user_id)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let subject = TokenSubject {
            user_id: handed.user_id,
            session_id,
        };
        let access = self.tokens.issue(subject, now.unix_timestamp())?;
        tx.commit().await?;
        tracing::info!(user.id = %handed.user_id, "scan-to-login opened a browser session");
        Ok(Some(HandedOut {
            user,
            access,
            refresh_token,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_confirmed_and_denied_are_final() {
        assert!(!TicketState::Pending.is_final());
        assert!(!TicketState::Scanned.is_final());
        assert!(TicketState::Confirmed.is_final());
        assert!(TicketState::Denied.is_final());
    }

    #[test]
    fn a_stale_claim_outlasts_any_wait_for_it() {
        assert!(DRAW_CLAIM_STALE_AFTER > WAIT_FOR_OTHER_DRAW);
    }
}
