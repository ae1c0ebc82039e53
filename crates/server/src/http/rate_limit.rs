//! Per-client rate limits on login and refresh (`RATE_LIMIT_LOGIN`, `RATE_LIMIT_REFRESH`), and
//! on scan-to-login tickets, which get an allowance of their own at login's rate.
//!
//! Each login costs a call on the app's WeChat quota, so one client must not be able to spend it.
//! A handler asks by taking [`Within`] as its first argument: over the limit, the request is
//! answered 429 `rate_limited` with `Retry-After` before its body is read or WeChat is called.
//!
//! The algorithm is GCRA from `governor`, keyed by client address (see [`super::client_ip`]);
//! IPv6 clients are keyed by their /64, which one subscriber usually holds whole. State is per
//! instance. Memory is bounded: keys whose state is as good as new are swept every
//! [`SWEEP_EVERY`], and past [`MAX_CLIENTS`] live keys every client not yet known shares one
//! allowance, so rotating addresses cannot grow the table without end.

use std::marker::PhantomData;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use super::client_ip::client_ip;
use crate::config::{RateLimit, TrustedProxies};
use crate::error::ApiError;
use crate::state::AppState;

/// About 10 MB of state per limiter at most; far more clients than one instance serves at once.
const MAX_CLIENTS: usize = 100_000;

/// How often keys that no longer hold anything back are dropped.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Where clients go when the table is full: no client is keyed by the unspecified /64.
const OVERFLOW: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// The limits of this instance, and whom to believe about the client's address.
pub struct RateLimits {
    login: Limiter,
    refresh: Limiter,
    qr_tickets: Limiter,
    trusted_proxies: TrustedProxies,
}

impl RateLimits {
    /// The proxies whose `X-Forwarded-For` names the client.
    pub(super) fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    pub fn new(login: RateLimit, refresh: RateLimit, trusted_proxies: TrustedProxies) -> Self {
        Self {
            login: Limiter::new(login),
            refresh: Limiter::new(refresh),
            // A ticket is a login from a browser, and its code costs a WeChat call like a login.
            qr_tickets: Limiter::new(login),
            trusted_proxies,
        }
    }
}

/// Which limit an endpoint spends.
pub trait Limited {
    fn limiter(limits: &RateLimits) -> &Limiter;
    /// The message of the 429, for humans.
    const REFUSAL: &'static str;
}

/// `POST /api/auth/login`.
pub enum Login {}

/// `POST /api/auth/refresh`.
pub enum Refresh {}

impl Limited for Login {
    fn limiter(limits: &RateLimits) -> &Limiter {
        &limits.login
    }
    const REFUSAL: &'static str = "too many logins from this address; retry later";
}

impl Limited for Refresh {
    fn limiter(limits: &RateLimits) -> &Limiter {
        &limits.refresh
    }
    const REFUSAL: &'static str = "too many token refreshes from this address; retry later";
}

/// `POST /api/qr-login`.
pub enum QrTicket {}

impl Limited for QrTicket {
    fn limiter(limits: &RateLimits) -> &Limiter {
        &limits.qr_tickets
    }
    const REFUSAL: &'static str = "too many login codes requested from this address; retry later";
}

/// Extracting this spends one request of the client's allowance under `L`, or fails with 429.
pub struct Within<L>(PhantomData<L>);

impl<L: Limited> FromRequestParts<AppState> for Within<L> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let limits = &state.rate_limits;
        let client = client_ip(parts, &limits.trusted_proxies);
        match L::limiter(limits).check(client) {
            Ok(()) => Ok(Self(PhantomData)),
            Err(retry_after) => {
                tracing::debug!(%client, "rate limited");
                Err(ApiError::RateLimited {
                    retry_after,
                    reason: L::REFUSAL,
                })
            }
        }
    }
}

type Keyed = RateLimiter<IpAddr, DashMapStateStore<IpAddr>, DefaultClock>;

