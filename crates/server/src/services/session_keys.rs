//! Users' WeChat session_keys: sealed on the way into [`crate::storage::wechat_sessions`] and
//! opened on the way out, in this one place.
//!
//! An opened key is used at once by the caller and never reaches a response or a log line.

use std::time::Duration;

use crate::db::Db;
use secrecy::SecretString;
use uuid::Uuid;

use crate::domain::Openid;
use crate::sealing::SessionKeySealer;
use crate::storage::wechat_sessions;

use super::user_budget::Allowance;

/// How often each user may have the server check their session_key with WeChat: a client checks
/// when it starts or comes back to the foreground, so a few a minute is plenty.
pub const CHECKS: Allowance = Allowance {
    calls: 10,
    window: Duration::from_secs(60),
};

/// How often each user may have WeChat replace their session_key: a reset is for a key that may
/// have leaked, rare by nature, and each one changes the key.
pub const RESETS: Allowance = Allowance {
    calls: 3,
    window: Duration::from_secs(60 * 60),
};

#[derive(Clone)]
pub struct SessionKeys {
    db: Db,
    sealer: SessionKeySealer,
}

/// A user's openid and the session_key the server holds for them, if any still opens.
pub struct HeldKey {
    pub openid: Openid,
    pub session_key: Option<SecretString>,
    /// False for a browser's session opened by scan-to-login: the key belongs to the user's
    /// mini program, and such a session must not use it.
    pub from_mini_program: bool,
}

impl SessionKeys {
    pub fn new(db: Db, sealer: SessionKeySealer) -> Self {
        Self { db, sealer }
    }

    /// Seals a key WeChat just handed out for `openid` of `appid`, ready to store.
    pub fn seal(&self, session_key: &SecretString, appid: &str, openid: &Openid) -> Vec<u8> {
        self.sealer.seal(session_key, appid, openid.as_str())
    }

    /// The user's openid and held session_key, as their session `session_id` sees it; `None`
    /// when there is no such user.
    pub async fn held(
        &self,
        user_id: Uuid,
        session_id: Uuid,
    ) -> Result<Option<HeldKey>, sqlx::Error> {
        let Some(identity) =
            wechat_sessions::wechat_identity(&self.db, user_id, session_id).await?
        else {
            return Ok(None);
        };
        let session_key = identity.session_key_sealed.and_then(|sealed| {
            self.sealer
                .open(&sealed, &identity.appid, &identity.openid)
                .map_err(|err| tracing::warn!(error = %err, "stored session_key does not open"))
                .ok()
        });
        // The openid was parsed when WeChat handed it out; one that no longer parses was written
        // by something other than wxlogin, and there is no key to use for it.
        let Ok(openid) = Openid::parse(identity.openid) else {
            tracing::warn!("stored openid is not an openid");
            return Ok(None);
        };
        Ok(Some(HeldKey {
            openid,
            session_key,
            from_mini_program: identity.from_mini_program,
        }))
    }

    /// Replaces the user's stored key with one WeChat has just handed out.
    pub async fn replace(
        &self,
        user_id: Uuid,
        appid: &str,
        openid: &Openid,
        session_key: &SecretString,
    ) -> Result<(), sqlx::Error> {
        let sealed = self.seal(session_key, appid, openid);
        wechat_sessions::store(&self.db, user_id, &sealed).await
    }
}
