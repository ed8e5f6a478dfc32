//! The posture review: judges a directory snapshot (what the tenant is
//! now, not what its logs say happened) against what the recovery guidance
//! asks responders to review, and compares two snapshots so a change the
//! attacker makes during the response is caught even if its audit event
//! never arrives. Every check answers pass, fail (with the objects and why)
//! or unknown (naming what the snapshot lacks), and names the checklist
//! items that fix it. Failures are findings like any detection's.

pub mod cert;
mod checks;
pub mod diff;
pub mod snapshot;

use jiff::Timestamp;
use serde_json::Value;

pub use crate::model::finding::Outcome;
pub use checks::CHECKS;
pub use snapshot::{Part, Snapshot};

use super::{Entity, Finding};
use crate::model::Severity;

/// One posture check: what it looks for and what fixes it.
#[derive(Debug)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub techniques: &'static [&'static str],
    pub area: Area,
    /// The parts of the snapshot it needs: without one it is not judged
    /// (a part that only adds detail, such as the PIM schedule instances
    /// beside the eligibilities, is not listed).
    pub reads: &'static [Part],
    /// The baselines and posture tools that check the same (or that none
    /// does).
    pub anchors: &'static [&'static str],
    /// The part of the recovery guidance it serves.
    pub phase: Phase,
    /// Why it matters, in a sentence or two.
    pub rationale: &'static str,
    /// Checklist items that fix it.
    pub remediation: &'static [&'static str],
}

/// What a check is about, for grouping a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Federation,
    Apps,
    PrivilegedAccess,
    Authentication,
    Hybrid,
    TenantEdges,
    Visibility,
}

impl Area {
    pub fn name(self) -> &'static str {
        match self {
            Area::Federation => "Federation",
            Area::Apps => "Applications",
            Area::PrivilegedAccess => "Privileged access",
            Area::Authentication => "Authentication",
            Area::Hybrid => "Hybrid identity",
            Area::TenantEdges => "Tenant edges",
            Area::Visibility => "Visibility",
        }
    }
}

/// The sections of the recovery guidance a check serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// "Investigate your environment": what the attacker may hold now.
    Investigate,
    /// "Establish continuous monitoring".
    Monitor,
    /// "Improve security posture".
    Improve,
    /// "Remediate and retain administrative control".
    Retain,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Investigate => "investigate",
            Phase::Monitor => "monitor",
            Phase::Improve => "improve posture",
            Phase::Retain => "retain control",
        }
    }
}

/// One object that fails a check.
#[derive(Clone, Debug)]
pub struct Failure {
    /// What tells this object apart within the check (its id).
    pub key: String,
    pub entities: Vec<(&'static str, String)>,
    /// Directory object ids.
    pub evidence: Vec<String>,
    pub explanation: String,
    /// Where this object is less (or more) serious than the check's norm.
    pub severity: Option<Severity>,
}

impl Failure {
    pub fn new(key: impl Into<String>, explanation: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            entities: Vec::new(),
            evidence: Vec::new(),
            explanation: explanation.into(),
            severity: None,
        }
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    pub fn entity(mut self, field: &'static str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.entities.push((field, value));
        }
        self
    }

    pub fn evidence(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if !id.is_empty() {
            self.evidence.push(id);
        }
        self
    }
}

/// What one check concluded.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub check: &'static Check,
    pub outcome: Outcome,
    /// Unknown: what is missing. Pass: what was looked at.
    pub note: String,
    pub failures: Vec<Failure>,
}

impl Verdict {
    pub fn pass(check: &'static Check, note: impl Into<String>) -> Self {
        Self {
            check,
            outcome: Outcome::Pass,
            note: note.into(),
            failures: Vec::new(),
        }
    }

    pub fn unknown(check: &'static Check, note: impl Into<String>) -> Self {
        Self {
            check,
            outcome: Outcome::Unknown,
            note: note.into(),
            failures: Vec::new(),
        }
    }

    /// Fails when any object fails; otherwise unknown when some object
    /// could not be judged (`unjudged`), else passes.
    pub fn from(
        check: &'static Check,
        failures: Vec<Failure>,
        unjudged: Vec<String>,
        looked_at: impl Into<String>,
    ) -> Self {
        let mut note = looked_at.into();
        if !unjudged.is_empty() {
            note = format!("{note}; not judged: {}", unjudged.join("; "));
        }
        let outcome = if !failures.is_empty() {
            Outcome::Fail
        } else if !unjudged.is_empty() {
            Outcome::Unknown
        } else {
            Outcome::Pass
        };
        Self {
            check,
            outcome,
            note,
            failures,
        }
    }