pub struct Limiter {
    keyed: Option<Keyed>,
    started: Instant,
    /// Milliseconds after `started` of the last sweep.
    last_sweep: AtomicU64,
}

impl Limiter {
    fn new(limit: RateLimit) -> Self {
        let keyed = match limit {
            RateLimit::Off => None,
            RateLimit::PerPeriod { count, period } => {
                Some(RateLimiter::dashmap(quota(count, period)))
            }
        };
        Self {
            keyed,
            started: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    /// Spends one request of `client`'s allowance; when none is left, how long until one is.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let Some(keyed) = &self.keyed else {
            return Ok(());
        };
        self.sweep_if_due(keyed, SWEEP_EVERY);
        let mut key = key_of(client);
        if keyed.len() >= MAX_CLIENTS {
            self.sweep_if_due(keyed, Duration::from_secs(1));
            if keyed.len() >= MAX_CLIENTS {
                key = OVERFLOW;
            }
        }
        keyed.check_key(&key).map_err(|not_until| {
            whole_seconds(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Drops the keys that hold nothing back, unless another request did so within `every`.
    fn sweep_if_due(&self, keyed: &Keyed, every: Duration) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_sweep.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= every.as_millis() as u64;
        if due
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            keyed.retain_recent();
            keyed.shrink_to_fit();
        }
    }
}

/// `count` requests at once, refilled one every `period / count`.
fn quota(count: NonZeroU32, period: Duration) -> Quota {
    let interval = (period / count.get()).max(Duration::from_nanos(1));
    Quota::with_period(interval)
        .expect("the interval is not zero")
        .allow_burst(count)
}

/// IPv4 clients by address, IPv6 clients by their /64.
fn key_of(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// `Retry-After` counts whole seconds; rounding down would invite a retry that is refused again.
fn whole_seconds(wait: Duration) -> Duration {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Duration::from_secs(seconds.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(text: &str) -> Limiter {
        Limiter::new(text.parse().unwrap())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limiter = limiter("3/60");
        for _ in 0..3 {
            assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()));
        }
        let wait = limiter.check(ip("192.0.2.1")).unwrap_err();
        // One request comes back every 20 s.
        assert!(
            (Duration::from_secs(19)..=Duration::from_secs(20)).contains(&wait),
            "{wait:?}"
        );
        assert_eq!(wait.subsec_nanos(), 0);
        // Another client is not held back.
        assert_eq!(limiter.check(ip("192.0.2.2")), Ok(()));
    }

    #[test]
    fn off_never_limits() {
        let limiter = limiter("off");
        for _ in 0..1000 {
            assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() {
        let limiter = limiter("1/60");
        assert_eq!(limiter.check(ip("2001:db8:1:2::1")), Ok(()));
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9")).is_err());
        assert_eq!(limiter.check(ip("2001:db8:1:3::1")), Ok(()));
        assert_eq!(limiter.check(ip("192.0.2.7")), Ok(()));
        assert!(limiter.check(ip("::ffff:192.0.2.7")).is_err());
    }

    #[test]
    fn rotating_addresses_cannot_grow_the_table_past_its_bound() {
        let limiter = limiter("1/86400");
        let keyed = limiter.keyed.as_ref().unwrap();
        for n in 0..(MAX_CLIENTS as u32 + 1_000) {
            let _ = limiter.check(IpAddr::V4(n.into()));
        }
        // The last thousand all landed on the one overflow key.
        assert_eq!(keyed.len(), MAX_CLIENTS + 1);
        assert!(limiter.check(ip("198.51.100.1")).is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_a_whole_second() {
        assert_eq!(
            whole_seconds(Duration::from_millis(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            whole_seconds(Duration::from_millis(2001)),
            Duration::from_secs(3)
        );
        assert_eq!(whole_seconds(Duration::ZERO), Duration::from_secs(1));
    }
}
