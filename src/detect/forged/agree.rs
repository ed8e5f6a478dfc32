//! Whether a token issuance AD FS logged can explain a cloud sign-in.
//! Being the same account within minutes is not enough: the two must agree
//! on what both sides record. The token's issuer must be one the farm
//! issues as, and where AD FS logged the client's public address, the
//! sign-in must come from that client. One issuance explains one sign-in
//! (a token is presented once), so a forged sign-in beside a genuine one
//! cannot borrow the genuine one's token.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use super::WITHIN_SECS;

/// An address the two sides can be compared on: a public one (the ranges
/// documentation uses stand for public ones). A private, shared (CGNAT),
/// loopback or link-local address is what AD FS sees of an intranet
/// client, never what Entra ID sees of it.
pub(super) fn comparable(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let ip: IpAddr = text.parse().ok().or_else(|| {
        // "[2001:db8::1]:443" or "198.51.100.7:50123".
        let (host, port) = text.rsplit_once(':')?;
        port.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    })?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let local = match ip {
        IpAddr::V4(a) => {
            let [first, second, ..] = a.octets();
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || (first == 100 && second & 0xc0 == 64)
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            a.is_loopback()
                || a.is_unspecified()
                || first & 0xfe00 == 0xfc00
                || first & 0xffc0 == 0xfe80
        }
    };
    (!local).then_some(ip)
}

/// Whether two addresses are one client's: the same IPv4 address, or the
/// same IPv6 /64 (a host's temporary addresses change inside its network).
/// None when one is IPv4 and the other IPv6: a dual-stack client may
/// reach AD FS on one and Entra ID on the other.
pub(super) fn same_client(a: IpAddr, b: IpAddr) -> Option<bool> {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => Some(a == b),
        (IpAddr::V6(a), IpAddr::V6(b)) => Some(a.segments()[..4] == b.segments()[..4]),
        _ => None,
    }
}

/// An address as a network, for pairing exits: an IPv6 host's /64 (its
/// temporary addresses change), an IPv4 address itself.
pub(super) fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// The host an issuer identifier names, in lower case:
/// `http://sts.contoso.com/adfs/services/trust` is `sts.contoso.com`.
/// None for a name that is not a host (nothing to compare).
pub(super) fn issuer_host(name: &str) -> Option<String> {
    let name = name.trim();
    let rest = name.split_once("://").map_or(name, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let hostlike = host.contains('.')
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    hostlike.then_some(host)
}

/// How an issuance's client address stands to a sign-in's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Address {
    /// The same client.
    Same,
    /// A pair of exits the logs showed to be one network's.
    Egress,
    /// Nothing to compare: AD FS logged no public address, or only of the
    /// other IP family, or the sign-in names none.
    Unknown,
    /// Both are public, of one family, and another client's.
    Differs,
}

/// What the logs read say of the farm as a whole.
#[derive(Debug, Default)]
pub(super) struct Farm {
    /// Hosts of the issuer identifiers the farm's issuances name
    /// (`<Server>` in their audit).
    pub(super) issuers: BTreeSet<String>,
    /// Addresses the farm's proxies present: never a client's.
    pub(super) proxies: BTreeSet<IpAddr>,
    /// (AD FS side, Entra ID side) pairs learned to be one network's two
    /// exits (`Egress`).
    pub(super) egress: BTreeSet<(IpAddr, IpAddr)>,
}

impl Farm {
    /// Whether a token naming `issuer` can come from this farm, for a user
    /// named `upn`. None when it cannot be told: no issuer named on either
    /// side. A farm that signs for several domains issues as
    /// `http://<domain>/adfs/services/trust/` per domain, so the user's own
    /// domain passes too.
    pub(super) fn issuer_agrees(&self, issuer: &str, upn: &str) -> Option<bool> {
        let host = issuer_host(issuer)?;
        if self.issuers.is_empty() {
            return None;
        }
        let domain = upn
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        // A user of a subdomain gets the parent domain's issuer.
        let own = domain == host || domain.ends_with(&format!(".{host}"));
        Some(self.issuers.contains(&host) || own)
    }

    /// An issuance's client addresses worth comparing: public, and not a
    /// proxy of the farm's.
    pub(super) fn clients(&self, ips: &[String]) -> Vec<IpAddr> {
        let mut out: Vec<IpAddr> = ips
            .iter()
            .filter_map(|ip| comparable(ip))
            .filter(|ip| !self.proxies.contains(ip))
            .collect();
        out.dedup();
        out
    }

