//! wxlogin's public keys, fetched from its JWKS and kept as long as the answer's
//! `Cache-Control: max-age` allows.
//!
//! The JWKS is fetched again when the keys go stale, or when a token names a key id not among
//! them (wxlogin has rotated to a new key), but never more than once a minute, whatever the
//! reason: tokens with made-up key ids must not turn this service into a load on wxlogin. When a
//! fetch fails, the keys already held keep verifying, since wxlogin publishes a retired key for as
//! long as tokens signed with it live.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use reqwest::header::{HeaderMap, CACHE_CONTROL};
use reqwest::Url;
use serde::Deserialize;

use crate::VerifyError;

/// The least time between two fetches.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Until a first fetch has succeeded every token is refused, so it is retried sooner.
const RETRY_WITHOUT_KEYS: Duration = Duration::from_secs(5);
/// How long keys stay fresh when the JWKS answer does not say.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// Keys are fetched again at least daily, whatever the answer says.
const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// A monotonic clock; tests pass one they can move forward.
pub(crate) type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

pub(crate) struct JwksCache {
    url: Url,
    http: reqwest::Client,
    clock: Clock,
    state: RwLock<Snapshot>,
    /// Held while fetching, so that requests arriving together cause one fetch.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Snapshot {
    keys: Arc<HashMap<String, DecodingKey>>,
    /// When the keys go stale; none until a fetch has succeeded.
    fresh_until: Option<Instant>,
    /// When a fetch was last started, whatever came of it.
    last_attempt: Option<Instant>,
}

/// What the cache can say without fetching.
enum Lookup {
    Known(Option<DecodingKey>),
    FetchDue,
    /// No fetch has succeeded and the next may not start yet.
    NoKeys,
}

impl JwksCache {
    pub(crate) fn new(url: Url, http: reqwest::Client) -> Self {
        Self::with_clock(url, http, Arc::new(Instant::now))
    }

    pub(crate) fn with_clock(url: Url, http: reqwest::Client, clock: Clock) -> Self {
        Self {
            url,
            http,
            clock,
            state: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The key named `kid`, fetching the JWKS first when that is due and allowed; none when
    /// wxlogin does not publish it.
    pub(crate) async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, VerifyError> {
        if let Some(answer) = self.cached(kid)? {
            return Ok(answer);
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(answer) = self.cached(kid)? {
            return Ok(answer);
        }
        self.fetch().await?;
        Ok(self.snapshot().keys.get(kid).cloned())
    }

    fn cached(&self, kid: &str) -> Result<Option<Option<DecodingKey>>, VerifyError> {
        match self.lookup(kid) {
            Lookup::Known(key) => Ok(Some(key)),
            Lookup::FetchDue => Ok(None),
            Lookup::NoKeys => Err(VerifyError::KeysUnavailable),
        }
    }

    fn lookup(&self, kid: &str) -> Lookup {
        let now = (self.clock)();
        let state = self.snapshot();
        let key = state.keys.get(kid).cloned();
        let fresh = state.fresh_until.is_some_and(|until| now < until);
        if key.is_some() && fresh {
            return Lookup::Known(key);
        }
        let wait = match state.fresh_until {
            Some(_) => MIN_REFETCH_INTERVAL,
            None => RETRY_WITHOUT_KEYS,
        };
        let may_fetch = state
            .last_attempt
            .is_none_or(|last| now.saturating_duration_since(last) >= wait);
        match (may_fetch, state.fresh_until) {
            (true, _) => Lookup::FetchDue,
            (false, Some(_)) => Lookup::Known(key),
            (false, None) => Lookup::NoKeys,
        }
    }

    async fn fetch(&self) -> Result<(), VerifyError> {
        let started = (self.clock)();
        self.state.write().expect("not poisoned").last_attempt = Some(started);
        match self.download().await {
            Ok((keys, max_age)) => {
                if keys.is_empty() {
                    tracing::warn!(
                        url = %self.url,
                        "wxlogin publishes no Ed25519 key: it must run with JWT_ALG=EdDSA"
                    );
                }
                let mut state = self.state.write().expect("not poisoned");
                state.keys = Arc::new(keys);
                state.fresh_until = Some(started + max_age);
                Ok(())
            }
            Err(err) => {
                // Debug, because reqwest's Display leaves out the cause (refused, timed out, …).
                tracing::warn!(url = %self.url, error = ?err, "fetching wxlogin's JWKS failed");
                match self.snapshot().fresh_until {
                    Some(_) => Ok(()),
                    None => Err(VerifyError::KeysUnavailable),
                }
            }
        }
    }

    async fn download(&self) -> Result<(HashMap<String, DecodingKey>, Duration), reqwest::Error> {
        let response = self
            .http
            .get(self.url.clone())
            .send()
            .await?
            .error_for_status()?;
        let max_age = max_age(response.headers());
        let set: JwkSet = response.json().await?;
        Ok((ed25519_keys(set), max_age))
    }

    fn snapshot(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        self.state.read().expect("not poisoned")
    }
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

/// One key of the set, as RFC 8037 writes an Ed25519 public key.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: Option<String>,
    x: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
}

/// The set's Ed25519 signing keys by key id. Keys of any other kind are skipped, not refused:
/// a set may hold keys for other purposes.
fn ed25519_keys(set: JwkSet) -> HashMap<String, DecodingKey> {
    set.keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
        .filter(|jwk| {
            jwk.kty == "OKP"
                && jwk.crv.as_deref() == Some("Ed25519")
                && jwk.alg.as_deref().is_none_or(|alg| alg == "EdDSA")
                && jwk.use_.as_deref().is_none_or(|use_| use_ == "sig")
        })
        .filter_map(|jwk| {
            let key = DecodingKey::from_ed_components(jwk.x.as_deref()?).ok()?;
            Some((jwk.kid?, key))
        })
        .collect()
}

/// How long a JWKS answer may be kept, from its `Cache-Control`.
fn max_age(headers: &HeaderMap) -> Duration {
    let Some(value) = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok()) else {
        return DEFAULT_MAX_AGE;
    };
    let mut max_age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return Duration::ZERO;
        }
        if let Some(seconds) = directive.strip_prefix("max-age=") {
            max_age = seconds
                .trim_matches('"')
                .parse()
                .ok()
                .map(Duration::from_secs);
        }
    }
    max_age.map_or(DEFAULT_MAX_AGE, |age| age.min(MAX_MAX_AGE))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Mutex;

