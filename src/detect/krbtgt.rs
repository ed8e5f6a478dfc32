//! krbtgt password resets as the domain controllers logged them (4724 on
//! `krbtgt` or a read-only DC's `krbtgt_NNNNN`). Recovery resets it twice,
//! the second only after the first has replicated and every ticket signed
//! with the old key has expired (the wait, 10 hours by default). A reset
//! inside the wait is flagged and counts as a new first reset; the
//! checklist's two krbtgt items follow the same reading of the same events.

use super::json::Json;
use std::collections::BTreeMap;

use super::event::{Event, Kind};
use super::{Entity, Finding};
use crate::model::Severity;

/// The wait the built-in playbook asks between the two resets, in hours.
pub const DEFAULT_WAIT_HOURS: f64 = 10.0;

/// Texts every record this reads contains (for the scan's prefilter).
pub const READS: super::prefilter::Reads = &[(Kind::WindowsEvent, "", "krbtgt")];

/// The detection whose entities carry each reset's time, for the checklist.
pub const RESET: &str = "onprem.krbtgt-reset";
pub const TOO_SOON: &str = "onprem.krbtgt-reset-too-soon";

#[derive(Clone, Debug)]
pub struct Reset {
    /// `DOMAIN\krbtgt`: each domain has its own.
    account: String,
    time: i64,
    id: String,
    by: String,
    computer: String,
}

/// A krbtgt password reset, if this event is one.
pub fn fact(event: &Event) -> Option<Reset> {
    if event.kind != Kind::WindowsEvent {
        return None;
    }
    let v = &event.value;
    let text = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("");
    let name = text("TargetUserName").trim().to_ascii_lowercase();
    let failed = text("EventType").eq_ignore_ascii_case("AUDIT_FAILURE");
    if v.get("EventID")?.as_u64()? != 4724 || !name.starts_with("krbtgt") || failed {
        return None;
    }
    let domain = text("TargetDomainName").trim().to_ascii_uppercase();
    Some(Reset {
        account: if domain.is_empty() {
            name
        } else {
            format!("{domain}\\{name}")
        },
        time: event.time?.as_second(),
        id: event.id.clone(),
        by: text("SubjectUserName").to_owned(),
        computer: text("Computer").to_owned(),
    })
}

/// What a series of resets of one account amounts to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The reset the wait counts from (the latest one inside a wait).
    pub first: Option<i64>,
    /// A reset made after the wait: the second is done.
    pub second: Option<i64>,
    /// Resets made inside the wait: (the one before, this one).
    pub too_soon: Vec<(i64, i64)>,
}

/// Reads reset times (seconds, any order) against the wait.
pub fn schedule(times: &[i64], wait_secs: i64) -> Schedule {
    let mut times = times.to_vec();
    times.sort_unstable();
    times.dedup();
    let mut out = Schedule::default();
    for t in times {
        match (out.first, out.second) {
            (None, _) => out.first = Some(t),
            (Some(first), None) if t.saturating_sub(first) >= wait_secs => out.second = Some(t),
            (Some(first), None) => {
                out.too_soon.push((first, t));
                out.first = Some(t);
            }
            // Resets after a finished pair start nothing new here.
            (Some(_), Some(_)) => {}
        }
    }
    out
}

/// A wait in hours as seconds; one that is no number of hours (NaN,
/// infinite, not above 0) is the playbook's.
pub fn wait_secs(hours: f64) -> i64 {
    let max = crate::model::waits::MAX_WAIT_HOURS;
    let hours = if hours.is_finite() && hours > 0.0 {
        hours.min(max)
    } else {
        DEFAULT_WAIT_HOURS
    };
    (hours * 3600.0) as i64
}

#[derive(Debug)]
pub struct Resets {
    wait_secs: i64,
    seen: Vec<Reset>,
}

impl Default for Resets {
    fn default() -> Self {
        Self::new(DEFAULT_WAIT_HOURS)
    }
}

impl Resets {
    pub fn new(wait_hours: f64) -> Self {
        Self {
            wait_secs: wait_secs(wait_hours),
            seen: Vec::new(),
        }
    }

    pub fn add(&mut self, reset: Reset) {
        if !self
            .seen
            .iter()
            .any(|r| r.id == reset.id && r.time == reset.time)
        {
            self.seen.push(reset);
        }
    }

