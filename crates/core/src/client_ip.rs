//! Which address a request comes from when load balancers stand in front: the TCP
//! peer, unless it is a trusted proxy, in which case the forwarding header the
//! deployment's proxies write (`X-Forwarded-For`, every line of it joined in order, or
//! RFC 7239 `Forwarded`) is read from the right (the entries proxies appended) and the
//! first untrusted address is the client. Entries a client wrote itself (on the left)
//! are never believed. Addresses are canonical (an IPv4-mapped IPv6 address is its
//! IPv4 address), and rate limits count IPv6 clients by their /64.
use ipnet::{IpNet, Ipv6Net};
use std::net::IpAddr;

/// Which header the trusted proxies write (`http.forwarded_header`): only that one
/// is read, so a client cannot slip in the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1` (HAProxy `option forwardfor`, nginx, most
    /// cloud load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for="[2001:db8::1]:443"`.
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name, lower-case.
    pub fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }

    /// Parses the setting's value (`x-forwarded-for` or `forwarded`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Some(ForwardedHeader::XForwardedFor),
            "forwarded" => Some(ForwardedHeader::Forwarded),
            _ => None,
        }
    }
}

impl std::str::FromStr for ForwardedHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| format!("must be x-forwarded-for or forwarded, not {s:?}"))
    }
}

impl std::fmt::Display for ForwardedHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Trusted proxy addresses and networks (`http.trusted_proxies`) and the header they
/// write.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ForwardedHeader,
}

impl TrustedProxies {
    /// Parses addresses (`10.0.0.7`) and networks (`10.0.0.0/8`); the error names the
    /// entry that is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{e:?} is not an address or network"))
            })
            .collect::<Result<_, _>>()
            .map(|nets| Self {
                nets,
                header: ForwardedHeader::default(),
            })
    }

    /// Reads `header` instead of `X-Forwarded-For`.
    pub fn with_header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// The forwarding header read.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(ip))
    }

    /// The client's address given the peer and every line of the forwarding header,
    /// in the order received.
    pub fn client<'a>(&self, peer: IpAddr, lines: impl IntoIterator<Item = &'a str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(&peer) {
            return peer;
        }
        let entries: Vec<Option<IpAddr>> = match self.header {
            ForwardedHeader::XForwardedFor => lines
                .into_iter()
                .flat_map(|l| l.split(','))
                .map(address)
                .collect(),
            ForwardedHeader::Forwarded => lines
                .into_iter()
                .flat_map(|l| l.split(','))
                .map(forwarded_for)
                .collect(),
        };
        let mut client = peer;
        for entry in entries.into_iter().rev() {
            match entry {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(&client) {
                        break;
                    }
                }
                // A garbled or hidden entry: stop at the last address we could believe.
                None => break,
            }
        }
        client
    }
}

/// The address of one `Forwarded` element's `for=` parameter (`1.2.3.4`,
/// `"1.2.3.4:80"`, `"[2001:db8::1]:443"`); `None` when absent, obfuscated or garbled.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        k.trim().eq_ignore_ascii_case("for").then(|| v.trim())
    })?;
    address(value)
}

/// An address as proxies write it: `1.2.3.4`, `2001:db8::1`, with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`) or in quotes.
fn address(entry: &str) -> Option<IpAddr> {
    let value = entry.trim().trim_matches('"');
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    value.parse().ok().or_else(|| {
        value
            .rsplit_once(':')?
            .0
            .parse::<std::net::Ipv4Addr>()
            .ok()
            .map(IpAddr::V4)
    })
}