    use axum::http::header;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use axum::Router;
    use serde_json::{json, Value};

    use super::*;

    /// A JWKS endpoint whose answer tests change, counting the fetches.
    #[derive(Clone)]
    struct FakeJwks {
        kids: Arc<Mutex<Vec<&'static str>>>,
        cache_control: Arc<Mutex<&'static str>>,
        up: Arc<Mutex<bool>>,
        fetches: Arc<AtomicUsize>,
    }

    impl FakeJwks {
        async fn start(kids: &[&'static str], cache_control: &'static str) -> (Self, Url) {
            let fake = Self {
                kids: Arc::new(Mutex::new(kids.to_vec())),
                cache_control: Arc::new(Mutex::new(cache_control)),
                up: Arc::new(Mutex::new(true)),
                fetches: Arc::new(AtomicUsize::new(0)),
            };
            let served = fake.clone();
            let app = Router::new().route(
                "/.well-known/jwks.json",
                get(move || {
                    let fake = served.clone();
                    async move {
                        fake.fetches.fetch_add(1, Ordering::SeqCst);
                        if !*fake.up.lock().unwrap() {
                            return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                        }
                        let keys: Vec<Value> = fake
                            .kids
                            .lock()
                            .unwrap()
                            .iter()
                            .map(|kid| jwk(kid))
                            .collect();
                        let cache_control = *fake.cache_control.lock().unwrap();
                        (
                            [(header::CACHE_CONTROL, cache_control)],
                            axum::Json(json!({ "keys": keys })),
                        )
                            .into_response()
                    }
                }),
            );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!(
                "http://{}/.well-known/jwks.json",
                listener.local_addr().unwrap()
            );
            tokio::spawn(async move { axum::serve(listener, app).await });
            (fake, Url::parse(&url).unwrap())
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    fn jwk(kid: &str) -> Value {
        json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        })
    }

    /// A clock that moves only when told to.
    fn clock() -> (Clock, Arc<AtomicU64>) {
        let start = Instant::now();
        let elapsed = Arc::new(AtomicU64::new(0));
        let read = elapsed.clone();
        let clock: Clock =
            Arc::new(move || start + Duration::from_secs(read.load(Ordering::SeqCst)));
        (clock, elapsed)
    }

    async fn cache(url: Url) -> (JwksCache, Arc<AtomicU64>) {
        let (clock, elapsed) = clock();
        (
            JwksCache::with_clock(url, reqwest::Client::new(), clock),
            elapsed,
        )
    }

