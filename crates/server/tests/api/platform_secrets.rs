//! WeChat's access token, the session_keys, the phone codes and the numbers never reach a log
//! line, and the credentials never reach a response, through every platform call and failure.

use std::collections::HashSet;

use fake_wechat::Fault;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::config::{APPID, WECHAT_SECRET};
use crate::helpers::logs::captured_logs;
use crate::helpers::server::TestApp;
use crate::helpers::wechat::{china, encrypt};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn platform_calls_keep_their_secrets(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let openid = "openid-discreet";
    let token = app.token_for(openid).await;
    let mut access_tokens = Vec::new();
    let mut session_keys = vec![app.fake.session_key_of(openid).unwrap()];
    let mut phone_codes = Vec::new();
    let mut responses = Vec::new();

    let mut bind = |number: &str, fault: Option<(Fault, usize)>| {
        if let Some((fault, times)) = fault {
            app.fake.inject_phone(fault, times);
        }
        let code = app.fake.issue_phone_code(openid, china(number));
        phone_codes.push(code.clone());
        let body = json!({ "code": code, "change": true });
        let app = &app;
        let token = token.clone();
        async move { app.post_phone(&token, body).await }
    };
    for (number, fault) in [
        ("13811112222", None),
        ("13811113333", Some((Fault::Errcode(-1), 3))),
        ("13811114444", Some((Fault::Garbage, 1))),
    ] {
        let response = bind(number, fault).await;
        responses.push(format!("{:?}", response.headers()));
        responses.push(response.text().await.unwrap());
    }
    access_tokens.extend(app.fake.current_access_token());
    app.fake.expire_access_token();
    let response = app.get_bearer("/api/auth/session-key", &token).await;
    responses.push(response.text().await.unwrap());
    access_tokens.extend(app.fake.current_access_token());
    let response = app.post_bearer("/api/auth/session-key/reset", &token).await;
    responses.push(response.text().await.unwrap());
    session_keys.push(app.fake.session_key_of(openid).unwrap());
    let encrypted = encrypt(
        session_keys.last().unwrap(),
        b"fedcba9876543210",
        json!({ "watermark": { "appid": APPID } })
            .to_string()
            .as_bytes(),
    );
    let response = app
        .decrypt(&token, &encrypted, "ZmVkY2JhOTg3NjU0MzIxMA==")
        .await;
    assert_eq!(response.status(), 200);
    responses.push(response.text().await.unwrap());
    app.fake.poison_access_token();
    let response = app.get_bearer("/api/auth/session-key", &token).await;
    responses.push(response.text().await.unwrap());
    access_tokens.extend(app.fake.current_access_token());

    // The first token, its replacement after expiry, and the one forced after poisoning.
    let distinct: HashSet<&String> = access_tokens.iter().collect();
    assert_eq!(
        (access_tokens.len(), distinct.len()),
        (3, 3),
        "three different tokens"
    );
    let logs = captured_logs();
    assert!(logs.contains("access token"), "the refreshes were logged");
    for secret in access_tokens
        .iter()
        .chain(&session_keys)
        .map(String::as_str)
        .chain([WECHAT_SECRET])
    {
        assert!(!logs.contains(secret), "a credential leaked into the logs");
        for text in &responses {
            assert!(
                !text.contains(secret),
                "a credential leaked into a response: {text}"
            );
        }
    }
    for code in &phone_codes {
        assert!(!logs.contains(code.as_str()), "a phone code was logged");
    }
    for number in ["13811112222", "13811113333", "13811114444"] {
        assert!(!logs.contains(number), "a phone number was logged");
    }
}
