//! The forged-token proof: a federated cloud sign-in for which the AD FS
//! servers logged no token issuance is a token AD FS never minted. Entra
//! ID's sign-in log names the federation issuer; the AD FS Security log
//! records every token it issues (events 1200 and 1202). A sign-in with no
//! issuance for its user near its time, inside the time the AD FS logs
//! cover, is a forgery; one outside that time is said to be unjudged, never
//! passed.
//!
//! Facts are kept small and joined when findings are asked for, so the
//! cloud and on-premises files may come in any order.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::event::{Event, Kind, text_at};
use super::{Entity, Finding};
use crate::model::Severity;

/// How far apart a token's issuance and its use may be (clock skew
/// between the AD FS farm and Entra ID included).
const WITHIN_SECS: i64 = 10 * 60;

/// Texts every record the join reads contains (for the scan's prefilter).
pub const LITERALS: &[&str] = &["ADFederationServices", "1200", "1202"];

#[derive(Clone, Debug)]
pub enum Fact {
    /// A successful interactive sign-in with a token from a federation
    /// server.
    FederatedSignIn {
        user: String,
        upn: String,
        time: i64,
        id: String,
        ip: String,
    },
    /// AD FS issued a token (1200, 1202) to this user at this time.
    Issuance { user: String, time: i64 },
}

/// The account part of a name, as both sides can write it:
/// `megan.bowen@contoso.com` and `CONTOSO\megan.bowen` are `megan.bowen`.
fn account(name: &str) -> String {
    let name = name.trim();
    let name = name.rsplit('\\').next().unwrap_or(name);
    let name = name.split('@').next().unwrap_or(name);
    name.to_lowercase()
}

/// The user an AD FS audit names: a field of its own, or the `UserId` of
/// the audit XML it carries as text.
fn adfs_user(v: &serde_json::Value) -> Option<String> {
    for field in [
        "UserId",
        "UserID",
        "Upn",
        "UPN",
        "userPrincipalName",
        "AccountName",
    ] {
        if let Some(text) = v.get(field).and_then(serde_json::Value::as_str)
            && !text.trim().is_empty()
            && text.trim() != "-"
        {
            return Some(text.trim().to_owned());
        }
    }
    for field in ["Message", "EventData", "EventData_string", "XmlPayload"] {
        if let Some(text) = v.get(field).and_then(serde_json::Value::as_str)
            && let Some(start) = text.find("<UserId>")
        {
            let rest = &text[start + "<UserId>".len()..];
            if let Some(end) = rest.find("</UserId>") {
                return Some(rest[..end].trim().to_owned());
            }
        }
    }
    None
}

/// What one event tells the join, if anything.
pub fn fact(event: &Event) -> Option<Fact> {
    let v = &event.value;
    let time = event.time?.as_second();
    match event.kind {
        Kind::SignIn => {
            let issuer = v.get("tokenIssuerType")?.as_str()?;
            if !issuer.eq_ignore_ascii_case("ADFederationServices") {
                return None;
            }
            let ok = v
                .pointer("/status/errorCode")
                .is_some_and(|c| c.as_i64() == Some(0) || c.as_str() == Some("0"));
            // Refresh-token sign-ins reuse a session; only interactive
            // ones present a token the federation server just issued.
            let interactive = match v.get("isInteractive").and_then(serde_json::Value::as_bool) {
                Some(b) => b,
                None => text_at(v, "signInEventTypes")
                    .is_none_or(|t| t.eq_ignore_ascii_case("interactiveUser")),
            };
            if !ok || !interactive {
                return None;
            }
            let upn = v.get("userPrincipalName")?.as_str()?.to_owned();
            Some(Fact::FederatedSignIn {
                user: account(&upn),
                upn,
                time,
                id: event.id.clone(),
                ip: v["ipAddress"].as_str().unwrap_or("").to_owned(),
            })
        }
        Kind::WindowsEvent => {
            let id = v.get("EventID")?.as_u64()?;
            if id != 1200 && id != 1202 {
                return None;
            }
            Some(Fact::Issuance {
                user: account(&adfs_user(v)?),
                time,
            })
        }
        _ => None,
    }
}

