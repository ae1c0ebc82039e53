//! What this instance last learned about each session: live or revoked.
//!
//! Checking a token must not cost a database round trip on every request. An answer is trusted
//! for the cache TTL, so a session revoked by another instance is refused here at most that long
//! after. A session revoked by this instance is refused at once, because every revocation goes
//! through [`super::sessions::Sessions`], which writes here too.
//!
//! An entry is for a session *and* its user, as the token names both: an answer learned for one
//! pair says nothing about a token that pairs the session with someone else, so such a token can
//! neither ride on another user's live session nor mark it revoked for its owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Past this many entries, stale ones are swept on the next insert, bounding memory.
const SWEEP_ABOVE: usize = 50_000;

/// Where the cache reads the time. The monotonic clock in production; a test passes one it can
/// move forward, so that aging an entry needs no sleep.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A session and the user a token says it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionOf {
    pub session_id: Uuid,
    pub user_id: Uuid,
}

pub struct SessionCache {
    ttl: Duration,
    clock: Clock,
    entries: RwLock<HashMap<SessionOf, (bool, Instant)>>,
}

impl SessionCache {
    pub fn new(ttl: Duration, clock: Clock) -> Self {
        Self {
            ttl,
            clock,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Whether the session is live for that user, if this instance learned it within the TTL.
    pub fn get(&self, session: SessionOf) -> Option<bool> {
        let now = (self.clock)();
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        match entries.get(&session) {
            Some(&(live, learned)) if now.duration_since(learned) < self.ttl => Some(live),
            _ => None,
        }
    }

    pub fn put(&self, session: SessionOf, live: bool) {
        let now = (self.clock)();
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.len() > SWEEP_ABOVE {
            let ttl = self.ttl;
            entries.retain(|_, (_, learned)| now.duration_since(*learned) < ttl);
        }
        entries.insert(session, (live, now));
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

    fn session_of(user_id: Uuid) -> SessionOf {
        SessionOf {
            session_id: Uuid::new_v4(),
            user_id,
        }
    }

    #[test]
    fn an_answer_is_for_its_session_and_user_together() {
        let (clock, _) = manual_clock();
        let cache = SessionCache::new(Duration::from_secs(5), clock);
        let owner = session_of(Uuid::new_v4());
        let borrowed = SessionOf {
            user_id: Uuid::new_v4(),
            ..owner
        };
        cache.put(owner, true);
        assert_eq!(cache.get(borrowed), None, "another user's live session");
        cache.put(borrowed, false);
        assert_eq!(cache.get(owner), Some(true), "not revoked for its owner");
    }

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
        let id = session_of(Uuid::new_v4());
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
            cache.put(session_of(Uuid::new_v4()), true);
        }
        assert_eq!(cache.len(), SWEEP_ABOVE + 1);
        *now.lock().unwrap() += Duration::from_secs(5);
        let fresh = session_of(Uuid::new_v4());
        cache.put(fresh, true);
        assert_eq!(cache.len(), 1, "only the entry learned now is kept");
        assert_eq!(cache.get(fresh), Some(true));
    }
}
