//! The client's address: the peer of the connection, or, when that peer is one of our reverse
//! proxies (`HOCVUSO_TRUSTED_PROXIES`), the address the proxies say they received the request from.
//! The route guard (sessions, the audit log), the login limits and the public lookup limit all ask
//! this one function, so they all agree on who the client is.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, request::Parts};
use ipnet::IpNet;

/// The client address of a request; `None` only when the request came without a peer (in-process tests).
pub fn of_parts(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    client_ip(peer, &parts.headers, trusted)
}

/// Walks the hops the proxies appended from the right: the first one that is not a trusted proxy is
/// the client. Anything left of it was written by the client itself and proves nothing.
/// `X-Forwarded-For` is read when present (what nginx, HAProxy, Traefik and Caddy append), else
/// `Forwarded` (RFC 7239): a proxy that appends one passes the other through from the client untouched.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    let hops = forwarded_for(headers);
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop a proxy could not name ("unknown", an obfuscated "_name") ends the walk at the proxy
        // that wrote it: it is the last address we know.
        let Some(address) = hop else { break };
        client = *address;
        if !is_trusted(client, trusted) {
            break;
        }
    }
    Some(client)
}

fn is_trusted(address: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&address))
}

/// The hops of `X-Forwarded-For`, or failing that of `Forwarded`, left to right over every instance
/// of the header; `None` for a hop that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect()
    };
    let xff = values("x-forwarded-for");
    if !xff.is_empty() {
        return xff.iter().flat_map(|v| v.split(',')).map(|hop| parse_node(hop.trim())).collect();
    }
    values("forwarded")
        .iter()
        .flat_map(|v| v.split(','))
        .map(|element| {
            // An element is `key=value` pairs separated by `;`; only `for` names the client side.
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
        })
        .collect()
}

/// An address as proxies write it: `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let address =
        node.parse::<IpAddr>().ok().or_else(|| node.parse::<SocketAddr>().ok().map(|s| s.ip())).or_else(|| {
            node.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')).and_then(|inner| inner.parse().ok())
        })?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn parse_trusted(raw: &str) -> Vec<IpNet> {
        crate::config::parse_trusted_proxies(raw).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn headers_count_only_when_the_peer_is_a_trusted_proxy() {
        let trusted = parse_trusted("10.0.0.0/8, 127.0.0.1 ::1");
        let spoof = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(client_ip(Some(ip("203.0.113.9")), &spoof, &trusted), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(Some(ip("127.0.0.1")), &spoof, &trusted), Some(ip("198.51.100.1")));
        assert_eq!(client_ip(Some(ip("203.0.113.9")), &spoof, &[]), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(None, &spoof, &trusted), None);
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = parse_trusted("10.0.0.0/8");
        let peer = Some(ip("10.0.0.2"));
        // The client wrote "1.1.1.1" itself; the first proxy appended what it saw.
        let chain = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.7, 10.0.0.5")]);
        assert_eq!(client_ip(peer, &chain, &trusted), Some(ip("203.0.113.7")));
        let split = headers(&[("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "203.0.113.7:5555")]);
        assert_eq!(client_ip(peer, &split, &trusted), Some(ip("203.0.113.7")));
        let all_ours = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.5")]);
        assert_eq!(client_ip(peer, &all_ours, &trusted), Some(ip("10.1.1.1")));
        let unknown = headers(&[("x-forwarded-for", "1.1.1.1, unknown, 10.0.0.5")]);
        assert_eq!(client_ip(peer, &unknown, &trusted), Some(ip("10.0.0.5")));
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = parse_trusted("10.0.0.0/8");
        let peer = Some(ip("10.0.0.2"));
        let v6 = headers(&[("forwarded", "for=198.51.100.1, for=\"[2001:db8::7]:4711\";proto=https;by=10.0.0.2")]);
        assert_eq!(client_ip(peer, &v6, &trusted), Some(ip("2001:db8::7")));
        let v4 = headers(&[("forwarded", "proto=https;For=203.0.113.7:80")]);
        assert_eq!(client_ip(peer, &v4, &trusted), Some(ip("203.0.113.7")));
        let both = headers(&[("forwarded", "for=198.51.100.1"), ("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(client_ip(peer, &both, &trusted), Some(ip("203.0.113.7")));
        let mapped = headers(&[("x-forwarded-for", "::ffff:203.0.113.7")]);
        assert_eq!(client_ip(peer, &mapped, &trusted), Some(ip("203.0.113.7")));
    }
}
