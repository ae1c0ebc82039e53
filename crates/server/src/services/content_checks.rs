//! WeChat's content security for what users put in their profile: nicknames are checked before
//! they are saved (`msg_sec_check`), avatars after (`media_check_async`, whose verdict arrives
//! as a push event handled in [`super::push_events`]).
//!
//! When WeChat cannot check a nickname, `CONTENT_CHECK_FAILURE` decides: `reject` refuses the
//! nickname, `accept` saves it unchecked. Either way the failure is logged: at warn when WeChat
//! was busy, slow or unreachable, at error when it answered an error (a misconfigured app, an
//! openid WeChat does not know), which will not go away by itself.

use crate::db::Db;
use uuid::Uuid;

use super::access_token::{PlatformError, PlatformTokens};
use crate::config::{ComplianceConfig, FailurePolicy};
use crate::domain::Openid;
use crate::services::profile::avatar_path;
use crate::storage::avatar_checks;
use crate::wechat::security::{Suggest, SCENE_PROFILE};
use crate::wechat::WechatClient;

/// What to do with a nickname.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextOutcome {
    Save,
    /// WeChat judged it risky; `label` says why (20002 porn, 20003 abuse, ...).
    Refuse {
        label: i64,
    },
}

/// A check WeChat could not perform, under `CONTENT_CHECK_FAILURE=reject`, or our database's
/// failure while asking.
#[derive(Debug, thiserror::Error)]
#[error("content check unavailable: {0}")]
pub struct CheckUnavailable(#[source] pub PlatformError);

pub struct ContentChecks {
    on_failure: FailurePolicy,
    public_base_url: Option<String>,
}

impl ContentChecks {
    /// Logs, once, that avatars go unchecked when there is no public URL to give WeChat.
    pub fn new(config: &ComplianceConfig) -> Self {
        if config.public_base_url.is_none() {
            tracing::warn!(
                "PUBLIC_BASE_URL is not set: uploaded avatars are not sent to WeChat's content check"
            );
        }
        Self {
            on_failure: config.content_check_failure,
            public_base_url: config.public_base_url.clone(),
        }
    }

    /// WeChat's verdict on `nickname`, typed by `openid`, with the failure policy applied.
    pub async fn check_nickname(
        &self,
        wechat: &WechatClient,
        tokens: &PlatformTokens,
        openid: &Openid,
        nickname: &str,
    ) -> Result<TextOutcome, CheckUnavailable> {
        let checked = tokens
            .call(wechat, |token| async move {
                wechat
                    .check_text(&token, openid, SCENE_PROFILE, nickname)
                    .await
            })
            .await;
        let check = match checked {
            Ok(check) => check,
            Err(err) if err.is_database_failure() => return Err(CheckUnavailable(err)),
            Err(err) => {
                if err.is_transient() {
                    tracing::warn!(error = %err, policy = ?self.on_failure, "WeChat could not check a nickname");
                } else {
                    tracing::error!(error = %err, policy = ?self.on_failure, "WeChat refused to check a nickname");
                }
                return match self.on_failure {
                    FailurePolicy::Accept => Ok(TextOutcome::Save),
                    FailurePolicy::Reject => Err(CheckUnavailable(err)),
                };
            }
        };
        let (verdict, trace_id) = (check.verdict, check.trace_id);
        Ok(match verdict.suggest {
            Suggest::Pass => TextOutcome::Save,
            Suggest::Review => {
                tracing::warn!(%trace_id, label = verdict.label, "nickname saved but WeChat suggests a review");
                TextOutcome::Save
            }
            Suggest::Risky => {
                tracing::info!(%trace_id, label = verdict.label, "nickname refused by WeChat's content check");
                TextOutcome::Refuse {
                    label: verdict.label,
                }
            }
        })
    }

    /// Sends the avatar just stored under `avatar_id` to WeChat's image check and files the
    /// trace_id its verdict will carry. The avatar is served meanwhile. A submission that fails
    /// is logged and leaves the avatar unchecked: it is stored already, and WeChat's own
    /// chooseAvatar check ran on the phone.
    pub async fn submit_avatar(
        &self,
        db: &Db,
        wechat: &WechatClient,
        tokens: &PlatformTokens,
        user_id: Uuid,
        openid: &Openid,
        avatar_id: Uuid,
    ) {
        let Some(base) = &self.public_base_url else {
            return;
        };
        let media_url = format!("{base}{}", avatar_path(avatar_id));
        let submitted = tokens
            .call(wechat, |token| {
                let media_url = &media_url;
                async move { wechat.submit_image_check(&token, openid, media_url).await }
            })
            .await;
        let filed = match submitted {
            Ok(trace_id) => avatar_checks::insert(db, &trace_id, avatar_id, user_id)
                .await
                .map(|()| trace_id)
                .map_err(PlatformError::from),
            Err(err) => Err(err),
        };
        match filed {
            Ok(trace_id) => {
                tracing::info!(%trace_id, %avatar_id, "avatar sent to WeChat's image check")
            }
            Err(err) => {
                tracing::error!(error = %err, %avatar_id, "avatar could not be sent to WeChat's image check; it stays unchecked")
            }
        }
    }
}
