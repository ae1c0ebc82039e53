//! Slow, silent and too many clients: each is cut off or made to wait, and healthy requests are
//! served meanwhile. Over real sockets, since the limits are the connection's.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::helpers::logs::captured_logs;
use crate::helpers::raw::{get, RawClient};
use crate::helpers::server::TestApp;

/// Longer than any limit set below, so that a connection still open after it is one the limit
/// did not close.
const PATIENCE: Duration = Duration::from_secs(5);

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_client_that_trickles_its_headers_is_cut_off(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("HTTP_HEADER_TIMEOUT_MS", "500".into())]).await;
    let mut slow = RawClient::connect(&app.base_url).await;
    let started = Instant::now();
    slow.send(b"GET /healthz HTTP/1.1\r\n").await;

    // A header line every 100 ms: each byte arrives long before any per-read timeout would fire,
    // but the head as a whole never does.
    let trickle = async {
        for n in 0.. {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !slow.send(format!("X-Slow-{n}: 1\r\n").as_bytes()).await {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(PATIENCE, trickle).await;
    let closed = slow.read_until_closed(Duration::from_secs(1)).await;

    assert!(closed.is_some(), "still open after {:?}", started.elapsed());
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    // Everyone else is served meanwhile and after.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_client_that_sends_nothing_is_closed_after_the_idle_timeout(db: PgPool) {
    // The header timeout is left long, so only the idle timeout can close the connection.
    let app = TestApp::spawn_with_env(
        db,
        vec![
            ("HTTP_HEADER_TIMEOUT_MS", "60000".into()),
            ("HTTP_IDLE_TIMEOUT_MS", "300".into()),
        ],
    )
    .await;
    let mut silent = RawClient::connect(&app.base_url).await;

    let closed = silent.read_until_closed(PATIENCE).await;

    assert_eq!(closed, Some(Vec::new()), "closed without a word");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_body_that_trickles_is_answered_408_and_its_connection_closed(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("HTTP_BODY_TIMEOUT_MS", "500".into())]).await;
    let mut slow = RawClient::connect(&app.base_url).await;
    slow.send(
        b"POST /api/auth/login HTTP/1.1\r\nHost: wxlogin\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"code\":",
    )
    .await;
    let trickle = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !slow.send(b" ").await {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), trickle).await;

    let answer = slow
        .read_until_closed(PATIENCE)
        .await
        .expect("the connection is closed after the answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
    assert_eq!(app.fake.jscode2session_calls(), 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn past_the_connection_cap_new_connections_wait_for_a_free_one(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("HTTP_MAX_CONNECTIONS", "2".into())]).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut client = RawClient::connect(&app.base_url).await;
        // Answered, then held open (keep-alive): each holds its slot.
        client
            .send(b"GET /healthz HTTP/1.1\r\nHost: wxlogin\r\n\r\n")
            .await;
        assert!(client
            .read_for(Duration::from_millis(300))
            .await
            .starts_with("HTTP/1.1 200 "));
        open.push(client);
    }

    let mut third = RawClient::connect(&app.base_url).await;
    third.send(&get("/healthz")).await;
    assert_eq!(
        third.read_for(Duration::from_millis(500)).await,
        "",
        "not served while the cap is reached"
    );
    assert!(captured_logs().contains("connection cap reached"));

    drop(open.pop());
    let answer = third
        .read_until_closed(PATIENCE)
        .await
        .expect("served once a connection closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200 "));
}