    /// How the client addresses AD FS logged stand to the sign-in's.
    pub(super) fn address(&self, clients: &[IpAddr], signin: Option<IpAddr>) -> Address {
        let Some(signin) = signin else {
            return Address::Unknown;
        };
        let mut compared = false;
        for client in clients {
            match same_client(*client, signin) {
                Some(true) => return Address::Same,
                Some(false) => compared = true,
                None => {}
            }
        }
        if !compared {
            return Address::Unknown;
        }
        if clients
            .iter()
            .any(|c| self.egress.contains(&(network(*c), network(signin))))
        {
            return Address::Egress;
        }
        Address::Differs
    }
}

/// A pair of exits is learned once seen for this many users on this many
/// days: an attacker forging for one victim while the victim works makes
/// one such pair, an office whose AD FS traffic leaves by its proxy and
/// whose Microsoft 365 traffic leaves locally makes it for everyone.
const EGRESS_USERS: usize = 3;
const EGRESS_DAYS: usize = 2;
/// Pairs followed at most (a scan's memory stays bounded).
const EGRESS_PAIRS: usize = 10_000;

/// Pairs of addresses seen on sign-ins only one issuance could explain,
/// when that issuance could explain no other sign-in.
#[derive(Debug, Default)]
pub(super) struct EgressSeen {
    pairs: HashMap<(IpAddr, IpAddr), (BTreeSet<u32>, BTreeSet<i64>)>,
}

impl EgressSeen {
    pub(super) fn see(&mut self, (adfs, entra): (IpAddr, IpAddr), user: u32, time: i64) {
        let pair = (network(adfs), network(entra));
        if !self.pairs.contains_key(&pair) && self.pairs.len() >= EGRESS_PAIRS {
            return;
        }
        let (users, days) = self.pairs.entry(pair).or_default();
        if users.len() < EGRESS_USERS {
            users.insert(user);
        }
        if days.len() < EGRESS_DAYS {
            days.insert(time.div_euclid(86_400));
        }
    }

    pub(super) fn learned(self) -> BTreeSet<(IpAddr, IpAddr)> {
        self.pairs
            .into_iter()
            .filter(|(_, (users, days))| users.len() >= EGRESS_USERS && days.len() >= EGRESS_DAYS)
            .map(|(pair, _)| pair)
            .collect()
    }
}

/// The issuances (indexes into `issued`, times in ascending order) within
/// the window of a sign-in at `t`.
pub(super) fn window(issued: &[i64], t: i64) -> std::ops::Range<usize> {
    let start = issued.partition_point(|x| *x < t - WITHIN_SECS);
    let end = issued.partition_point(|x| *x <= t + WITHIN_SECS);
    start..end.max(start)
}

/// Steps an augmenting search may take for one sign-in, so a user with
/// thousands of sign-ins in minutes (a kiosk account) cannot stall a scan;
/// a sign-in whose search is cut short is reported unjudged.
const AUGMENT_STEPS: usize = 4_096;
const AUGMENT_DEPTH: usize = 64;

