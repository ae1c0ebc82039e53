//! Retrying WeChat's "system busy" (`errcode` -1), and nothing else.
//!
//! Only -1 is worth repeating: every other error either will not change (a bad code) or must not
//! be hammered (rate limits). The backoff is "full jitter", so that many servers that failed
//! together do not all retry together.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use super::WechatError;

/// Set by `WECHAT_BUSY_ATTEMPTS` and `WECHAT_BUSY_BACKOFF_MS`.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The cap of the first backoff; each later one doubles.
    pub base_delay: Duration,
}

impl RetryPolicy {
    pub(super) async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, WechatError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, WechatError>>,
    {
        let attempts = self.attempts.max(1);
        for attempt in 1..=attempts {
            match call().await {
                Err(WechatError::Busy { .. }) if attempt < attempts => {
                    let delay = self.backoff(attempt);
                    tracing::warn!(
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        "WeChat busy, retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
                Err(WechatError::Busy { .. }) => return Err(WechatError::Busy { attempts }),
                other => return other,
            }
        }
        unreachable!("the last attempt always returns")
    }

    /// A random delay between zero and `base_delay * 2^(attempt - 1)`.
    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.saturating_mul(1 << (attempt - 1).min(16));
        let millis = cap.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
        }
    }

    #[tokio::test]
    async fn busy_is_retried_until_it_clears() {
        let calls = AtomicU32::new(0);
        let result = quick()
            .run(|| async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(WechatError::Busy { attempts: 1 }),
                    _ => Ok("done"),
                }
            })
            .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn busy_gives_up_after_the_last_attempt() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(WechatError::Busy { attempts: 1 })
            })
            .await;
        assert!(matches!(result, Err(WechatError::Busy { attempts: 3 })));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = quick()
            .run(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(WechatError::RateLimited)
            })
            .await;
        assert!(matches!(result, Err(WechatError::RateLimited)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn backoff_stays_within_its_doubling_cap() {
        let policy = RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(100),
        };
        for _ in 0..100 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
        }
    }
}
