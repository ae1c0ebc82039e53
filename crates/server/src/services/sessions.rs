//! Session state, with one owner: the database rows ([`crate::storage::sessions`]) and this
//! instance's cache of them ([`SessionCache`]) change together here, so that no caller can
//! revoke a session and forget the cache.
//!
//! Every way a session ends goes through [`Sessions`]: logout, logout everywhere, ending one from
//! the sessions list, and a refresh token replayed after its grace period. Each marks the session
//! revoked in this instance's cache at once; other instances learn it within the cache TTL.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::session_cache::{SessionCache, SessionOf};
use crate::db::Db;
use crate::domain::RefreshTokenHash;
use crate::storage::login::{self, LoginIdentity, LoginRecord, NewSession};
use crate::storage::sessions::{self, RefreshBudget, Rotation, SessionRow, Successor};

pub struct Sessions {
    db: Db,
    cache: SessionCache,
    refresh_budget: RefreshBudget,
}

impl Sessions {
    pub fn new(db: Db, cache: SessionCache, refresh_budget: RefreshBudget) -> Self {
        Self {
            db,
            cache,
            refresh_budget,
        }
    }

    /// Records a login: the user, their session_key, and a new session with its first refresh
    /// token, in one statement.
    pub async fn open(&self, login: &LoginIdentity<'_>) -> Result<LoginRecord, sqlx::Error> {
        login::record(&self.db, login).await
    }

    /// Opens a browser's session for `user_id` and its first refresh token, in `tx`: the
    /// scan-to-login hand-out, which commits it together with the ticket it uses up.
    pub async fn open_for_browser(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        user_id: Uuid,
        session: &NewSession<'_>,
    ) -> Result<(), sqlx::Error> {
        sessions::open_from_qr_login(&mut **tx, user_id, session).await
    }

    /// Whether `session_id` began with a login in the mini program, rather than in a browser by
    /// scan-to-login.
    pub async fn is_from_mini_program(&self, session_id: Uuid) -> Result<bool, sqlx::Error> {
        sessions::is_from_mini_program(&self.db, session_id).await
    }

    /// Uses up `presented` and stores `successor`, within the session's refresh budget. A replay
    /// past the grace period revokes the session, here and in the cache.
    pub async fn rotate(
        &self,
        presented: &RefreshTokenHash,
        successor: Successor<'_>,
    ) -> Result<Rotation, sqlx::Error> {
        let rotation =
            sessions::rotate(&self.db, presented, successor, self.refresh_budget).await?;
        if let Rotation::Reused {
            session_id,
            user_id,
        } = rotation
        {
            self.cache.put(
                SessionOf {
                    session_id,
                    user_id,
                },
                false,
            );
        }
        Ok(rotation)
    }

    /// Ends one session of `user_id`; false when there is no such live session of theirs.
    pub async fn revoke(
        &self,
        session_id: Uuid,
        user_id: Uuid,
        why: &str,
    ) -> Result<bool, sqlx::Error> {
        let revoked = sessions::revoke(&self.db, session_id, user_id, why).await?;
        if revoked {
            self.cache.put(
                SessionOf {
                    session_id,
                    user_id,
                },
                false,
            );
        }
        Ok(revoked)
    }

    /// Ends every live session of `user_id`.
    pub async fn revoke_all(&self, user_id: Uuid, why: &str) -> Result<(), sqlx::Error> {
        for session_id in sessions::revoke_all(&self.db, user_id, why).await? {
            self.cache.put(
                SessionOf {
                    session_id,
                    user_id,
                },
                false,
            );
        }
        Ok(())
    }

    /// Whether `session_id` of `user_id` is live: the cache's answer while it is fresh,
    /// otherwise the database's, which is then cached.
    pub async fn is_live(&self, session_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
        if cfg!(feature = "bench-skip-session-check") {
            return Ok(true);
        }
        let session = SessionOf {
            session_id,
            user_id,
        };
        if let Some(live) = self.cache.get(session) {
            return Ok(live);
        }
        let live = sessions::is_live(&self.db, session_id, user_id).await?;
        self.cache.put(session, live);
        Ok(live)
    }

    /// The live sessions of `user_id`, newest first.
    pub async fn list_live(&self, user_id: Uuid) -> Result<Vec<SessionRow>, sqlx::Error> {
        sessions::list_live(&self.db, user_id).await
    }
}
