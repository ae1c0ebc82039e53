//! What this instance last learned about each session: live or revoked.
//!
//! Checking a token must not cost a database round trip on every request. An answer is trusted
//! for the cache TTL, so a session revoked by another instance is refused here at most that long
//! after; a session revoked by this instance is refused at once, because revoking writes here
//! too.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Past this many entries, stale ones are swept on the next insert, bounding memory.
const SWEEP_ABOVE: usize = 50_000;

pub struct SessionCache {
    ttl: Duration,
    entries: RwLock<HashMap<Uuid, (bool, Instant)>>,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Whether the session is live, if this instance learned it within the TTL.
    pub fn get(&self, session_id: Uuid) -> Option<bool> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poison| poison.into_inner());
        match entries.get(&session_id) {
            Some(&(live, learned)) if learned.elapsed() < self.ttl => Some(live),
            _ => None,
        }
    }

    pub fn put(&self, session_id: Uuid, live: bool) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        if entries.len() > SWEEP_ABOVE {
            let ttl = self.ttl;
            entries.retain(|_, (_, learned)| learned.elapsed() < ttl);
        }
        entries.insert(session_id, (live, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_expire_after_the_ttl() {
        let cache = SessionCache::new(Duration::from_millis(20));
        let id = Uuid::new_v4();
        assert_eq!(cache.get(id), None);
        cache.put(id, true);
        assert_eq!(cache.get(id), Some(true));
        cache.put(id, false);
        assert_eq!(cache.get(id), Some(false));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get(id), None);
    }
}
