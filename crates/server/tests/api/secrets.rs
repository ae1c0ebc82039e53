//! The session_key, the app secret and the signing key never leave the server: not in a body, a
//! header, a token or a log line, on success or on any failure.

use fake_wechat::Fault;
use sqlx::PgPool;

use crate::helpers::config::{JWT_SECRET, SESSION_KEY_SECRET, WECHAT_SECRET};
use crate::helpers::logs::captured_logs;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::{payload, token};

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn no_secret_reaches_a_response_a_token_or_a_log(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("WECHAT_TIMEOUT_MS", "200".into())]).await;
    let mut seen = Vec::new();
    let mut session_keys = Vec::new();
    let mut codes = Vec::new();

    for round in 0..2 {
        let code = app.fake.issue_code("openid-secretive");
        let response = app.login(&code).await;
        codes.push(code);
        session_keys.push(app.fake.session_key_of("openid-secretive").unwrap());
        seen.push(format!("{:?}", response.headers()));
        let body = response.text().await.unwrap();
        let login: serde_json::Value = serde_json::from_str(&body).unwrap();
        let token = token(&login, "access_token");
        seen.push(payload(token).to_string());
        seen.push(body.clone());
        let me = app.get_me(token).await;
        seen.push(format!("{:?}", me.headers()));
        seen.push(me.text().await.unwrap());
        assert_eq!(login["new_user"], round == 0);
    }
    for fault in [
        Fault::Hang,
        Fault::ServerError,
        Fault::Garbage,
        Fault::Errcode(-1),
    ] {
        app.fake.inject(fault, 3);
        let code = app.fake.issue_code("openid-secretive");
        let response = app.login(&code).await;
        codes.push(code);
        seen.push(format!("{:?}", response.headers()));
        seen.push(response.text().await.unwrap());
    }

    let logs = captured_logs();
    assert!(logs.contains("WeChat"), "the failures above were logged");
    let secrets = session_keys.iter().map(String::as_str).chain([
        WECHAT_SECRET,
        JWT_SECRET,
        SESSION_KEY_SECRET,
    ]);
    for secret in secrets {
        for text in &seen {
            assert!(
                !text.contains(secret),
                "a secret leaked into a response: {text}"
            );
        }
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
    for code in &codes {
        assert!(
            !logs.contains(code.as_str()),
            "a one-time login code was logged"
        );
    }
}
