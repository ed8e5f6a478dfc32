//! The catalogue as Microsoft Sentinel scheduled analytic rules (the YAML
//! shape of Azure-Sentinel's `Detections/*.yaml`), so a team can keep
//! watching with warroom's rules after the incident. Each runs every
//! period over the last period (an hour, or the rule's window) and raises
//! an alert per group past the rule's threshold, with accounts, addresses
//! and hosts mapped to Sentinel entities.

use serde::Serialize;

use super::compile;
use crate::detect::rule::Ready;
use crate::model::Severity;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticRule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub severity: &'static str,
    pub required_data_connectors: Vec<Connector>,
    pub query_frequency: String,
    pub query_period: String,
    pub trigger_operator: &'static str,
    pub trigger_threshold: u32,
    pub tactics: Vec<&'static str>,
    pub relevant_techniques: Vec<String>,
    pub query: String,
    pub entity_mappings: Vec<EntityMapping>,
    pub version: &'static str,
    pub kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub connector_id: &'static str,
    pub data_types: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityMapping {
    pub entity_type: &'static str,
    pub field_mappings: Vec<FieldMapping>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMapping {
    pub identifier: &'static str,
    pub column_name: String,
}

/// A stable GUID for a rule id (the same rule keeps its Sentinel id).
fn guid(id: &str) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(format!("warroom sentinel rule\u{0}{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    // A name-based (version 5) GUID's version and variant bits.
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    crate::detect::record_id::RecordId::Guid(u128::from_be_bytes(b)).text()
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        _ => "Informational",
    }
}

/// ATT&CK tactics of the techniques the catalogue names (as Sentinel
/// spells them).
fn tactics_of(technique: &str) -> &'static [&'static str] {
    let base = technique.split('.').next().unwrap_or(technique);
    match base {
        "T1098" | "T1543" => &["Persistence", "PrivilegeEscalation"],
        "T1078" => &[
            "InitialAccess",
            "Persistence",
            "PrivilegeEscalation",
            "DefenseEvasion",
        ],
        "T1114" | "T1530" | "T1119" | "T1213" => &["Collection"],
        "T1110" | "T1528" | "T1606" | "T1552" | "T1558" | "T1621" | "T1649" | "T1003" | "T1539" => {
            &["CredentialAccess"]
        }
        "T1484" | "T1134" => &["DefenseEvasion", "PrivilegeEscalation"],
        "T1556" => &["CredentialAccess", "DefenseEvasion", "Persistence"],
        "T1562" | "T1564" | "T1222" | "T1207" | "T1070" => &["DefenseEvasion"],
        "T1136" => &["Persistence"],
        "T1087" => &["Discovery"],
        "T1566" | "T1199" => &["InitialAccess"],
        "T1550" => &["DefenseEvasion", "LateralMovement"],
        "T1534" => &["LateralMovement"],
        "T1531" | "T1485" => &["Impact"],
        "T1059" | "T1569" => &["Execution"],
        "T1053" => &["Execution", "Persistence", "PrivilegeEscalation"],
        "T1589" => &["Reconnaissance"],
        "T1567" => &["Exfiltration"],
        "T1557" => &["CredentialAccess", "Collection"],
        "T1090" => &["CommandAndControl"],
        _ => &[],
    }
}

/// The Sentinel entity a warroom field names, and its identifier.
fn entity_of(field: &str) -> Option<(&'static str, &'static str)> {
    let last = field.rsplit('.').next().unwrap_or(field);
    match last {
        "userPrincipalName" | "UserId" | "MailboxOwnerUPN" => Some(("Account", "FullName")),
        "TargetUserName" | "SubjectUserName" => Some(("Account", "Name")),
        "ipAddress" | "clientIp" | "IpAddress" | "ClientIPAddress" | "ClientIP" => {
            Some(("IP", "Address"))
        }
        "Computer" => Some(("Host", "FullName")),
        "appDisplayName" | "servicePrincipalDisplayName" => Some(("CloudApplication", "Name")),
        _ => None,
    }
}

fn connector(table: &str) -> &'static str {
    match table {
        "OfficeActivity" => "Office365",
        "SecurityEvent" => "SecurityEvents",
        "Event" => "WindowsForwardedEvents",
        _ => "AzureActiveDirectory",
    }
}

/// One rule as a scheduled analytic rule.
pub fn rule(ready: &Ready) -> Result<AnalyticRule, String> {
    let r = &ready.rule;
    // An hour, or the rule's window when it has one (5 minutes at least,
    // Sentinel's shortest schedule).
    let period = match ready.window() {
        Some(w) => format!("{}m", (w.as_secs() / 60).max(5)),
        None => "1h".to_owned(),
    };
    let mut query = compile::scheduled_query(ready, &period)?;
    // One column per entity kind, the first value the group named.
    let values = compile::value_fields(ready);
    let mut mappings: Vec<EntityMapping> = Vec::new();
    for (j, field) in values.iter().enumerate() {
        let Some((kind, identifier)) = entity_of(field) else {
            continue;
        };
        if mappings.iter().any(|m| m.entity_type == kind) {
            continue;
        }
        let column = format!("{kind}{}", mappings.len());
        query.push_str(&format!("\n| extend {column} = tostring(Values_{j}[0])"));
        mappings.push(EntityMapping {
            entity_type: kind,
            field_mappings: vec![FieldMapping {
                identifier,
                column_name: column,
            }],
        });
    }
    let tables: Vec<String> = compile::choose_tables(ready)
        .iter()
        .map(|t| t.name.to_owned())
        .collect();
    let mut connectors: Vec<Connector> = Vec::new();
    for t in &tables {
        let id = connector(t);
        match connectors.iter_mut().find(|c| c.connector_id == id) {
            Some(c) => c.data_types.push(t.clone()),
            None => connectors.push(Connector {
                connector_id: id,
                data_types: vec![t.clone()],
            }),
        }
    }
    let mut tactics: Vec<&'static str> = Vec::new();
    for t in &r.techniques {
        for tactic in tactics_of(t) {
            if !tactics.contains(tactic) {
                tactics.push(tactic);
            }
        }
    }
    Ok(AnalyticRule {
        id: guid(&r.id),
        name: format!("warroom: {}", r.title),
        description: format!("{} (warroom detection {})", r.rationale, r.id),
        severity: severity(r.severity),
        required_data_connectors: connectors,
        query_frequency: period.clone(),
        query_period: period,
        trigger_operator: "gt",
        trigger_threshold: 0,
        tactics,
        relevant_techniques: r.techniques.clone(),
        query,
        entity_mappings: mappings,
        version: "1.0.0",
        kind: "Scheduled",
    })
}
