//! Replication rights granted through a security descriptor change. A
//! domain controller logs a change to `nTSecurityDescriptor` (5136) as the
//! whole old descriptor deleted and the whole new one added, paired by
//! their operation's correlation id; what was granted is what the new one
//! has and the old one had not. An entry granting Replicating Directory
//! Changes (All, or In Filtered Set) lets its holder DCSync at will.

use super::json::Json;
use std::collections::{BTreeMap, BTreeSet};

use super::event::{Event, Kind};
use super::sightings::Sightings;
use super::{Entity, Finding};
use crate::model::Severity;

/// Texts every record this reads contains (for the scan's prefilter).
pub const READS: super::prefilter::Reads = &[(Kind::WindowsEvent, "", "nTSecurityDescriptor")];

/// The fields it reads (for the lazy parser).
pub const FIELDS: &[&str] = &[
    "OpCorrelationID",
    "OperationType",
    "ObjectDN",
    "AttributeLDAPDisplayName",
    "AttributeValue",
    "SubjectUserName",
];

const REPLICATION_RIGHTS: [&str; 3] = [
    "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2",
    "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2",
    "89e95b76-444d-4c62-991a-0facbeda640c",
];

/// Principals that hold replication rights in every domain: domain
/// controllers, administrators, the system.
fn is_expected_holder(trustee: &str) -> bool {
    let t = trustee.to_ascii_uppercase();
    matches!(
        t.as_str(),
        "DD" | "ED" | "BA" | "SY" | "DA" | "EA" | "S-1-5-9" | "S-1-5-18"
    ) || ["-516", "-498", "-512", "-519", "-521"]
        .iter()
        .any(|rid| t.starts_with("S-1-5-21-") && t.ends_with(rid))
}

#[derive(Clone, Debug)]
pub struct Fact {
    /// The operation's correlation id, or the object and second.
    pair: String,
    added: bool,
    object: String,
    value: String,
    subject: String,
    computer: String,
    time: Option<jiff::Timestamp>,
    id: String,
}

/// A descriptor change, if this event is one.
pub fn fact(event: &Event) -> Option<Fact> {
    if event.kind != Kind::WindowsEvent {
        return None;
    }
    let v = &event.value;
    let text = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("");
    if v.get("EventID")?.as_u64()? != 5136
        || !text("AttributeLDAPDisplayName").eq_ignore_ascii_case("nTSecurityDescriptor")
    {
        return None;
    }
    let operation = text("OperationType");
    let added = operation.contains("14674") || operation.eq_ignore_ascii_case("Value Added");
    let deleted = operation.contains("14675") || operation.eq_ignore_ascii_case("Value Deleted");
    if !added && !deleted {
        return None;
    }
    let pair = match text("OpCorrelationID") {
        "" | "-" => format!(
            "{}@{}",
            text("ObjectDN"),
            event.time.map_or(0, |t| t.as_second())
        ),
        id => id.to_owned(),
    };
    Some(Fact {
        pair,
        added,
        object: text("ObjectDN").to_owned(),
        value: text("AttributeValue").to_owned(),
        subject: text("SubjectUserName").to_owned(),
        computer: text("Computer").to_owned(),
        time: event.time,
        id: event.id.clone(),
    })
}

/// The access entries of a descriptor's DACL, as written.
fn dacl_entries(sddl: &str) -> BTreeSet<String> {
    let dacl = match sddl.find("D:") {
        Some(at) => &sddl[at + 2..],
        None => return BTreeSet::new(),
    };
    let dacl = match dacl.find("S:") {
        Some(end) => &dacl[..end],
        None => dacl,
    };
    dacl.split('(')
        .skip(1)
        .filter_map(|part| part.split(')').next())
        .map(str::to_owned)
        .collect()
}

/// Whether an entry's rights include every extended right: generic all
/// (`GA`) or control access (`CR`) among its two-letter codes run together
/// (`LCRPLORC` holds no `CR`), or bits 0x10000000 or 0x100 of a mask.
fn grants_all_rights(rights: &str) -> bool {
    if let Some(hex) = rights
        .strip_prefix("0x")
        .or_else(|| rights.strip_prefix("0X"))
    {
        return u32::from_str_radix(hex, 16).is_ok_and(|m| m & 0x1000_0100 != 0);
    }
    rights
        .as_bytes()
        .chunks(2)
        .any(|code| code == b"GA" || code == b"CR")
}

/// The trustee of an added entry granting replication, if it does: the
/// rights by name, or all extended rights (or full control) on a naming
/// context's head (`DC=…`), which include them.
fn replication_trustee<'a>(entry: &'a str, object_dn: &str) -> Option<&'a str> {
    let fields: Vec<&str> = entry.split(';').collect();
    let [kind, flags, rights, object, _, trustee] = fields[..] else {
        return None;
    };
    if !matches!(kind, "A" | "OA") || flags.contains("ID") {
        return None;
    }
    let object = object.to_ascii_lowercase();
    let grants = REPLICATION_RIGHTS.contains(&object.as_str())
        || (object.is_empty()
            && grants_all_rights(rights)
            && object_dn.trim().to_ascii_uppercase().starts_with("DC="));
    grants.then_some(trustee)
}

#[derive(Debug, Default)]
pub struct Changes {
    facts: Vec<Fact>,
}

impl Changes {
    pub fn add(&mut self, fact: Fact) {
        self.facts.push(fact);
    }

