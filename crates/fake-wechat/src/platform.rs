//! `POST /cgi-bin/stable_token`: the app's server-side access token, and checks of it.
//!
//! Modelled on the stable_token rules: a normal call returns the same token while more than five
//! minutes of it remain, and a new one in its last five minutes (the old one stays usable until it
//! expires); a forced refresh revokes the current token at once, at most 20 times a day and never
//! twice within 30 seconds (a second force inside 30 seconds changes nothing).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::{reply, Shared};

/// Normal-mode calls in the last five minutes of a token get a new one.
const RENEW_WINDOW: Duration = Duration::from_secs(5 * 60);
const FORCE_SPACING: Duration = Duration::from_secs(30);
const FORCES_PER_DAY: usize = 20;
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

const ERR_MISSING_TOKEN: i64 = 41001;
const ERR_INVALID_TOKEN: i64 = 40001;
const ERR_EXPIRED_TOKEN: i64 = 42001;
const ERR_DAILY_QUOTA: i64 = 45009;

struct Issued {
    token: String,
    expires_at: Instant,
}

pub(crate) struct TokenStore {
    ttl: Duration,
    current: Option<Issued>,
    /// The token a normal renewal replaced; WeChat keeps it working until it expires.
    previous: Option<Issued>,
    /// Tokens a forced refresh or a test revoked: they answer 40001.
    revoked: HashSet<String>,
    /// The current token is refused by every API although normal calls keep handing it out, so
    /// only a forced refresh gets past it.
    poisoned: bool,
    forces: Vec<Instant>,
    calls: usize,
    force_requests: usize,
}

impl TokenStore {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            current: None,
            previous: None,
            revoked: HashSet::new(),
            poisoned: false,
            forces: Vec::new(),
            calls: 0,
            force_requests: 0,
        }
    }

    pub(crate) fn calls(&self) -> usize {
        self.calls
    }

    pub(crate) fn forced_refreshes(&self) -> usize {
        self.forces.len()
    }

    pub(crate) fn force_requests(&self) -> usize {
        self.force_requests
    }

    pub(crate) fn current(&self) -> Option<String> {
        self.current.as_ref().map(|issued| issued.token.clone())
    }

    /// Answers a stable_token call: the token and its remaining seconds, or an errcode.
    fn stable_token(&mut self, force: bool) -> Result<(String, u64), i64> {
        self.calls += 1;
        let now = Instant::now();
        if force {
            self.force_requests += 1;
            self.forces.retain(|at| now.duration_since(*at) < DAY);
            let too_soon = self
                .forces
                .last()
                .is_some_and(|at| now.duration_since(*at) < FORCE_SPACING);
            if !too_soon {
                if self.forces.len() >= FORCES_PER_DAY {
                    return Err(ERR_DAILY_QUOTA);
                }
                self.forces.push(now);
                if let Some(old) = self.current.take() {
                    self.revoked.insert(old.token);
                }
                self.poisoned = false;
            }
        }
        let renew = match &self.current {
            None => true,
            Some(issued) => issued.expires_at.saturating_duration_since(now) <= RENEW_WINDOW,
        };
        if renew {
            self.previous = self.current.take().filter(|old| old.expires_at > now);
            self.current = Some(Issued {
                token: random_token(),
                expires_at: now + self.ttl,
            });
            self.poisoned = false;
        }
        let issued = self
            .current
            .as_ref()
            .expect("a current token was just ensured");
        let remaining = issued.expires_at.saturating_duration_since(now).as_secs();
        Ok((issued.token.clone(), remaining))
    }

    /// Whether an API call carrying `token` may proceed, or the errcode WeChat answers.
    pub(crate) fn check(&self, token: Option<&str>) -> Result<(), i64> {
        let token = token.filter(|t| !t.is_empty()).ok_or(ERR_MISSING_TOKEN)?;
        if self.revoked.contains(token) {
            return Err(ERR_INVALID_TOKEN);
        }
        let now = Instant::now();
        let live = |issued: &Option<Issued>| {
            issued
                .as_ref()
                .filter(|issued| issued.token == token)
                .map(|issued| issued.expires_at > now)
        };
        match (live(&self.current), live(&self.previous)) {
            (Some(true), _) if self.poisoned => Err(ERR_INVALID_TOKEN),
            (Some(true), _) | (_, Some(true)) => Ok(()),
            (Some(false), _) | (_, Some(false)) => Err(ERR_EXPIRED_TOKEN),
            (None, None) => Err(ERR_INVALID_TOKEN),
        }
    }

    /// Ends the current token's life now: calls with it get 42001 and the next normal call gets a
    /// new one.
    pub(crate) fn expire(&mut self) {
        let past = Instant::now() - Duration::from_millis(1);
        for issued in [&mut self.current, &mut self.previous]
            .into_iter()
            .flatten()
        {
            issued.expires_at = issued.expires_at.min(past);
        }
    }

    /// Revokes the current token as a forced refresh elsewhere would: calls with it get 40001 and
    /// the next normal call gets a new one.
    pub(crate) fn invalidate(&mut self) {
        if let Some(old) = self.current.take() {
            self.revoked.insert(old.token);
        }
        self.previous = None;
    }

    pub(crate) fn poison(&mut self) {
        self.poisoned = true;
    }
}

