//! Scan-to-login: a browser's ticket, its mini-program code, the phone's scan and answer, and
//! the browser's one hand-out of its tokens, by polling or from the event stream.

use std::time::Duration;

use fake_wechat::{FakeWechatConfig, Fault};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::config::{test_config, APPID, WECHAT_SECRET};
use crate::helpers::qr_login::{read_qr_code, EventReader, Sse, Ticket, BROWSER_AGENT};
use crate::helpers::reply::{assert_error, keys_of, Reply};
use crate::helpers::server::{Options, TestApp};
use crate::helpers::tokens::{session_id, token};

const PAGE: &str = "pages/qr-login/index";
const SOON: Duration = Duration::from_secs(5);

/// A user of the mini program, signed in there.
async fn phone(app: &TestApp, openid: &str) -> String {
    app.token_for(openid).await
}

/// A ticket scanned and confirmed by `openid`'s phone; returns the phone's token.
async fn confirmed_by(app: &TestApp, ticket: &Ticket, openid: &str) -> String {
    let token = phone(app, openid).await;
    assert_eq!(
        app.ticket_step(&ticket.ticket, "scan", &token)
            .await
            .status(),
        200
    );
    let confirmed = app.ticket_step(&ticket.ticket, "confirm", &token).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(
        confirmed.json::<Value>().await.unwrap(),
        json!({ "state": "confirmed" })
    );
    token
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_ticket_is_a_wechat_scene_with_a_secret_of_its_own(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("QR_LOGIN_TTL", "45".into())]).await;
    let response = app.request_ticket().await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys_of(&body),
        ["expires_in", "poll_secret", "qr_url", "ticket"]
    );
    let ticket = body["ticket"].as_str().unwrap();
    assert!(ticket.len() <= 32);
    assert!(ticket.chars().all(|c| c.is_ascii_alphanumeric()));
    // 43 base64url characters: 256 random bits.
    let secret = body["poll_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(body["qr_url"], format!("/api/qr-login/{ticket}/qr.png"));
    assert_eq!(body["expires_in"], 45);

    let other = app.new_ticket().await;
    assert_ne!(other.ticket, ticket);
    assert_ne!(other.poll_secret, secret);
    // Only a hash of the secret is kept.
    let stored: Vec<u8> =
        sqlx::query_scalar("SELECT poll_secret_hash FROM qr_login_tickets WHERE ticket = $1")
            .bind(ticket)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(secret));
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn tickets_are_rate_limited_per_client_like_logins(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("RATE_LIMIT_LOGIN", "2/60".into())]).await;
    app.new_ticket().await;
    app.new_ticket().await;
    assert_error(app.request_ticket().await, 429, "rate_limited").await;
    assert_eq!(app.count_tickets().await, 2);
    // Tickets have an allowance of their own: logging in still works.
    app.login_as("o_still_logs_in").await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_code_opens_the_page_with_the_ticket_and_wechat_is_asked_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let fetches = (0..4).map(|_| app.get(&ticket.qr_url));
    let answers = futures::future::join_all(fetches).await;
    let another = app.another_instance(&[]).await;
    let mut images = Vec::new();
    for response in answers
        .into_iter()
        .chain([another.get(&ticket.qr_url).await])
    {
        let reply = Reply::read(response).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), "image/png");
        images.push(reply.body);
    }
    assert!(images.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(
        read_qr_code(&images[0]),
        format!("{PAGE}?scene={}", ticket.ticket)
    );
    assert_eq!(app.fake.wxacode_calls(), 1);
    let asked = &app.fake.wxacode_requests()[0];
    assert_eq!(asked.scene, ticket.ticket);
    assert_eq!(asked.page, PAGE);
    assert_eq!(asked.env_version, "release");
    assert!(asked.check_path);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_trial_version_is_asked_for_without_the_path_check(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("WECHAT_ENV_VERSION", "trial".into())]).await;
    let ticket = app.new_ticket().await;
    assert_eq!(app.get(&ticket.qr_url).await.status(), 200);
    let asked = &app.fake.wxacode_requests()[0];
    assert_eq!(asked.env_version, "trial");
    assert!(!asked.check_path);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_unpublished_page_names_the_setting_to_fix_and_a_later_fetch_asks_again(db: PgPool) {
    let fake = FakeWechatConfig::new(APPID, WECHAT_SECRET).pages(vec!["pages/login/index".into()]);
    let app = TestApp::spawn_with(
        db,
        Options {
            fake,
            env: Vec::new(),
        },
    )
    .await;
    let ticket = app.new_ticket().await;
    let reply = Reply::read(app.get(&ticket.qr_url).await).await;
    reply.assert_error(502, "qr_page_unpublished");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("WECHAT_ENV_VERSION"), "{message}");
    assert!(message.contains(PAGE), "{message}");
    // A failed call is not kept: the next fetch asks WeChat again.
    assert_error(app.get(&ticket.qr_url).await, 502, "qr_page_unpublished").await;
    assert_eq!(app.fake.wxacode_calls(), 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_scene_wechat_refuses_is_a_clear_502(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    app.fake.inject_wxacode(Fault::Errcode(40169), 1);
    assert_error(app.get(&ticket.qr_url).await, 502, "qr_scene_invalid").await;
    assert_eq!(app.get(&ticket.qr_url).await.status(), 200);
    assert_eq!(app.get(&ticket.qr_url).await.status(), 200);
    assert_eq!(app.fake.wxacode_calls(), 2);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn unknown_tickets_and_wrong_secrets_get_the_same_404(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let unknown = "A".repeat(32);
    let mut bodies = Vec::new();
    for response in [
        app.poll_ticket(&unknown, Some(&ticket.poll_secret)).await,
        app.poll_ticket(&ticket.ticket, Some(&"B".repeat(43))).await,
        app.poll_ticket(&ticket.ticket, Some("short")).await,
        app.poll_ticket(&ticket.ticket, None).await,
        app.poll_ticket("not-a-ticket", Some(&ticket.poll_secret))
            .await,
        app.ticket_events(&ticket.ticket, &"B".repeat(43)).await,
        app.ticket_events(&unknown, &ticket.poll_secret).await,
    ] {
        let reply = Reply::read(response).await;
        reply.assert_error(404, "not_found");
        bodies.push(reply.body);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
    assert_error(
        app.get(&format!("/api/qr-login/{unknown}/qr.png")).await,
        404,
        "not_found",
    )
    .await;
    let token = phone(&app, "o_scanner").await;
    for step in ["scan", "confirm", "deny"] {
        assert_error(
            app.ticket_step(&unknown, step, &token).await,
            404,
            "not_found",
        )
        .await;
    }
    // A query that cannot be read is a bad request in the API's error shape, not a plain-text one.
    let twice = app.send(app.http.get(app.url(&format!(
        "/api/qr-login/{}?poll_secret=a&poll_secret=b",
        ticket.ticket
    ))));
    assert_error(twice.await, 400, "invalid_request").await;
    // The right secret reads the state.
    let pending = app
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await;
    assert_eq!(pending.status(), 200);
    let pending: Value = pending.json().await.unwrap();
    assert_eq!(pending["state"], "pending");
    assert_eq!(keys_of(&pending), ["expires_in", "state"]);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn scan_confirm_and_deny_need_a_valid_token(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    for step in ["scan", "confirm", "deny"] {
        let path = format!("/api/qr-login/{}/{step}", ticket.ticket);
        assert_error(
            app.send(app.http.post(app.url(&path))).await,
            401,
            "invalid_token",
        )
        .await;
        assert_error(
            app.post_bearer(&path, "not.a.token").await,
            401,
            "invalid_token",
        )
        .await;
    }
    assert_eq!(app.ticket_state(&ticket).await, "pending");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_scan_shows_the_browser_and_binds_the_ticket_to_the_scanner(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let scanner = phone(&app, "o_scanner").await;
    let other = phone(&app, "o_other").await;

    let scanned = app.ticket_step(&ticket.ticket, "scan", &scanner).await;
    assert_eq!(scanned.status(), 200);
    let scanned: Value = scanned.json().await.unwrap();
    assert_eq!(keys_of(&scanned), ["browser", "expires_in", "ticket"]);
    assert_eq!(scanned["ticket"], ticket.ticket);
    assert_eq!(scanned["browser"]["user_agent"], BROWSER_AGENT);
    assert_eq!(scanned["browser"]["ip"], "127.0.0.1");
    let requested_at = scanned["browser"]["requested_at"].as_str().unwrap();
    time::OffsetDateTime::parse(requested_at, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
    assert!(scanned["expires_in"].as_u64().unwrap() <= ticket.expires_in);

    // The same user again: the same answer. Anyone else: taken.
    let again = app.ticket_step(&ticket.ticket, "scan", &scanner).await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap()["browser"],
        scanned["browser"]
    );
    assert_error(
        app.ticket_step(&ticket.ticket, "scan", &other).await,
        409,
        "ticket_taken",
    )
    .await;
    for step in ["confirm", "deny"] {
        assert_error(
            app.ticket_step(&ticket.ticket, step, &other).await,
            409,
            "ticket_taken",
        )
        .await;
    }
    assert_eq!(app.ticket_state(&ticket).await, "scanned");
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn nothing_is_decided_before_a_scan_or_after_a_decision(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let user = phone(&app, "o_user").await;
    for step in ["confirm", "deny"] {
        assert_error(
            app.ticket_step(&ticket.ticket, step, &user).await,
            409,
            "ticket_not_scanned",
        )
        .await;
    }
    assert_eq!(
        app.ticket_step(&ticket.ticket, "scan", &user)
            .await
            .status(),
        200
    );
    let denied = app.ticket_step(&ticket.ticket, "deny", &user).await;
    assert_eq!(
        denied.json::<Value>().await.unwrap(),
        json!({ "state": "denied" })
    );
    for step in ["scan", "confirm", "deny"] {
        assert_error(
            app.ticket_step(&ticket.ticket, step, &user).await,
            410,
            "ticket_used",
        )
        .await;
    }
    assert_eq!(app.ticket_state(&ticket).await, "denied");
    assert_eq!(app.session_count().await, 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_confirmation_hands_the_browser_a_session_of_its_own_once(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let phone_login = app.login_as("o_owner").await;
    let phone_token = token(&phone_login, "access_token");
    assert_eq!(
        app.ticket_step(&ticket.ticket, "scan", phone_token)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.ticket_step(&ticket.ticket, "confirm", phone_token)
            .await
            .status(),
        200
    );

    let handed = app
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await;
    assert_eq!(handed.status(), 200);
    let handed: Value = handed.json().await.unwrap();
    assert_eq!(handed["state"], "confirmed");
    let tokens = &handed["tokens"];
    // Exactly what a login answers.
    assert_eq!(keys_of(tokens), keys_of(&phone_login));
    assert_eq!(tokens["user"], phone_login["user"]);
    assert_eq!(tokens["new_user"], false);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_error(
        app.poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
            .await,
        410,
        "ticket_used",
    )
    .await;
    assert_error(
        app.ticket_events(&ticket.ticket, &ticket.poll_secret).await,
        410,
        "ticket_used",
    )
    .await;

    // A new session, of the browser, listed with the phone's and ended like any other.
    app.assert_access_live(tokens).await;
    let browser_session = session_id(token(tokens, "access_token"));
    assert_ne!(browser_session, session_id(phone_token));
    let listed = app.list_sessions(&phone_login).await;
    let browser_entry = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == browser_session)
        .expect("the browser's session is listed");
    assert_eq!(browser_entry["user_agent"], BROWSER_AGENT);
    let renewed = app.refresh(token(tokens, "refresh_token")).await;
    assert_eq!(renewed.status(), 200);
    let renewed: Value = renewed.json().await.unwrap();
    assert_eq!(
        app.end_session(&browser_session, &phone_login)
            .await
            .status(),
        204
    );
    app.assert_pair_dead(&renewed).await;
    app.assert_access_live(&phone_login).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn racing_polls_get_the_tokens_once_between_them(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let second = app.another_instance(&[]).await;
    let ticket = app.new_ticket().await;
    confirmed_by(&app, &ticket, "o_racer").await;
    let sessions_before = app.session_count().await;
    let polls = (0..6).map(|n| {
        let server = if n % 2 == 0 { &app } else { &second };
        server.poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
    });
    let mut handed_out = 0;
    for response in futures::future::join_all(polls).await {
        let reply = Reply::read(response).await;
        if reply.status == 200 {
            assert!(reply.json()["tokens"]["access_token"].is_string());
            handed_out += 1;
        } else {
            reply.assert_error(410, "ticket_used");
        }
    }
    assert_eq!(handed_out, 1);
    assert_eq!(app.session_count().await, sessions_before + 1);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn any_instance_serves_any_step(db: PgPool) {
    let first = TestApp::spawn(db).await;
    let second = first.another_instance(&[]).await;
    let ticket = first.new_ticket().await;
    assert_eq!(second.get(&ticket.qr_url).await.status(), 200);
    let user = phone(&first, "o_roaming").await;
    assert_eq!(
        second
            .ticket_step(&ticket.ticket, "scan", &user)
            .await
            .status(),
        200
    );
    let seen = first
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await;
    assert_eq!(seen.json::<Value>().await.unwrap()["state"], "scanned");
    assert_eq!(
        first
            .ticket_step(&ticket.ticket, "confirm", &user)
            .await
            .status(),
        200
    );
    let handed = second
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await;
    let handed: Value = handed.json().await.unwrap();
    first.assert_access_live(&handed["tokens"]).await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn after_its_ttl_every_call_says_the_ticket_expired(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let scanned = app.new_ticket().await;
    let untouched = app.new_ticket().await;
    let user = phone(&app, "o_slow").await;
    assert_eq!(
        app.ticket_step(&scanned.ticket, "scan", &user)
            .await
            .status(),
        200
    );
    app.expire_ticket_in(&scanned.ticket, -1.0).await;
    app.expire_ticket_in(&untouched.ticket, -1.0).await;

    for ticket in [&scanned, &untouched] {
        assert_error(app.get(&ticket.qr_url).await, 410, "ticket_expired").await;
        for step in ["scan", "confirm", "deny"] {
            assert_error(
                app.ticket_step(&ticket.ticket, step, &user).await,
                410,
                "ticket_expired",
            )
            .await;
        }
        assert_error(
            app.poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
                .await,
            410,
            "ticket_expired",
        )
        .await;
        assert_error(
            app.ticket_events(&ticket.ticket, &ticket.poll_secret).await,
            410,
            "ticket_expired",
        )
        .await;
    }
    // A wrong secret learns nothing, not even that the ticket expired.
    assert_error(
        app.poll_ticket(&scanned.ticket, Some(&"C".repeat(43)))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.fake.wxacode_calls(), 0);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn expired_tickets_are_pruned_and_live_ones_kept(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let expired = app.new_ticket().await;
    let live = app.new_ticket().await;
    app.expire_ticket_in(&expired.ticket, -1.0).await;
    let pruned = wxlogin_server::prune_once(&db, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(pruned.qr_login_tickets, 1);
    assert_eq!(app.count_tickets().await, 1);
    assert_eq!(
        app.poll_ticket(&live.ticket, Some(&live.poll_secret))
            .await
            .status(),
        200
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_stream_tells_each_change_and_ends_with_the_tokens(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let response = app.ticket_events(&ticket.ticket, &ticket.poll_secret).await;
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    let mut events = EventReader::new(response);
    let (name, data) = events.next_event(SOON).await.expect("the current state");
    assert_eq!(name, "pending");
    assert_eq!(data["state"], "pending");
    assert!(data["expires_in"].as_u64().unwrap() <= ticket.expires_in);

    let user = phone(&app, "o_streamed").await;
    assert_eq!(
        app.ticket_step(&ticket.ticket, "scan", &user)
            .await
            .status(),
        200
    );
    let (name, data) = events.next_event(SOON).await.expect("scanned");
    assert_eq!(
        (name.as_str(), &data["state"]),
        ("scanned", &json!("scanned"))
    );
    assert!(data.get("tokens").is_none());

    assert_eq!(
        app.ticket_step(&ticket.ticket, "confirm", &user)
            .await
            .status(),
        200
    );
    let (name, data) = events.next_event(SOON).await.expect("confirmed");
    assert_eq!(name, "confirmed");
    app.assert_access_live(&data["tokens"]).await;
    assert_eq!(events.next(SOON).await, None, "the stream ends");
    // The tokens went out once, on the stream.
    assert_error(
        app.poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
            .await,
        410,
        "ticket_used",
    )
    .await;
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_denial_ends_the_stream(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let user = phone(&app, "o_denier").await;
    assert_eq!(
        app.ticket_step(&ticket.ticket, "scan", &user)
            .await
            .status(),
        200
    );
    let mut events = EventReader::new(app.ticket_events(&ticket.ticket, &ticket.poll_secret).await);
    assert_eq!(events.next_event(SOON).await.unwrap().0, "scanned");
    assert_eq!(
        app.ticket_step(&ticket.ticket, "deny", &user)
            .await
            .status(),
        200
    );
    let (name, data) = events.next_event(SOON).await.unwrap();
    assert_eq!(name, "denied");
    assert!(data.get("tokens").is_none());
    assert_eq!(events.next(SOON).await, None);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_stream_says_expired_when_the_ttl_passes(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let mut events = EventReader::new(app.ticket_events(&ticket.ticket, &ticket.poll_secret).await);
    assert_eq!(events.next_event(SOON).await.unwrap().0, "pending");
    app.expire_ticket_in(&ticket.ticket, 1.0).await;
    let (name, data) = events.next_event(SOON).await.unwrap();
    assert_eq!(name, "expired");
    assert_eq!(data, json!({ "state": "expired", "expires_in": 0 }));
    assert_eq!(events.next(SOON).await, None);
}

/// The keep-alive interval is a constant under 15 s (a unit test in `events.rs`); this checks
/// that an idle stream really sends it, and holds no database connection meanwhile.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn an_idle_stream_sends_keep_alives_and_holds_no_connection(db: PgPool) {
    let app = TestApp::spawn_with_env(db, vec![("DATABASE_MAX_CONNECTIONS", "1".into())]).await;
    let ticket = app.new_ticket().await;
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut events =
            EventReader::new(app.ticket_events(&ticket.ticket, &ticket.poll_secret).await);
        assert_eq!(events.next_event(SOON).await.unwrap().0, "pending");
        streams.push(events);
    }
    // With one pooled connection and three streams waiting, requests are still served at once.
    let started = std::time::Instant::now();
    let poll = app
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await;
    assert_eq!(poll.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(2));
    let first = &mut streams[0];
    assert_eq!(
        first.next(Duration::from_secs(15)).await,
        Some(Sse::Comment("keep-alive".into()))
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_browser_session_cannot_use_the_session_key_nor_approve_browsers(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    let phone_token = confirmed_by(&app, &ticket, "o_keyholder").await;
    let handed: Value = app
        .poll_ticket(&ticket.ticket, Some(&ticket.poll_secret))
        .await
        .json()
        .await
        .unwrap();
    let browser = token(&handed["tokens"], "access_token");
    let calls_before = app.fake.checksession_calls();
    assert_error(
        app.get_bearer("/api/auth/session-key", browser).await,
        403,
        "mini_program_session_required",
    )
    .await;
    assert_error(
        app.post_bearer("/api/auth/session-key/reset", browser)
            .await,
        403,
        "mini_program_session_required",
    )
    .await;
    assert_error(
        app.decrypt(
            browser,
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAAAAAAAA==",
        )
        .await,
        403,
        "mini_program_session_required",
    )
    .await;
    assert_eq!(app.fake.checksession_calls(), calls_before);
    // Nor may it approve more browsers: only the phone scans, confirms and denies.
    let next = app.new_ticket().await;
    for step in ["scan", "confirm", "deny"] {
        assert_error(
            app.ticket_step(&next.ticket, step, browser).await,
            403,
            "mini_program_session_required",
        )
        .await;
    }
    assert_eq!(app.ticket_state(&next).await, "pending");
    // The mini program's own session still uses it.
    let checked = app.get_bearer("/api/auth/session-key", &phone_token).await;
    assert_eq!(
        checked.json::<Value>().await.unwrap(),
        json!({ "valid": true })
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn no_origin_is_allowed_by_default(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = app
        .send(
            app.http
                .post(app.url("/api/qr-login"))
                .header("origin", "https://console.example.com"),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let preflight = app
        .preflight("/api/qr-login", "https://console.example.com")
        .await;
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn listed_origins_may_call_the_browser_endpoints_and_no_others(db: PgPool) {
    let origin = "https://console.example.com";
    let app = TestApp::spawn_with_env(
        db,
        vec![(
            "CORS_ALLOWED_ORIGINS",
            format!("{origin}, http://localhost:5173"),
        )],
    )
    .await;
    let ticket = app.new_ticket().await;
    for path in [
        "/api/qr-login".to_owned(),
        format!("/api/qr-login/{}/events", ticket.ticket),
        "/api/me".to_owned(),
        "/api/auth/refresh".to_owned(),
        "/api/auth/logout".to_owned(),
    ] {
        let preflight = app.preflight(&path, origin).await;
        assert_eq!(preflight.status(), 204, "{path}");
        let headers = preflight.headers();
        assert_eq!(headers["access-control-allow-origin"], origin, "{path}");
        let methods = headers["access-control-allow-methods"].to_str().unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let allowed = headers["access-control-allow-headers"].to_str().unwrap();
        assert!(allowed.contains("authorization"), "{allowed}");
        assert!(headers.get("access-control-allow-credentials").is_none());
    }
    for (path, asker) in [
        ("/api/qr-login", "https://evil.example.com"),
        ("/api/qr-login", "https://console.example.com.evil.example"),
        ("/api/auth/login", origin),
        ("/api/auth/sessions", origin),
        ("/api/me/phone", origin),
    ] {
        let preflight = app.preflight(path, asker).await;
        assert!(
            preflight
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path} from {asker}"
        );
    }
    // An actual call from the listed origin is readable there.
    let polled = app
        .send(
            app.http
                .get(app.url(&format!("/api/qr-login/{}", ticket.ticket)))
                .query(&[("poll_secret", &ticket.poll_secret)])
                .header("origin", origin),
        )
        .await;
    assert_eq!(polled.status(), 200);
    assert_eq!(polled.headers()["access-control-allow-origin"], origin);
    assert!(polled.headers()["vary"]
        .to_str()
        .unwrap()
        .contains("origin"));
}

impl TestApp {
    async fn count_tickets(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM qr_login_tickets")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    async fn session_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sessions")
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// A CORS preflight for a POST with an Authorization header.
    async fn preflight(&self, path: &str, origin: &str) -> reqwest::Response {
        self.send(
            self.http
                .request(reqwest::Method::OPTIONS, self.url(path))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization"),
        )
        .await
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_shutdown_ends_waiting_streams_instead_of_waiting_for_them(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let config = test_config(&app.fake.base_url(), &[]);
    let state = wxlogin_server::build_state(&config, db).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(wxlogin_server::serve(
        listener,
        state,
        config.connections,
        async move {
            let _ = stopped.await;
        },
    ));
    let ticket = app.new_ticket().await;
    let response = app
        .send(
            app.http
                .get(format!("{base_url}/api/qr-login/{}/events", ticket.ticket))
                .query(&[("poll_secret", &ticket.poll_secret)]),
        )
        .await;
    let mut events = EventReader::new(response);
    assert_eq!(events.next_event(SOON).await.unwrap().0, "pending");
    stop.send(()).unwrap();
    assert_eq!(events.next(SOON).await, None, "the stream ends at shutdown");
    tokio::time::timeout(SOON, server)
        .await
        .expect("the server stops without waiting for the ticket to expire")
        .unwrap()
        .unwrap();
}

/// The fake answers getwxacodeunlimit the way WeChat does: errors as JSON with HTTP 200, labelled
/// text/plain; the image only for a valid token, scene and (when checked) page.
#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn the_fake_wechat_checks_token_scene_and_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    // The server fetched a token for the first image; the fake now knows it.
    assert_eq!(app.get(&ticket.qr_url).await.status(), 200);
    let token = app
        .fake
        .current_access_token()
        .expect("a token was handed out");
    let draw = |token: String, body: Value| {
        let url = format!("{}/wxa/getwxacodeunlimit", app.fake.base_url());
        let request = app
            .http
            .post(url)
            .query(&[("access_token", token)])
            .body(body.to_string());
        async move { Reply::read(request.send().await.unwrap()).await }
    };
    let errcode = |reply: &Reply| {
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-type"), "text/plain");
        reply.json()["errcode"].as_i64().unwrap()
    };
    let ok = json!({ "scene": "a=1&b=~", "page": PAGE });
    assert_eq!(errcode(&draw("made-up".into(), ok.clone()).await), 40001);
    let long = json!({ "scene": "x".repeat(33), "page": PAGE });
    assert_eq!(errcode(&draw(token.clone(), long).await), 40169);
    let spaced = json!({ "scene": "a b", "page": PAGE });
    assert_eq!(errcode(&draw(token.clone(), spaced).await), 40169);
    let unknown = json!({ "scene": "abc", "page": "pages/nowhere/index" });
    assert_eq!(errcode(&draw(token.clone(), unknown).await), 41030);
    let unchecked = json!({ "scene": "abc", "page": "pages/nowhere/index", "check_path": false });
    let drawn = draw(token.clone(), unchecked).await;
    assert_eq!(drawn.header("content-type"), "image/png");
    assert_eq!(read_qr_code(&drawn.body), "pages/nowhere/index?scene=abc");
    let drawn = draw(token, ok).await;
    assert_eq!(
        read_qr_code(&drawn.body),
        format!("{PAGE}?scene=a%3D1%26b%3D~")
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_stream_opened_after_the_confirmation_starts_with_the_tokens(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ticket = app.new_ticket().await;
    confirmed_by(&app, &ticket, "o_late_listener").await;
    let mut events = EventReader::new(app.ticket_events(&ticket.ticket, &ticket.poll_secret).await);
    let (name, data) = events.next_event(SOON).await.unwrap();
    assert_eq!(name, "confirmed");
    app.assert_access_live(&data["tokens"]).await;
    assert_eq!(events.next(SOON).await, None);
    assert_error(
        app.ticket_events(&ticket.ticket, &ticket.poll_secret).await,
        410,
        "ticket_used",
    )
    .await;
}
