//! `/api/wechat/events`, WeChat's message push: the URL check, plain and safe mode, and every way
//! a push can be forged, stale, foreign, garbled or replayed.

use fake_wechat::{sha1_sorted, PushTarget};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::compliance::{
    avatar_check_env, media_check_event, now, push_env, EVENTS, PUSH_AES_KEY, PUSH_TOKEN,
};
use crate::helpers::reply::assert_error;
use crate::helpers::server::TestApp;
use crate::helpers::uploads::png;

fn unknown_event() -> String {
    json!({
        "ToUserName": "gh_fake00000000",
        "FromUserName": "o-user",
        "CreateTime": now(),
        "MsgType": "event",
        "Event": "some_future_event",
    })
    .to_string()
}

async fn verify_url(app: &TestApp, query: &[(String, String)]) -> reqwest::Response {
    app.send(app.http.get(app.url(EVENTS)).query(query)).await
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_url_check_echoes_echostr_only_when_signed_with_our_token(db: PgPool) {
    let app = TestApp::spawn_with_env(db, push_env(false)).await;
    let target = app.push_target(false);

    let response = verify_url(
        &app,
        &target.verification_query(now(), "1234567", "echo-5821"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(response.text().await.unwrap(), "echo-5821");

    let forged = PushTarget {
        token: "someoneElsesToken".into(),
        ..target.clone()
    };
    for query in [
        forged.verification_query(now(), "1234567", "echo"),
        target.verification_query(now() - 301, "1234567", "echo"),
        target.verification_query(now() + 301, "1234567", "echo"),
        vec![("echostr".to_owned(), "echo".to_owned())],
    ] {
        assert_error(verify_url(&app, &query).await, 401, "invalid_signature").await;
    }
    // A query that cannot be read at all is a bad request, in the API's error shape.
    let mut twice = target.verification_query(now(), "1234567", "echo");
    twice.push(("nonce".to_owned(), "7654321".to_owned()));
    assert_error(verify_url(&app, &twice).await, 400, "invalid_request").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn without_a_push_token_there_is_no_endpoint(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let target = app.push_target(false);
    assert_error(
        verify_url(&app, &target.verification_query(now(), "1", "e")).await,
        404,
        "not_found",
    )
    .await;
    let push = target.sign(app.fake.appid(), &unknown_event(), now(), "1");
    assert_error(app.send_push(&push).await, 404, "not_found").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn plain_mode_messages_are_acknowledged_and_forged_ones_refused(db: PgPool) {
    let app = TestApp::spawn_with_env(db, push_env(false)).await;
    app.connect_push(false);
    let appid = app.fake.appid().to_owned();

    let delivery = app.fake.push(&unknown_event()).await.unwrap();
    assert_eq!((delivery.status, delivery.body.as_str()), (200, "success"));
    assert_eq!(app.count_rows("wechat_push_receipts").await, 2);

    let forged = PushTarget {
        token: "someoneElsesToken".into(),
        ..app.push_target(false)
    }
    .sign(&appid, &unknown_event(), now(), "2");
    assert_error(app.send_push(&forged).await, 401, "invalid_signature").await;
    let stale = app
        .push_target(false)
        .sign(&appid, &unknown_event(), now() - 600, "3");
    assert_error(app.send_push(&stale).await, 401, "invalid_signature").await;
    let foreign = app.push_target(false).sign(
        &appid,
        &media_check_event("wxanotherapp00001", "trace-1", "risky"),
        now(),
        "4",
    );
    assert_error(app.send_push(&foreign).await, 400, "invalid_request").await;
    let not_json = app.push_target(false).sign(&appid, "<xml/>", now(), "5");
    assert_error(app.send_push(&not_json).await, 400, "invalid_request").await;
    // Too large to be a push message: refused before it is read, in the API's error shape.
    let oversized = app
        .push_target(false)
        .sign(&appid, &"x".repeat(64 * 1024), now(), "6");
    assert_error(app.send_push(&oversized).await, 413, "payload_too_large").await;

    // None of them left a receipt.
    assert_eq!(app.count_rows("wechat_push_receipts").await, 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn safe_mode_messages_are_decrypted_and_checked(db: PgPool) {
    let app = TestApp::spawn_with_env(db, push_env(true)).await;
    app.connect_push(true);
    let appid = app.fake.appid().to_owned();
    let target = app.push_target(true);

    let delivery = app.fake.push(&unknown_event()).await.unwrap();
    assert_eq!((delivery.status, delivery.body.as_str()), (200, "success"));

    // Encrypted for another app: decrypts, but names someone else.
    let foreign = target.sign("wxanotherapp00001", &unknown_event(), now(), "11");
    assert_error(app.send_push(&foreign).await, 400, "invalid_request").await;
    // Encrypted under another key, and signed properly over it: does not decrypt.
    let other_key = PushTarget {
        encoding_aes_key: Some("Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWo".into()),
        ..target.clone()
    };
    let undecryptable = other_key.sign(&appid, &unknown_event(), now(), "12");
    assert_error(app.send_push(&undecryptable).await, 400, "invalid_request").await;
    // Not base64 at all, with a valid msg_signature over it.
    let timestamp = now().to_string();
    let garbage = "%%%not-base64%%%";
    let query = vec![
        ("timestamp".to_owned(), timestamp.clone()),
        ("nonce".to_owned(), "13".to_owned()),
        ("encrypt_type".to_owned(), "aes".to_owned()),
        (
            "msg_signature".to_owned(),
            sha1_sorted(&[PUSH_TOKEN, &timestamp, "13", garbage]),
        ),
    ];
    let response = app
        .send(
            app.http
                .post(app.url(EVENTS))
                .query(&query)
                .body(json!({ "Encrypt": garbage }).to_string()),
        )
        .await;
    assert_error(response, 400, "invalid_request").await;
    // A good message whose msg_signature was made with another token.
    let mut tampered = target.sign(&appid, &unknown_event(), now(), "14");
    let encrypted: Value = serde_json::from_str(&tampered.body).unwrap();
    let encrypted = encrypted["Encrypt"].as_str().unwrap().to_owned();
    for (name, value) in tampered.query.iter_mut() {
        if name == "msg_signature" {
            *value = sha1_sorted(&["someoneElsesToken", &timestamp, "14", &encrypted]);
        }
    }
    assert_error(app.send_push(&tampered).await, 401, "invalid_signature").await;
    // Stale, though well signed and encrypted.
    let stale = target.sign(&appid, &unknown_event(), now() - 301, "15");
    assert_error(app.send_push(&stale).await, 401, "invalid_signature").await;
    // A plain message, whose signature does not cover its body, is not taken in safe mode.
    let plain = app
        .push_target(false)
        .sign(&appid, &unknown_event(), now(), "16");
    assert_error(app.send_push(&plain).await, 400, "invalid_request").await;

    assert_eq!(app.count_rows("wechat_push_receipts").await, 2);
    assert_eq!(PUSH_AES_KEY.len(), 43);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_replayed_push_changes_nothing_twice(db: PgPool) {
    let mut env = avatar_check_env();
    env.extend(push_env(false));
    let app = TestApp::spawn_with_env(db, env).await;
    let appid = app.fake.appid().to_owned();
    let access = app.token_for("openid-replay").await;
    let response = app.upload_avatar(&access, "a.png", &png(1024)).await;
    assert_eq!(response.status(), 200);
    let trace_id = app.fake.pending_media_checks()[0].trace_id.clone();
    let target = app.push_target(false);

    // A request captured in flight, sent again as it was.
    let first = target.sign(&appid, &unknown_event(), now(), "777");
    for _ in 0..2 {
        let response = app.send_push(&first).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "success");
    }
    assert_eq!(app.count_rows("wechat_push_receipts").await, 2);

    // Plain mode's signature covers the query, not the body: the captured query with another
    // body, a risky verdict, is a replay too and does nothing.
    let mut swapped = first.clone();
    swapped.body = media_check_event(&appid, &trace_id, "risky");
    assert_eq!(app.send_push(&swapped).await.status(), 200);
    let me: Value = app.get_me(&access).await.json().await.unwrap();
    assert!(me["avatar_url"].is_string(), "{me}");
    assert_eq!(app.count_rows("avatar_media_checks").await, 1);

    // The same message again under a fresh signature (WeChat's retry) is handled once.
    let verdict = media_check_event(&appid, &trace_id, "pass");
    for nonce in ["801", "802"] {
        let response = app
            .send_push(&target.sign(&appid, &verdict, now(), nonce))
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(app.count_rows("wechat_push_receipts").await, 4);
    assert_eq!(app.count_rows("avatar_media_checks").await, 0);
    assert_eq!(app.count_rows("avatars").await, 1);
}
