//! Deterministic identifiers. Everything in the emulated tenant is derived
//! from the seed, so the same seed always builds the same tenant, ids and
//! all, and a test can name what it expects.

use std::fmt;

/// SplitMix64: a fast, well-mixed step; good for deriving ids from counters.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A GUID (version 4 layout) kept as 16 bytes and formatted on demand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(pub u128);

impl Guid {
    pub fn from_seed(seed: u64) -> Self {
        let hi = mix(seed);
        let lo = mix(seed ^ 0x6a09_e667_f3bc_c909);
        let mut v = (u128::from(hi) << 64) | u128::from(lo);
        // Version 4, RFC 4122 variant: the shape real tenants show.
        v = (v & !(0xf_u128 << 76)) | (0x4_u128 << 76);
        v = (v & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        Guid(v)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let hex: String = text.chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 || text.len() != 36 {
            return None;
        }
        u128::from_str_radix(&hex, 16).ok().map(Guid)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            v & 0xffff_ffff_ffff
        )
    }
}

/// Hands out a fresh deterministic GUID per call.
#[derive(Debug)]
pub struct GuidSource {
    seed: u64,
    counter: u64,
}

impl GuidSource {
    pub fn new(seed: u64) -> Self {
        Self {
            seed: mix(seed ^ 0x5851_f42d_4c95_7f2d),
            counter: 0,
        }
    }

    pub fn next_guid(&mut self) -> Guid {
        self.counter += 1;
        Guid::from_seed(self.seed ^ mix(self.counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_round_trip_and_look_real() {
        let g = Guid::from_seed(7);
        let text = g.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(Guid::parse(&text), Some(g));
        assert_ne!(Guid::from_seed(8), g);
    }
}
