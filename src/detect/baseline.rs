//! Detections that need a baseline, which a rule file cannot express:
//! a network (AS number, else address) new to a subject that already has a
//! history from elsewhere.
//!
//! - Forged SAML tokens carry "MFA satisfied by a claim in the token", but
//!   so does every genuine MFA done at AD FS: in a federated tenant that
//!   claim is everyday. What a forged token adds is a network the user's
//!   claims never came from.
//! - A service principal signs in from the same few places day after day
//!   (its own servers, a cloud region); a stolen or added secret used from
//!   the attacker's infrastructure brings a network new to that app.
//!
//! Per subject and network the first and last time, a count and some
//! evidence are kept: a few entries whatever the file size, and the result
//! does not depend on the order events arrive in.

use super::json::Json;
use super::record_id::RecordId;
use std::collections::{BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::event::{Event, Kind, text_at};
use super::{Entity, Finding};
use crate::model::Severity;

/// How long a user's claims must have been seen before a new network
/// counts as new.
const BASELINE: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Sign-in ids a finding lists (its count is exact). Kept per subject and
/// network, this is most of a baseline's memory.
const MAX_EVIDENCE: usize = 50;

/// A factor taken from the token rather than checked by Entra ID: MFA
/// from a federation server (`MFA requirement …`), or the first factor
/// a refresh token carries (`First factor requirement …`), which gives
/// each user's everyday networks.
const CLAIM: &str = "satisfied by claim in the token";

/// Texts that mark the sign-ins the baselines read, and the fields they
/// are in (for the scan's prefilter): the claim, a service principal's
/// sign-in type (or, in Log Analytics rows, its table in the `Type`
/// column), a federation server's token.
pub const READS: super::prefilter::Reads = &[
    (Kind::SignIn, "status", CLAIM),
    (Kind::SignIn, "authenticationDetails", CLAIM),
    (Kind::SignIn, "signInEventTypes", "\"servicePrincipal\""),
    (Kind::SignIn, "Type", "ServicePrincipalSignInLogs"),
    (Kind::SignIn, "tokenIssuerType", "ADFederationServices"),
];

/// Which baseline a fact belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Baseline {
    /// A user's MFA claims in federated tokens.
    Claim,
    /// A service principal's sign-ins.
    ServicePrincipal,
    /// The issuers of the federated tokens the tenant accepts: an issuer
    /// that appears after weeks of others is a federation trust someone
    /// added or changed (an attacker's own `any.sts`).
    TokenIssuer,
}

/// The non-empty text at a path of objects (no arrays), borrowed: these
/// checks run on every sign-in, and most of them say no.
fn str_at<'a>(v: &'a Json, path: &str) -> Option<&'a str> {
    path.split('.')
        .try_fold(v, |v, key| v.get(key))?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Every baseline fact one event gives.
pub fn facts(event: &Event) -> Vec<ClaimFact> {
    let mut out: Vec<ClaimFact> = claim_fact(event).into_iter().collect();
    out.extend(issuer_fact(event));
    out
}

/// A successful sign-in with a token from a federation server.
fn issuer_fact(event: &Event) -> Option<ClaimFact> {
    let v = &event.value;
    if event.kind != Kind::SignIn
        || str_at(v, "tokenIssuerType") != Some("ADFederationServices")
        || v["status"]["errorCode"].as_i64() != Some(0)
    {
        return None;
    }
    let issuer = text_at(v, "tokenIssuerName")?;
    Some(ClaimFact {
        baseline: Baseline::TokenIssuer,
        user: "tenant".into(),
        label: "the tenant".into(),
        network: issuer,
        ip: text_at(v, "ipAddress").unwrap_or_default(),
        time: event.time?,
        id: event.id.clone(),
        mfa: false,
    })
}

/// What a baseline keeps of one sign-in.
#[derive(Clone, Debug)]
pub struct ClaimFact {
    baseline: Baseline,
    /// The user (claims) or the app id (service principals).
    user: String,
    /// A name to show for the subject.
    label: String,
    network: String,
    ip: String,
    time: Timestamp,
    id: String,
    /// The claim was MFA (not a refresh token's first factor).
    mfa: bool,
}

