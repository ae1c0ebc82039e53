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
//! It also serves WeChat's security APIs (`msg_sec_check`, `media_check_async`,
//! `getuserriskrank`, see [`security`]) and plays WeChat's message push: once a test has set the
//! push target ([`FakeWechat::set_push_target`]) it delivers `wxa_media_check` verdicts there,
//! signed and, in safe mode, encrypted as WeChat does ([`push`]). `POST /fake/wxa_media_check`
//! does the same for clients outside Rust.
//!
//! In dev mode ([`FakeWechatConfig::dev`]) any unknown code is accepted once, so the mini
//! program in WeChat DevTools can log in without a real AppID; see [`codes::dev_identity`].

mod codes;
mod faults;
mod jscode2session;
mod phone;
mod platform;
mod push;
mod reply;
mod security;
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
pub use push::{is_encoding_aes_key, sha1_sorted, PushTarget, SignedPush};
pub use security::{MediaJob, Suggest};
pub use session::session_signature;
pub use wxacode::{pages_of_app_json, WxacodeRequest};

use codes::CodeStore;
use faults::FaultQueue;
use phone::PhoneCodes;
use platform::TokenStore;
use security::Security;

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
    security: Mutex<Security>,
    text_check_faults: FaultQueue,
    risk_faults: FaultQueue,
    push_target: Mutex<Option<PushTarget>>,
    http: reqwest::Client,
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
            security: Mutex::new(Security::new()),
            text_check_faults: FaultQueue::default(),
            risk_faults: FaultQueue::default(),
            push_target: Mutex::new(None),
            http: reqwest::Client::new(),
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

/// What the push target answered a delivered message.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub status: u16,
    pub body: String,
}

impl FakeWechat {
    /// Makes text containing `word` get `suggest` with `label` from msg_sec_check.
    pub fn flag_text(&self, word: &str, suggest: Suggest, label: i64) {
        self.shared
            .security
            .lock()
            .unwrap()
            .flag(word, suggest, label);
    }

    /// How many msg_sec_check calls were answered with a verdict.
    pub fn text_checks(&self) -> usize {
        self.shared.security.lock().unwrap().text_checks
    }

    /// Makes the next `times` msg_sec_check calls fail with `fault`.
    pub fn inject_text_check(&self, fault: Fault, times: usize) {
        self.shared.text_check_faults.push(fault, times);
    }

    /// The images submitted to media_check_async whose verdict was not delivered yet.
    pub fn pending_media_checks(&self) -> Vec<MediaJob> {
        self.shared.security.lock().unwrap().media_jobs.clone()
    }

    /// Gives `openid` this risk rank (0 to 4) from getuserriskrank.
    pub fn set_risk_rank(&self, openid: &str, rank: u8) {
        self.shared
            .security
            .lock()
            .unwrap()
            .set_risk_rank(openid, rank);
    }

    /// Makes every getuserriskrank call answer `errcode` (48001: not enabled for the app), or
    /// answer normally again with `None`.
    pub fn risk_errcode(&self, errcode: Option<i64>) {
        self.shared.security.lock().unwrap().risk_errcode = errcode;
    }

    /// Makes the next `times` getuserriskrank calls fail with `fault`.
    pub fn inject_risk(&self, fault: Fault, times: usize) {
        self.shared.risk_faults.push(fault, times);
    }

    /// Every getuserriskrank request body received, in order.
    pub fn risk_requests(&self) -> Vec<serde_json::Value> {
        self.shared.security.lock().unwrap().risk_requests.clone()
    }

    /// Sets the admin console's message push settings.
    pub fn set_push_target(&self, target: PushTarget) {
        *self.shared.push_target.lock().unwrap() = Some(target);
    }

    /// Downloads the image of the pending check `trace_id`, as WeChat does, and pushes its
    /// verdict as a `wxa_media_check` event. Fails when there is no such check, no push target,
    /// or the image cannot be downloaded.
    pub async fn deliver_media_check(
        &self,
        trace_id: &str,
        suggest: Suggest,
        label: i64,
    ) -> Result<Delivery, String> {
        deliver_media_check(&self.shared, trace_id, suggest, label).await
    }

