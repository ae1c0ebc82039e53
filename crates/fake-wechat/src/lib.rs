//! A fake of WeChat's server API, faithful where wxlogin can go wrong.
//!
//! It answers like the real service: errors come back with HTTP 200 and a `text/plain` JSON
//! body, login codes are single-use and expire after five minutes, and the appid and secret are
//! checked. Tests drive it through [`FakeWechat`]: they issue codes for chosen users and queue
//! faults (`errcode` -1, 45011, 40226, an HTTP 500, garbage, a hang) for the next calls.
//!
//! Beyond login it serves the platform calls that need the app's access token: `stable_token`
//! (see [`platform`] for its rules), `getuserphonenumber`, `checksession`,
//! `resetusersessionkey` and `getwxacodeunlimit` (see [`wxacode`]). Tests can expire, revoke or poison the current access token and count
//! every call, so a server that fetches more tokens than it should is caught.
//!
//! In dev mode ([`FakeWechatConfig::dev`]) any unknown code is accepted once, so the mini
//! program in WeChat DevTools can log in without a real AppID; see [`codes::dev_identity`].

mod codes;
mod faults;
mod jscode2session;
mod phone;
mod platform;
mod reply;
mod session;
mod wxacode;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use codes::Identity;
pub use faults::Fault;
pub use phone::PhoneNumber;
pub use session::session_signature;
pub use wxacode::{pages_of_app_json, WxacodeRequest};

use codes::CodeStore;
use faults::FaultQueue;
use phone::PhoneCodes;
use platform::TokenStore;

/// How a fake is set up.
#[derive(Debug, Clone)]
pub struct FakeWechatConfig {
    pub appid: String,
    pub secret: String,
    /// How long an issued code stays usable; WeChat says five minutes.
    pub code_ttl: Duration,
    /// Accept any unknown login code once, mapping it to a stable dev identity, and any unknown
    /// phone code once, mapping it to a made-up number.
    pub dev: bool,
    /// How long an access token from stable_token lives; WeChat says 7200 seconds.
    pub access_token_ttl: Duration,
    /// The pages of the published mini program, home page first: getwxacodeunlimit with
    /// `check_path` refuses any other. By default those of the repository's `miniprogram/app.json`.
    pub pages: Vec<String>,
}

impl FakeWechatConfig {
    pub fn new(appid: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            appid: appid.into(),
            secret: secret.into(),
            code_ttl: Duration::from_secs(5 * 60),
            dev: false,
            access_token_ttl: Duration::from_secs(7200),
            pages: pages_of_app_json(include_str!("../../../miniprogram/app.json"))
                .expect("miniprogram/app.json lists its pages"),
        }
    }

    pub fn pages(mut self, pages: Vec<String>) -> Self {
        self.pages = pages;
        self
    }

    pub fn dev(mut self, dev: bool) -> Self {
        self.dev = dev;
        self
    }

    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }
}

struct Shared {
    config: FakeWechatConfig,
    codes: Mutex<CodeStore>,
    faults: FaultQueue,
    tokens: Mutex<TokenStore>,
    phone_codes: Mutex<PhoneCodes>,
    phone_faults: FaultQueue,
    checksession_calls: AtomicUsize,
    /// getwxacodeunlimit calls and their faults, and what each that got past the token check
    /// asked for.
    wxacode_faults: FaultQueue,
    wxacode_requests: Mutex<Vec<WxacodeRequest>>,
    /// How long stable_token takes to answer.
    stable_token_delay: Mutex<Duration>,
    /// How long jscode2session takes to answer.
    jscode2session_delay: Mutex<Duration>,
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
            tokens: Mutex::new(TokenStore::new(config.access_token_ttl)),
            phone_codes: Mutex::new(PhoneCodes::new(config.code_ttl, config.dev)),
            phone_faults: FaultQueue::default(),
            checksession_calls: AtomicUsize::new(0),
            wxacode_faults: FaultQueue::default(),
            wxacode_requests: Mutex::new(Vec::new()),
            stable_token_delay: Mutex::new(Duration::ZERO),
            jscode2session_delay: Mutex::new(Duration::ZERO),
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

    /// How many stable_token calls reached the fake, forced or not.
    pub fn stable_token_calls(&self) -> usize {
        self.shared.tokens.lock().unwrap().calls()
    }

