//! The shared WeChat access token: one upstream call for many instances, refreshes ahead of
//! expiry, and recovery from a token WeChat refuses.

use std::time::Duration;

use futures::future::join_all;
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::reply::{assert_error, Reply};
use crate::helpers::server::TestApp;
use crate::helpers::wechat::china;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn three_instances_asking_for_phone_numbers_at_once_make_one_token_call(db: PgPool) {
    let first = TestApp::spawn(db).await;
    let second = first.another_instance(&[]).await;
    let third = first.another_instance(&[]).await;
    let instances = [&first, &second, &third];
    // Three users per instance, each with a token and a button code of their own.
    let mut requests = Vec::new();
    for (i, app) in instances.iter().enumerate() {
        for j in 0..3 {
            let openid = format!("openid-crowd-{i}-{j}");
            let token = app.token_for(&openid).await;
            let phone = china(&format!("1380000{i}{j}00"));
            requests.push((app, openid, token, phone));
        }
    }
    assert_eq!(first.fake.stable_token_calls(), 0);
    // A slow answer keeps the first fetch in flight while the others arrive.
    first.fake.slow_stable_token(Duration::from_millis(300));

    let responses =
        join_all(requests.iter().map(|(app, openid, token, phone)| {
            app.bind_phone(token, openid, phone.clone(), false)
        }))
        .await;

    for ((_, _, _, phone), response) in requests.iter().zip(responses) {
        assert_eq!(response.status(), 200);
        let user: Value = response.json().await.unwrap();
        assert_eq!(user["phone"], phone.pure);
    }
    assert_eq!(first.fake.stable_token_calls(), 1);
    assert_eq!(first.fake.phone_numbers_billed(), 9);
    assert_eq!(
        first.stored_access_token().await,
        first.fake.current_access_token()
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_expired_token_is_refreshed_and_the_call_succeeds(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-expired").await;
    assert_eq!(
        app.bind_phone(&token, "openid-expired", china("13800000001"), false)
            .await
            .status(),
        200
    );
    let old = app.stored_access_token().await.unwrap();

    app.fake.expire_access_token();
    let response = app
        .bind_phone(&token, "openid-expired", china("13800000002"), true)
        .await;

    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["phone"], "13800000002");
    assert_eq!(app.fake.stable_token_calls(), 2);
    assert_eq!(app.fake.forced_refreshes(), 0, "a plain refresh was enough");
    let new = app.stored_access_token().await.unwrap();
    assert_ne!(new, old);
    assert_eq!(Some(new), app.fake.current_access_token());
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_invalidated_token_is_replaced_once_for_many_callers_on_many_instances(db: PgPool) {
    let first = TestApp::spawn(db).await;
    let second = first.another_instance(&[]).await;
    let mut requests = Vec::new();
    for (i, app) in [&first, &second].into_iter().enumerate() {
        for j in 0..3 {
            let openid = format!("openid-revoked-{i}-{j}");
            requests.push((app, app.token_for(&openid).await, openid));
        }
    }
    let (app, token, openid) = &requests[0];
    let warm_up = app
        .bind_phone(token, openid, china("13900000000"), false)
        .await;
    assert_eq!(warm_up.status(), 200);
    assert_eq!(first.fake.stable_token_calls(), 1);

    // Someone else forced a refresh: the stored token now answers 40001 everywhere.
    first.fake.invalidate_access_token();
    first.fake.slow_stable_token(Duration::from_millis(300));
    let responses = join_all(
        requests
            .iter()
            .map(|(app, token, openid)| app.bind_phone(token, openid, china("13900000001"), true)),
    )
    .await;

    for response in responses {
        assert_eq!(response.status(), 200);
    }
    // Every caller failed with the old token, but only the first to take the lock replaced it;
    // the others found it replaced and did not fetch again.
    assert_eq!(first.fake.stable_token_calls(), 2);
    assert_eq!(
        first.stored_access_token().await,
        first.fake.current_access_token()
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_refused_token_that_wechat_still_hands_out_is_force_refreshed_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mut users = Vec::new();
    for i in 0..4 {
        let openid = format!("openid-poison-{i}");
        users.push((app.token_for(&openid).await, openid));
    }
    let (token, openid) = &users[0];
    assert_eq!(
        app.bind_phone(token, openid, china("13700000000"), false)
            .await
            .status(),
        200
    );

    app.fake.poison_access_token();
    app.fake.slow_stable_token(Duration::from_millis(300));
    let responses = join_all(
        users
            .iter()
            .map(|(token, openid)| app.bind_phone(token, openid, china("13700000001"), true)),
    )
    .await;

    for response in responses {
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.fake.forced_refreshes(), 1);
    let (day_count, forced_just_now): (i32, bool) = sqlx::query_as(
        "SELECT force_refresh_count,
                last_force_refresh_at BETWEEN now() - interval '1 minute' AND now()
         FROM wechat_access_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(day_count, 1);
    assert!(forced_just_now, "the forced refresh is dated now");

    // Refused again within 30 seconds: WeChat would not force again, so neither do we.
    app.fake.poison_access_token();
    let response = app
        .bind_phone(token, openid, china("13700000002"), true)
        .await;
    assert_error(response, 503, "wechat_token_unavailable").await;
    assert_eq!(app.fake.forced_refreshes(), 1);
    assert_eq!(
        app.fake.force_refresh_requests(),
        1,
        "no force was even asked for"
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_daily_ration_of_forced_refreshes_is_respected(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-ration").await;
    assert_eq!(
        app.bind_phone(&token, "openid-ration", china("13600000000"), false)
            .await
            .status(),
        200
    );
    // Twenty forced refreshes today already, the last one long enough ago.
    sqlx::query(
        "UPDATE wechat_access_tokens SET force_refresh_count = 20,
             force_refresh_day = (now() AT TIME ZONE 'Asia/Shanghai')::date,
             last_force_refresh_at = now() - interval '1 hour'",
    )
    .execute(&app.db)
    .await
    .unwrap();

    app.fake.poison_access_token();
    let response = app
        .bind_phone(&token, "openid-ration", china("13600000001"), true)
        .await;

    assert_error(response, 503, "wechat_token_unavailable").await;
    assert_eq!(app.fake.force_refresh_requests(), 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_token_is_refreshed_five_minutes_before_it_expires(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-early").await;
    let bind = |number: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            let response = app
                .bind_phone(&token, "openid-early", china(number), true)
                .await;
            assert_eq!(response.status(), 200);
        }
    };
    bind("13500000000").await;
    assert_eq!(app.fake.stable_token_calls(), 1);

    // Six minutes left: still used as it is.
    set_expiry(&app, "6 minutes").await;
    bind("13500000001").await;
    assert_eq!(app.fake.stable_token_calls(), 1);

    // Four minutes left: refreshed before use.
    set_expiry(&app, "4 minutes").await;
    bind("13500000002").await;
    assert_eq!(app.fake.stable_token_calls(), 2);
    let expires_in: f64 = sqlx::query_scalar(
        "SELECT EXTRACT(EPOCH FROM expires_at - now())::float8 FROM wechat_access_tokens",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // WeChat's 7200 s from the refresh moments ago, not shortened by the refresh margin.
    assert!(
        (7140.0..=7200.0).contains(&expires_in),
        "stored expiry is WeChat's: {expires_in}"
    );
}

async fn set_expiry(app: &TestApp, from_now: &str) {
    sqlx::query(&format!(
        "UPDATE wechat_access_tokens SET expires_at = now() + interval '{from_now}',
             refreshed_at = now() - interval '1 hour'"
    ))
    .execute(&app.db)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_crowd_behind_a_failing_refresh_fails_fast_instead_of_queueing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(app.token_for(&format!("openid-queue-{i}")).await);
    }
    // Slower than the server's 2 s WeChat timeout: every attempt to fetch the token times out.
    app.fake.slow_stable_token(Duration::from_secs(3));

    let started = std::time::Instant::now();
    let responses = join_all(
        tokens
            .iter()
            .map(|token| app.get_bearer("/api/auth/session-key", token)),
    )
    .await;
    let elapsed = started.elapsed();

    // The first to try times out; the rest find that failure moments old and fail at once
    // instead of each trying again.
    let mut timed_out = 0;
    for response in responses {
        let reply = Reply::read(response).await;
        if reply.status == 502 {
            reply.assert_error(502, "upstream_error");
            timed_out += 1;
        } else {
            reply.assert_error(503, "upstream_busy");
        }
    }
    assert_eq!(timed_out, 1, "exactly one request waited on WeChat");
    // One timeout, not twenty of them one after another.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    // Requests that need no token are not held up meanwhile.
    assert_eq!(app.get_me(&tokens[0]).await.status(), 200);
}
