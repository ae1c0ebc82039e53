//! Login codes as WeChat treats them: issued for one user, usable once, dead after a TTL.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

/// Who a code logs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub openid: String,
    pub unionid: Option<String>,
}

impl Identity {
    pub fn new(openid: impl Into<String>, unionid: Option<String>) -> Self {
        Self {
            openid: openid.into(),
            unionid,
        }
    }
}

/// What redeeming a code gives: an identity with a fresh session_key, or a WeChat errcode.
pub(crate) type Redeemed = Result<(Identity, String), i64>;

const ERR_INVALID_CODE: i64 = 40029;
const ERR_CODE_USED: i64 = 40163;

pub(crate) struct CodeStore {
    ttl: Duration,
    dev: bool,
    issued: HashMap<String, (Identity, Instant)>,
    /// Spent codes, kept for one TTL so a replay gets 40163 rather than 40029, as on WeChat.
    used: HashMap<String, Instant>,
    /// The same codes in the order they were spent, so that forgetting the expired ones looks at
    /// those alone: a load test spends thousands a second, and scanning them all on every login
    /// made the fake, not the server, what `just bench` measured.
    spent_order: VecDeque<(Instant, String)>,
    session_keys: HashMap<String, String>,
}

impl CodeStore {
    pub(crate) fn new(ttl: Duration, dev: bool) -> Self {
        Self {
            ttl,
            dev,
            issued: HashMap::new(),
            used: HashMap::new(),
            spent_order: VecDeque::new(),
            session_keys: HashMap::new(),
        }
    }

    pub(crate) fn issue(&mut self, identity: Identity) -> String {
        let code = random_code();
        self.issued.insert(code.clone(), (identity, Instant::now()));
        code
    }

    pub(crate) fn session_key_of(&self, openid: &str) -> Option<String> {
        self.session_keys.get(openid).cloned()
    }

    /// Replaces `openid`'s session_key with a new one, as resetusersessionkey does and as a
    /// wx.login on another device would; the old key stops working.
    pub(crate) fn rotate_session_key(&mut self, openid: &str) -> String {
        let session_key = random_session_key();
        self.session_keys
            .insert(openid.to_owned(), session_key.clone());
        session_key
    }

    pub(crate) fn redeem(&mut self, code: &str) -> Redeemed {
        let now = Instant::now();
        self.forget_older_than(now);
        if self.used.contains_key(code) {
            return Err(ERR_CODE_USED);
        }
        let identity = match self.issued.remove(code) {
            Some((_, issued_at)) if now.duration_since(issued_at) > self.ttl => {
                return Err(ERR_INVALID_CODE)
            }
            Some((identity, _)) => identity,
            None if self.dev => dev_identity(code)?,
            None => return Err(ERR_INVALID_CODE),
        };
        self.used.insert(code.to_owned(), now);
        self.spent_order.push_back((now, code.to_owned()));
        // Every successful wx.login may rotate the session_key; the fake always does, so that
        // code holding on to an old one is caught.
        let session_key = random_session_key();
        self.session_keys
            .insert(identity.openid.clone(), session_key.clone());
        Ok((identity, session_key))
    }

    fn forget_older_than(&mut self, now: Instant) {
        while let Some((spent_at, _)) = self.spent_order.front() {
            if now.duration_since(*spent_at) <= self.ttl {
                break;
            }
            if let Some((_, code)) = self.spent_order.pop_front() {
                self.used.remove(&code);
            }
        }
    }
}

/// The identity a dev-mode code stands for.
///
/// - `err<errcode>:<anything>` fails with that errcode (`err40226:x` is a blocked user), so a
///   client under test can provoke each failure without a handle on the fake;
/// - `<label>:<anything>` logs in as a user derived from `label`, so load tests can spread over
///   many users;
/// - any other code logs in as the one dev user, so a developer stays the same user across logins.
fn dev_identity(code: &str) -> Result<Identity, i64> {
    let label = match code.split_once(':') {
        Some((prefix, _)) => {
            if let Some(errcode) = prefix.strip_prefix("err").and_then(|n| n.parse().ok()) {
                return Err(errcode);
            }
            prefix
        }
        None => "dev",
    };
    Ok(Identity::new(stable_openid(label), None))
}

/// A 28-character openid, shaped like WeChat's, that is the same for the same label.
pub(crate) fn stable_openid(label: &str) -> String {
    let digest = Sha256::digest(format!("wxlogin-fake-openid:{label}"));
    let mut openid = String::from("o");
    openid.push_str(&URL_SAFE_NO_PAD.encode(digest)[..27]);
    openid
}

fn random_code() -> String {
    let bytes: [u8; 24] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_session_key() -> String {
    let bytes: [u8; 16] = rand::random();
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_then_reports_used() {
        let mut store = CodeStore::new(Duration::from_secs(300), false);
        let code = store.issue(Identity::new("o1", None));
        let (identity, key) = store.redeem(&code).unwrap();
        assert_eq!(identity.openid, "o1");
        assert_eq!(store.session_key_of("o1"), Some(key));
        assert_eq!(store.redeem(&code), Err(ERR_CODE_USED));
    }

    #[test]
    fn unknown_and_expired_codes_are_invalid() {
        let mut store = CodeStore::new(Duration::ZERO, false);
        assert_eq!(store.redeem("nope"), Err(ERR_INVALID_CODE));
        let code = store.issue(Identity::new("o1", None));
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(store.redeem(&code), Err(ERR_INVALID_CODE));
    }

    #[test]
    fn spent_codes_are_forgotten_one_ttl_after_their_use() {
        let mut store = CodeStore::new(Duration::from_millis(200), true);
        for n in 0..3 {
            store.redeem(&format!("u{n}:x")).unwrap();
        }
        assert_eq!(store.redeem("u0:x"), Err(ERR_CODE_USED));
        std::thread::sleep(Duration::from_millis(250));
        store.redeem("u9:y").unwrap();
        assert_eq!(
            store.used.len(),
            1,
            "only the code spent just now is remembered"
        );
        assert_eq!(store.spent_order.len(), 1);
    }

    #[test]
    fn dev_mode_maps_codes_to_stable_users_and_errors() {
        let mut store = CodeStore::new(Duration::from_secs(300), true);
        let (first, _) = store.redeem("anything").unwrap();
        let (second, _) = store.redeem("something-else").unwrap();
        assert_eq!(first, second);
        let (alice, _) = store.redeem("alice:1").unwrap();
        assert_ne!(alice, first);
        assert_eq!(alice.openid.len(), 28);
        assert_eq!(store.redeem("alice:2").unwrap().0, alice);
        assert_eq!(store.redeem("err40226:x"), Err(40226));
        assert_eq!(store.redeem("anything"), Err(ERR_CODE_USED));
    }
}
