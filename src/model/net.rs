//! Addresses and networks as responders write them (`203.0.113.66`,
//! `203.0.113.0/24`, `2001:db8::/32`): shared by the feed's `ip:` filter
//! and threat indicators.

use std::net::IpAddr;

/// An address or a network: the address and its prefix length (a bare
/// address is its own /32 or /128). `None` when it is neither.
pub fn network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b.trim().parse::<u8>().ok()?)),
        None => (text, None),
    };
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((addr, bits))
}

/// Whether `address` is inside `network`/`bits` (IPv4 and IPv6 never mix).
pub fn contains(network: IpAddr, bits: u8, address: IpAddr) -> bool {
    let keep = |width: u32| -> u128 {
        if bits == 0 {
            0
        } else {
            (!0u128) << (width - u32::from(bits))
        }
    };
    match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = keep(32) as u32;
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = keep(128);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses() {
        let (net, bits) = network("203.0.113.0/25").unwrap();
        assert!(contains(net, bits, "203.0.113.66".parse().unwrap()));
        assert!(!contains(net, bits, "203.0.113.140".parse().unwrap()));
        assert_eq!(network("198.51.100.7").map(|n| n.1), Some(32));
        assert!(network("10.0.0.0/33").is_none());
        assert!(network("evil.example").is_none());
        let (all, zero) = network("0.0.0.0/0").unwrap();
        assert!(contains(all, zero, "192.0.2.1".parse().unwrap()));
        assert!(!contains(all, zero, "2001:db8::1".parse().unwrap()));
    }
}
