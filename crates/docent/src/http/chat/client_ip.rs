//! The client's IP: the socket's peer, or — behind `trusted_proxies` reverse proxies — the
//! address the outermost trusted proxy saw, read from the right of `X-Forwarded-For` (the left
//! part is whatever the client wrote, so it is never trusted).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::HeaderMap;

pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted_proxies: u8) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if trusted_proxies == 0 {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    // The last proxy appended the address it saw; each trusted proxy adds one entry.
    let n = usize::from(trusted_proxies);
    if hops.len() >= n { hops[hops.len() - n] } else { hops.first().copied().unwrap_or(peer) }
}

/// The rate-limit key: IPv6 clients are keyed by their /64, which one subscriber usually holds.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap_or_else(|_| panic!("header")));
        h
    }

    #[test]
    fn forwarded_addresses_are_trusted_only_through_configured_proxies() {
        let peer = Some("10.0.0.1".parse().unwrap_or_else(|_| panic!("ip")));
        let spoofed = xff("6.6.6.6, 1.2.3.4");
        assert_eq!(client_ip(peer, &spoofed, 0).to_string(), "10.0.0.1");
        assert_eq!(client_ip(peer, &spoofed, 1).to_string(), "1.2.3.4");
        assert_eq!(client_ip(peer, &spoofed, 2).to_string(), "6.6.6.6");
        assert_eq!(client_ip(peer, &HeaderMap::new(), 1).to_string(), "10.0.0.1");
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or_else(|_| panic!("ip"));
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap_or_else(|_| panic!("ip"));
        assert_eq!(limit_key(a), limit_key(b));
    }
}
