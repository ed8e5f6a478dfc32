//! Findings as the console holds them: what the detection engine
//! concluded from the live feed, with every tenant-supplied string made
//! safe to draw. Plain data; the live task fills it, `update` keeps it and
//! the findings pane draws it.

use crate::detect::Finding;
use crate::model::{SafeText, Severity};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingRow {
    /// Stable for the same detection and group (triage refers to it).
    pub id: String,
    pub detection: String,
    pub severity: Severity,
    pub title: String,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub techniques: Vec<String>,
    /// Why it fired, in a sentence built from tenant strings.
    pub explanation: SafeText,
    pub rationale: String,
    pub entities: Vec<(String, SafeText)>,
    pub evidence: Vec<SafeText>,
    pub remediation: Vec<String>,
}

impl FindingRow {
    pub fn from_finding(f: &Finding) -> Self {
        Self {
            id: f.id.clone(),
            detection: f.detection.clone(),
            severity: f.severity,
            title: f.title.clone(),
            count: f.count,
            first_seen: f.first_seen.clone(),
            last_seen: f.last_seen.clone(),
            techniques: f.techniques.clone(),
            explanation: SafeText::new(&f.explanation),
            rationale: f.rationale.clone(),
            entities: f
                .entities
                .iter()
                .map(|e| (e.field.clone(), SafeText::new(&e.value)))
                .collect(),
            evidence: f.evidence.iter().map(|e| SafeText::new(e)).collect(),
            remediation: f.remediation.clone(),
        }
    }
}

/// What changed between two lists of findings: how many are new and the
/// most severe of them (for the status bar).
pub fn news(old: &[FindingRow], new: &[FindingRow]) -> Option<(usize, Severity)> {
    let fresh: Vec<&FindingRow> = new
        .iter()
        .filter(|f| !old.iter().any(|o| o.id == f.id))
        .collect();
    let worst = fresh.iter().map(|f| f.severity).min()?;
    Some((fresh.len(), worst))
}
