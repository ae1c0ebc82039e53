//! What this instance last learned about each session: live or revoked.
//!
//! Checking a token must not cost a database round trip on every request. An answer is trusted
//! for the cache TTL, so a session revoked by another instance is refused here at most that long
//! after. A session revoked by this instance is refused at once, because every revocation goes
//! through [`super::sessions::Sessions`], which writes here too.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Past this many entries, stale ones are swept on the next insert, bounding memory.
const SWEEP_ABOVE: usize = 50_000;

/// Where the cache reads the time. The monotonic clock in production; a test passes one it can
/// move forward, so that aging an entry needs no sleep.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

pub struct SessionCache {
    ttl: Duration,
    clock: Clock,
    entries: RwLock<HashMap<Uuid, (bool, Instant)>>,
}

impl SessionCache {
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            clock,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Whether the session is live, if this instance learned it within the TTL.
    pub fn get(&self, session_id: Uuid) -> Option<bool> {
        let now = (self.clock)();
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        match entries.get(&session_id) {
            Some(&(live, learned)) if now.duration_since(learned) < self.ttl => Some(live),
            _ => None,
        }
    }

    pub fn put(&self, session_id: Uuid, live: bool) {
        let now = (self.clock)();
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.len() > SWEEP_ABOVE {
            let ttl = self.ttl;
            entries.retain(|_, (_, learned)| now.duration_since(*learned) < ttl);
        }
        entries.insert(session_id, (live, now));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A clock that moves only when told to.
    fn manual_clock() -> (Clock, Arc<Mutex<Instant>>) {
        let now = Arc::new(Mutex::new(Instant::now()));
        let reader = now.clone();
        (Arc::new(move || *reader.lock().unwrap()), now)
    }

    #[test]
    fn answers_expire_exactly_at_the_ttl() {
        let (clock, now) = manual_clock();
        let cache = SessionCache::new(Duration::from_secs(5), clock);
        let id = Uuid::new_v4();
        assert_eq!(cache.get(id), None);
        cache.put(id, true);
        assert_eq!(cache.get(id), Some(true));
        cache.put(id, false);
        assert_eq!(
            cache.get(id),
            Some(false),
            "a revocation replaces a live answer"
        );

        *now.lock().unwrap() += Duration::from_millis(4_999);
        assert_eq!(cache.get(id), Some(false));
        *now.lock().unwrap() += Duration::from_millis(1);
        assert_eq!(cache.get(id), None, "stale at the TTL");
    }

    #[test]
    fn stale_entries_are_swept_once_the_cache_is_large() {
        let (clock, now) = manual_clock();
        let cache = SessionCache::new(Duration::from_secs(5), clock);
        for _ in 0..=SWEEP_ABOVE {
            cache.put(Uuid::new_v4(), true);
        }
        assert_eq!(cache.len(), SWEEP_ABOVE + 1);
        *now.lock().unwrap() += Duration::from_secs(5);
        let fresh = Uuid::new_v4();
        cache.put(fresh, true);
        assert_eq!(cache.len(), 1, "only the entry learned now is kept");
        assert_eq!(cache.get(fresh), Some(true));
    }
}