    /// One finding per object whose descriptor gained replication rights.
    pub fn findings(&self) -> Vec<Finding> {
        let mut pairs: BTreeMap<&str, (Vec<&Fact>, Vec<&Fact>)> = BTreeMap::new();
        for f in &self.facts {
            let entry = pairs.entry(f.pair.as_str()).or_default();
            if f.added {
                entry.0.push(f);
            } else {
                entry.1.push(f);
            }
        }
        let mut grants: BTreeMap<&str, Grant> = BTreeMap::new();
        for (adds, deletes) in pairs.values() {
            let before: BTreeSet<String> = deletes
                .iter()
                .flat_map(|d| dacl_entries(&d.value))
                .collect();
            let paired = !deletes.is_empty();
            for add in adds {
                let trustees: Vec<String> = dacl_entries(&add.value)
                    .difference(&before)
                    .filter_map(|e| replication_trustee(e, &add.object))
                    // Without the old descriptor, only holders no domain has
                    // by default can be told apart as new.
                    .filter(|t| paired || !is_expected_holder(t))
                    .map(str::to_owned)
                    .collect();
                if trustees.is_empty() {
                    continue;
                }
                let grant = grants.entry(add.object.as_str()).or_default();
                grant.changes.add(add.time, &add.id, &[]);
                for t in trustees {
                    if !grant.trustees.contains(&t) {
                        grant.trustees.push(t);
                    }
                }
                for (list, value) in [
                    (&mut grant.who, &add.subject),
                    (&mut grant.computers, &add.computer),
                ] {
                    if !value.is_empty() && !list.contains(value) {
                        list.push(value.clone());
                    }
                }
                grant.paired &= paired;
            }
        }
        grants
            .into_iter()
            .map(|(object, g)| finding(object, g))
            .collect()
    }
}

/// What the changes to one object's descriptor granted.
struct Grant {
    trustees: Vec<String>,
    who: Vec<String>,
    computers: Vec<String>,
    /// Every change was compared with the descriptor before it.
    paired: bool,
    changes: Sightings,
}

impl Default for Grant {
    fn default() -> Self {
        Self {
            trustees: Vec::new(),
            who: Vec::new(),
            computers: Vec::new(),
            paired: true,
            changes: Sightings::default(),
        }
    }
}

fn finding(object: &str, g: Grant) -> Finding {
    let (first_seen, last_seen) = g.changes.span();
    let count = g.changes.count;
    let mut entities = vec![Entity {
        field: "ObjectDN".into(),
        value: object.to_owned(),
    }];
    for (field, values) in [
        ("Trustee", &g.trustees),
        ("SubjectUserName", &g.who),
        ("Computer", &g.computers),
    ] {
        entities.extend(values.iter().map(|v| Entity {
            field: field.into(),
            value: v.clone(),
        }));
    }
    Finding {
        id: super::finding_id("onprem.dcsync-rights-granted", object),
        detection: "onprem.dcsync-rights-granted".into(),
        severity: Severity::Critical,
        title: "Replication rights granted on the domain".into(),
        techniques: vec!["T1222.001".into(), "T1003.006".into()],
        entities,
        evidence: g.changes.evidence(),
        count,
        first_seen,
        last_seen,
        remediation: vec![
            "review-onprem-privileged-access".into(),
            "reset-krbtgt-first".into(),
        ],
        explanation: format!(
            "{} gave {} replication rights on {object} ({} change(s){}); whoever holds them can DCSync every password hash, krbtgt's included",
            if g.who.is_empty() { "Someone".to_owned() } else { g.who.join(", ") },
            g.trustees.join(", "),
            count,
            if g.paired {
                ", found by comparing the old and new security descriptors"
            } else {
                "; the old descriptor was not in the logs, so entries for holders every domain has were left out"
            }
        ),
        rationale: "An access entry granting Replicating Directory Changes (All) on the domain lets its holder DCSync at will; attackers add one to keep that power.".into(),
        verdict: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_entries_the_change_added_count() {
        let old = "O:DAG:DAD:AI(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;DD)(OA;CIID;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;WD)S:AI";
        let new = "O:DAG:DAD:AI(D;;DTSD;;;WD)(OA;;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;DD)(OA;CIID;CR;1131f6aa-9c07-11d1-f79f-00c04fc2dcd2;;WD)S:AI";
        let added: Vec<String> = dacl_entries(new)
            .difference(&dacl_entries(old))
            .cloned()
            .collect();
        assert_eq!(added, ["D;;DTSD;;;WD"]);
        let root = "DC=corp,DC=local";
        assert!(added.iter().all(|e| replication_trustee(e, root).is_none()));
        let backdoor = "OA;;CR;1131f6ad-9c07-11d1-f79f-00c04fc2dcd2;;S-1-5-21-1-2-3-1107";
        assert_eq!(
            replication_trustee(backdoor, root),
            Some("S-1-5-21-1-2-3-1107")
        );
        assert!(replication_trustee("A;;LCRPLORC;;;S-1-5-21-1-2-3-1107", root).is_none());
        assert!(replication_trustee("A;;0x100;;;S-1-5-21-1-2-3-1107", root).is_some());
        let full = "A;CI;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;S-1-5-21-1-2-3-1234";
        assert!(replication_trustee(full, root).is_some());
        assert!(replication_trustee(full, "CN=AdminSDHolder,CN=System,DC=corp,DC=local").is_none());
        assert!(is_expected_holder("S-1-5-21-1-2-3-516"));
        assert!(!is_expected_holder("S-1-5-21-1-2-3-1107"));
    }
}
