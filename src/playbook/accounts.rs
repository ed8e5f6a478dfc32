//! Which accounts the plan acts on, and why: accounts with evidence of
//! compromise, accounts the attacker made or promoted, and the emergency
//! access accounts it spares unless their own activity shows them taken.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::model::Severity;
use crate::model::finding::FindingRow;

/// Findings about an account's own sign-ins or tokens: the account itself
/// is in the attacker's hands.
const OWN_ACTIVITY: &[&str] = &[
    "signin.claim-from-new-network",
    "signin.rotated-key-in-use",
    "signin.high-risk",
    "infra.attacker-infrastructure",
    "onprem.forged-token",
    "onprem.forged-token-unknown-user",
    "onprem.forged-token-uncovered",
    "onprem.forged-token-other-client",
];

/// Identity Protection's detections about a user (`risk.user.*`): its own
/// sign-ins or tokens too, by Microsoft's judgement.
const USER_RISK: &str = "risk.user.";

/// Findings whose target account was made, or made powerful, by their
/// initiator.
const MADE: &[(&str, Made)] = &[
    ("audit.user-created", Made::Created),
    ("audit.privileged-role-member-added", Made::Promoted),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Made {
    Created,
    Promoted,
}

/// Why the plan holds an account compromised.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// Its own sign-ins, tokens or activity from attacker infrastructure,
    /// or a finding about it the team confirmed.
    pub own: Vec<String>,
    /// High or critical changes it made.
    pub initiated: Vec<String>,
    /// Made or promoted by a compromised account: the findings that say so.
    pub made: Vec<(Made, String)>,
}

impl Evidence {
    pub fn findings(&self) -> Vec<String> {
        let mut all: Vec<String> = self.own.clone();
        all.extend(self.initiated.iter().cloned());
        all.extend(self.made.iter().map(|(_, f)| f.clone()));
        all.sort();
        all.dedup();
        all
    }
}