/// The bucket a client's address is counted in by rate limits: an IPv4 address
/// itself, an IPv6 address by its /64 (one subscriber's usual allocation, which
/// they can otherwise walk through to dodge a per-address limit).
pub fn rate_bucket(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => Ipv6Net::new(v6, 64)
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn forwarded_for_is_read_only_behind_trusted_proxies() {
        let t = TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8"]).unwrap_or_default();
        let xff = Some("198.51.100.1, 203.0.113.7, 10.1.2.3");
        // Untrusted peer: the header is ignored.
        assert_eq!(t.client(ip("192.0.2.9"), xff), ip("192.0.2.9"));
        // Trusted peer: the rightmost untrusted entry; the spoofable left one is not used.
        assert_eq!(t.client(ip("127.0.0.1"), xff), ip("203.0.113.7"));
        assert_eq!(
            t.client(ip("10.9.9.9"), Some("203.0.113.7")),
            ip("203.0.113.7")
        );
        assert_eq!(t.client(ip("127.0.0.1"), None), ip("127.0.0.1"));
        // Garbage stops the walk at the last believable address.
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("203.0.113.7, junk")),
            ip("127.0.0.1")
        );
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("junk, 203.0.113.7")),
            ip("203.0.113.7")
        );
        // Only proxies all the way: the leftmost.
        assert_eq!(
            t.client(ip("127.0.0.1"), Some("10.0.0.1, 10.0.0.2")),
            ip("10.0.0.1")
        );
        // Nobody trusted by default.
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), xff),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["::1", "fd00::/8"]).is_ok());
    }

    #[test]
    fn every_line_counts_so_a_client_line_cannot_win() {
        let t = TrustedProxies::parse(&["127.0.0.1"]).unwrap_or_default();
        // HAProxy appends its own line after the one the client sent.
        let lines = ["6.6.6.6", "203.0.113.7"];
        assert_eq!(t.client(ip("127.0.0.1"), lines), ip("203.0.113.7"));
        let lines = ["6.6.6.6, 1.1.1.1", "203.0.113.7, 127.0.0.1"];
        assert_eq!(t.client(ip("127.0.0.1"), lines), ip("203.0.113.7"));
        // Some balancers write the client's port too.
        let lines = ["6.6.6.6", "203.0.113.7:51234"];
        assert_eq!(t.client(ip("127.0.0.1"), lines), ip("203.0.113.7"));
        let lines = ["[2001:db8::7]:443"];
        assert_eq!(t.client(ip("127.0.0.1"), lines), ip("2001:db8::7"));
    }

    #[test]
    fn rfc7239_forwarded_is_read_when_configured() {
        let t = TrustedProxies::parse(&["10.0.0.0/8"])
            .unwrap_or_default()
            .with_header(ForwardedHeader::Forwarded);
        let lines = [
            "for=6.6.6.6",
            r#"for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.3"#,
        ];
        assert_eq!(t.client(ip("10.0.0.1"), lines), ip("2001:db8:cafe::17"));
        assert_eq!(
            t.client(ip("10.0.0.1"), ["for=\"198.51.100.4:80\""]),
            ip("198.51.100.4")
        );
        // Hidden or garbled: the walk stops at the last believable address.
        assert_eq!(t.client(ip("10.0.0.1"), ["for=_hidden"]), ip("10.0.0.1"));
        assert_eq!(
            t.client(ip("10.0.0.1"), ["for=unknown, for=10.0.0.9"]),
            ip("10.0.0.9")
        );
    }

    #[test]
    fn v4_mapped_addresses_are_canonical_and_v6_clients_count_by_64() {
        let t = TrustedProxies::parse(&["127.0.0.1"]).unwrap_or_default();
        assert_eq!(
            t.client(ip("::ffff:127.0.0.1"), ["::ffff:203.0.113.7"]),
            ip("203.0.113.7")
        );
        assert_eq!(rate_bucket(ip("::ffff:198.51.100.1")), "198.51.100.1");
        assert_eq!(rate_bucket(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            rate_bucket(ip("2001:db8:1:2:bbbb::9")),
            rate_bucket(ip("2001:db8:1:2::5"))
        );
        assert_ne!(
            rate_bucket(ip("2001:db8:1:3::1")),
            rate_bucket(ip("2001:db8:1:2::1"))
        );
    }
}
