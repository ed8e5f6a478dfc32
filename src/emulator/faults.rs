//! Fault injection (`--faults SPEC`): the failures a client of Graph meets
//! in real life, each at a rate, so a connector can be proven to survive
//! them without losing or duplicating an event.
//!
//! SPEC is a comma-separated list of `KIND:RATE` (rate 0 to 1), e.g.
//! `429:0.05,503:0.02,reset:0.01,malformed:0.01,slow:0.05,page-token:0.5`.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 429 with `Retry-After: 1`, outside the documented limits.
    TooManyRequests,
    InternalServerError,
    /// 503 with `Retry-After: 2`.
    ServiceUnavailable,
    GatewayTimeout,
    /// The response is held back for a while.
    Slow,
    /// The connection drops in the middle of the body.
    Reset,
    /// A 200 whose body is cut JSON.
    Malformed,
    /// A `$skiptoken` already served once is refused when presented again
    /// (the directory forgets page tokens it has handed out).
    PageTokenReuse,
}

impl Fault {
    const ALL: [(Fault, &'static str); 8] = [
        (Fault::TooManyRequests, "429"),
        (Fault::InternalServerError, "500"),
        (Fault::ServiceUnavailable, "503"),
        (Fault::GatewayTimeout, "504"),
        (Fault::Slow, "slow"),
        (Fault::Reset, "reset"),
        (Fault::Malformed, "malformed"),
        (Fault::PageTokenReuse, "page-token"),
    ];

    pub fn name(self) -> &'static str {
        Fault::ALL
            .iter()
            .find(|(f, _)| *f == self)
            .map_or("?", |(_, n)| n)
    }
}

/// How long a `slow` response waits.
pub const SLOW_DELAY: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub rates: Vec<(Fault, f64)>,
}

impl FaultSpec {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rates = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, rate) = part
                .split_once(':')
                .ok_or_else(|| format!("fault \"{part}\": write KIND:RATE, e.g. 429:0.05"))?;
            let fault = Fault::ALL
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(f, _)| *f)
                .ok_or_else(|| {
                    let known: Vec<&str> = Fault::ALL.iter().map(|(_, n)| *n).collect();
                    format!("unknown fault \"{name}\" (known: {})", known.join(", "))
                })?;
            let rate: f64 = rate
                .parse()
                .ok()
                .filter(|r: &f64| (0.0..=1.0).contains(r))
                .ok_or_else(|| {
                    format!("fault \"{part}\": the rate must be a number from 0 to 1")
                })?;
            rates.push((fault, rate));
        }
        Ok(Self { rates })
    }
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .rates
            .iter()
            .map(|(k, r)| format!("{}:{r}", k.name()))
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Decides, per request, which fault (if any) to inject. Seeded, so a run
/// with the same seed and the same requests fails the same way.
pub struct Injector {
    spec: FaultSpec,
    rng: Mutex<fastrand::Rng>,
    served_tokens: Mutex<HashSet<String>>,
    /// How many of each kind were injected, in `Fault::ALL` order.
    injected: [AtomicU64; Fault::ALL.len()],
}

impl Injector {
    pub fn new(spec: FaultSpec, seed: u64) -> Self {
        Self {
            spec,
            rng: Mutex::new(fastrand::Rng::with_seed(seed ^ 0xfa17)),
            served_tokens: Mutex::default(),
            injected: Default::default(),
        }
    }

    /// Each kind injected so far, with its count (kinds never injected
    /// are left out).
    pub fn injected(&self) -> Vec<(Fault, u64)> {
        Fault::ALL
            .iter()
            .zip(&self.injected)
            .map(|((fault, _), n)| (*fault, n.load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    fn count(&self, fault: Option<Fault>) -> Option<Fault> {
        if let Some(i) = fault.and_then(|f| Fault::ALL.iter().position(|(k, _)| *k == f)) {
            self.injected[i].fetch_add(1, Ordering::Relaxed);
        }
        fault
    }

    pub fn is_empty(&self) -> bool {
        self.spec.rates.is_empty()
    }

    /// The fault for a request carrying `skiptoken`, if one fires.
    pub fn pick(&self, skiptoken: Option<&str>) -> Option<Fault> {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(token) = skiptoken {
            let mut served = self.served_tokens.lock().unwrap_or_else(|p| p.into_inner());
            let again = !served.insert(token.to_owned());
            let rate = self.rate(Fault::PageTokenReuse);
            if again && rate > 0.0 && rng.f64() < rate {
                return self.count(Some(Fault::PageTokenReuse));
            }
        }
        let fault = self
            .spec
            .rates
            .iter()
            .filter(|(f, _)| *f != Fault::PageTokenReuse)
            .find(|(_, rate)| rng.f64() < *rate)
            .map(|(f, _)| *f);
        self.count(fault)
    }

    fn rate(&self, fault: Fault) -> f64 {
        self.spec
            .rates
            .iter()
            .find(|(f, _)| *f == fault)
            .map_or(0.0, |(_, r)| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let spec = FaultSpec::parse("429:0.05, reset:0.01,page-token:1").unwrap();
        assert_eq!(spec.rates.len(), 3);
        assert_eq!(spec.to_string(), "429:0.05,reset:0.01,page-token:1");
        assert!(
            FaultSpec::parse("418:0.1")
                .unwrap_err()
                .contains("unknown fault")
        );
        assert!(
            FaultSpec::parse("429:2")
                .unwrap_err()
                .contains("from 0 to 1")
        );
        assert!(FaultSpec::parse("429").unwrap_err().contains("KIND:RATE"));
    }

    #[test]
    fn rates_are_honoured_and_seeded() {
        let injector = Injector::new(FaultSpec::parse("500:0.25").unwrap(), 1);
        let hits = (0..4000).filter(|_| injector.pick(None).is_some()).count();
        assert!((800..1200).contains(&hits), "{hits}");
        let a: Vec<_> = {
            let i = Injector::new(FaultSpec::parse("500:0.5").unwrap(), 9);
            (0..50).map(|_| i.pick(None)).collect()
        };
        let b: Vec<_> = {
            let i = Injector::new(FaultSpec::parse("500:0.5").unwrap(), 9);
            (0..50).map(|_| i.pick(None)).collect()
        };
        assert_eq!(a, b);
    }

    #[test]
    fn page_tokens_fail_only_when_reused() {
        let injector = Injector::new(FaultSpec::parse("page-token:1").unwrap(), 1);
        assert_eq!(injector.pick(Some("t1")), None);
        assert_eq!(injector.pick(Some("t2")), None);
        assert_eq!(injector.pick(Some("t1")), Some(Fault::PageTokenReuse));
    }
}