    #[tokio::test]
    async fn keys_are_kept_while_max_age_allows_then_fetched_again() {
        let (jwks, url) = FakeJwks::start(&["a"], "public, max-age=300").await;
        let (cache, elapsed) = cache(url).await;
        assert!(cache.key("a").await.unwrap().is_some());
        assert!(cache.key("a").await.unwrap().is_some());
        assert_eq!(jwks.fetches(), 1);

        elapsed.store(299, Ordering::SeqCst);
        cache.key("a").await.unwrap();
        assert_eq!(jwks.fetches(), 1, "fresh for max-age seconds");
        elapsed.store(300, Ordering::SeqCst);
        cache.key("a").await.unwrap();
        assert_eq!(jwks.fetches(), 2, "stale from then on");
    }

    #[tokio::test]
    async fn an_unknown_kid_fetches_again_at_most_once_a_minute() {
        let (jwks, url) = FakeJwks::start(&["a"], "max-age=3600").await;
        let (cache, elapsed) = cache(url).await;
        cache.key("a").await.unwrap();

        // The key appears, as after a rotation: the first token naming it brings it in.
        jwks.kids.lock().unwrap().push("b");
        elapsed.store(60, Ordering::SeqCst);
        assert!(cache.key("b").await.unwrap().is_some());
        assert_eq!(jwks.fetches(), 2);

        // Made-up ids within the minute cost nothing.
        for _ in 0..5 {
            assert!(cache.key("made-up").await.unwrap().is_none());
        }
        elapsed.store(119, Ordering::SeqCst);
        assert!(cache.key("made-up").await.unwrap().is_none());
        assert_eq!(jwks.fetches(), 2);
        elapsed.store(120, Ordering::SeqCst);
        assert!(cache.key("made-up").await.unwrap().is_none());
        assert_eq!(jwks.fetches(), 3);
    }

    #[tokio::test]
    async fn no_cache_still_fetches_at_most_once_a_minute() {
        let (jwks, url) = FakeJwks::start(&["a"], "no-store").await;
        let (cache, elapsed) = cache(url).await;
        for _ in 0..3 {
            assert!(cache.key("a").await.unwrap().is_some());
        }
        assert_eq!(jwks.fetches(), 1);
        elapsed.store(60, Ordering::SeqCst);
        cache.key("a").await.unwrap();
        assert_eq!(jwks.fetches(), 2);
    }

    #[tokio::test]
    async fn keys_held_keep_verifying_while_wxlogin_is_down() {
        let (jwks, url) = FakeJwks::start(&["a"], "max-age=60").await;
        let (cache, elapsed) = cache(url).await;
        cache.key("a").await.unwrap();
        *jwks.up.lock().unwrap() = false;
        elapsed.store(600, Ordering::SeqCst);
        assert!(cache.key("a").await.unwrap().is_some());
        assert_eq!(jwks.fetches(), 2, "it did try");
    }

    #[tokio::test]
    async fn without_any_keys_the_answer_is_unavailable_and_retried_sooner() {
        let (jwks, url) = FakeJwks::start(&["a"], "max-age=60").await;
        *jwks.up.lock().unwrap() = false;
        let (cache, elapsed) = cache(url).await;
        for _ in 0..3 {
            assert!(matches!(
                cache.key("a").await,
                Err(VerifyError::KeysUnavailable)
            ));
        }
        assert_eq!(jwks.fetches(), 1);
        *jwks.up.lock().unwrap() = true;
        elapsed.store(5, Ordering::SeqCst);
        assert!(cache.key("a").await.unwrap().is_some());
        assert_eq!(jwks.fetches(), 2);
    }

    #[test]
    fn max_age_follows_cache_control() {
        let headers = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CACHE_CONTROL, value.parse().unwrap());
            headers
        };
        assert_eq!(max_age(&HeaderMap::new()), DEFAULT_MAX_AGE);
        assert_eq!(
            max_age(&headers("public, max-age=120")),
            Duration::from_secs(120)
        );
        assert_eq!(max_age(&headers("Max-Age=\"7\"")), Duration::from_secs(7));
        assert_eq!(max_age(&headers("max-age=120, no-cache")), Duration::ZERO);
        assert_eq!(max_age(&headers("no-store")), Duration::ZERO);
        assert_eq!(max_age(&headers("max-age=999999999")), MAX_MAX_AGE);
        assert_eq!(max_age(&headers("max-age=soon")), DEFAULT_MAX_AGE);
    }

    #[test]
    fn only_ed25519_signing_keys_are_kept() {
        let mut encryption = jwk("enc");
        encryption["use"] = json!("enc");
        let set = JwkSet {
            keys: vec![
                jwk("ok"),
                json!({ "kty": "RSA", "kid": "rsa", "n": "AQAB", "e": "AQAB" }),
                json!({ "kty": "OKP", "crv": "X25519", "kid": "x", "x": "AAAA" }),
                json!({ "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" }),
                encryption,
                json!("not a key"),
            ],
        };
        let keys = ed25519_keys(set);
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["ok"]);
    }
}
