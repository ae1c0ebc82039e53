//! WeChat's security APIs: `msg_sec_check` (text), `media_check_async` (images, answered later by
//! a `wxa_media_check` push event) and `getuserriskrank`.
//!
//! All three check the access token and answer errors with HTTP 200, as WeChat does. The openid
//! must be one that logged in through this fake: WeChat only knows users who used the app lately
//! (40003 from the content checks, 61010 from the risk API otherwise).
//!
//! Verdicts are chosen by content: text containing a word the test flagged gets that word's
//! verdict; by default "risky-word" is risky (label 20003, abuse) and "review-word" needs a review
//! (label 21000). Image verdicts are chosen by the test when it delivers the event
//! ([`crate::FakeWechat::deliver_media_check`]). Risk ranks are set per openid (default 0).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use crate::jscode2session::serve_fault;
use crate::{reply, Shared};

const ERR_BAD_FORMAT: i64 = 47001;
const ERR_INVALID_OPENID: i64 = 40003;
const ERR_INVALID_SCENE: i64 = 40129;
const ERR_USER_NOT_SEEN: i64 = 61010;
const MAX_CONTENT_CHARS: usize = 2500;

/// WeChat's advice about content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    Pass,
    Review,
    Risky,
}

impl Suggest {
    pub fn as_str(self) -> &'static str {
        match self {
            Suggest::Pass => "pass",
            Suggest::Review => "review",
            Suggest::Risky => "risky",
        }
    }
}

/// An image submitted to media_check_async, waiting for its verdict.
#[derive(Debug, Clone)]
pub struct MediaJob {
    pub trace_id: String,
    pub media_url: String,
    pub openid: String,
}

pub(crate) struct Security {
    /// Words and the verdict (and label) text containing them gets.
    flagged: Vec<(String, Suggest, i64)>,
    pub(crate) media_jobs: Vec<MediaJob>,
    risk_ranks: HashMap<String, u8>,
    /// Every getuserriskrank request body, in order.
    pub(crate) risk_requests: Vec<Value>,
    pub(crate) text_checks: usize,
    /// An errcode every getuserriskrank call answers, such as 48001 (API not enabled).
    pub(crate) risk_errcode: Option<i64>,
}

impl Security {
    pub(crate) fn new() -> Self {
        Self {
            flagged: vec![
                ("risky-word".to_owned(), Suggest::Risky, 20003),
                ("review-word".to_owned(), Suggest::Review, 21000),
            ],
            media_jobs: Vec::new(),
            risk_ranks: HashMap::new(),
            risk_requests: Vec::new(),
            text_checks: 0,
            risk_errcode: None,
        }
    }

    pub(crate) fn flag(&mut self, word: &str, suggest: Suggest, label: i64) {
        self.flagged.push((word.to_owned(), suggest, label));
    }

    pub(crate) fn set_risk_rank(&mut self, openid: &str, rank: u8) {
        self.risk_ranks.insert(openid.to_owned(), rank);
    }

    fn verdict(&self, content: &str) -> (Suggest, i64) {
        self.flagged
            .iter()
            .filter(|(word, _, _)| content.contains(word.as_str()))
            .map(|(_, suggest, label)| (*suggest, *label))
            // The most severe verdict wins, as WeChat's does across its strategies.
            .max_by_key(|(suggest, _)| *suggest as u8)
            .unwrap_or((Suggest::Pass, 100))
    }
}

/// The request body as JSON once the access token passed, or the errcode WeChat answers.
fn authorized(shared: &Shared, params: &HashMap<String, String>, body: &str) -> Result<Value, i64> {
    let token = params.get("access_token").map(String::as_str);
    shared.tokens.lock().unwrap().check(token)?;
    serde_json::from_str::<Value>(body).map_err(|_| ERR_BAD_FORMAT)
}

/// The request's openid if it logged in through this fake lately, else `unknown`: WeChat only
/// knows users who used the app in the last two hours.
fn known_openid(shared: &Shared, request: &Value, unknown: i64) -> Result<String, i64> {
    let openid = request.get("openid").and_then(Value::as_str).unwrap_or("");
    let seen = shared
        .codes
        .lock()
        .unwrap()
        .session_key_of(openid)
        .is_some();
    seen.then(|| openid.to_owned()).ok_or(unknown)
}

fn check_version_and_scene(request: &Value) -> Result<(), i64> {
    if request.get("version").and_then(Value::as_i64) != Some(2) {
        return Err(ERR_BAD_FORMAT);
    }
    match request.get("scene").and_then(Value::as_i64) {
        Some(1..=4) => Ok(()),
        _ => Err(ERR_INVALID_SCENE),
    }
}

