//! Which address a request comes from when load balancers stand in front: the TCP
//! peer, unless it is a trusted proxy, in which case `X-Forwarded-For` is read from
//! the right (the entries proxies appended) and the first untrusted address is the
//! client. Entries a client wrote itself (on the left) are never believed.
use ipnet::IpNet;
use std::net::IpAddr;

/// Trusted proxy addresses and networks (`http.trusted_proxies`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

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
            .map(Self)
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address given the peer and the `X-Forwarded-For` values.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(&peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for entry in header.rsplit(',') {
            match entry.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !self.trusts(&ip) {
                        break;
                    }
                }
                // A garbled entry: stop at the last address we could believe.
                Err(_) => break,
            }
        }
        client
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
}
