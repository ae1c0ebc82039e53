//! WeChat's content check of nicknames (msg_sec_check) and avatars (media_check_async and its
//! `wxa_media_check` push event), with each verdict and each failure policy.

use fake_wechat::{Fault, Suggest};
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::compliance::{avatar_check_env, media_check_event, now, push_env};
use crate::helpers::logs::captured_logs;
use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::uploads::png;

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_passing_nickname_is_checked_then_saved(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let access = app.token_for("openid-pass").await;

    let response = app.set_nickname(&access, "小明").await;

    assert_eq!(response.status(), 200);
    assert_eq!(app.fake.text_checks(), 1);
    assert_eq!(
        app.stored_nickname("openid-pass").await.as_deref(),
        Some("小明")
    );
    // The same name again was checked when it was saved.
    let again = app.set_nickname(&access, "小明").await;
    assert_eq!(again.status(), 200);
    assert_eq!(app.fake.text_checks(), 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_risky_nickname_is_refused_and_the_old_one_kept(db: PgPool) {
    let app = TestApp::spawn(db).await;
    app.fake.flag_text("骂人", Suggest::Risky, 20003);
    let access = app.token_for("openid-risky").await;
    assert_eq!(app.set_nickname(&access, "Kept").await.status(), 200);

    let response = app.set_nickname(&access, "我要骂人").await;

    let refused: Value = {
        assert_eq!(response.status(), 422);
        response.json().await.unwrap()
    };
    assert_eq!(refused["error"]["code"], "content_rejected");
    assert_eq!(
        app.stored_nickname("openid-risky").await.as_deref(),
        Some("Kept")
    );
    assert_eq!(app.fake.text_checks(), 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_nickname_for_review_is_saved_and_logged_with_its_trace_id(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let access = app.token_for("openid-review").await;

    let response = app.set_nickname(&access, "review-word 7f3a").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        app.stored_nickname("openid-review").await.as_deref(),
        Some("review-word 7f3a")
    );
    let logs = captured_logs();
    let line = logs
        .lines()
        .find(|line| line.contains("nickname saved but WeChat suggests a review"))
        .expect("the review is logged");
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("trace_id=") && line.contains("label=21000"),
        "{line}"
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn when_wechat_is_busy_or_silent_the_default_policy_saves_nothing(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("WECHAT_TIMEOUT_MS", "300".into())]).await;
    let access = app.token_for("openid-busy").await;

    // Busy on every try (three by default), then no answer at all.
    app.fake.inject_text_check(Fault::Errcode(-1), 3);
    assert_error(
        app.set_nickname(&access, "Busy").await,
        503,
        "upstream_busy",
    )
    .await;
    app.fake.inject_text_check(Fault::Hang, 1);
    assert_error(
        app.set_nickname(&access, "Silent").await,
        503,
        "upstream_busy",
    )
    .await;
    // An answer that is an error rather than a verdict is no verdict either.
    app.fake.inject_text_check(Fault::Errcode(43104), 1);
    assert_error(
        app.set_nickname(&access, "Mismatch").await,
        503,
        "upstream_busy",
    )
    .await;

    assert_eq!(app.stored_nickname("openid-busy").await, None);
    let logs = captured_logs();
    assert!(
        logs.lines().any(|line| line.contains("ERROR")
            && line.contains("WeChat refused to check a nickname")
            && line.contains("43104")),
        "an error answer is logged at error level"
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn under_the_accept_policy_an_unchecked_nickname_is_saved(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("CONTENT_CHECK_FAILURE", "accept".into())]).await;
    let access = app.token_for("openid-accept").await;

    app.fake.inject_text_check(Fault::Errcode(-1), 3);
    assert_eq!(app.set_nickname(&access, "Unchecked").await.status(), 200);
    assert_eq!(
        app.stored_nickname("openid-accept").await.as_deref(),
        Some("Unchecked")
    );
    // A verdict still counts when there is one.
    assert_error(
        app.set_nickname(&access, "risky-word").await,
        422,
        "content_rejected",
    )
    .await;
    assert_eq!(
        app.stored_nickname("openid-accept").await.as_deref(),
        Some("Unchecked")
    );
}

/// A server that checks avatars and hears WeChat's verdicts, with a user who uploaded one.
async fn uploaded_avatar(db: PgPool, openid: &str) -> (TestApp, String, String, String) {
    let mut env = avatar_check_env();
    env.extend(push_env(true));
    let app = TestApp::spawn_with_env(db, env).await;
    app.connect_push(true);
    let access = app.token_for(openid).await;
    let response = app.upload_avatar(&access, "avatar.png", &png(4096)).await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    let avatar_url = user["avatar_url"].as_str().unwrap().to_owned();
    let jobs = app.fake.pending_media_checks();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].media_url, app.url(&avatar_url));
    assert_eq!(jobs[0].openid, openid);
    (app, access, avatar_url, jobs[0].trace_id.clone())
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_risky_avatar_verdict_removes_the_avatar_and_its_image(db: PgPool) {
    let (app, access, avatar_url, trace_id) = uploaded_avatar(db, "openid-avatar-risky").await;
    // Served as usual until the verdict.
    assert_eq!(app.get(&avatar_url).await.status(), 200);

    let delivery = app
        .fake
        .deliver_media_check(&trace_id, Suggest::Risky, 20002)
        .await
        .unwrap();

    assert_eq!((delivery.status, delivery.body.as_str()), (200, "success"));
    let me: Value = app.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], Value::Null);
    assert_error(app.get(&avatar_url).await, 404, "not_found").await;
    assert_eq!(app.count_rows("avatars").await, 0);
    assert_eq!(app.count_rows("avatar_media_checks").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn passing_and_review_verdicts_keep_the_avatar(db: PgPool) {
    let (app, access, avatar_url, trace_id) = uploaded_avatar(db, "openid-avatar-pass").await;
    let delivery = app
        .fake
        .deliver_media_check(&trace_id, Suggest::Pass, 100)
        .await
        .unwrap();
    assert_eq!(delivery.status, 200);

    // A second upload, judged "review".
    let response = app.upload_avatar(&access, "second.png", &png(2048)).await;
    let second: Value = response.json().await.unwrap();
    let second_url = second["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(second_url, avatar_url);
    let job = app.fake.pending_media_checks().pop().unwrap();
    let delivery = app
        .fake
        .deliver_media_check(&job.trace_id, Suggest::Review, 21000)
        .await
        .unwrap();
    assert_eq!(delivery.status, 200);

    let me: Value = app.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], second_url.as_str());
    assert_eq!(app.get(&second_url).await.status(), 200);
    assert_eq!(app.count_rows("avatar_media_checks").await, 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_late_risky_verdict_about_a_replaced_avatar_changes_nothing(db: PgPool) {
    let (app, access, _first_url, first_trace) = uploaded_avatar(db, "openid-avatar-late").await;
    let response = app.upload_avatar(&access, "newer.png", &png(1024)).await;
    let newer: Value = response.json().await.unwrap();

    let delivery = app
        .fake
        .deliver_media_check(&first_trace, Suggest::Risky, 20002)
        .await;

    // The first image is gone already, so WeChat cannot even download it; a verdict pushed
    // anyway about it leaves the newer avatar alone.
    assert!(delivery.is_err(), "{delivery:?}");
    let push = app.push_target(true).sign(
        app.fake.appid(),
        &media_check_event(app.fake.appid(), &first_trace, "risky"),
        now(),
        "42",
    );
    let response = app.send_push(&push).await;
    assert_eq!(response.status(), 200);
    let me: Value = app.get_me(&access).await.json().await.unwrap();
    assert_eq!(me["avatar_url"], newer["avatar_url"]);
    assert_eq!(app.count_rows("avatars").await, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn without_a_public_base_url_avatars_are_not_sent_for_checking(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let access = app.token_for("openid-avatar-unchecked").await;

    let response = app.upload_avatar(&access, "avatar.png", &png(1024)).await;

    assert_eq!(response.status(), 200);
    assert!(app.fake.pending_media_checks().is_empty());
    assert_eq!(app.count_rows("avatar_media_checks").await, 0);
    assert!(captured_logs().contains("PUBLIC_BASE_URL is not set"));
}
