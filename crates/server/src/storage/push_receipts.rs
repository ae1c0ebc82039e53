//! The `wechat_push_receipts` table: the push messages already handled, by every instance.

use std::time::Duration;

use sqlx::PgExecutor;

/// Records `receipts` (the keys of one message) as seen; true when none of them had been. Rows
/// older than `forget_after` go in the same statement: a message that old is refused for its
/// timestamp before it gets here.
///
/// Run it in the transaction that handles the message, so that a failed handling forgets the
/// receipts and WeChat's retry is handled afresh.
pub async fn first_sight(
    db: impl PgExecutor<'_>,
    receipts: &[String],
    forget_after: Duration,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query_scalar!(
        r#"
        WITH forgotten AS (
            DELETE FROM wechat_push_receipts
            WHERE received_at < now() - make_interval(secs => $2)
        ), recorded AS (
            INSERT INTO wechat_push_receipts (receipt)
            SELECT unnest($1::text[])
            ON CONFLICT (receipt) DO NOTHING
            RETURNING 1
        )
        SELECT count(*) AS "count!" FROM recorded
        "#,
        receipts,
        forget_after.as_secs_f64(),
    )
    .fetch_one(db)
    .await?;
    Ok(inserted == receipts.len() as i64)
}