    /// Pushes `message` (a JSON text) to the push target, signed as WeChat signs it now.
    pub async fn push(&self, message: &str) -> Result<Delivery, String> {
        push_message(&self.shared, message).await
    }
}

async fn deliver_media_check(
    shared: &Shared,
    trace_id: &str,
    suggest: Suggest,
    label: i64,
) -> Result<Delivery, String> {
    let job = {
        let mut security = shared.security.lock().unwrap();
        let index = security
            .media_jobs
            .iter()
            .position(|job| job.trace_id == trace_id)
            .ok_or_else(|| format!("no pending media check {trace_id}"))?;
        security.media_jobs.remove(index)
    };
    let downloaded = shared
        .http
        .get(&job.media_url)
        .send()
        .await
        .map_err(|err| format!("WeChat could not download {}: {err}", job.media_url))?;
    if !downloaded.status().is_success() {
        return Err(format!(
            "WeChat could not download {}: HTTP {}",
            job.media_url,
            downloaded.status()
        ));
    }
    let message = serde_json::json!({
        "ToUserName": push::FAKE_ORIGINAL_ID,
        "FromUserName": job.openid,
        "CreateTime": push::now(),
        "MsgType": "event",
        "Event": "wxa_media_check",
        "appid": shared.config.appid,
        "trace_id": job.trace_id,
        "version": 2,
        "detail": [{ "strategy": "content_model", "errcode": 0, "suggest": suggest.as_str(), "label": label, "prob": 90 }],
        "errcode": 0,
        "errmsg": "ok",
        "result": { "suggest": suggest.as_str(), "label": label },
    });
    push_message(shared, &message.to_string()).await
}

async fn push_message(shared: &Shared, message: &str) -> Result<Delivery, String> {
    let target = shared
        .push_target
        .lock()
        .unwrap()
        .clone()
        .ok_or("no push target is set")?;
    let signed = target.sign(&shared.config.appid, message, push::now(), &push::nonce());
    let response = shared
        .http
        .post(&target.url)
        .query(&signed.query)
        .body(signed.body)
        .send()
        .await
        .map_err(|err| format!("push to {} failed: {err}", target.url))?;
    Ok(Delivery {
        status: response.status().as_u16(),
        body: response.text().await.unwrap_or_default(),
    })
}

/// `POST /fake/wxa_media_check` `{"trace_id", "suggest", "label"}`: delivers a verdict, for
/// clients that drive the fake over HTTP. Answers what the push target answered.
async fn deliver_over_http(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    axum::Json(request): axum::Json<serde_json::Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let suggest = match request.get("suggest").and_then(serde_json::Value::as_str) {
        Some("pass") => Suggest::Pass,
        Some("review") => Suggest::Review,
        Some("risky") => Suggest::Risky,
        _ => {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                "suggest must be pass, review or risky",
            )
                .into_response()
        }
    };
    let label = request
        .get("label")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(100);
    let trace_id = request
        .get("trace_id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    match deliver_media_check(&shared, trace_id, suggest, label).await {
        Ok(delivery) => {
            axum::Json(serde_json::json!({ "status": delivery.status, "body": delivery.body }))
                .into_response()
        }
        Err(problem) => (axum::http::StatusCode::CONFLICT, problem).into_response(),
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/sns/jscode2session", get(jscode2session::handle))
        .route("/cgi-bin/stable_token", post(platform::stable_token))
        .route("/wxa/business/getuserphonenumber", post(phone::handle))
        .route("/wxa/checksession", get(session::check))
        .route("/wxa/resetusersessionkey", get(session::reset))
        .route("/wxa/msg_sec_check", post(security::msg_sec_check))
        .route("/wxa/media_check_async", post(security::media_check_async))
        .route("/wxa/getuserriskrank", post(security::getuserriskrank))
        .route("/fake/wxa_media_check", post(deliver_over_http))
        .route("/wxa/getwxacodeunlimit", post(wxacode::unlimited))
        .with_state(shared)
}
