//! Detections that need a baseline, which a rule file cannot express.
//!
//! Forged SAML tokens carry "MFA satisfied by a claim in the token", but so
//! does every genuine MFA done at AD FS: in a federated tenant that claim is
//! everyday. What a forged token adds is a network the user's claims never
//! came from. This keeps, per user and network (AS number, else address),
//! the first time a claim arrived from it, and calls out networks that first
//! appear after the user already had a week of claims from elsewhere. The
//! state is a few entries per user and network, whatever the file size, and
//! the result does not depend on the order events arrive in.

use std::collections::{BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::event::{Event, Kind, text_at};
use super::{Entity, Finding};
use crate::model::Severity;

/// How long a user's claims must have been seen before a new network
/// counts as new.
const BASELINE: SignedDuration = SignedDuration::from_hours(7 * 24);
const MAX_EVIDENCE: usize = 200;

/// What the baseline keeps of one sign-in.
#[derive(Clone, Debug)]
pub struct ClaimFact {
    user: String,
    network: String,
    ip: String,
    time: Timestamp,
    id: String,
}

/// The fact of a sign-in whose MFA was a claim in the token, if it is one.
pub fn claim_fact(event: &Event) -> Option<ClaimFact> {
    if event.kind != Kind::SignIn {
        return None;
    }
    let v = &event.value;
    let claim = |path: &str| {
        let mut found = Vec::new();
        super::event::values_at(v, path, &mut found);
        found.iter().any(|x| {
            x.as_str()
                .is_some_and(|s| s.contains("satisfied by claim in the token"))
        })
    };
    if !(claim("status.additionalDetails")
        || claim("authenticationDetails.authenticationStepResultDetail"))
    {
        return None;
    }
    let user = text_at(v, "userPrincipalName")?.to_lowercase();
    let ip = text_at(v, "ipAddress").unwrap_or_default();
    let network = match text_at(v, "autonomousSystemNumber") {
        Some(asn) if asn != "0" => format!("AS{asn}"),
        _ if !ip.is_empty() => ip.clone(),
        _ => return None,
    };
    Some(ClaimFact {
        user,
        network,
        ip,
        time: event.time?,
        id: event.id.clone(),
    })
}

#[derive(Debug, Default)]
struct Network {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    count: u64,
    evidence: Vec<(Timestamp, String)>,
    ips: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct ClaimBaseline {
    users: HashMap<String, HashMap<String, Network>>,
}

impl ClaimBaseline {
    pub fn add(&mut self, fact: ClaimFact) {
        let net = self
            .users
            .entry(fact.user)
            .or_default()
            .entry(fact.network)
            .or_default();
        net.count += 1;
        net.first = Some(net.first.map_or(fact.time, |f| f.min(fact.time)));
        net.last = Some(net.last.map_or(fact.time, |l| l.max(fact.time)));
        net.evidence.push((fact.time, fact.id));
        if net.evidence.len() >= 2 * MAX_EVIDENCE {
            net.evidence.sort();
            net.evidence.truncate(MAX_EVIDENCE);
        }
        if net.ips.len() < 20 {
            net.ips.insert(fact.ip);
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for (user, networks) in &self.users {
            let Some(start) = networks.values().filter_map(|n| n.first).min() else {
                continue;
            };
            for (name, net) in networks {
                let Some(first) = net.first else { continue };
                if first < start + BASELINE {
                    continue;
                }
                let usual: Vec<&str> = networks
                    .iter()
                    .filter(|(_, n)| n.first.is_some_and(|f| f < first))
                    .map(|(k, _)| k.as_str())
                    .take(5)
                    .collect();
                let mut evidence = net.evidence.clone();
                evidence.sort();
                let days = first.duration_since(start).as_hours() / 24;
                let mut entities = vec![
                    Entity {
                        field: "userPrincipalName".into(),
                        value: user.clone(),
                    },
                    Entity {
                        field: "network".into(),
                        value: name.clone(),
                    },
                ];
                entities.extend(net.ips.iter().map(|ip| Entity {
                    field: "ipAddress".into(),
                    value: ip.clone(),
                }));
                let iso = |t: Timestamp| crate::model::de::graph_time(t);
                out.push(Finding {
                    id: super::finding_id("signin.claim-from-new-network", &format!("{user}\u{1f}{name}")),
                    detection: "signin.claim-from-new-network".into(),
                    // A new network alone is a lead, not proof (people travel);
                    // the AD FS issuance join settles it.
                    severity: Severity::Medium,
                    title: "MFA claim from a network new to the user (forged SAML token?)".into(),
                    techniques: vec!["T1606.002".into(), "T1550.001".into()],
                    entities,
                    evidence: evidence.into_iter().take(MAX_EVIDENCE).map(|(_, id)| id).collect(),
                    count: net.count,
                    first_seen: Some(iso(first)),
                    last_seen: net.last.map(iso),
                    remediation: vec![
                        "rotate-token-signing-certificate-twice".into(),
                        "revoke-refresh-tokens".into(),
                        "review-federation-trust".into(),
                    ],
                    explanation: format!(
                        "{user} presented MFA as a token claim from {name} ({}) {} times; in the {days} days before, this user's claims came only from {}. Check the AD FS servers for matching token issuance (event 1200) for these sign-ins.",
                        net.ips.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                        net.count,
                        if usual.is_empty() { "elsewhere".to_owned() } else { usual.join(", ") }
                    ),
                    rationale: "A genuine AD FS MFA claim comes from where the user usually works; a forged token is minted wherever the attacker sits.".into(),
                });
            }
        }
        out
    }
}
