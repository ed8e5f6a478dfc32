//! Findings: what a detection or a posture check concluded, with its
//! evidence (`Finding`, as `scan` prints it), and the same made safe to
//! draw (`FindingRow`, as the console, the case and the plan keep it).

use super::{SafeText, Severity};

/// What a detection concluded, with its evidence.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// Stable for the same detection and group (so triage can refer to it).
    pub id: String,
    pub detection: String,
    pub severity: Severity,
    pub title: String,
    pub techniques: Vec<String>,
    pub entities: Vec<Entity>,
    /// Event ids (the first ones, when there are very many).
    pub evidence: Vec<String>,
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub remediation: Vec<String>,
    /// Why it fired, in a sentence.
    pub explanation: String,
    pub rationale: String,
    /// Posture checks: whether the tenant failed the check or it could
    /// not be judged. Absent for findings from events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Outcome>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Entity {
    /// The field it came from (`userPrincipalName`, `ipAddress`, …).
    pub field: String,
    pub value: String,
}

/// A posture check's verdict on the tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Fail,
    Unknown,
    Pass,
}

/// A finding as the console, the case and the plan keep it: every
/// tenant-supplied string made safe to draw.
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
    /// From the posture review of a directory snapshot: `evidence` holds
    /// directory object ids and `last_seen` the snapshot's time.
    pub posture: bool,
}

impl FindingRow {
    pub fn from_finding(f: &Finding) -> Self {
        Self {
            id: f.id.clone(),
            detection: SafeText::new(&f.detection).as_str().to_owned(),
            severity: f.severity,
            // Titles carry indicator values and Sigma rules' own text.
            title: SafeText::new(&f.title).as_str().to_owned(),
            count: f.count,
            first_seen: f.first_seen.clone(),
            last_seen: f.last_seen.clone(),
            techniques: f.techniques.clone(),
            explanation: SafeText::new(&f.explanation),
            rationale: SafeText::new(&f.rationale).as_str().to_owned(),
            entities: f
                .entities
                .iter()
                .map(|e| (e.field.clone(), SafeText::new(&e.value)))
                .collect(),
            evidence: f.evidence.iter().map(|e| SafeText::new(e)).collect(),
            remediation: f.remediation.clone(),
            posture: f.verdict.is_some() || f.detection.starts_with("posture."),
        }
    }
}