/// Which issuance explains each of one user's sign-ins. `signins` and
/// `issued` are times in ascending order; `agree(i, j)` says whether
/// issuance `j` can explain sign-in `i`, and how well (lower is better:
/// 0 at the sign-in's own address). One issuance explains one sign-in.
/// Pairs are taken best first (better agreement, then closer in time),
/// then sign-ins left over look for a chain of re-assignments that frees
/// one (as many sign-ins explained as can be). Also says, per sign-in,
/// whether its search was cut short (too many sign-ins at once to be sure
/// none could be explained).
pub(super) fn assign(
    signins: &[i64],
    issued: &[i64],
    agree: impl Fn(usize, usize) -> Option<u8>,
) -> (Vec<Option<usize>>, Vec<bool>) {
    let mut edges: Vec<Vec<(u8, i64, usize)>> = Vec::with_capacity(signins.len());
    for (i, &t) in signins.iter().enumerate() {
        let mut list: Vec<(u8, i64, usize)> = window(issued, t)
            .filter_map(|j| agree(i, j).map(|rank| (rank, (issued[j] - t).abs(), j)))
            .collect();
        list.sort_unstable();
        edges.push(list);
    }
    let mut all: Vec<(u8, i64, usize, usize)> = edges
        .iter()
        .enumerate()
        .flat_map(|(i, list)| list.iter().map(move |(r, d, j)| (*r, *d, i, *j)))
        .collect();
    all.sort_unstable();
    let mut owner: Vec<Option<usize>> = vec![None; issued.len()];
    let mut taken: Vec<Option<usize>> = vec![None; signins.len()];
    for (_, _, i, j) in all {
        if taken[i].is_none() && owner[j].is_none() {
            taken[i] = Some(j);
            owner[j] = Some(i);
        }
    }
    let mut search = Search {
        edges: &edges,
        owner,
        taken,
        seen: vec![0; issued.len()],
        round: 0,
        steps: 0,
        cut: false,
    };
    let mut cut = vec![false; signins.len()];
    for (i, list) in edges.iter().enumerate() {
        if search.taken[i].is_none() && !list.is_empty() {
            search.round += 1;
            search.steps = AUGMENT_STEPS;
            search.cut = false;
            search.augment(i, 0);
            cut[i] = search.taken[i].is_none() && search.cut;
        }
    }
    (search.taken, cut)
}

/// The state of the search for chains of re-assignments.
struct Search<'a> {
    edges: &'a [Vec<(u8, i64, usize)>],
    owner: Vec<Option<usize>>,
    taken: Vec<Option<usize>>,
    /// The round in which each issuance was last looked at.
    seen: Vec<u32>,
    round: u32,
    steps: usize,
    /// The search ran out of steps or depth.
    cut: bool,
}