    /// Per account: its resets (info, with each time for the checklist),
    /// and any made inside the wait (high).
    pub fn findings(&self) -> Vec<Finding> {
        let mut by_account: BTreeMap<&str, Vec<&Reset>> = BTreeMap::new();
        for r in &self.seen {
            by_account.entry(r.account.as_str()).or_default().push(r);
        }
        let mut out = Vec::new();
        let hours = self.wait_secs as f64 / 3600.0;
        for (account, mut resets) in by_account {
            resets.sort_by_key(|r| r.time);
            let times: Vec<i64> = resets.iter().map(|r| r.time).collect();
            let plan = schedule(&times, self.wait_secs);
            let (domain, name) = account.rsplit_once('\\').unwrap_or(("", account));
            let mut entities = vec![Entity {
                field: "TargetUserName".into(),
                value: name.to_owned(),
            }];
            if !domain.is_empty() {
                entities.push(Entity {
                    field: "TargetDomainName".into(),
                    value: domain.to_owned(),
                });
            }
            entities.extend(resets.iter().map(|r| Entity {
                field: "TimeCreated".into(),
                value: iso(r.time),
            }));
            let listed: Vec<String> = resets
                .iter()
                .map(|r| format!("{} by {} on {}", iso(r.time), r.by, r.computer))
                .collect();
            let state = match (plan.first, plan.second) {
                (Some(first), Some(second)) => format!(
                    "the first reset counted at {} and the second at {}, after the {hours} h wait: both done",
                    iso(first),
                    iso(second)
                ),
                (Some(first), None) => format!(
                    "the wait for the second reset runs from {} to {}",
                    iso(first),
                    iso(first.saturating_add(self.wait_secs))
                ),
                _ => String::new(),
            };
            out.push(Finding {
                id: super::finding_id(RESET, account),
                detection: RESET.into(),
                severity: Severity::Info,
                title: "krbtgt password reset".into(),
                techniques: vec!["T1558.001".into()],
                entities: entities.clone(),
                evidence: resets.iter().map(|r| r.id.clone()).collect(),
                count: resets.len() as u64,
                first_seen: times.first().map(|t| iso(*t)),
                last_seen: times.last().map(|t| iso(*t)),
                remediation: Vec::new(),
                explanation: format!(
                    "{account} was reset {} time(s): {}; {state}",
                    resets.len(),
                    listed.join("; ")
                ),
                rationale: "The domain controllers' own record of the krbtgt resets times the recovery's two-reset sequence from when they really happened.".into(),
                verdict: None,
            });
            if let Some((before, after)) = plan.too_soon.last() {
                out.push(Finding {
                    id: super::finding_id(TOO_SOON, account),
                    detection: TOO_SOON.into(),
                    severity: Severity::High,
                    title: "krbtgt reset again before the wait was over".into(),
                    techniques: vec!["T1558.001".into()],
                    entities,
                    evidence: resets.iter().map(|r| r.id.clone()).collect(),
                    count: plan.too_soon.len() as u64,
                    first_seen: Some(iso(*before)),
                    last_seen: Some(iso(*after)),
                    remediation: vec!["reset-krbtgt-second".into()],
                    explanation: format!(
                        "{account} was reset at {} only {:.1} h after the reset at {}, inside the {hours} h wait: it counts as a new first reset, and the second is due after {}",
                        iso(*after),
                        (after - before) as f64 / 3600.0,
                        iso(*before),
                        iso(after.saturating_add(self.wait_secs))
                    ),
                    rationale: "Resetting krbtgt twice in quick succession, before the first reset has replicated and old tickets have expired, breaks Kerberos for services and users, and a DC that missed the first reset keeps the old key.".into(),
                    verdict: None,
                });
            }
        }
        out
    }
}

use crate::model::de::graph_time_secs as iso;

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    #[test]
    fn a_reset_inside_the_wait_restarts_it() {
        let wait = 10 * H;
        assert_eq!(
            schedule(&[0, 11 * H], wait),
            Schedule {
                first: Some(0),
                second: Some(11 * H),
                too_soon: vec![]
            }
        );
        let early = schedule(&[3 * H, 0], wait);
        assert_eq!(early.first, Some(3 * H));
        assert_eq!(early.second, None);
        assert_eq!(early.too_soon, vec![(0, 3 * H)]);
        let recovered = schedule(&[0, 3 * H, 14 * H], wait);
        assert_eq!(recovered.second, Some(14 * H));
    }
}
