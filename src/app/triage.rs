//! Triage of findings as the case journal records it: a verdict per
//! finding (with reason and owner), and suppressions that set aside every
//! finding of one detection about one entity. Plain data rebuilt from the
//! journal's records, so it survives restarts.

use std::collections::HashMap;

use super::findings::FindingRow;
use crate::case::record::{Body, Record};
use crate::model::SafeText;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verdict {
    #[default]
    New,
    Investigating,
    Confirmed,
    Benign,
    FalsePositive,
}

impl Verdict {
    pub const ALL: [Verdict; 5] = [
        Verdict::New,
        Verdict::Investigating,
        Verdict::Confirmed,
        Verdict::Benign,
        Verdict::FalsePositive,
    ];

    /// The word in the journal and on the triage line.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::New => "new",
            Verdict::Investigating => "investigating",
            Verdict::Confirmed => "confirmed",
            Verdict::Benign => "benign",
            Verdict::FalsePositive => "false-positive",
        }
    }

    /// Four letters for the findings list.
    pub fn badge(self) -> &'static str {
        match self {
            Verdict::New => "NEW ",
            Verdict::Investigating => "INV ",
            Verdict::Confirmed => "CONF",
            Verdict::Benign => "BNGN",
            Verdict::FalsePositive => "FP  ",
        }
    }

    pub fn parse(word: &str) -> Option<Verdict> {
        let word = word.to_ascii_lowercase();
        let word = match word.as_str() {
            "fp" | "false_positive" | "falsepositive" => "false-positive",
            "inv" => "investigating",
            "conf" => "confirmed",
            other => other,
        };
        Verdict::ALL.into_iter().find(|v| v.name() == word)
    }
}

/// The latest decision on one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    pub reason: SafeText,
    pub owner: SafeText,
    /// Who recorded it, and when (RFC 3339).
    pub by: SafeText,
    pub time: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    pub detection: String,
    pub field: String,
    pub value: String,
    pub reason: SafeText,
    pub by: SafeText,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TriageBook {
    decisions: HashMap<String, Decision>,
    suppressions: Vec<Suppression>,
    /// The team's writes to the tenant (journal action records).
    own_writes: Vec<crate::detect::own::OwnWrite>,
}

impl TriageBook {
    /// Takes in one journal record; `true` when it was about triage.
    pub fn apply(&mut self, record: &Record) -> bool {
        match &record.body {
            Body::Triage {
                finding,
                state,
                reason,
                owner,
                ..
            } => {
                let decision = Decision {
                    // A verdict a newer warroom wrote reads as investigating.
                    verdict: Verdict::parse(state).unwrap_or(Verdict::Investigating),
                    reason: SafeText::new(reason),
                    owner: SafeText::new(owner),
                    by: SafeText::new(&record.author),
                    time: record.time.clone(),
                };
                self.decisions.insert(finding.clone(), decision);
                true
            }
            // Kept for the detections, not a triage decision: no toast.
            Body::Action { .. } => {
                self.own_writes.extend(crate::watch::own_write(record));
                false
            }
            Body::Suppress {
                detection,
                field,
                value,
                reason,
            } => {
                self.suppressions.push(Suppression {
                    detection: detection.clone(),
                    field: field.clone(),
                    value: value.clone(),
                    reason: SafeText::new(reason),
                    by: SafeText::new(&record.author),
                });
                true
            }
            _ => false,
        }
    }

    /// Every decision, finding id to verdict word, for the detections
    /// (attacker infrastructure follows what the team decided).
    /// The team's own writes to the tenant, from the journal.
    pub fn own_writes(&self) -> &[crate::detect::own::OwnWrite] {
        &self.own_writes
    }

    pub fn verdicts(&self) -> HashMap<String, String> {
        self.decisions
            .iter()
            .map(|(id, d)| (id.clone(), d.verdict.name().to_owned()))
            .collect()
    }

    pub fn decision(&self, finding: &str) -> Option<&Decision> {
        self.decisions.get(finding)
    }

    pub fn verdict(&self, finding: &str) -> Verdict {
        self.decision(finding).map_or(Verdict::New, |d| d.verdict)
    }

    /// The suppression that covers this finding, if any.
    pub fn suppressed(&self, finding: &FindingRow) -> Option<&Suppression> {
        self.suppressions.iter().find(|s| {
            s.detection == finding.detection
                && finding
                    .entities
                    .iter()
                    .any(|(field, value)| *field == s.field && value.as_str() == s.value)
        })
    }

    /// The latest decision on every finding that has one.
    pub fn decisions(&self) -> impl Iterator<Item = (&String, &Decision)> {
        self.decisions.iter()
    }

    pub fn suppression_count(&self) -> usize {
        self.suppressions.len()
    }
}

/// Reads `STATE [@OWNER] [REASON…]`. Benign and false positive need a
/// reason: they end the investigation of that finding.
pub fn parse_line(text: &str) -> Result<crate::model::decision::Decision<Verdict>, String> {
    let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.name()).collect();
    crate::model::decision::parse(text, &names, Verdict::parse, |v| {
        matches!(v, Verdict::Benign | Verdict::FalsePositive).then(|| v.name())
    })
}

/// Completions for the triage line's first word.
pub fn complete(text: &str) -> Vec<String> {
    let names: Vec<&str> = Verdict::ALL.iter().map(|v| v.name()).collect();
    crate::model::decision::complete(text, &names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: Body) -> Record {
        Record {
            id: "r".into(),
            time: "2026-11-25T12:00:00Z".into(),
            author: "alice@jump".into(),
            body,
        }
    }

    #[test]
    fn the_latest_decision_wins_and_suppressions_match_detection_and_entity() {
        let mut book = TriageBook::default();
        for state in ["investigating", "confirmed"] {
            assert!(book.apply(&record(Body::Triage {
                finding: "f1".into(),
                detection: "d".into(),
                state: state.into(),
                reason: "forged".into(),
                owner: "bob".into(),
            })));
        }
        assert_eq!(book.verdict("f1"), Verdict::Confirmed);
        assert_eq!(book.verdict("f2"), Verdict::New);
        book.apply(&record(Body::Suppress {
            detection: "d".into(),
            field: "ipAddress".into(),
            value: "10.0.0.1".into(),
            reason: "scanner".into(),
        }));
        let finding = FindingRow {
            id: "f3".into(),
            detection: "d".into(),
            severity: crate::model::Severity::Low,
            title: String::new(),
            count: 1,
            first_seen: None,
            last_seen: None,
            techniques: vec![],
            explanation: SafeText::default(),
            rationale: String::new(),
            entities: vec![("ipAddress".into(), SafeText::new("10.0.0.1"))],
            subject: None,
            evidence: vec![],
            remediation: vec![],
            posture: false,
        };
        assert!(book.suppressed(&finding).is_some());
    }

    #[test]
    fn the_triage_line_reads_state_owner_and_reason() {
        let line = parse_line("confirmed @carol forged token from AS64511").unwrap();
        assert_eq!(line.state, Verdict::Confirmed);
        assert_eq!(line.owner, "carol");
        assert_eq!(line.reason, "forged token from AS64511");
        assert_eq!(
            parse_line("fp @x scanner").unwrap().state,
            Verdict::FalsePositive
        );
        assert!(parse_line("benign").unwrap_err().contains("say why"));
        assert!(parse_line("maybe").unwrap_err().contains("no state"));
        assert_eq!(complete("con"), vec!["confirmed ".to_string()]);
    }
}
