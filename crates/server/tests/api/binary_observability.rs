//! The binary's metrics listener and log lines, as a deployment sees them: metrics on their own
//! port and not on the public one; JSON lines off a terminal unless text is asked for, never
//! with colour codes; one line per request with its route template and request id, the WeChat
//! call included; health probes kept out of the info level.

use fake_wechat::{FakeWechat, FakeWechatConfig};
use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::binary::RunningServer;
use crate::helpers::config::{APPID, WECHAT_SECRET};
use crate::helpers::metrics::scrape_url;

async fn start(db: &PgPool, env: &[(&'static str, &str)]) -> (RunningServer, FakeWechat) {
    let fake = FakeWechat::start(FakeWechatConfig::new(APPID, WECHAT_SECRET)).await;
    let mut all = vec![
        ("WECHAT_API_BASE", fake.base_url()),
        ("RUST_LOG", "info".to_owned()),
        ("RATE_LIMIT_LOGIN", "off".to_owned()),
    ];
    all.extend(env.iter().map(|(name, value)| (*name, (*value).to_owned())));
    (RunningServer::start(db, &all), fake)
}

async fn get_with_id(url: String, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("x-request-id", id)
        .send()
        .await
        .unwrap()
}

async fn login_with_id(base_url: &str, code: &str, id: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base_url}/api/auth/login"))
        .header("x-request-id", id)
        .json(&serde_json::json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn metrics_are_apart_and_logs_are_json_lines_off_a_terminal(db: PgPool) {
    let (server, fake) = start(&db, &[]).await;
    let before = scrape_url(&server.metrics_url).await;

    let login_id = format!("binary-login-{}", uuid::Uuid::new_v4());
    let code = fake.issue_code("openid-binary");
    assert_eq!(
        login_with_id(&server.base_url, &code, &login_id)
            .await
            .status(),
        200
    );
    let failed = login_with_id(&server.base_url, "never-issued", "binary-failed").await;
    assert_eq!(failed.status(), 401);
    let avatar = uuid::Uuid::new_v4();
    let avatar_url = format!("{}/avatars/{avatar}", server.base_url);
    assert_eq!(get_with_id(avatar_url, "binary-avatar").await.status(), 404);
    let probe = format!("{}/healthz", server.base_url);
    assert_eq!(get_with_id(probe, "binary-probe").await.status(), 200);
    let public_metrics = format!("{}/metrics", server.base_url);
    assert_eq!(reqwest::get(public_metrics).await.unwrap().status(), 404);

    let after = scrape_url(&server.metrics_url).await;
    for (outcome, moved) in [("ok", 1.0), ("invalid_code", 1.0), ("rate_limited", 0.0)] {
        let labels = [("outcome", outcome)];
        assert_eq!(
            after.value("wxlogin_logins_total", &labels)
                - before.value("wxlogin_logins_total", &labels),
            moved,
            "{outcome}: {}",
            after.text
        );
    }

    let stderr = server.stderr();
    assert!(!stderr.contains('\u{1b}'), "colour codes in {stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let of_request = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| line["span"]["request_id"] == id)
            .collect()
    };
    let message = |line: &Value| line["fields"]["message"].as_str().unwrap_or("").to_owned();

    let login = of_request(&login_id);
    let wechat = login.iter().find(|line| message(line) == "WeChat call");
    let wechat = wechat.unwrap_or_else(|| panic!("no WeChat call line: {login:#?}"));
    assert_eq!(wechat["fields"]["api"], "jscode2session");
    assert_eq!(wechat["fields"]["result"], "ok");
    let answered = login
        .iter()
        .find(|line| message(line) == "answered")
        .unwrap();
    assert_eq!(answered["level"], "INFO");
    assert_eq!(answered["span"]["route"], "/api/auth/login");
    assert_eq!(answered["span"]["method"], "POST");
    assert_eq!(answered["fields"]["status"], 200);
    assert!(answered["fields"]["latency_ms"].as_f64().unwrap() > 0.0);
    assert!(answered["span"]["user.id"].is_string(), "{answered}");

    let avatar_lines = of_request("binary-avatar");
    assert_eq!(avatar_lines.len(), 1, "{avatar_lines:#?}");
    assert_eq!(avatar_lines[0]["span"]["route"], "/avatars/{id}");
    assert_eq!(avatar_lines[0]["fields"]["status"], 404);
    assert!(!avatar_lines[0].to_string().contains(&avatar.to_string()));

    assert!(
        of_request("binary-probe").is_empty(),
        "a probe logged at info"
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn log_format_pretty_writes_one_text_line_per_request_without_colour(db: PgPool) {
    let (server, _fake) = start(&db, &[("LOG_FORMAT", "pretty")]).await;
    let me = format!("{}/api/me", server.base_url);
    assert_eq!(get_with_id(me, "pretty-me").await.status(), 401);

    let stderr = server.stderr();
    assert!(!stderr.contains('\u{1b}'), "colour codes in {stderr}");
    assert!(
        stderr.lines().all(|line| !line.starts_with('{')),
        "{stderr}"
    );
    let answered: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("request_id=\"pretty-me\""))
        .collect();
    assert_eq!(answered.len(), 1, "{stderr}");
    for field in [" INFO ", "route=\"/api/me\"", "status=401", "answered"] {
        assert!(answered[0].contains(field), "{field}: {}", answered[0]);
    }
}
