//! The AD FS configuration pulled through the farm's own replication
//! service. Secondary AD FS servers fetch the configuration (the
//! encrypted token-signing certificate with it) from the primary over a
//! WS-SecureConversation channel; AADInternals' remote export pretends to
//! be one. The primary logs the token it accepted (412, a SecureConversation
//! token) and who presented it (501, the caller's claims, same instance
//! id). A caller that is not a machine or managed service account (`$`)
//! is a person's account reading the farm's secrets.

use super::json::Json;
use std::collections::BTreeMap;

use super::event::{Event, Kind};
use super::sightings::Sightings;
use super::{Entity, Finding};
use crate::model::Severity;

/// Texts every record this reads contains (for the scan's prefilter).
pub const READS: super::prefilter::Reads = &[
    (Kind::WindowsEvent, "", "SecureConversation"),
    (Kind::WindowsEvent, "", "claims/name"),
];

#[derive(Clone, Debug)]
pub enum Fact {
    /// A SecureConversation token accepted (412).
    Channel {
        key: String,
        time: Option<jiff::Timestamp>,
        id: String,
    },
    /// Who called, for an instance (501).
    Caller { key: String, name: String },
}

/// Every text the event carries its data in.
fn texts<'v>(v: &'v Json) -> impl Iterator<Item = &'v str> {
    [
        "Message",
        "EventData",
        "EventData_dynamic",
        "EventData_string",
    ]
    .into_iter()
    .filter_map(|k| v.get(k).and_then(Json::as_str))
}

/// The instance id: its own column, or the first GUID after "Instance ID"
/// (or first of all) in the event's data.
fn instance(v: &Json) -> String {
    if let Some(id) = v.get("InstanceId").and_then(Json::as_str) {
        return id.to_ascii_lowercase();
    }
    for text in texts(v) {
        let from = text
            .find("Instance ID")
            .map_or(0, |at| at + "Instance ID".len());
        let guid = text[from..]
            .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .find(|w| w.len() == 36 && w.matches('-').count() == 4);
        if let Some(guid) = guid {
            return guid.to_ascii_lowercase();
        }
    }
    String::new()
}

/// The caller's name claim: a column of its own, or the value after the
/// name claim's type in the event's data.
fn caller(v: &Json) -> Option<String> {
    if let Some(name) = v.get("ClaimsName").and_then(Json::as_str) {
        return Some(name.to_owned());
    }
    const CLAIM: &str = "identity/claims/name";
    for text in texts(v) {
        // The name claim itself, not `…/nameidentifier`.
        let found = text.match_indices(CLAIM).find(|(at, _)| {
            text[at + CLAIM.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
        });
        let Some((at, _)) = found else {
            continue;
        };
        let name = text[at + CLAIM.len()..]
            .split(['\n', '"', ','])
            .map(|s| s.trim().trim_matches('\\').trim())
            .find(|s| !s.is_empty());
        if let Some(name) = name {
            return Some(name.replace("\\\\", "\\"));
        }
    }
    None
}

pub fn fact(event: &Event) -> Option<Fact> {
    if event.kind != Kind::WindowsEvent {
        return None;
    }
    let v = &event.value;
    if !crate::model::record::windows::is_adfs(v) {
        return None;
    }
    let computer = v.get("Computer").and_then(Json::as_str).unwrap_or("");
    let instance = instance(v);
    if instance.is_empty() {
        return None; // nothing to join the token and its caller by
    }
    let key = format!("{}|{instance}", computer.to_lowercase());
    match v.get("EventID")?.as_u64()? {
        412 if texts(v).any(|t| t.contains("SecureConversation")) => Some(Fact::Channel {
            key,
            time: event.time,
            id: event.id.clone(),
        }),
        501 => Some(Fact::Caller {
            key,
            name: caller(v)?,
        }),
        _ => None,
    }
}

#[derive(Debug, Default)]
pub struct Transfers {
    channels: Vec<(String, Option<jiff::Timestamp>, String)>,
    callers: BTreeMap<String, Vec<String>>,
}

impl Transfers {
    pub fn add(&mut self, fact: Fact) {
        match fact {
            Fact::Channel { key, time, id } => self.channels.push((key, time, id)),
            Fact::Caller { key, name } => {
                let names = self.callers.entry(key).or_default();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }

    /// One finding per server and person's account that pulled the
    /// configuration.
    pub fn findings(&self) -> Vec<Finding> {
        let mut found: BTreeMap<(String, String), Sightings> = BTreeMap::new();
        for (key, time, id) in &self.channels {
            let server = key.split('|').next().unwrap_or("").to_owned();
            for name in self.callers.get(key).into_iter().flatten() {
                if name.ends_with('$') {
                    continue; // a farm node's machine or managed account
                }
                found
                    .entry((server.clone(), name.clone()))
                    .or_default()
                    .add(*time, id, &[]);
            }
        }
        found
            .into_iter()
            .map(|((server, name), pulled)| {
                let (first, last) = pulled.span();
                let count = pulled.count;
                Finding {
                id: super::finding_id("onprem.adfs-config-transfer", &format!("{server}|{name}")),
                detection: "onprem.adfs-config-transfer".into(),
                severity: Severity::High,
                title: "AD FS configuration pulled through the farm's replication service".into(),
                techniques: vec!["T1552.004".into(), "T1606.002".into()],
                entities: vec![
                    Entity { field: "Computer".into(), value: server.clone() },
                    Entity { field: "ClaimsName".into(), value: name.clone() },
                ],
                evidence: pulled.evidence(),
                count,
                first_seen: first,
                last_seen: last,
                remediation: vec![
                    "adfs-tier0".into(),
                    "rotate-token-signing-certificate-twice".into(),
                    "review-onprem-privileged-access".into(),
                ],
                explanation: format!(
                    "{server} accepted {count} replication channel token(s) (412, SecureConversation) from {name}; a secondary AD FS server syncing uses the farm's service account, anyone else is exporting the configuration and its token-signing certificate (AADInternals' remote export works this way). If {name} is the farm's service account, mark this benign."
                ),
                rationale: "The policy store transfer hands over the whole AD FS configuration, the encrypted signing certificate included; with the DKM key it is the token-signing key.".into(),
                verdict: None,
            }
            })
            .collect()
    }
}