    /// Failures as findings; an unknown verdict as one informational
    /// finding saying what is missing; a pass as none.
    pub fn findings(&self, at: Option<Timestamp>) -> Vec<Finding> {
        let when = at.map(crate::model::de::graph_time);
        let check = self.check;
        let base = |key: &str, severity, title: String, explanation: String| Finding {
            id: super::finding_id(check.id, key),
            detection: check.id.to_owned(),
            severity,
            title,
            techniques: check.techniques.iter().map(|t| t.to_string()).collect(),
            entities: Vec::new(),
            evidence: Vec::new(),
            count: 1,
            first_seen: when.clone(),
            last_seen: when.clone(),
            remediation: check.remediation.iter().map(|r| r.to_string()).collect(),
            explanation,
            rationale: check.rationale.to_owned(),
            verdict: Some(self.outcome),
        };
        match self.outcome {
            Outcome::Pass => Vec::new(),
            Outcome::Unknown => vec![base(
                "unknown",
                Severity::Info,
                format!("{} (not judged)", check.title),
                format!("Could not be judged: {}.", self.note),
            )],
            Outcome::Fail => self
                .failures
                .iter()
                .map(|f| {
                    let mut finding = base(
                        &f.key,
                        f.severity.unwrap_or(check.severity),
                        check.title.to_owned(),
                        f.explanation.clone(),
                    );
                    finding.entities = f
                        .entities
                        .iter()
                        .map(|(field, value)| Entity {
                            field: (*field).to_owned(),
                            value: value.clone(),
                        })
                        .collect();
                    finding.entities.sort();
                    finding.entities.dedup();
                    finding.evidence = f.evidence.clone();
                    finding
                })
                .collect(),
        }
    }
}

/// Runs every check over a snapshot taken at `now` (the snapshot's own
/// time when it has one).
pub fn judge(snapshot: &Snapshot, now: Timestamp) -> Vec<Verdict> {
    let now = snapshot.taken_at.unwrap_or(now);
    let ctx = checks::Context::new(snapshot, now);
    checks::run(&ctx)
}

/// The accounts the tenant keeps for emergency access, as the snapshot
/// shows them: users holding Global Administrator as a standing (not
/// PIM) assignment and left out of an enabled conditional access policy.
/// Lower-cased user principal names. An attacker's account can look the
/// same: the plan still acts on one when a finding shows it compromised.
pub fn emergency_accounts(snapshot: &Snapshot) -> std::collections::BTreeSet<String> {
    let ctx = checks::Context::new(snapshot, snapshot.taken_at.unwrap_or_else(Timestamp::now));
    ctx.holdings
        .iter()
        .filter(|h| {
            h.role.eq_ignore_ascii_case(checks::GLOBAL_ADMIN)
                && h.active
                && h.standing == Some(true)
        })
        .filter(|h| ctx.excluded_from_ca.contains(h.principal.as_str()))
        .filter_map(|h| ctx.users.get(h.principal.as_str()))
        .filter_map(|user| user.get("userPrincipalName")?.as_str())
        .map(str::to_lowercase)
        .collect()
}

/// Every finding of a review: the checks' failures and unknowns, then
/// the changes since an older snapshot, most severe first.
pub fn findings(verdicts: &[Verdict], changes: &[Finding], at: Option<Timestamp>) -> Vec<Finding> {
    let mut out: Vec<Finding> = verdicts.iter().flat_map(|v| v.findings(at)).collect();
    out.extend(changes.iter().cloned());
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.detection.cmp(&b.detection))
            .then_with(|| a.id.cmp(&b.id))
    });
    out
}

/// Every check's verdict as Markdown tables, one per area, for the
/// incident record (passes included: "checked and fine" is worth writing
/// down), each check naming the baselines that have it.
pub fn verdicts_markdown(verdicts: &[Verdict]) -> String {
    let mut md = String::from("\n## Posture checks\n");
    let mut areas: Vec<Area> = verdicts.iter().map(|v| v.check.area).collect();
    areas.sort();
    areas.dedup();
    for area in areas {
        md.push_str(&format!(
            "\n### {}\n\n| check | verdict | objects | anchors | note |\n|---|---|---|---|---|\n",
            area.name()
        ));
        for v in verdicts.iter().filter(|v| v.check.area == area) {
            let verdict = match v.outcome {
                Outcome::Fail => "fail",
                Outcome::Unknown => "not judged",
                Outcome::Pass => "pass",
            };
            md.push_str(&format!(
                "| {} | {verdict} | {} | {} | {} |\n",
                crate::model::markdown_inline(v.check.title),
                v.failures.len(),
                crate::model::markdown_inline(&v.check.anchors.join("; ")),
                crate::model::markdown_inline(&v.note)
            ));
        }
    }
    md
}

/// A non-empty string field.
pub(crate) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A boolean as Graph or an export writes it (`true`, `"True"`).
pub(crate) fn flag(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A timestamp field; "never" sentinels (year 1) read as none.
pub(crate) fn time(v: &Value, key: &str) -> Option<Timestamp> {
    let t = crate::model::de::parse_time(text(v, key)?)?;
    (t.as_second() > 0).then_some(t)
}
