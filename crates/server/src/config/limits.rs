//! The settings that guard the server under load: rate limits and the proxies trusted to name
//! the client. Parsed here, enforced in `http/rate_limit.rs` and `http/client_ip.rs`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

/// `<count>/<seconds>`: at most `count` requests at once, refilled evenly over `period`; or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    Off,
    PerPeriod { count: NonZeroU32, period: Duration },
}

impl FromStr for RateLimit {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        if value.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let (count, seconds) = value.split_once('/').ok_or(())?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| ())?;
        let seconds: u64 = seconds.trim().parse().map_err(|_| ())?;
        // A day bounds the period so that the per-request interval cannot overflow.
        if !(1..=86_400).contains(&seconds) {
            return Err(());
        }
        Ok(Self::PerPeriod {
            count,
            period: Duration::from_secs(seconds),
        })
    }
}

/// The addresses whose `X-Forwarded-For` is believed: comma-separated CIDRs or single addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TrustedProxies {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        value
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| ())
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_read_count_per_seconds_or_off() {
        assert_eq!("off".parse(), Ok(RateLimit::Off));
        assert_eq!(
            " 20 / 60 ".trim().parse(),
            Ok(RateLimit::PerPeriod {
                count: NonZeroU32::new(20).unwrap(),
                period: Duration::from_secs(60),
            })
        );
        for bad in [
            "", "20", "0/60", "20/0", "-1/60", "20/60s", "20/86401", "x/y",
        ] {
            assert_eq!(bad.parse::<RateLimit>(), Err(()), "{bad:?}");
        }
    }

    #[test]
    fn trusted_proxies_take_cidrs_and_single_addresses() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.168.1.7 ,fd00::/8".parse().unwrap();
        assert!(proxies.contains("10.1.2.3".parse().unwrap()));
        assert!(proxies.contains("192.168.1.7".parse().unwrap()));
        assert!(!proxies.contains("192.168.1.8".parse().unwrap()));
        assert!(proxies.contains("fd12::1".parse().unwrap()));
        // An IPv4 peer seen on a dual-stack socket is the IPv4 address it maps.
        assert!(proxies.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        assert_eq!("10.0.0.0/33".parse::<TrustedProxies>(), Err(()));
        assert_eq!("example.com".parse::<TrustedProxies>(), Err(()));
    }
}
