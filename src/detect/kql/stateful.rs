//! The stateful detections (written in code, not as rules) in KQL: where
//! what they read is rare (credential and consent audits, krbtgt resets,
//! directory permission changes), the workspace sends those records back
//! and the engine's own code judges them, so the findings are exactly a
//! local scan's. The others are listed with the reason they are not.

use super::{Query, Range, Reads, Skipped, quote};
use crate::detect::listing::STATEFUL;

/// Activities the credential and consent joins read (`detect::joins`).
const JOIN_ACTIVITIES: &[&str] = &[
    "Add service principal credentials",
    "Update service principal credentials",
    "Add delegated permission grant",
    "Add app role assignment to service principal",
    "Consent to application",
];

fn joins(range: &Range) -> String {
    let names = JOIN_ACTIVITIES
        .iter()
        .map(|a| quote(a))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "AuditLogs\n| where {}\n| where Result !~ \"failure\"\n| where ActivityDisplayName in~ ({names}) \
         or ActivityDisplayName contains \"certificates and secrets management\" \
         or ActivityDisplayName startswith \"Add member to role\" \
         or ActivityDisplayName startswith \"Add eligible member to role\"",
        range.filter()
    )
}

/// A named value of a Windows event's XML, as a column of the row.
fn data(name: &str) -> String {
    format!(
        "{name} = extract({}, 1, EventData)",
        quote(&format!("<Data Name=\"{name}\">([^<]*)</Data>"))
    )
}

fn krbtgt(range: &Range) -> String {
    format!(
        "SecurityEvent\n| where {}\n| where EventID == 4724 and TargetUserName startswith \"krbtgt\"\n| extend {}",
        range.filter(),
        data("EventType")
    )
}

fn acl(range: &Range) -> String {
    format!(
        "SecurityEvent\n| where {}\n| where EventID == 5136 and EventData has \"nTSecurityDescriptor\"\n| extend {}\n| where AttributeLDAPDisplayName =~ \"nTSecurityDescriptor\"",
        range.filter(),
        [
            "AttributeLDAPDisplayName",
            "ObjectDN",
            "AttributeValue",
            "OpCorrelationID"
        ]
        .map(data)
        .join(", ")
    )
}

/// Why a stateful detection is not written in KQL.
fn reason(id: &str) -> &'static str {
    match id {
        "signin.claim-from-new-network"
        | "signin.new-token-issuer"
        | "signin.service-principal-new-network" => {
            "judges each sign-in against a baseline of every earlier one (claims, issuers, networks): the whole sign-in history would come back; not written as a lookback join yet"
        }
        "signin.impossible-travel" | "signin.session-replayed" => {
            "follows every successful sign-in's place and session in time order: not written as a KQL sequence yet"
        }
        "infra.attacker-infrastructure" => {
            "built from the team's triage decisions, which the workspace does not hold"
        }
        "ioc.match" => "needs the team's indicator list (--ioc), given at run time",
        "onprem.adfs-config-transfer" => {
            "pairs AD FS replication tokens with their callers across hosts: not written yet"
        }
        id if id.starts_with("onprem.forged-token") => {
            "joins AD FS token issuance (SecurityEvent 1200/1202) with federated sign-ins by claims and time: not written yet"
        }
        _ => "not written in KQL yet",
    }
}

/// The records a stateful detection reads, as a query over `range`, and
/// its table; `None` when it is not written in KQL.
pub fn query_for(id: &str, range: &Range) -> Option<(String, &'static str)> {
    match id {
        "audit.app-credential-added"
        | "audit.credential-after-consent"
        | "audit.app-promoted-after-role-grant" => Some((joins(range), "AuditLogs")),
        "onprem.krbtgt-reset" | "onprem.krbtgt-reset-too-soon" => {
            Some((krbtgt(range), "SecurityEvent"))
        }
        "onprem.dcsync-rights-granted" => Some((acl(range), "SecurityEvent")),
        _ => None,
    }
}

/// The stateful detections as record queries, and those that are not.
pub fn queries(range: &Range) -> (Vec<Query>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (id, title, ..) in STATEFUL {
        let written = query_for(id, range);
        match written {
            Some((query, table)) => out.push(Query {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                query,
                tables: vec![table.to_owned()],
                reads: Reads::Records,
            }),
            None => skipped.push(Skipped {
                id: (*id).to_owned(),
                reason: reason(id).to_owned(),
            }),
        }
    }
    (out, skipped)
}
