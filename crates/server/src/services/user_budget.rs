//! How many times each user may make one kind of call per window, counted by this instance.
//!
//! For calls that cost a WeChat request on a user's behalf and that no real client makes often
//! (checking or resetting the session_key): one user's token must not turn into thousands of
//! WeChat calls. Counted in memory, so N instances allow N times the budget; that still bounds a
//! loop, and costs no database write on a read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::session_cache::Clock;

/// Past this many users, those whose window has ended are swept on the next call.
const SWEEP_ABOVE: usize = 50_000;

/// So many calls per window.
#[derive(Debug, Clone, Copy)]
pub struct Allowance {
    pub calls: u32,
    pub window: Duration,
}

pub struct UserBudget {
    limit: u32,
    window: Duration,
    clock: Clock,
    /// Per user: when their current window began, and the calls made in it.
    spent: Mutex<HashMap<Uuid, (Instant, u32)>>,
}

impl UserBudget {
    pub fn new(allowance: Allowance, clock: Clock) -> Self {
        Self {
            limit: allowance.calls,
            window: allowance.window,
            clock,
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one call by `user_id`; `Err(retry_after)` when their budget for this window is
    /// spent, and then nothing is counted.
    pub fn take(&self, user_id: Uuid) -> Result<(), Duration> {
        let now = (self.clock)();
        let mut spent = self
            .spent
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if spent.len() > SWEEP_ABOVE {
            let window = self.window;
            spent.retain(|_, (started, _)| now.duration_since(*started) < window);
        }
        let (started, calls) = spent.entry(user_id).or_insert((now, 0));
        let elapsed = now.duration_since(*started);
        if elapsed >= self.window {
            (*started, *calls) = (now, 0);
        }
        if *calls >= self.limit {
            return Err(self.window.saturating_sub(now.duration_since(*started)));
        }
        *calls += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn each_user_gets_the_limit_per_window() {
        let now = Arc::new(Mutex::new(Instant::now()));
        let reader = now.clone();
        let budget = UserBudget::new(
            Allowance {
                calls: 2,
                window: Duration::from_secs(60),
            },
            Arc::new(move || *reader.lock().unwrap()),
        );
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(budget.take(alice), Ok(()));
        assert_eq!(budget.take(alice), Ok(()));
        assert_eq!(budget.take(alice), Err(Duration::from_secs(60)));
        assert_eq!(budget.take(bob), Ok(()), "budgets are per user");

        *now.lock().unwrap() += Duration::from_secs(45);
        assert_eq!(budget.take(alice), Err(Duration::from_secs(15)));
        *now.lock().unwrap() += Duration::from_secs(15);
        assert_eq!(budget.take(alice), Ok(()), "a new window");
    }
}
