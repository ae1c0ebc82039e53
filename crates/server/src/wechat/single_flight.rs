//! Concurrent calls with the same key share one call and its answer.
//!
//! A login code works once. A client that sends its login twice at once (a retry fired before
//! the first answer came back, a double tap) would get one session and one `invalid_code`; with
//! the second request joining the first's call, both get WeChat's answer, and each its own
//! session. Only calls in flight are shared: nothing is kept once the answer is in, so a later
//! request with the same code asks WeChat again and is refused as WeChat refuses it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub(super) struct SingleFlight<T> {
    calls: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T: Clone> SingleFlight<T> {
    pub(super) fn new() -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `call`, unless a call for `key` is in flight: then waits for its answer. If the
    /// request running the call goes away first, one of those waiting runs it instead.
    pub(super) async fn run<F, Fut>(&self, key: &str, call: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self
            .calls
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default()
            .clone();
        let _leave = Leave {
            calls: &self.calls,
            key,
            cell: &cell,
        };
        cell.get_or_init(call).await.clone()
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.calls.lock().unwrap().len()
    }
}

/// Forgets the call once it has answered, or once nobody is left waiting on it; also when the
/// request is dropped mid-call.
struct Leave<'a, T> {
    calls: &'a Mutex<HashMap<String, Arc<OnceCell<T>>>>,
    key: &'a str,
    cell: &'a Arc<OnceCell<T>>,
}

impl<T> Drop for Leave<'_, T> {
    fn drop(&mut self) {
        let mut calls = self.calls.lock().unwrap();
        let ours = calls
            .get(self.key)
            .is_some_and(|cell| Arc::ptr_eq(cell, self.cell));
        // Handles are only cloned under this lock: the map's and ours make two.
        if ours && (self.cell.initialized() || Arc::strong_count(self.cell) <= 2) {
            calls.remove(self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_calls_with_one_key_share_one_call() {
        let flights = SingleFlight::new();
        let calls = AtomicUsize::new(0);
        let call = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            "answer"
        };
        let (a, b, c) = tokio::join!(
            flights.run("code", call),
            flights.run("code", call),
            flights.run("other", call),
        );
        assert_eq!((a, b, c), ("answer", "answer", "answer"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(flights.in_flight(), 0);
        // Nothing is kept: a later call with the same key is a call of its own.
        flights.run("code", call).await;
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_waiter_takes_over_when_the_caller_goes_away() {
        let flights = SingleFlight::new();
        let first = flights.run("code", std::future::pending::<&str>);
        let second = flights.run("code", || async { "second" });
        // The first request is dropped after a moment, mid-call; the second finishes the work.
        let first = tokio::time::timeout(Duration::from_millis(20), first);
        let (first, second) = tokio::join!(first, second);
        assert!(first.is_err());
        assert_eq!(second, "second");
        assert_eq!(flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_lone_caller_going_away_leaves_nothing_behind() {
        let flights = SingleFlight::<&str>::new();
        let dropped = tokio::time::timeout(
            Duration::from_millis(5),
            flights.run("code", std::future::pending),
        )
        .await;
        assert!(dropped.is_err());
        assert_eq!(flights.in_flight(), 0);
    }
}
