//! Consent to the privacy policy: the user's current version and the audit log, together.

use crate::db::Db;

use crate::storage::privacy_consents::{self, NewConsent};
use crate::storage::users::{self, User};

/// Records `consent` in the audit log and as the user's current version, in one transaction;
/// `None` when the user no longer exists (and nothing is written).
pub async fn record(db: &Db, consent: &NewConsent<'_>) -> Result<Option<User>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let Some(user) = users::set_privacy_consent(&mut *tx, consent.user_id, consent.version).await?
    else {
        return Ok(None);
    };
    privacy_consents::insert(&mut *tx, consent).await?;
    tx.commit().await?;
    Ok(Some(user))
}
