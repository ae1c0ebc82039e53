//! What the clients were promised, checked against the database: every 200 that carried tokens
//! must have its user, its session and its refresh token stored, and nothing may be half-written.

use sha2::{Digest, Sha256};

use crate::check;
use crate::client::{token_subject, Answer};

/// What a 200 login or refresh answer promised.
#[derive(Clone)]
pub struct Promise {
    pub user_id: String,
    pub session_id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl Promise {
    pub fn of(answer: &Answer) -> Option<Self> {
        if answer.status != 200 {
            return None;
        }
        let access_token = answer.text("access_token")?;
        let (session_id, user_id) = token_subject(&access_token)?;
        Some(Self {
            user_id,
            session_id,
            access_token,
            refresh_token: answer.text("refresh_token")?,
        })
    }
}

/// Checks every promise and that no session lacks a refresh token and no user a session; prints
/// and returns how many rows were found as promised.
pub async fn verify(database_url: &str, promises: &[Promise]) -> Result<usize, String> {
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(database_url)
        .await
        .map_err(|e| e.to_string())?;
    let mut rows = 0;
    for promise in promises {
        let found: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM users u
               JOIN sessions s ON s.user_id = u.id
               JOIN refresh_tokens r ON r.session_id = s.id
              WHERE u.id = $1::uuid AND s.id = $2::uuid AND r.token_hash = $3",
        )
        .bind(&promise.user_id)
        .bind(&promise.session_id)
        .bind(Sha256::digest(promise.refresh_token.as_bytes()).to_vec())
        .fetch_one(&db)
        .await
        .map_err(|e| e.to_string())?;
        check(found == 1, || {
            format!("session {} lost what its 200 promised", promise.session_id)
        })?;
        rows += 3;
    }
    let half_written: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM sessions s WHERE NOT EXISTS
                   (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id))
              + (SELECT count(*) FROM users u WHERE NOT EXISTS
                   (SELECT 1 FROM sessions s WHERE s.user_id = u.id))",
    )
    .fetch_one(&db)
    .await
    .map_err(|e| e.to_string())?;
    println!(
        "  database: {} answers with tokens checked, {rows} rows found as promised, {half_written} half-written",
        promises.len()
    );
    check(half_written == 0, || {
        format!("{half_written} sessions or users half-written")
    })?;
    Ok(rows)
}
