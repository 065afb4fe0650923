//! Client address rules (`--allow-cidr`) and how the client address is found: the socket's
//! peer, or, with `--trust-proxy-hops N`, the address the N-th proxy from us appended to
//! `X-Forwarded-For`. Pure functions over addresses and header text; no I/O.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a /32 (/128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in the range. IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`) count as
    /// their IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(net.to_bits()),
                u128::from(ip.to_bits()),
                self.prefix,
                32,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(net.to_bits(), ip.to_bits(), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(network: u128, ip: u128, prefix: u8, width: u32) -> bool {
    let host_bits = width - u32::from(prefix);
    host_bits >= width || (network >> host_bits) == (ip >> host_bits)
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("'{value}' is not an IP address range (e.g. 10.0.0.0/8)"))?;
        let network = network.to_canonical();
        let width = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| format!("'{value}': the prefix length must be 0 to {width}"))?,
        };
        let cidr = Self { network, prefix };
        if host_bits_set(network, prefix) {
            return Err(format!(
                "'{value}' has bits set after the /{prefix} prefix; write the network address"
            ));
        }
        Ok(cidr)
    }
}

fn host_bits_set(ip: IpAddr, prefix: u8) -> bool {
    let (bits, width) = match ip {
        IpAddr::V4(v4) => (u128::from(v4.to_bits()), 32u32),
        IpAddr::V6(v6) => (v6.to_bits(), 128),
    };
    match width - u32::from(prefix) {
        0 => false,
        128 => bits != 0,
        host_bits => bits & ((1u128 << host_bits) - 1) != 0,
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The client address of a request: the peer when `trust_proxy_hops` is 0, else the entry
/// `trust_proxy_hops` from the right of `X-Forwarded-For` (each trusted proxy appends the
/// address it received the request from, so entries further left are whatever the client
/// sent). `forwarded_for` is every `X-Forwarded-For` header value, in order.
pub fn client_address<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trust_proxy_hops: usize,
) -> Result<IpAddr, String> {
    if trust_proxy_hops == 0 {
        return peer
            .map(|ip| ip.to_canonical())
            .ok_or_else(|| "the connection has no peer address".to_owned());
    }
    let entries: Vec<&str> = forwarded_for
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let Some(entry) = entries
        .len()
        .checked_sub(trust_proxy_hops)
        .map(|i| entries[i])
    else {
        return Err(format!(
            "X-Forwarded-For has {} entries, fewer than the {trust_proxy_hops} trusted proxy hops",
            entries.len()
        ));
    };
    parse_forwarded(entry)
        .map(|ip| ip.to_canonical())
        .ok_or_else(|| format!("X-Forwarded-For entry '{entry}' is not an IP address"))
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses() {
        let v4: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(v4.contains(ip("10.255.0.1")));
        assert!(!v4.contains(ip("11.0.0.1")));
        assert!(v4.contains(ip("::ffff:10.1.2.3")));
        assert!(!v4.contains(ip("2001:db8::1")));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let all6: Cidr = "::/0".parse().unwrap();
        assert!(all6.contains(ip("2001:db8::1")));
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1/8",
            "banana",
            "2001:db8::/129",
            "10.0.0.0/x",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn without_trusted_hops_the_header_is_ignored() {
        let got = client_address(Some(ip("127.0.0.1")), ["10.1.2.3"].into_iter(), 0);
        assert_eq!(got.unwrap(), ip("127.0.0.1"));
    }

    #[test]
    fn trusted_hops_count_from_the_right() {
        let xff = ["10.9.9.9, 203.0.113.5", "198.51.100.1"];
        let one = client_address(Some(ip("127.0.0.1")), xff.into_iter(), 1).unwrap();
        assert_eq!(one, ip("198.51.100.1"));
        let two = client_address(None, xff.into_iter(), 2).unwrap();
        assert_eq!(two, ip("203.0.113.5"));
        assert!(client_address(None, xff.into_iter(), 4).is_err());
        assert!(client_address(None, ["nope"].into_iter(), 1).is_err());
        let port = client_address(None, ["[2001:db8::1]:443"].into_iter(), 1).unwrap();
        assert_eq!(port, ip("2001:db8::1"));
    }
}
