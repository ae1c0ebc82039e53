//! The `privacy_consents` table: every consent to the privacy policy, as an audit log.
//!
//! Only appended to. [`crate::services::consents`] writes a row here and the user's current
//! version ([`super::users::set_privacy_consent`]) in one transaction.

use sqlx::PgExecutor;
use uuid::Uuid;

/// One consent as given.
pub struct NewConsent<'a> {
    pub user_id: Uuid,
    pub version: &'a str,
    pub client_ip: &'a str,
    pub user_agent: Option<&'a str>,
}

pub async fn insert(db: impl PgExecutor<'_>, consent: &NewConsent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"
        INSERT INTO privacy_consents (user_id, version, client_ip, user_agent)
        VALUES ($1, $2, $3, $4)
        "#,
        consent.user_id,
        consent.version,
        consent.client_ip,
        consent.user_agent,
    )
    .execute(db)
    .await?;
    Ok(())
}
