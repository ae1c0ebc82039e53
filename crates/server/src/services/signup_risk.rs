//! WeChat's risk rank for a new user (`getuserriskrank`, scene 0), when `RISK_CHECK=on`.
//!
//! Asked only on a first login, before the user is created, so a blocked sign-up leaves no row.
//! With the check off nothing here touches the database or WeChat: a login costs what it did.
//! Every rank seen is counted and logged; `RISK_BLOCK_RANK` refuses those at or above it.
//! 48001 (the API is not enabled for this app) is logged once at error level and lets sign-ups
//! through; other failures follow `RISK_CHECK_FAILURE`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::db::Db;

use super::access_token::{PlatformError, PlatformTokens};
use crate::config::{FailurePolicy, RiskConfig};
use crate::domain::Openid;
use crate::storage::users;
use crate::wechat::{WechatClient, WechatError};

/// WeChat's answer when the risk API is not enabled for the app in the admin console.
const ERR_API_NOT_ENABLED: i64 = 48001;

#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("sign-up refused at risk rank {rank}")]
    Blocked { rank: u8 },
    #[error("risk check unavailable: {0}")]
    Unavailable(#[source] PlatformError),
}

pub struct SignupRisk {
    config: RiskConfig,
    not_enabled_reported: AtomicBool,
    /// Sign-ups seen at each rank, 0 to 4, by this instance since it started.
    seen_at_rank: [AtomicU64; 5],
}

impl SignupRisk {
    pub fn new(config: RiskConfig) -> Self {
        Self {
            config,
            not_enabled_reported: AtomicBool::new(false),
            seen_at_rank: Default::default(),
        }
    }

    /// The rank to store with a user this login would create; `None` when the check is off, the
    /// user exists already or WeChat gave no rank and the policy lets them in.
    pub async fn assess(
        &self,
        db: &Db,
        wechat: &WechatClient,
        tokens: &PlatformTokens,
        openid: &Openid,
        client_ip: IpAddr,
    ) -> Result<Option<i16>, RiskError> {
        if !self.config.enabled {
            return Ok(None);
        }
        let exists = users::exists(db, wechat.appid(), openid.as_str())
            .await
            .map_err(|err| RiskError::Unavailable(err.into()))?;
        if exists {
            return Ok(None);
        }
        let ranked = tokens
            .call(wechat, |token| async move {
                wechat.signup_risk_rank(&token, openid, client_ip).await
            })
            .await;
        match ranked {
            Ok(rank) => self.judge(rank),
            Err(err) => self.without_rank(err),
        }
    }

    fn judge(&self, rank: u8) -> Result<Option<i16>, RiskError> {
        let seen = self.seen_at_rank[usize::from(rank)].fetch_add(1, Ordering::Relaxed) + 1;
        let blocked = self.config.block_rank.is_some_and(|block| rank >= block);
        tracing::info!(
            risk_rank = rank,
            sign_ups_at_rank = seen,
            blocked,
            "sign-up risk rank"
        );
        if blocked {
            return Err(RiskError::Blocked { rank });
        }
        Ok(Some(i16::from(rank)))
    }

    fn without_rank(&self, err: PlatformError) -> Result<Option<i16>, RiskError> {
        if let PlatformError::Wechat(WechatError::Other {
            errcode: ERR_API_NOT_ENABLED,
            ..
        }) = err
        {
            if !self.not_enabled_reported.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    "getuserriskrank is not enabled for this app (errcode 48001); sign-ups go unchecked until it is enabled in the admin console"
                );
            }
            return Ok(None);
        }
        if err.is_database_failure() {
            return Err(RiskError::Unavailable(err));
        }
        tracing::warn!(error = %err, policy = ?self.config.on_failure, "sign-up risk check failed");
        match self.config.on_failure {
            FailurePolicy::Accept => Ok(None),
            FailurePolicy::Reject => Err(RiskError::Unavailable(err)),
        }
    }
}
