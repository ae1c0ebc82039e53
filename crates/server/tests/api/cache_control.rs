//! Answers that carry tokens, and every other answer that does not declare its own caching, are
//! never stored by a cache (RFC 6749 section 5.1).

use sqlx::PgPool;

use crate::helpers::reply::Reply;
use crate::helpers::server::TestApp;
use crate::helpers::tokens::token;

fn assert_not_stored(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control"),
        "no-store",
        "{}",
        reply.request
    );
    assert_eq!(reply.header("pragma"), "no-cache", "{}", reply.request);
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn login_refresh_and_every_api_answer_say_no_store(db: PgPool) {
    let app = TestApp::spawn(db).await;

    let login = Reply::read(app.login(&app.fake.issue_code("o-cache")).await).await;
    assert_eq!(login.status, 200);
    assert_not_stored(&login);
    let pair = login.json();

    let refresh = Reply::read(app.refresh(token(&pair, "refresh_token")).await).await;
    assert_eq!(refresh.status, 200);
    assert_not_stored(&refresh);
    let pair = refresh.json();

    let me = Reply::read(app.get_me(token(&pair, "access_token")).await).await;
    assert_eq!(me.status, 200);
    assert_not_stored(&me);

    // Errors too, and what a retried refresh gets back.
    for reply in [
        Reply::read(app.refresh(token(&pair, "access_token")).await).await,
        Reply::read(app.login("").await).await,
        Reply::read(app.get("/no/such/path").await).await,
    ] {
        assert!(reply.status.is_client_error());
        assert_not_stored(&reply);
    }
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn answers_that_declare_their_caching_keep_it(db: PgPool) {
    let app = TestApp::spawn(db).await;

    let jwks = Reply::read(app.get("/.well-known/jwks.json").await).await;

    assert_eq!(jwks.header("cache-control"), "public, max-age=300");
    assert!(!jwks.headers.contains_key("pragma"));
}
