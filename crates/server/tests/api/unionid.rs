//! unionid: filled in when it first appears, and the key two apps share users by.

use fake_wechat::{FakeWechatConfig, Identity};
use serde_json::Value;
use sqlx::PgPool;
use wxlogin_server::find_by_unionid;

use crate::helpers::config::{APPID, WECHAT_SECRET};
use crate::helpers::server::{Options, TestApp};

const SECOND_APPID: &str = "wxsecondapp000001";

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn a_later_login_fills_in_the_unionid_and_it_finds_the_user(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let before = app.login_as("openid-later").await;
    assert_eq!(before["user"]["unionid"], Value::Null);
    assert!(find_by_unionid(&app.db, "union-later")
        .await
        .unwrap()
        .is_empty());

    let code = app
        .fake
        .issue_code_for(Identity::new("openid-later", Some("union-later".into())));
    let after: Value = app.login(&code).await.json().await.unwrap();

    assert_eq!(after["user"]["unionid"], "union-later");
    let found = find_by_unionid(&app.db, "union-later").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].appid, APPID);
    assert_eq!(
        found[0].id.to_string(),
        before["user"]["id"].as_str().unwrap()
    );
}

#[sqlx::test(migrator = "wxlogin_server::MIGRATOR")]
async fn two_apps_under_one_open_platform_account_share_a_person_by_unionid(db: PgPool) {
    let first = TestApp::spawn(db.clone()).await;
    let second = TestApp::spawn_with(
        db,
        Options {
            fake: FakeWechatConfig::new(SECOND_APPID, WECHAT_SECRET),
            env: vec![("WECHAT_APPID", SECOND_APPID.to_owned())],
        },
    )
    .await;
    // One person: a different openid in each app, the same unionid.
    let code = first.fake.issue_code_for(Identity::new(
        "openid-in-first",
        Some("union-shared".into()),
    ));
    let in_first: Value = first.login(&code).await.json().await.unwrap();
    let code = second.fake.issue_code_for(Identity::new(
        "openid-in-second",
        Some("union-shared".into()),
    ));
    let in_second: Value = second.login(&code).await.json().await.unwrap();
    assert_ne!(in_first["user"]["id"], in_second["user"]["id"]);

    let found = find_by_unionid(&first.db, "union-shared").await.unwrap();

    let mut apps: Vec<(&str, &str)> = found
        .iter()
        .map(|user| (user.appid.as_str(), user.openid.as_str()))
        .collect();
    apps.sort_unstable();
    assert_eq!(
        apps,
        [
            (SECOND_APPID, "openid-in-second"),
            (APPID, "openid-in-first")
        ]
    );
}
