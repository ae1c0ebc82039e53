//! The `phone_lookup_quota` table: how many billed phone number lookups each user has made in
//! their current window.

use std::time::Duration;

use sqlx::PgExecutor;
use uuid::Uuid;

/// Counts one phone number lookup against `user_id`'s quota of `limit` per `window`.
///
/// `Err(retry_after)` when the quota is spent. One statement: the row lock of the upsert
/// serialises concurrent requests of one user, on any instance.
pub async fn take(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i32,
    window: Duration,
) -> Result<Result<(), Duration>, sqlx::Error> {
    let row = sqlx::query!(
        r#"
        INSERT INTO phone_lookup_quota AS q (user_id, window_started_at, calls)
        VALUES ($1, now(), 1)
        ON CONFLICT (user_id) DO UPDATE SET
            window_started_at = CASE
                WHEN q.window_started_at <= now() - make_interval(secs => $2) THEN now()
                ELSE q.window_started_at END,
            calls = CASE
                WHEN q.window_started_at <= now() - make_interval(secs => $2) THEN 1
                ELSE q.calls + 1 END
        RETURNING calls,
                  EXTRACT(EPOCH FROM window_started_at + make_interval(secs => $2) - now())::float8
                      AS "retry_after_seconds!"
        "#,
        user_id,
        window.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    if row.calls <= limit {
        Ok(Ok(()))
    } else {
        Ok(Err(Duration::from_secs_f64(
            row.retry_after_seconds.max(1.0),
        )))
    }
}