/// A content check's body and openid, once its token, version, scene and openid passed.
fn content_check_request(
    shared: &Shared,
    params: &HashMap<String, String>,
    body: &str,
) -> Result<(Value, String), i64> {
    let request = authorized(shared, params, body)?;
    check_version_and_scene(&request)?;
    let openid = known_openid(shared, &request, ERR_INVALID_OPENID)?;
    Ok((request, openid))
}

fn trace_id() -> String {
    let bytes: [u8; 12] = rand::random();
    format!("{}-{}", hex::encode(bytes), crate::push::now())
}

pub(crate) async fn msg_sec_check(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if let Some(fault) = shared.text_check_faults.next_call() {
        return serve_fault(fault).await;
    }
    let (request, _) = match content_check_request(&shared, &params, &body) {
        Ok(checked) => checked,
        Err(errcode) => return reply::error(errcode),
    };
    let Some(content) = request
        .get("content")
        .and_then(Value::as_str)
        .filter(|content| content.chars().count() <= MAX_CONTENT_CHARS)
    else {
        return reply::error(ERR_BAD_FORMAT);
    };
    let mut security = shared.security.lock().unwrap();
    security.text_checks += 1;
    let (suggest, label) = security.verdict(content);
    reply::json(json!({
        "errcode": 0,
        "errmsg": "ok",
        "trace_id": trace_id(),
        "result": { "suggest": suggest.as_str(), "label": label },
        "detail": [{
            "strategy": "content_model",
            "errcode": 0,
            "suggest": suggest.as_str(),
            "label": label,
            "prob": 90,
        }],
    }))
}

pub(crate) async fn media_check_async(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    let (request, openid) = match content_check_request(&shared, &params, &body) {
        Ok(checked) => checked,
        Err(errcode) => return reply::error(errcode),
    };
    let media_type = request.get("media_type").and_then(Value::as_i64);
    let media_url = request
        .get("media_url")
        .and_then(Value::as_str)
        .filter(|url| url.starts_with("http://") || url.starts_with("https://"));
    let (Some(1 | 2), Some(media_url)) = (media_type, media_url) else {
        return reply::error(ERR_BAD_FORMAT);
    };
    let job = MediaJob {
        trace_id: trace_id(),
        media_url: media_url.to_owned(),
        openid,
    };
    let trace_id = job.trace_id.clone();
    shared.security.lock().unwrap().media_jobs.push(job);
    reply::json(json!({ "errcode": 0, "errmsg": "ok", "trace_id": trace_id }))
}

pub(crate) async fn getuserriskrank(
    State(shared): State<Arc<Shared>>,
    Query(params): Query<HashMap<String, String>>,
    body: String,
) -> Response {
    if let Some(fault) = shared.risk_faults.next_call() {
        return serve_fault(fault).await;
    }
    let request = match authorized(&shared, &params, &body) {
        Ok(request) => request,
        Err(errcode) => return reply::error(errcode),
    };
    let mut security = shared.security.lock().unwrap();
    security.risk_requests.push(request.clone());
    if let Some(errcode) = security.risk_errcode {
        return reply::error(errcode);
    }
    if request.get("appid").and_then(Value::as_str) != Some(shared.config.appid.as_str()) {
        return reply::error(40013);
    }
    if !matches!(request.get("scene").and_then(Value::as_i64), Some(0 | 1)) {
        return reply::error(ERR_INVALID_SCENE);
    }
    if request
        .get("client_ip")
        .and_then(Value::as_str)
        .is_none_or(|ip| ip.parse::<std::net::IpAddr>().is_err())
    {
        return reply::error(ERR_BAD_FORMAT);
    }
    let openid = match known_openid(&shared, &request, ERR_USER_NOT_SEEN) {
        Ok(openid) => openid,
        Err(errcode) => return reply::error(errcode),
    };
    let rank = security.risk_ranks.get(&openid).copied().unwrap_or(0);
    reply::json(
        json!({ "errcode": 0, "errmsg": "getuserriskrank succ", "risk_rank": rank, "unoin_id": 0 }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_severe_flagged_word_decides() {
        let mut security = Security::new();
        assert_eq!(security.verdict("小明"), (Suggest::Pass, 100));
        assert_eq!(security.verdict("a review-word"), (Suggest::Review, 21000));
        security.flag("广告", Suggest::Review, 10001);
        assert_eq!(security.verdict("广告 risky-word"), (Suggest::Risky, 20003));
    }

    #[test]
    fn content_checks_need_version_2_and_a_known_scene() {
        let ok = json!({ "version": 2, "scene": 1 });
        assert_eq!(check_version_and_scene(&ok), Ok(()));
        assert_eq!(
            check_version_and_scene(&json!({ "version": 1, "scene": 1 })),
            Err(ERR_BAD_FORMAT)
        );
        for scene in [json!(0), json!(5), json!("1"), Value::Null] {
            let request = json!({ "version": 2, "scene": scene });
            assert_eq!(check_version_and_scene(&request), Err(ERR_INVALID_SCENE));
        }
    }
}