impl Search<'_> {
    /// Finds sign-in `i` an issuance, moving others along if need be.
    fn augment(&mut self, i: usize, depth: usize) -> bool {
        if depth > AUGMENT_DEPTH {
            self.cut = true;
            return false;
        }
        for &(_, _, j) in &self.edges[i] {
            if self.seen[j] == self.round {
                continue;
            }
            if self.steps == 0 {
                self.cut = true;
                return false;
            }
            self.steps -= 1;
            self.seen[j] = self.round;
            let free = match self.owner[j] {
                None => true,
                Some(k) => self.augment(k, depth + 1),
            };
            if free {
                self.owner[j] = Some(i);
                self.taken[i] = Some(j);
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_public_addresses_are_compared() {
        assert_eq!(comparable("203.0.113.66"), Some(ip("203.0.113.66")));
        assert_eq!(
            comparable(" 2001:db8:100:4::7fc "),
            Some(ip("2001:db8:100:4::7fc"))
        );
        assert_eq!(comparable("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(comparable("198.51.100.7:50123"), Some(ip("198.51.100.7")));
        assert_eq!(comparable("::ffff:198.51.100.7"), Some(ip("198.51.100.7")));
        for local in [
            "10.10.10.30",
            "192.168.1.4",
            "172.16.0.9",
            "100.64.3.2",
            "127.0.0.1",
            "169.254.1.1",
            "fd00::1",
            "fe80::1",
            "N/A",
            "",
        ] {
            assert_eq!(comparable(local), None, "{local}");
        }
    }

    #[test]
    fn one_client_is_one_v4_address_or_one_v6_network() {
        assert_eq!(
            same_client(ip("203.0.113.5"), ip("203.0.113.5")),
            Some(true)
        );
        assert_eq!(
            same_client(ip("203.0.113.5"), ip("203.0.113.6")),
            Some(false)
        );
        assert_eq!(
            same_client(ip("2001:db8:100:4::7fc"), ip("2001:db8:100:4:a::1")),
            Some(true)
        );
        assert_eq!(
            same_client(ip("2001:db8:100:4::7fc"), ip("2001:db8:100:5::7fc")),
            Some(false)
        );
        assert_eq!(same_client(ip("2001:db8::1"), ip("203.0.113.5")), None);
    }

    #[test]
    fn issuers_are_compared_by_host() {
        assert_eq!(
            issuer_host("http://sts.contoso.com/adfs/services/trust").as_deref(),
            Some("sts.contoso.com")
        );
        assert_eq!(
            issuer_host("https://STS.Contoso.com:443/adfs/services/trust/").as_deref(),
            Some("sts.contoso.com")
        );
        assert_eq!(issuer_host("ADFS"), None);
        assert_eq!(issuer_host(""), None);
        let farm = Farm {
            issuers: ["sts.contoso.com".to_owned()].into(),
            ..Farm::default()
        };
        let upn = "lynne.robbins@contoso.com";
        assert_eq!(
            farm.issuer_agrees("http://sts.contoso.com/adfs/services/trust", upn),
            Some(true)
        );
        assert_eq!(
            farm.issuer_agrees("http://sts.contoso-auth.com/adfs/services/trust", upn),
            Some(false)
        );
        // A farm signing for several domains names the user's domain, or
        // for a subdomain's users its parent.
        assert_eq!(
            farm.issuer_agrees("http://contoso.com/adfs/services/trust/", upn),
            Some(true)
        );
        assert_eq!(
            farm.issuer_agrees(
                "http://contoso.com/adfs/services/trust/",
                "ana@sales.contoso.com"
            ),
            Some(true)
        );
        assert_eq!(
            farm.issuer_agrees("http://evilcontoso.com/adfs/services/trust/", upn),
            Some(false)
        );
        assert_eq!(farm.issuer_agrees("", upn), None);
        assert_eq!(
            Farm::default().issuer_agrees("http://x.example/", upn),
            None
        );
    }

    #[test]
    fn proxies_and_learned_exits_are_not_another_client() {
        let mut farm = Farm::default();
        farm.proxies.insert(ip("198.51.100.1"));
        let clients = farm.clients(&["198.51.100.1".into(), "10.0.0.4".into()]);
        assert!(clients.is_empty());
        assert_eq!(
            farm.address(&clients, Some(ip("203.0.113.9"))),
            Address::Unknown
        );
        let clients = farm.clients(&["198.51.100.20".into()]);
        let signin = Some(ip("203.0.113.9"));
        assert_eq!(farm.address(&clients, signin), Address::Differs);
        assert_eq!(
            farm.address(&clients, Some(ip("2001:db8::9"))),
            Address::Unknown
        );
        assert_eq!(farm.address(&clients, None), Address::Unknown);
        assert_eq!(network(ip("2001:db8:1:2:a::9")), ip("2001:db8:1:2::"));
        assert_eq!(network(ip("203.0.113.9")), ip("203.0.113.9"));
        let mut seen = EgressSeen::default();
        let pair = (ip("198.51.100.20"), ip("203.0.113.9"));
        for (user, day) in [(1, 0), (2, 0), (2, 1)] {
            seen.see(pair, user, day * 86_400);
        }
        assert!(seen.learned().is_empty(), "two users are not an office");
        let mut seen = EgressSeen::default();
        for (user, day) in [(1, 0), (2, 0), (3, 1)] {
            seen.see(pair, user, day * 86_400);
        }
        farm.egress = seen.learned();
        assert_eq!(farm.address(&clients, signin), Address::Egress);
    }

    #[test]
    fn one_issuance_explains_one_sign_in_the_closest_first() {
        // One issuance, two sign-ins around it: the closer takes it.
        assert_eq!(assign(&[0, 170], &[168], |_, _| Some(1)).0, [None, Some(0)]);
        assert_eq!(
            assign(&[100, 400], &[98], |_, _| Some(1)).0,
            [Some(0), None]
        );
        // Agreement beats closeness.
        assert_eq!(
            assign(&[100, 400], &[399], |i, _| Some(if i == 0 { 0 } else { 1 })).0,
            [Some(0), None]
        );
        // A disagreeing issuance explains nothing.
        assert_eq!(assign(&[100], &[99], |_, _| None).0, [None]);
        // Out of the window, nothing.
        assert_eq!(assign(&[0], &[WITHIN_SECS + 1], |_, _| Some(0)).0, [None]);
    }

    #[test]
    fn sign_ins_left_over_move_others_along() {
        // Greedy closest pairs would give issuance 1 to sign-in 1 and leave
        // sign-in 0 (which only issuance 1 agrees with) unexplained; a
        // chain of re-assignment explains both.
        let (taken, cut) = assign(&[100, 200], &[150, 199], |i, j| match (i, j) {
            (0, 0) => None,
            _ => Some(1),
        });
        assert_eq!(taken, [Some(1), Some(0)]);
        assert_eq!(cut, [false, false]);
    }
}