/// One user's sign-ins no issuance matches.
struct Orphans {
    upn: String,
    count: u64,
    first: i64,
    last: i64,
    ids: Vec<String>,
    ips: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Forged {
    signins: Vec<(String, String, i64, String, String)>,
    /// Issuance times by account, sorted when joined.
    issued: BTreeMap<String, Vec<i64>>,
    first_issue: Option<i64>,
    last_issue: Option<i64>,
}

impl Forged {
    pub fn add(&mut self, fact: Fact) {
        match fact {
            Fact::FederatedSignIn {
                user,
                upn,
                time,
                id,
                ip,
            } => self.signins.push((user, upn, time, id, ip)),
            Fact::Issuance { user, time } => {
                self.issued.entry(user).or_default().push(time);
                self.first_issue = Some(self.first_issue.map_or(time, |f| f.min(time)));
                self.last_issue = Some(self.last_issue.map_or(time, |l| l.max(time)));
            }
        }
    }

    /// Orphan sign-ins per user (critical), and the sign-ins the AD FS
    /// logs do not cover (said, not passed). Nothing when no AD FS
    /// issuance was read at all: there is nothing to join with.
    pub fn findings(&self) -> Vec<Finding> {
        let (Some(from), Some(to)) = (self.first_issue, self.last_issue) else {
            return Vec::new();
        };
        let mut issued = self.issued.clone();
        for times in issued.values_mut() {
            times.sort_unstable();
        }
        let near = |times: &Vec<i64>, t: i64| {
            let at = times.partition_point(|x| *x < t - WITHIN_SECS);
            times.get(at).is_some_and(|x| *x <= t + WITHIN_SECS)
        };
        let iso = |t: i64| {
            Timestamp::from_second(t)
                .ok()
                .map(crate::model::de::graph_time)
        };
        let mut orphans: BTreeMap<&str, Orphans> = BTreeMap::new();
        let mut uncovered = 0u64;
        let (mut first_out, mut last_out) = (i64::MAX, i64::MIN);
        for (user, upn, time, id, ip) in &self.signins {
            if *time < from - WITHIN_SECS || *time > to + WITHIN_SECS {
                uncovered += 1;
                first_out = first_out.min(*time);
                last_out = last_out.max(*time);
                continue;
            }
            if issued.get(user).is_some_and(|times| near(times, *time)) {
                continue;
            }
            let entry = orphans.entry(user.as_str()).or_insert_with(|| Orphans {
                upn: upn.clone(),
                count: 0,
                first: *time,
                last: *time,
                ids: Vec::new(),
                ips: Vec::new(),
            });
            entry.count += 1;
            entry.first = entry.first.min(*time);
            entry.last = entry.last.max(*time);
            if entry.ids.len() < 50 {
                entry.ids.push(id.clone());
            }
            if !ip.is_empty() && !entry.ips.contains(ip) && entry.ips.len() < 10 {
                entry.ips.push(ip.clone());
            }
        }
        let window = format!(
            "{} to {}",
            iso(from).unwrap_or_default(),
            iso(to).unwrap_or_default()
        );
        let mut out = Vec::new();
        for (
            user,
            Orphans {
                upn,
                count,
                first,
                last,
                ids,
                ips,
            },
        ) in orphans
        {
            let mut entities = vec![Entity {
                field: "userPrincipalName".into(),
                value: upn.clone(),
            }];
            entities.extend(ips.iter().map(|ip| Entity {
                field: "ipAddress".into(),
                value: ip.clone(),
            }));
            out.push(Finding {
                id: super::finding_id("onprem.forged-token", user),
                detection: "onprem.forged-token".into(),
                severity: Severity::Critical,
                title: "Federated sign-in with a token AD FS never issued".into(),
                techniques: vec!["T1606.002".into()],
                entities,
                evidence: ids,
                count,
                first_seen: iso(first),
                last_seen: iso(last),
                remediation: [
                    "revoke-sessions",
                    "rotate-token-signing-certificate-twice",
                    "remove-trust",
                    "review-federation-trust",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                explanation: format!(
                    "{count} federated sign-in(s) of {upn} from {} were never issued by the AD FS servers: no token issuance (1200/1202) for {user} within {} minutes of each, although the AD FS logs cover {window}. These tokens were forged (orphan sign-ins).",
                    if ips.is_empty() { "unknown addresses".to_owned() } else { ips.join(", ") },
                    WITHIN_SECS / 60
                ),
                rationale: "AD FS logs every token it issues. A federated sign-in Entra ID accepted with no matching issuance was signed by someone else holding the token-signing key: a Golden SAML token.".into(),
                verdict: None,
            });
        }
        if uncovered > 0 {
            out.push(Finding {
                id: super::finding_id("onprem.forged-token-uncovered", ""),
                detection: "onprem.forged-token-uncovered".into(),
                severity: Severity::Medium,
                title: "Federated sign-ins the AD FS logs do not cover".into(),
                techniques: vec!["T1606.002".into()],
                entities: Vec::new(),
                evidence: Vec::new(),
                count: uncovered,
                first_seen: iso(first_out),
                last_seen: iso(last_out),
                remediation: vec!["collect-logs".into()],
                explanation: format!(
                    "{uncovered} federated sign-in(s) fall outside the time the AD FS logs cover ({window}); whether AD FS issued their tokens cannot be told. Collect the AD FS Security logs of every farm server for that time."
                ),
                rationale: "Missing logs are not evidence of innocence: a forged token only shows against the issuance log of the time it was used.".into(),
                verdict: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event {
        Event::new(v, || "x".into()).unwrap()
    }

    fn signin(id: &str, upn: &str, time: &str) -> Event {
        event(
            json!({"id": id, "createdDateTime": time, "userPrincipalName": upn,
            "ipAddress": "203.0.113.66", "tokenIssuerType": "ADFederationServices",
            "isInteractive": true, "status": {"errorCode": 0}}),
        )
    }

    fn issuance(user: &str, time: &str) -> Event {
        event(
            json!({"EventID": 1200, "TimeGenerated": time, "Computer": "ADFS01",
            "Channel": "Security", "EventSourceName": "AD FS Auditing", "UserId": user}),
        )
    }

    #[test]
    fn a_sign_in_without_an_issuance_is_forged_and_uncovered_time_is_said() {
        let mut forged = Forged::default();
        for e in [
            signin("genuine", "megan.bowen@contoso.com", "2026-11-30T10:00:30Z"),
            signin(
                "forged",
                "patti.fernandez@contoso.com",
                "2026-11-30T11:00:00Z",
            ),
            signin("late", "megan.bowen@contoso.com", "2026-12-03T11:00:00Z"),
            issuance("CONTOSO\\megan.bowen", "2026-11-30T10:00:00Z"),
            issuance("lynne.robbins@contoso.com", "2026-11-30T12:00:00Z"),
        ] {
            if let Some(f) = fact(&e) {
                forged.add(f);
            }
        }
        let findings = forged.findings();
        assert_eq!(findings.len(), 2, "{findings:#?}");
        let orphan = &findings[0];
        assert_eq!(orphan.detection, "onprem.forged-token");
        assert_eq!(orphan.evidence, ["forged"]);
        assert!(orphan.explanation.contains("never issued"));
        assert_eq!(findings[1].detection, "onprem.forged-token-uncovered");
        assert_eq!(findings[1].count, 1);
    }

    #[test]
    fn without_adfs_logs_nothing_is_claimed() {
        let mut forged = Forged::default();
        if let Some(f) = fact(&signin(
            "s",
            "megan.bowen@contoso.com",
            "2026-11-30T10:00:30Z",
        )) {
            forged.add(f);
        }
        assert!(forged.findings().is_empty());
    }
}