/// The accounts a set of findings shows compromised, by lower-cased user
/// principal name. `confirmed` are finding ids the team triaged confirmed;
/// an `emergency` account's changes alone do not make what it created the
/// attacker's.
pub fn compromised(
    findings: &[FindingRow],
    confirmed: &BTreeSet<String>,
    emergency: &BTreeSet<String>,
) -> BTreeMap<String, Evidence> {
    let mut out: BTreeMap<String, Evidence> = BTreeMap::new();
    let users = |f: &FindingRow, field: &str| -> Vec<String> {
        f.entities
            .iter()
            .filter(|(k, v)| k == field && v.as_str().contains('@'))
            .map(|(_, v)| v.as_str().to_lowercase())
            .collect()
    };
    for f in findings.iter().filter(|f| !f.posture) {
        let severe = f.severity <= Severity::Medium;
        let own =
            OWN_ACTIVITY.contains(&f.detection.as_str()) || f.detection.starts_with(USER_RISK);
        if (own && severe) || confirmed.contains(&f.id) {
            let mut who = users(f, "userPrincipalName");
            if confirmed.contains(&f.id) {
                who.extend(users(f, "targetResources.userPrincipalName"));
            }
            for user in who {
                push(&mut out.entry(user).or_default().own, &f.id);
            }
        }
        if f.severity <= Severity::High {
            for user in users(f, "initiatedBy.user.userPrincipalName") {
                push(&mut out.entry(user).or_default().initiated, &f.id);
            }
        }
    }
    // Accounts a compromised account created or promoted; they in turn may
    // have made others, so until nothing changes.
    loop {
        let mut added = false;
        for f in findings {
            let Some((_, made)) = MADE.iter().find(|(d, _)| *d == f.detection) else {
                continue;
            };
            let by_attacker = users(f, "initiatedBy.user.userPrincipalName")
                .iter()
                .any(|u| out.get(u).is_some_and(|e| !spared(u, emergency, Some(e))));
            if !by_attacker {
                continue;
            }
            for user in users(f, "targetResources.userPrincipalName") {
                let evidence = out.entry(user).or_default();
                if !evidence.made.iter().any(|(m, id)| m == made && id == &f.id) {
                    evidence.made.push((*made, f.id.clone()));
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
    out
}

fn push(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|x| x == id) {
        list.push(id.to_owned());
    }
}

/// An emergency account is spared unless its own activity or the team's
/// confirmation shows it taken, or the attacker made it.
pub fn spared(user: &str, emergency: &BTreeSet<String>, evidence: Option<&Evidence>) -> bool {
    emergency.contains(user) && evidence.is_none_or(|e| e.own.is_empty() && e.made.is_empty())
}

/// A break-glass name: `breakglass`, `break-glass`, `emergency`, `bg-…`
/// in the local part. Named accounts are spared too when no snapshot says
/// which accounts the tenant keeps for emergencies.
pub fn named_like_emergency(user: &str) -> bool {
    let local = user.split('@').next().unwrap_or("").to_lowercase();
    let squashed: String = local
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    squashed.contains("breakglass")
        || squashed.contains("emergency")
        || local.starts_with("bg-")
        || local.starts_with("bg_")
}

/// Every user principal name findings name, lower-cased.
pub fn named_users(findings: &[FindingRow]) -> BTreeSet<String> {
    findings
        .iter()
        .flat_map(|f| f.entities.iter())
        .filter(|(k, v)| k.ends_with("serPrincipalName") && v.as_str().contains('@'))
        .map(|(_, v)| v.as_str().to_lowercase())
        .collect()
}

/// Verdicts by finding id → the ids confirmed.
pub fn confirmed(verdicts: &HashMap<String, String>) -> BTreeSet<String> {
    verdicts
        .iter()
        .filter(|(_, state)| state.as_str() == "confirmed")
        .map(|(id, _)| id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SafeText;

    fn finding(
        id: &str,
        detection: &str,
        severity: Severity,
        entities: &[(&str, &str)],
    ) -> FindingRow {
        FindingRow {
            id: id.into(),
            detection: detection.into(),
            severity,
            entities: entities
                .iter()
                .map(|(k, v)| (k.to_string(), SafeText::new(v)))
                .collect(),
            title: String::new(),
            count: 1,
            first_seen: None,
            last_seen: None,
            techniques: Vec::new(),
            explanation: SafeText::default(),
            rationale: String::new(),
            subject: None,
            evidence: Vec::new(),
            remediation: Vec::new(),
            posture: false,
        }
    }

    #[test]
    fn the_attacker_the_accounts_it_made_and_the_spared_emergency_account() {
        let findings = [
            finding(
                "fed-bg",
                "audit.federation-changed",
                Severity::Critical,
                &[(
                    "initiatedBy.user.userPrincipalName",
                    "BG-admin01@contoso.com",
                )],
            ),
            finding(
                "claim",
                "signin.claim-from-new-network",
                Severity::Medium,
                &[("userPrincipalName", "megan@contoso.com")],
            ),
            finding(
                "made",
                "audit.user-created",
                Severity::Low,
                &[
                    ("initiatedBy.user.userPrincipalName", "megan@contoso.com"),
                    ("targetResources.userPrincipalName", "svc@contoso.com"),
                ],
            ),
            finding(
                "promoted",
                "audit.privileged-role-member-added",
                Severity::High,
                &[
                    ("initiatedBy.user.userPrincipalName", "svc@contoso.com"),
                    ("targetResources.userPrincipalName", "svc2@contoso.com"),
                ],
            ),
            // Made by the emergency account, whose own activity is clean.
            finding(
                "bg-made",
                "audit.user-created",
                Severity::Low,
                &[
                    (
                        "initiatedBy.user.userPrincipalName",
                        "bg-admin01@contoso.com",
                    ),
                    ("targetResources.userPrincipalName", "helpdesk2@contoso.com"),
                ],
            ),
            finding(
                "hr",
                "audit.user-created",
                Severity::Low,
                &[
                    ("initiatedBy.user.userPrincipalName", "hr@contoso.com"),
                    ("targetResources.userPrincipalName", "new.hire@contoso.com"),
                ],
            ),
        ];
        let emergency = BTreeSet::from(["bg-admin01@contoso.com".to_owned()]);
        let got = compromised(&findings, &BTreeSet::new(), &emergency);
        assert_eq!(got["megan@contoso.com"].own, ["claim"]);
        assert_eq!(
            got["svc@contoso.com"].made,
            [(Made::Created, "made".to_owned())]
        );
        // Made by an account the attacker made.
        assert_eq!(
            got["svc2@contoso.com"].made,
            [(Made::Promoted, "promoted".to_owned())]
        );
        assert!(!got.contains_key("new.hire@contoso.com"));
        assert!(!got.contains_key("helpdesk2@contoso.com"));
        assert!(spared(
            "bg-admin01@contoso.com",
            &emergency,
            got.get("bg-admin01@contoso.com")
        ));
        // Confirmed by the team: no longer spared.
        let confirmed = BTreeSet::from(["fed-bg".to_owned()]);
        let findings = [finding(
            "fed-bg",
            "signin.high-risk",
            Severity::High,
            &[("userPrincipalName", "bg-admin01@contoso.com")],
        )];
        let got = compromised(&findings, &confirmed, &emergency);
        assert!(!spared(
            "bg-admin01@contoso.com",
            &emergency,
            got.get("bg-admin01@contoso.com")
        ));
    }

    #[test]
    fn break_glass_names() {
        for name in [
            "bg-admin01@contoso.com",
            "BreakGlass2@x.onmicrosoft.com",
            "break.glass@x",
            "emergency-access@x",
        ] {
            assert!(named_like_emergency(name), "{name}");
        }
        for name in ["megan.bowen@contoso.com", "bgates@x", "svc-adsync-backup@x"] {
            assert!(!named_like_emergency(name), "{name}");
        }
    }
}
