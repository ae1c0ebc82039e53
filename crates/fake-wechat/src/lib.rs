//! A fake of WeChat's server API, faithful where wxlogin can go wrong.
//!
//! It answers like the real service: errors come back with HTTP 200 and a `text/plain` JSON
//! body, login codes are single-use and expire after five minutes, and the appid and secret are
//! checked. Tests drive it through [`FakeWechat`]: they issue codes for chosen users and queue
//! faults (`errcode` -1, 45011, 40226, an HTTP 500, garbage, a hang) for the next calls.
//!
//! In dev mode ([`FakeWechatConfig::dev`]) any unknown code is accepted once, so the mini
//! program in WeChat DevTools can log in without a real AppID; see [`codes::dev_identity`].

mod codes;
mod faults;
mod jscode2session;
mod reply;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub use codes::Identity;
pub use faults::Fault;

use codes::CodeStore;
use faults::FaultQueue;

/// How a fake is set up.
#[derive(Debug, Clone)]
pub struct FakeWechatConfig {
    pub appid: String,
    pub secret: String,
    /// How long an issued code stays usable; WeChat says five minutes.
    pub code_ttl: Duration,
    /// Accept any unknown code once, mapping it to a stable dev identity.
    pub dev: bool,
}

impl FakeWechatConfig {
    pub fn new(appid: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            appid: appid.into(),
            secret: secret.into(),
            code_ttl: Duration::from_secs(5 * 60),
            dev: false,
        }
    }

    pub fn dev(mut self, dev: bool) -> Self {
        self.dev = dev;
        self
    }

    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }
}

struct Shared {
    config: FakeWechatConfig,
    codes: Mutex<CodeStore>,
    faults: FaultQueue,
}

/// A handle on a running fake: issue codes, queue faults, read what it was asked.
#[derive(Clone)]
pub struct FakeWechat {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl FakeWechat {
    /// Serves the fake on `listener` in a background task.
    pub fn spawn(listener: TcpListener, config: FakeWechatConfig) -> Self {
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            codes: Mutex::new(CodeStore::new(config.code_ttl, config.dev)),
            faults: FaultQueue::default(),
            config,
        });
        let app = router(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake WeChat server failed");
        });
        Self { shared, addr }
    }

    /// Binds 127.0.0.1 on a free port and serves there.
    pub async fn start(config: FakeWechatConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the fake WeChat");
        Self::spawn(listener, config)
    }

    /// The base URL to configure as `WECHAT_API_BASE`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn appid(&self) -> &str {
        &self.shared.config.appid
    }

    pub fn secret(&self) -> &str {
        &self.shared.config.secret
    }

    /// A fresh single-use code that logs in as `openid` (with no unionid).
    pub fn issue_code(&self, openid: &str) -> String {
        self.issue_code_for(Identity::new(openid, None))
    }

    /// A fresh single-use code that logs in as `identity`.
    pub fn issue_code_for(&self, identity: Identity) -> String {
        self.shared.codes.lock().unwrap().issue(identity)
    }

    /// The session_key WeChat last handed out for `openid`, so tests can look for leaks.
    pub fn session_key_of(&self, openid: &str) -> Option<String> {
        self.shared.codes.lock().unwrap().session_key_of(openid)
    }

    /// Makes the next `times` calls to jscode2session fail with `fault`, before any other
    /// queued fault is served.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.shared.faults.push(fault, times);
    }

    /// How many jscode2session calls reached the fake.
    pub fn jscode2session_calls(&self) -> usize {
        self.shared.faults.calls()
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/sns/jscode2session", get(jscode2session::handle))
        .with_state(shared)
}
