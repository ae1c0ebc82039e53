//! A slow WeChat cannot pile up work: a bounded number of calls in flight, a short wait for a
//! slot, then 503 `upstream_busy`; and concurrent logins with one code share one call.

use std::time::{Duration, Instant};

use futures::future::join_all;
use sqlx::PgPool;

use crate::helpers::reply::{assert_error, Reply};
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{session_id, token};

/// Waits until the fake WeChat has received `calls` jscode2session calls.
async fn until_wechat_called(app: &TestApp, calls: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.fake.jscode2session_calls() < calls {
        assert!(Instant::now() < deadline, "WeChat was never called");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn with_every_wechat_slot_taken_a_login_waits_briefly_then_gets_503(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("WECHAT_MAX_IN_FLIGHT", "1".to_owned())]).await;
    app.fake.slow_jscode2session(Duration::from_millis(1500));
    let first_code = app.fake.issue_code("o-first");
    let first = app.login(&first_code);
    let second = async {
        until_wechat_called(&app, 1).await;
        let started = Instant::now();
        let response = app.login(&app.fake.issue_code("o-second")).await;
        (response, started.elapsed())
    };

    let (first, (second, waited)) = tokio::join!(first, second);

    assert_eq!(first.status(), 200);
    let headers = assert_error(second, 503, "upstream_busy").await;
    assert_eq!(headers["retry-after"], "2");
    // It waited for a slot about a second (SLOT_WAIT), and no longer.
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(1450)).contains(&waited),
        "{waited:?}"
    );
    assert_eq!(
        app.fake.jscode2session_calls(),
        1,
        "the refused login never reached WeChat"
    );
    assert_eq!(app.user_count().await, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn concurrent_logins_with_one_code_make_one_wechat_call_and_each_get_a_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.slow_jscode2session(Duration::from_millis(300));
    let code = app.fake.issue_code("o-double-tap");

    let replies =
        join_all((0..3).map(|_| async { Reply::read(app.login(&code).await).await })).await;

    let bodies: Vec<_> = replies
        .iter()
        .map(|reply| {
            assert_eq!(reply.status, 200, "{}", reply.text());
            reply.json()
        })
        .collect();
    assert_eq!(app.fake.jscode2session_calls(), 1);
    let mut sessions: Vec<String> = bodies
        .iter()
        .map(|body| session_id(token(body, "access_token")))
        .collect();
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 3, "each login has a session of its own");
    assert!(bodies
        .iter()
        .all(|body| body["user"]["id"] == bodies[0]["user"]["id"]));
    assert_eq!(app.user_count().await, 1);

    // Only calls in flight are shared: the same code afterwards is refused, as WeChat refuses it.
    app.fake.slow_jscode2session(Duration::ZERO);
    assert_error(app.login(&code).await, 401, "invalid_code").await;
    assert_eq!(app.fake.jscode2session_calls(), 2);
}
