//! The request id, and the one log line per request: an id taken from the client only when
//! well-formed, echoed, and on every line the request logs, the WeChat calls it made included.

use sqlx::PgPool;

use crate::helpers::logs::captured_logs;
use crate::helpers::server::TestApp;

/// The lines logged with `request_id` in them.
fn lines_of(request_id: &str) -> Vec<String> {
    captured_logs()
        .lines()
        .filter(|line| line.contains(&format!("request_id=\"{request_id}\"")))
        .map(str::to_owned)
        .collect()
}

/// The request's own line: the one that says it was answered.
fn answered_line(request_id: &str) -> String {
    let lines = lines_of(request_id);
    let answered: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains(" answered "))
        .collect();
    assert_eq!(answered.len(), 1, "{lines:#?}");
    answered[0].clone()
}

fn new_id(label: &str) -> String {
    format!("{label}-{}", uuid::Uuid::new_v4())
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_well_formed_request_id_is_kept_and_echoed_any_other_is_replaced(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let echoed = |headers: Vec<(&'static str, Vec<u8>)>| {
        let mut request = app.http.get(app.url("/api/me"));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async {
            let response = app.send(request).await;
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };

    let kept = format!("{}:/~!", new_id("client.id_1"));
    assert_eq!(
        echoed(vec![("x-request-id", kept.clone().into())]).await,
        kept
    );
    let longest = "r".repeat(128);
    assert_eq!(
        echoed(vec![("x-request-id", longest.clone().into())]).await,
        longest
    );

    let refused: Vec<Vec<Vec<u8>>> = vec![
        vec![],
        vec!["r".repeat(129).into()],
        vec![b"has space".to_vec()],
        vec![b"tab\there".to_vec()],
        vec![b"caf\xe9".to_vec()],
        vec![b"one".to_vec(), b"two".to_vec()],
    ];
    for values in refused {
        let sent: Vec<_> = values.iter().map(|v| ("x-request-id", v.clone())).collect();
        let id = echoed(sent).await;
        let generated = uuid::Uuid::parse_str(&id);
        assert!(generated.is_ok(), "{values:?} was answered with {id:?}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_request_id_is_on_the_wechat_call_line_and_the_answered_line(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let id = new_id("login");
    let code = app.fake.issue_code("openid-logged");
    let response = app
        .send(
            app.http
                .post(app.url("/api/auth/login"))
                .header("x-request-id", &id)
                .json(&serde_json::json!({ "code": code })),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], id.as_str());
    let user_id = response.json::<serde_json::Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let lines = lines_of(&id);
    let wechat: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("WeChat call"))
        .collect();
    assert_eq!(wechat.len(), 1, "{lines:#?}");
    assert!(
        wechat[0].contains("api=\"jscode2session\""),
        "{}",
        wechat[0]
    );
    assert!(wechat[0].contains("result=ok"), "{}", wechat[0]);
    assert!(wechat[0].contains("latency_ms="), "{}", wechat[0]);

    let answered = answered_line(&id);
    assert!(answered.contains(" INFO "), "{answered}");
    for field in [
        "method=POST",
        "route=\"/api/auth/login\"",
        "status=200",
        "latency_ms=",
        &format!("user.id={user_id}"),
    ] {
        assert!(answered.contains(field), "{field} missing: {answered}");
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_answered_line_names_the_route_template_and_probes_stay_at_debug(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let get_with_id = |path: String, id: String| {
        app.send(app.http.get(app.url(&path)).header("x-request-id", id))
    };
    let avatar = uuid::Uuid::new_v4();
    let avatar_request = new_id("avatar");
    let raw_path = format!("/avatars/{avatar}");
    assert_eq!(
        get_with_id(raw_path.clone(), avatar_request.clone())
            .await
            .status(),
        404
    );
    let line = answered_line(&avatar_request);
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.contains("route=\"/avatars/{id}\""), "{line}");
    assert!(line.contains("status=404"), "{line}");
    assert!(!line.contains(&raw_path), "{line}");

    for probe in ["/healthz", "/readyz"] {
        let id = new_id("probe");
        assert_eq!(
            get_with_id(probe.to_owned(), id.clone()).await.status(),
            200
        );
        let line = answered_line(&id);
        assert!(line.contains(" DEBUG "), "{line}");
        assert!(!lines_of(&id).iter().any(|line| line.contains(" INFO ")));
    }
}