pub(crate) async fn stable_token(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return reply::error(47001);
    };
    let field = |name: &str| request.get(name).and_then(Value::as_str);
    let config = &shared.config;
    match field("appid") {
        None => return reply::error(41002),
        Some(appid) if appid != config.appid => return reply::error(40013),
        Some(_) => {}
    }
    match field("secret") {
        None => return reply::error(41004),
        Some(secret) if secret != config.secret => return reply::error(40125),
        Some(_) => {}
    }
    if field("grant_type") != Some("client_credential") {
        return reply::error(40002);
    }
    let force = request
        .get("force_refresh")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let delay = *shared.stable_token_delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let answer = shared.tokens.lock().unwrap().stable_token(force);
    match answer {
        Ok((token, expires_in)) => {
            reply::json(json!({ "access_token": token, "expires_in": expires_in }))
        }
        Err(errcode) => reply::error(errcode),
    }
}

/// Shaped like WeChat's: long and opaque, much longer than a uuid.
fn random_token() -> String {
    let bytes: [u8; 96] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> TokenStore {
        TokenStore::new(Duration::from_secs(7200))
    }

    #[test]
    fn normal_calls_share_one_token_until_it_expires() {
        let mut store = store();
        let (first, expires_in) = store.stable_token(false).unwrap();
        assert!(expires_in > 7100);
        assert_eq!(store.stable_token(false).unwrap().0, first);
        assert_eq!(store.check(Some(&first)), Ok(()));
        store.expire();
        assert_eq!(store.check(Some(&first)), Err(ERR_EXPIRED_TOKEN));
        let (second, _) = store.stable_token(false).unwrap();
        assert_ne!(second, first);
        assert_eq!(store.check(Some(&second)), Ok(()));
        assert_eq!(store.calls(), 3);
    }

    #[test]
    fn the_last_five_minutes_bring_a_new_token_and_the_old_one_still_works() {
        let mut store = TokenStore::new(Duration::from_secs(200));
        let (first, _) = store.stable_token(false).unwrap();
        let (second, _) = store.stable_token(false).unwrap();
        assert_ne!(first, second);
        assert_eq!(store.check(Some(&first)), Ok(()));
        assert_eq!(store.check(Some(&second)), Ok(()));
    }

    #[test]
    fn force_revokes_and_is_limited() {
        let mut store = store();
        let (first, _) = store.stable_token(false).unwrap();
        let (second, _) = store.stable_token(true).unwrap();
        assert_ne!(first, second);
        assert_eq!(store.check(Some(&first)), Err(ERR_INVALID_TOKEN));
        // A second force within 30 seconds changes nothing.
        assert_eq!(store.stable_token(true).unwrap().0, second);
        assert_eq!(store.forced_refreshes(), 1);
        store.forces = vec![Instant::now() - Duration::from_secs(60); FORCES_PER_DAY];
        assert_eq!(store.stable_token(true), Err(ERR_DAILY_QUOTA));
    }

    #[test]
    fn a_poisoned_token_needs_a_force() {
        let mut store = store();
        let (first, _) = store.stable_token(false).unwrap();
        store.poison();
        assert_eq!(store.check(Some(&first)), Err(ERR_INVALID_TOKEN));
        assert_eq!(store.stable_token(false).unwrap().0, first);
        let (second, _) = store.stable_token(true).unwrap();
        assert_eq!(store.check(Some(&second)), Ok(()));
    }

    #[test]
    fn missing_and_unknown_tokens_are_refused() {
        let store = store();
        assert_eq!(store.check(None), Err(ERR_MISSING_TOKEN));
        assert_eq!(store.check(Some("")), Err(ERR_MISSING_TOKEN));
        assert_eq!(store.check(Some("made-up")), Err(ERR_INVALID_TOKEN));
    }
}
