//! Who the client is, for rate limiting: the socket peer, unless the peer is a trusted proxy.
//!
//! `X-Forwarded-For` is only read when the peer is in `TRUSTED_PROXIES`, and then from the right:
//! each proxy appends the address it saw, so the right-most address that is not itself a trusted
//! proxy is the first one no proxy of ours can vouch for beyond, the client. Anything to its left
//! was written by the client and may be forged.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};

use crate::config::TrustedProxies;
use crate::state::AppState;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address for the request in `parts`.
///
/// The peer comes from axum's `ConnectInfo`, which [`crate::serve`] provides. A router driven
/// in-process has none; its requests then all count as one client, the unspecified address.
pub fn client_ip(parts: &Parts, trusted: &TrustedProxies) -> IpAddr {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    resolve(peer, &parts.headers, trusted)
}

/// The client's address, for handlers that record it (see [`client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, state.rate_limits.trusted_proxies())))
    }
}

fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    // Several headers count as one list, in order (RFC 9110 section 5.3).
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop that is not an address ends what the trusted chain vouches for: the closest
        // address it did vouch for stands in for the client.
        let Some(address) = parse_hop(hop) else {
            break;
        };
        client = address;
        if !trusted.contains(address) {
            break;
        }
    }
    client
}

/// An address as proxies write it: bare, or with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn proxies() -> TrustedProxies {
        "10.0.0.0/8, 127.0.0.1".parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let headers = forwarded(&["1.1.1.1, 10.0.0.1"]);
        assert_eq!(
            resolve(ip("203.0.113.9"), &headers, &proxies()),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers, &TrustedProxies::default()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        // The client forged the first hop; our two proxies appended the rest.
        let headers = forwarded(&["6.6.6.6, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ports_and_mapped_addresses_are_read_as_the_address() {
        let headers = forwarded(&["[2001:db8::1]:443, ::ffff:10.0.0.3"]);
        assert_eq!(
            resolve(ip("::ffff:10.0.0.9"), &headers, &proxies()),
            ip("2001:db8::1")
        );
        let headers = forwarded(&["198.51.100.7:5678"]);
        assert_eq!(
            resolve(ip("10.0.0.9"), &headers, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_or_an_all_trusted_chain_stops_at_the_last_vouched_address() {
        let headers = forwarded(&["198.51.100.7, not-an-ip, 10.0.0.2"]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &headers, &proxies()),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &forwarded(&["10.0.0.5"]), &proxies()),
            ip("10.0.0.5")
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &HeaderMap::new(), &proxies()),
            ip("10.0.0.1")
        );
    }

    // Cases: proptest's default of 256, or PROPTEST_CASES.
    proptest! {
        /// Whatever a client puts in the header, an untrusted peer stays the client, and the
        /// answer behind a trusted one is the peer or an address taken from the header.
        #[test]
        fn any_header_value_gives_the_peer_or_an_address_from_it(
            value in "[0-9a-f:.,\\[\\] ]{0,80}",
            peer in prop_oneof![Just("10.1.1.1"), Just("203.0.113.1")],
        ) {
            let Ok(header) = value.parse() else { return Ok(()) };
            let mut headers = HeaderMap::new();
            headers.insert(X_FORWARDED_FOR, header);
            let peer = ip(peer);
            let client = resolve(peer, &headers, &proxies());
            if !proxies().contains(peer) {
                prop_assert_eq!(client, peer);
            } else {
                prop_assert!(
                    client == peer
                        || value.split(',').filter_map(|hop| parse_hop(hop.trim())).any(|hop| hop == client)
                );
            }
        }
    }
}
