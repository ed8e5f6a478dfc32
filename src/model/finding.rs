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
    /// What the finding is about, for its row: its main entity (a user,
    /// an app, a domain, an address), "and N more" when it has several.
    pub subject: Option<SafeText>,
    pub evidence: Vec<SafeText>,
    pub remediation: Vec<String>,
    /// From the posture review of a directory snapshot: `evidence` holds
    /// directory object ids and `last_seen` the snapshot's time.
    pub posture: bool,
}

/// Entity fields in the order a row names them: the object acted on
/// before the actor, people and apps before addresses.
const SUBJECT_FIELDS: [&str; 17] = [
    "servicePrincipal",
    "targetResources.userPrincipalName",
    "userPrincipalName",
    "user",
    "targetResources.displayName",
    "auditData.ObjectId",
    // The app that acted (a mail read's `AppId` is the API it went
    // through, often Microsoft Graph itself).
    "auditData.ClientAppId",
    "auditData.AppAccessContext.ClientAppId",
    "auditData.MailboxOwnerUPN",
    "appDisplayName",
    "tokenIssuerName",
    "initiatedBy.user.userPrincipalName",
    "initiatedBy.app.displayName",
    "domain",
    "ipAddress",
    "clientIp",
    "network",
];

/// The main entity of a finding: the first of `SUBJECT_FIELDS` it names
/// (else its first entity), with how many more values that field has.
pub fn subject(entities: &[Entity]) -> Option<String> {
    let field = SUBJECT_FIELDS
        .iter()
        .find(|f| {
            entities
                .iter()
                .any(|e| e.field == **f && !e.value.is_empty())
        })
        .copied()
        .or_else(|| entities.first().map(|e| e.field.as_str()))?;
    let values: Vec<&str> = entities
        .iter()
        .filter(|e| e.field == field && !e.value.is_empty())
        .map(|e| e.value.as_str())
        .collect();
    let first = values.first()?;
    Some(match values.len() {
        1 => (*first).to_owned(),
        n => format!("{first} +{}", n - 1),
    })
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
            subject: subject(&f.entities).map(|s| SafeText::new(&s)),
            evidence: f.evidence.iter().map(|e| SafeText::new(e)).collect(),
            remediation: f.remediation.clone(),
            posture: f.verdict.is_some() || f.detection.starts_with("posture."),
        }
    }
}
