//! `POST /api/me/phone`: binding the number from a getPhoneNumber button code. Malformed
//! requests are in the fast tier (`router_validation`).

use fake_wechat::{Fault, PhoneNumber};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::wechat::china;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_phone_code_binds_the_number_and_returns_the_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-phone").await;

    let response = app
        .bind_phone(
            &token,
            "openid-phone",
            PhoneNumber::new("852", "61234567"),
            false,
        )
        .await;

    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["phone"], "61234567");
    assert_eq!(user["phone_country_code"], "852");
    assert_eq!(user["openid"], "openid-phone");
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me, user, "the answer is the user as /api/me shows it");
    let verified: bool = sqlx::query_scalar(
        "SELECT phone_verified_at BETWEEN now() - interval '1 minute' AND now()
         FROM users WHERE openid = 'openid-phone'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(verified, "verified just now");
    assert_eq!(app.fake.phone_numbers_billed(), 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_repeat_is_answered_from_the_stored_number_unless_it_asks_to_change(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-repeat").await;
    let first = app
        .bind_phone(&token, "openid-repeat", china("13800138000"), false)
        .await;
    assert_eq!(first.status(), 200);
    assert_eq!(app.fake.phone_calls(), 1);

    // Without "change", WeChat is not asked (and does not bill), even for a fresh code.
    let repeat = app
        .bind_phone(&token, "openid-repeat", china("13900139000"), false)
        .await;
    assert_eq!(repeat.status(), 200);
    let user: Value = repeat.json().await.unwrap();
    assert_eq!(user["phone"], "13800138000");
    assert_eq!(app.fake.phone_calls(), 1);

    let change = app
        .bind_phone(&token, "openid-repeat", china("13900139000"), true)
        .await;
    assert_eq!(change.status(), 200);
    let user: Value = change.json().await.unwrap();
    assert_eq!(user["phone"], "13900139000");
    assert_eq!(app.fake.phone_calls(), 2);
    assert_eq!(app.fake.phone_numbers_billed(), 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn lookups_are_rate_limited_per_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-greedy").await;
    for i in 0..5 {
        let response = app
            .bind_phone(
                &token,
                "openid-greedy",
                china(&format!("1380000000{i}")),
                true,
            )
            .await;
        assert_eq!(response.status(), 200, "lookup {i}");
    }

    let response = app
        .bind_phone(&token, "openid-greedy", china("13800000009"), true)
        .await;

    let headers = assert_error(response, 429, "rate_limited").await;
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    // The hour-long window opened with the first lookup, moments ago.
    assert!((3540..=3600).contains(&retry_after), "{retry_after}");
    assert_eq!(app.fake.phone_calls(), 5, "the sixth never reached WeChat");
    // The stored number is still the last one that went through.
    let me: Value = app.get_me(&token).await.json().await.unwrap();
    assert_eq!(me["phone"], "13800000004");
    // Another user has a quota of their own.
    let other = app.token_for("openid-modest").await;
    let response = app
        .bind_phone(&other, "openid-modest", china("13700000000"), false)
        .await;
    assert_eq!(response.status(), 200);
    // A window that has passed starts afresh.
    sqlx::query("UPDATE phone_lookup_quota SET window_started_at = now() - interval '61 minutes'")
        .execute(&app.db)
        .await
        .unwrap();
    let response = app
        .bind_phone(&token, "openid-greedy", china("13800000009"), true)
        .await;
    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn bad_codes_are_refused_with_invalid_phone_code(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-bad-code").await;

    let unknown = app
        .post_phone(&token, json!({ "code": "never-issued" }))
        .await;
    assert_error(unknown, 400, "invalid_phone_code").await;

    // A code issued to another user does not reveal that user's number here.
    let someone_elses = app
        .fake
        .issue_phone_code("openid-victim", china("13812345678"));
    let response = app
        .post_phone(&token, json!({ "code": someone_elses }))
        .await;
    assert_error(response, 400, "invalid_phone_code").await;

    // A code works once.
    let code = app
        .fake
        .issue_phone_code("openid-bad-code", china("13800000000"));
    let first = app.post_phone(&token, json!({ "code": code })).await;
    assert_eq!(first.status(), 200);
    let replay = app
        .post_phone(&token, json!({ "code": code, "change": true }))
        .await;
    assert_error(replay, 400, "invalid_phone_code").await;
    assert_eq!(app.fake.phone_numbers_billed(), 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn wechat_failures_map_to_the_error_shape(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("openid-upstream").await;
    let cases = [
        (Fault::Errcode(-1), 3, 503, "upstream_busy"),
        (Fault::Errcode(45011), 1, 429, "rate_limited"),
        (Fault::ServerError, 1, 502, "upstream_error"),
        (Fault::Garbage, 1, 502, "upstream_error"),
    ];
    for (fault, times, status, code) in cases {
        app.fake.inject_phone(fault, times);
        let response = app
            .bind_phone(&token, "openid-upstream", china("13800000000"), false)
            .await;
        let headers = assert_error(response, status, code).await;
        if code == "rate_limited" {
            assert_eq!(
                headers["retry-after"], "60",
                "WeChat's quotas are per minute"
            );
        }
    }
    // Busy that clears within the retries is a success.
    app.fake.inject_phone(Fault::Errcode(-1), 1);
    let response = app
        .bind_phone(&token, "openid-upstream", china("13800000000"), false)
        .await;
    assert_eq!(response.status(), 200);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn billed_lookups_are_counted_per_day_and_logged(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let first = app.token_for("openid-billed-1").await;
    let second = app.token_for("openid-billed-2").await;

    let bound = app
        .bind_phone(&first, "openid-billed-1", china("13800000001"), false)
        .await;
    assert_eq!(bound.status(), 200);
    // Answered from the stored number: not billed, not counted.
    let repeat = app
        .bind_phone(&first, "openid-billed-1", china("13800000009"), false)
        .await;
    assert_eq!(repeat.status(), 200);
    // A failed lookup is not billed either.
    app.fake.inject_phone(Fault::Errcode(40029), 1);
    let failed = app
        .bind_phone(&second, "openid-billed-2", china("13800000002"), false)
        .await;
    assert_error(failed, 400, "invalid_phone_code").await;
    let bound = app
        .bind_phone(&second, "openid-billed-2", china("13800000002"), false)
        .await;
    assert_eq!(bound.status(), 200);

    let (today, lookups): (bool, i32) = sqlx::query_as(
        "SELECT day = (now() AT TIME ZONE 'UTC')::date, lookups FROM phone_lookup_days",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(today);
    assert_eq!(lookups, 2);
    assert_eq!(app.fake.phone_numbers_billed(), 2);
    assert!(crate::helpers::logs::captured_logs()
        .lines()
        .any(|line| line.contains("phone number lookup billed by WeChat")
            && line.contains("billed_today=2")));
}
