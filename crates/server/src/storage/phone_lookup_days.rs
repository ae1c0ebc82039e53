//! The `phone_lookup_days` table: successful phone number lookups per day, each billed by WeChat.

use sqlx::PgExecutor;

/// Counts one successful lookup today (UTC) and returns today's count so far, across instances.
pub async fn count_one(db: impl PgExecutor<'_>) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar!(
        r#"
        INSERT INTO phone_lookup_days (day, lookups)
        VALUES ((now() AT TIME ZONE 'UTC')::date, 1)
        ON CONFLICT (day) DO UPDATE SET lookups = phone_lookup_days.lookups + 1
        RETURNING lookups
        "#
    )
    .fetch_one(db)
    .await
}