/// The fact of a sign-in that took a factor as a claim in the token, if
/// it is one (otherwise a service principal's sign-in, if it is one).
pub fn claim_fact(event: &Event) -> Option<ClaimFact> {
    if event.kind != Kind::SignIn {
        return None;
    }
    let v = &event.value;
    // Whether the sign-in says it took a factor as a claim, and an MFA one;
    // one look at each text (this runs on every sign-in).
    static FINDERS: std::sync::LazyLock<[memchr::memmem::Finder<'static>; 2]> =
        std::sync::LazyLock::new(|| {
            [CLAIM, crate::model::signin::MFA_BY_CLAIM].map(memchr::memmem::Finder::new)
        });
    let (mut claim, mut mfa) = (false, false);
    for path in [
        "status.additionalDetails",
        "authenticationDetails.authenticationStepResultDetail",
    ] {
        super::event::any_at(v, path, &mut |x| {
            if let Some(text) = x.as_str() {
                claim |= FINDERS[0].find(text.as_bytes()).is_some();
                mfa |= FINDERS[1].find(text.as_bytes()).is_some();
            }
            claim && mfa
        });
    }
    if !claim {
        return service_principal_fact(event);
    }
    let user = text_at(v, "userPrincipalName")?.to_lowercase();
    let ip = text_at(v, "ipAddress").unwrap_or_default();
    let network = match text_at(v, "autonomousSystemNumber") {
        Some(asn) if asn != "0" => format!("AS{asn}"),
        _ if !ip.is_empty() => ip.clone(),
        _ => return None,
    };
    Some(ClaimFact {
        baseline: Baseline::Claim,
        label: user.clone(),
        user,
        network,
        ip,
        time: event.time?,
        id: event.id.clone(),
        mfa,
    })
}

/// The fact of a service principal's successful sign-in (managed
/// identities aside: Azure moves them between its own addresses).
fn service_principal_fact(event: &Event) -> Option<ClaimFact> {
    let v = &event.value;
    let types = v["signInEventTypes"].as_array();
    let is_sp = types.is_some_and(|t| t.iter().any(|x| x == "servicePrincipal"))
        || (types.is_none()
            && str_at(v, "servicePrincipalId").is_some()
            && str_at(v, "userPrincipalName").is_none());
    // Managed identities: by their type, or by the table they came from.
    let managed = str_at(v, "managedServiceIdentity.msiType").is_some_and(|m| m != "none")
        || str_at(v, "type").is_some_and(|t| t.contains("ManagedIdentity"));
    if !is_sp || managed || v["status"]["errorCode"].as_i64() != Some(0) {
        return None;
    }
    let app = text_at(v, "appId")?.to_lowercase();
    let ip = text_at(v, "ipAddress").unwrap_or_default();
    let network = match text_at(v, "autonomousSystemNumber") {
        Some(asn) if asn != "0" => format!("AS{asn}"),
        _ if !ip.is_empty() => ip.clone(),
        _ => return None,
    };
    let label = text_at(v, "servicePrincipalName")
        .or_else(|| text_at(v, "appDisplayName"))
        .map_or_else(|| app.clone(), |name| format!("{name} ({app})"));
    Some(ClaimFact {
        baseline: Baseline::ServicePrincipal,
        user: app,
        label,
        network,
        ip,
        time: event.time?,
        id: event.id.clone(),
        mfa: false,
    })
}

#[derive(Debug, Default)]
struct Network {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    count: u64,
    /// Of `count`, the sign-ins whose claim was MFA.
    mfa: u64,
    /// (not MFA, time, id): MFA claims first, then the earliest.
    evidence: Vec<(bool, Timestamp, RecordId)>,
    ips: BTreeSet<String>,
}

#[derive(Debug, Default)]
pub struct ClaimBaseline {
    users: HashMap<(Baseline, String), Subject, foldhash::fast::RandomState>,
}

#[derive(Debug, Default)]
struct Subject {
    label: String,
    networks: HashMap<String, Network, foldhash::fast::RandomState>,
}

impl ClaimBaseline {
    pub fn add(&mut self, fact: ClaimFact) {
        let subject = self.users.entry((fact.baseline, fact.user)).or_default();
        if subject.label.is_empty() {
            subject.label = fact.label;
        }
        let net = subject.networks.entry(fact.network).or_default();
        net.count += 1;
        net.mfa += u64::from(fact.mfa);
        net.first = Some(net.first.map_or(fact.time, |f| f.min(fact.time)));
        net.last = Some(net.last.map_or(fact.time, |l| l.max(fact.time)));
        net.evidence
            .push((!fact.mfa, fact.time, RecordId::new(fact.id)));
        // The first MAX_EVIDENCE in order, with a little slack so the
        // cut is not made on every push.
        if net.evidence.len() > MAX_EVIDENCE + MAX_EVIDENCE / 4 {
            net.evidence.select_nth_unstable(MAX_EVIDENCE - 1);
            net.evidence.truncate(MAX_EVIDENCE);
        }
        // The first 20 in order, whichever order the workers hand them in.
        net.ips.insert(fact.ip);
        if net.ips.len() > 20 {
            net.ips.pop_last();
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        for ((baseline, subject_key), subject) in &self.users {
            let (user, networks) = (&subject.label, &subject.networks);
            let Some(start) = networks.values().filter_map(|n| n.first).min() else {
                continue;
            };
            for (name, net) in networks {
                let Some(first) = net.first else { continue };
                if first < start + BASELINE {
                    continue;
                }
                // Refresh tokens' claims tell where a user works; only an
                // MFA claim is what a forged token presents.
                if *baseline == Baseline::Claim && net.mfa == 0 {
                    continue;
                }
                // Earliest seen first, so the same input words it the same.
                let mut earlier: Vec<(Timestamp, &str)> = networks
                    .iter()
                    .filter_map(|(k, n)| n.first.filter(|f| *f < first).map(|f| (f, k.as_str())))
                    .collect();
                earlier.sort_unstable();
                let usual: Vec<&str> = earlier.iter().take(5).map(|(_, k)| *k).collect();
                let mut evidence = net.evidence.clone();
                evidence.sort();
                let days = first.duration_since(start).as_hours() / 24;
                let subject_field = match baseline {
                    Baseline::Claim => "userPrincipalName",
                    Baseline::ServicePrincipal => "servicePrincipal",
                    Baseline::TokenIssuer => "tenant",
                };
                let mut entities = vec![
                    Entity {
                        field: subject_field.into(),
                        value: user.clone(),
                    },
                    Entity {
                        field: if *baseline == Baseline::TokenIssuer {
                            "tokenIssuerName".into()
                        } else {
                            "network".into()
                        },
                        value: name.clone(),
                    },
                ];
                if *baseline == Baseline::ServicePrincipal {
                    entities.push(Entity {
                        field: "appId".into(),
                        value: subject_key.clone(),
                    });
                }
                entities.extend(net.ips.iter().map(|ip| Entity {
                    field: "ipAddress".into(),
                    value: ip.clone(),
                }));
                let iso = |t: Timestamp| crate::model::de::graph_time(t);
                let ips = net
                    .ips
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                let usual = if usual.is_empty() {
                    "elsewhere".to_owned()
                } else {
                    usual.join(", ")
                };
                let (detection, title, techniques, remediation, explanation, rationale) =
                    match baseline {
                        Baseline::Claim => (
                            "signin.claim-from-new-network",
                            "MFA claim from a network new to the user (forged SAML token?)",
                            vec!["T1606.002".to_owned(), "T1550.001".to_owned()],
                            vec![
                                "rotate-token-signing-certificate-twice".to_owned(),
                                "revoke-refresh-tokens".to_owned(),
                                "review-federation-trust".to_owned(),
                            ],
                            format!(
                                "{user} presented MFA as a token claim from {name} ({ips}) {} times{}; in the {days} days before, this user's claims came only from {usual}. Check the AD FS servers for matching token issuance (event 1200) for these sign-ins.",
                                net.mfa,
                                match net.count - net.mfa {
                                    0 => String::new(),
                                    n => format!(" (and a refresh token's first factor {n} times)"),
                                },
                            ),
                            "A genuine AD FS MFA claim comes from where the user usually works; a forged token is minted wherever the attacker sits.",
                        ),
                        Baseline::ServicePrincipal => (
                            "signin.service-principal-new-network",
                            "Service principal signed in from a network new to it",
                            vec!["T1078.004".to_owned(), "T1098.001".to_owned()],
                            vec![
                                "remove-added-credentials".to_owned(),
                                "review-app-permissions".to_owned(),
                            ],
                            format!(
                                "First sign-in of the service principal {user} from {name} ({ips}) in {days} days: {} sign-ins from it since {}; before, it signed in only from {usual}.",
                                net.count,
                                iso(first),
                            ),
                            "An app signs in from its own servers; a secret or certificate stolen or added by an attacker is used from theirs.",
                        ),
                        Baseline::TokenIssuer => (
                            "signin.new-token-issuer",
                            "Federated tokens from an issuer new to the tenant",
                            vec!["T1484.002".to_owned(), "T1606.002".to_owned()],
                            vec![
                                "review-federation-trust".to_owned(),
                                "rotate-token-signing-certificate-twice".to_owned(),
                            ],
                            format!(
                                "Tokens issued by {name} were accepted {} times since {} (from {ips}); in the {days} days before, federated tokens came only from {usual}.",
                                net.count,
                                iso(first),
                            ),
                            "A federation issuer the tenant never trusted before is a domain someone federated or re-pointed: whoever holds that issuer's key signs in as any user of the domain.",
                        ),
                    };
                let severity = match baseline {
                    // A new issuer is a trust change, not a traveller.
                    Baseline::TokenIssuer => Severity::High,
                    _ => Severity::Medium,
                };
                out.push(Finding {
                    id: super::finding_id(detection, &format!("{subject_key}\u{1f}{name}")),
                    detection: detection.into(),
                    // A new network alone is a lead, not proof (people travel,
                    // apps move); the joins and the AD FS logs settle it.
                    severity,
                    title: title.into(),
                    techniques,
                    entities,
                    evidence: evidence
                        .into_iter()
                        .take(MAX_EVIDENCE)
                        .map(|(_, _, id)| id.text())
                        .collect(),
                    count: net.count,
                    first_seen: Some(iso(first)),
                    last_seen: net.last.map(iso),
                    remediation,
                    explanation,
                    rationale: rationale.into(),
                    verdict: None,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn federated(id: &str, day: u32, issuer: &str) -> Event<'static> {
        let value = json!({
            "id": id, "createdDateTime": format!("2026-11-{day:02}T10:00:00Z"),
            "userPrincipalName": "a@contoso.com", "ipAddress": "198.51.100.7",
            "tokenIssuerType": "ADFederationServices", "tokenIssuerName": issuer,
            "status": {"errorCode": 0},
        });
        Event::new(value, || id.into()).unwrap()
    }

    fn findings(events: &[Event]) -> Vec<Finding> {
        let mut baseline = ClaimBaseline::default();
        for e in events {
            for fact in facts(e) {
                baseline.add(fact);
            }
        }
        baseline.findings()
    }

    #[test]
    fn an_issuer_new_after_weeks_of_another_is_called_out() {
        let mut events: Vec<Event> = (1..=20)
            .map(|d| {
                federated(
                    &format!("s{d}"),
                    d,
                    "http://sts.contoso.com/adfs/services/trust",
                )
            })
            .collect();
        assert!(findings(&events).is_empty(), "one issuer is the baseline");
        events.push(federated("x1", 22, "http://any.sts/B2A4F1C7"));
        let found = findings(&events);
        let issuer = found
            .iter()
            .find(|f| f.detection == "signin.new-token-issuer")
            .expect("the new issuer");
        assert_eq!(issuer.severity, Severity::High);
        assert!(
            issuer.explanation.contains("any.sts"),
            "{}",
            issuer.explanation
        );
        assert!(
            issuer.explanation.contains("sts.contoso.com"),
            "{}",
            issuer.explanation
        );
        assert_eq!(issuer.evidence, vec!["x1"]);
    }

    fn claim(id: &str, day: u32, asn: u32, detail: &str) -> Event<'static> {
        let value = json!({
            "id": id, "createdDateTime": format!("2026-11-{day:02}T10:00:00Z"),
            "userPrincipalName": "a@contoso.com", "ipAddress": format!("192.0.2.{asn}"),
            "autonomousSystemNumber": asn, "status": {"errorCode": 0},
            "authenticationDetails": [{"authenticationStepResultDetail": detail}],
        });
        Event::new(value, || id.into()).unwrap()
    }

    const FIRST: &str = "First factor requirement satisfied by claim in the token";
    const MFA: &str = "MFA requirement satisfied by claim in the token";

    #[test]
    fn only_an_mfa_claim_from_a_new_network_is_called_out() {
        // Three weeks of refresh tokens from the office: the baseline.
        let mut events: Vec<Event> = (1..=20)
            .map(|d| claim(&format!("r{d}"), d, 64500, FIRST))
            .collect();
        // The user's phone, on a new network, refreshing tokens: everyday.
        events.push(claim("p1", 22, 64501, FIRST));
        events.push(claim("p2", 23, 64501, FIRST));
        assert!(findings(&events).is_empty(), "{:?}", findings(&events));
        // A token claiming MFA from yet another network: a forgery's mark.
        events.push(claim("x1", 24, 64666, MFA));
        events.push(claim("x2", 24, 64666, FIRST));
        let found = findings(&events);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].detection, "signin.claim-from-new-network");
        assert_eq!(found[0].evidence, vec!["x1", "x2"]);
        let says = &found[0].explanation;
        assert!(says.contains("AS64666"), "{says}");
        assert!(
            says.contains("1 times (and a refresh token's first factor 1 times)"),
            "{says}"
        );
        assert!(says.contains("AS64500"), "{says}");
    }
}