    /// How many forced refreshes the fake honoured in the last day.
    pub fn forced_refreshes(&self) -> usize {
        self.shared.tokens.lock().unwrap().forced_refreshes()
    }

    /// How many stable_token calls asked for a forced refresh, honoured or not.
    pub fn force_refresh_requests(&self) -> usize {
        self.shared.tokens.lock().unwrap().force_requests()
    }

    /// The access token a normal stable_token call would hand out now, if one was issued.
    pub fn current_access_token(&self) -> Option<String> {
        self.shared.tokens.lock().unwrap().current()
    }

    /// Makes stable_token take `delay` to answer, as WeChat does on a bad day, so that callers
    /// that would each fetch a token pile up where a test can see them.
    pub fn slow_stable_token(&self, delay: Duration) {
        *self.shared.stable_token_delay.lock().unwrap() = delay;
    }

    /// Makes jscode2session take `delay` to answer (the code is redeemed after it), as WeChat
    /// does on a bad day, so that logins waiting on it pile up.
    pub fn slow_jscode2session(&self, delay: Duration) {
        *self.shared.jscode2session_delay.lock().unwrap() = delay;
    }

    /// Ends the current access token's life: calls with it get 42001.
    pub fn expire_access_token(&self) {
        self.shared.tokens.lock().unwrap().expire();
    }

    /// Revokes the current access token as a forced refresh by someone else would: calls with it
    /// get 40001, and a normal stable_token call hands out a new one.
    pub fn invalidate_access_token(&self) {
        self.shared.tokens.lock().unwrap().invalidate();
    }

    /// Makes every API refuse the current access token (40001) while normal stable_token calls
    /// keep handing it out, so that only a forced refresh helps.
    pub fn poison_access_token(&self) {
        self.shared.tokens.lock().unwrap().poison();
    }

    /// A single-use getPhoneNumber code that reveals `phone` to a request for `openid`.
    pub fn issue_phone_code(&self, openid: &str, phone: PhoneNumber) -> String {
        self.shared.phone_codes.lock().unwrap().issue(openid, phone)
    }

    /// How many phone numbers were handed out, each of which WeChat would bill.
    pub fn phone_numbers_billed(&self) -> usize {
        self.shared.phone_codes.lock().unwrap().billed()
    }

    /// How many getuserphonenumber calls reached the fake, failed ones included.
    pub fn phone_calls(&self) -> usize {
        self.shared.phone_faults.calls()
    }

    /// Makes the next `times` getuserphonenumber calls fail with `fault`.
    pub fn inject_phone(&self, fault: Fault, times: usize) {
        self.shared.phone_faults.push(fault, times);
    }

    /// How many checksession calls reached the fake.
    pub fn checksession_calls(&self) -> usize {
        self.shared.checksession_calls.load(Ordering::SeqCst)
    }

    /// How many getwxacodeunlimit calls reached the fake, failed ones included.
    pub fn wxacode_calls(&self) -> usize {
        self.shared.wxacode_faults.calls()
    }

    /// Makes the next `times` getwxacodeunlimit calls fail with `fault`.
    pub fn inject_wxacode(&self, fault: Fault, times: usize) {
        self.shared.wxacode_faults.push(fault, times);
    }

    /// What each getwxacodeunlimit call with a valid token asked for, oldest first.
    pub fn wxacode_requests(&self) -> Vec<WxacodeRequest> {
        self.shared.wxacode_requests.lock().unwrap().clone()
    }

    /// Gives `openid` a new session_key, as a wx.login on another device would; the key the
    /// server holds goes stale. Returns the new key.
    pub fn rotate_session_key(&self, openid: &str) -> String {
        self.shared.codes.lock().unwrap().rotate_session_key(openid)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/sns/jscode2session", get(jscode2session::handle))
        .route("/cgi-bin/stable_token", post(platform::stable_token))
        .route("/wxa/business/getuserphonenumber", post(phone::handle))
        .route("/wxa/checksession", get(session::check))
        .route("/wxa/resetusersessionkey", get(session::reset))
        .route("/wxa/getwxacodeunlimit", post(wxacode::unlimited))
        .with_state(shared)
}
