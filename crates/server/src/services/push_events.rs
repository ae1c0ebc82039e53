//! What WeChat pushes to `/api/wechat/events`, once its signature (and in safe mode its
//! encryption) has been checked by `http/wechat_events.rs`.
//!
//! Each message is handled once, across instances: its receipts (see
//! [`crate::storage::push_receipts`]) are recorded in the transaction that handles it, so a
//! replay, or WeChat's retry of a message already handled, changes nothing, while a handling
//! that failed is forgotten and redone on the retry.
//!
//! One handler per event, dispatched in [`handle`]: a new event is one function and one line
//! there. Unknown events are acknowledged and ignored, as WeChat expects.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};

use crate::db::Db;

use crate::services::profile;
use crate::storage::{avatar_checks, push_receipts};
use crate::wechat::security::{Suggest, Verdict};

/// How long receipts are kept: longer than the timestamp window, past which messages are
/// refused before they get here.
const RECEIPTS_KEPT: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum PushEventError {
    #[error("the message is not a JSON object")]
    NotAnObject,
    #[error("the message names another app")]
    ForeignApp,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Handled,
    /// Seen before (a replay or a retry): acknowledged, nothing done.
    AlreadySeen,
}

/// Handles one push `message` (its JSON text) delivered with `timestamp` and `nonce`, for the app
/// `appid`.
pub async fn receive(
    db: &Db,
    appid: &str,
    message: &[u8],
    timestamp: &str,
    nonce: &str,
) -> Result<Received, PushEventError> {
    let fields: Value = serde_json::from_slice(message).map_err(|_| PushEventError::NotAnObject)?;
    if !fields.is_object() {
        return Err(PushEventError::NotAnObject);
    }
    // Safe mode has checked the appid already; in plain mode the event's own field is all there is.
    if fields
        .get("appid")
        .and_then(Value::as_str)
        .is_some_and(|named| named != appid)
    {
        return Err(PushEventError::ForeignApp);
    }
    let receipts = [
        format!("request:{timestamp}:{nonce}"),
        format!("message:{}", hex::encode(Sha256::digest(message))),
    ];
    let mut tx = db.begin().await?;
    if !push_receipts::first_sight(&mut *tx, &receipts, RECEIPTS_KEPT).await? {
        tracing::info!("WeChat push message seen before; acknowledged, not handled again");
        return Ok(Received::AlreadySeen);
    }
    handle(&mut tx, &fields).await?;
    tx.commit().await?;
    Ok(Received::Handled)
}

/// Dispatches a message to its event's handler.
async fn handle(tx: &mut Transaction<'_, Postgres>, fields: &Value) -> Result<(), PushEventError> {
    let event = fields.get("Event").and_then(Value::as_str).unwrap_or("");
    match event {
        "wxa_media_check" => media_check(tx, fields).await,
        _ => {
            tracing::info!(event, "WeChat push event acknowledged and ignored");
            Ok(())
        }
    }
}

/// `wxa_media_check`'s fields.
#[derive(Deserialize)]
struct MediaCheckEvent {
    trace_id: String,
    #[serde(default)]
    errcode: i64,
    result: Option<Verdict>,
}

/// The verdict on an avatar sent by [`super::content_checks::ContentChecks::submit_avatar`]: a
/// risky one loses the avatar.
async fn media_check(
    tx: &mut Transaction<'_, Postgres>,
    fields: &Value,
) -> Result<(), PushEventError> {
    let Ok(event) = MediaCheckEvent::deserialize(fields) else {
        tracing::warn!("wxa_media_check event without a trace_id; ignored");
        return Ok(());
    };
    let trace_id = event.trace_id.as_str();
    let Some(check) = avatar_checks::take(&mut **tx, trace_id).await? else {
        tracing::info!(%trace_id, "wxa_media_check for no pending avatar (replaced since, or not ours)");
        return Ok(());
    };
    let avatar_id = check.avatar_id;
    match (event.errcode, event.result) {
        (0, Some(verdict)) => match verdict.suggest {
            Suggest::Risky => {
                profile::remove_avatar(tx, &check).await?;
                tracing::warn!(%trace_id, %avatar_id, label = verdict.label, "avatar judged risky by WeChat: removed");
            }
            Suggest::Review => {
                tracing::warn!(%trace_id, %avatar_id, label = verdict.label, "avatar kept but WeChat suggests a review");
            }
            Suggest::Pass => tracing::info!(%trace_id, %avatar_id, "avatar passed WeChat's check"),
        },
        (errcode, _) => {
            tracing::warn!(%trace_id, %avatar_id, errcode, "WeChat could not check an avatar; it stays unchecked");
        }
    }
    Ok(())
}
