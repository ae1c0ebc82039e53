//! Runs the fake WeChat on its own, for `just dev` and for clients tested from outside Rust.
//!
//! Environment: `FAKE_WECHAT_ADDR` (default 127.0.0.1:8081), `FAKE_WECHAT_APPID`,
//! `FAKE_WECHAT_SECRET`, `FAKE_WECHAT_DEV=1` to accept any code once, and
//! `FAKE_WECHAT_LOGIN_DELAY_MS` to make every jscode2session call take that long, and
//! `FAKE_WECHAT_APP_JSON` naming the `app.json` whose pages count as published (by default the
//! repository's `miniprogram/app.json` as built in). Message push goes to `FAKE_WECHAT_PUSH_URL`
//! (the server's `/api/wechat/events`), signed with `FAKE_WECHAT_PUSH_TOKEN` and, when set,
//! encrypted with `FAKE_WECHAT_PUSH_AES_KEY`.

use fake_wechat::{is_encoding_aes_key, FakeWechat, FakeWechatConfig, PushTarget};

const DEV_APPID: &str = "wxdevappid0000000";
const DEV_SECRET: &str = "devsecret";

#[tokio::main]
async fn main() {
    let addr = env_or("FAKE_WECHAT_ADDR", "127.0.0.1:8081");
    let config = FakeWechatConfig::new(
        env_or("FAKE_WECHAT_APPID", DEV_APPID),
        env_or("FAKE_WECHAT_SECRET", DEV_SECRET),
    )
    .dev(std::env::var("FAKE_WECHAT_DEV").is_ok_and(|v| v == "1" || v == "true"));
    let config = match std::env::var_os("FAKE_WECHAT_APP_JSON") {
        None => config,
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|err| err.to_string())
            .and_then(|text| fake_wechat::pages_of_app_json(&text))
        {
            Ok(pages) => config.pages(pages),
            Err(err) => {
                eprintln!("fake-wechat: FAKE_WECHAT_APP_JSON names no usable app.json: {err}");
                std::process::exit(1);
            }
        },
    };
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("fake-wechat: cannot bind FAKE_WECHAT_ADDR={addr}: {err}");
            std::process::exit(1);
        }
    };
    let fake = FakeWechat::spawn(listener, config);
    match env_or("FAKE_WECHAT_LOGIN_DELAY_MS", "0").parse() {
        Ok(millis) => fake.slow_jscode2session(std::time::Duration::from_millis(millis)),
        Err(_) => {
            eprintln!(
                "fake-wechat: FAKE_WECHAT_LOGIN_DELAY_MS must be a whole number of milliseconds"
            );
            std::process::exit(1);
        }
    }
    if let Ok(url) = std::env::var("FAKE_WECHAT_PUSH_URL") {
        let encoding_aes_key = std::env::var("FAKE_WECHAT_PUSH_AES_KEY").ok();
        if encoding_aes_key
            .as_deref()
            .is_some_and(|key| !is_encoding_aes_key(key))
        {
            eprintln!(
                "fake-wechat: FAKE_WECHAT_PUSH_AES_KEY must be a 43-character EncodingAESKey"
            );
            std::process::exit(1);
        }
        fake.set_push_target(PushTarget {
            url,
            token: env_or("FAKE_WECHAT_PUSH_TOKEN", ""),
            encoding_aes_key,
        });
    }
    println!("fake-wechat listening on {}", fake.base_url());
    let _ = tokio::signal::ctrl_c().await;
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}
