//! Identity Protection: every documented risk detection type, for users
//! and for workload identities, raises the finding of its own rule, from
//! Graph's `riskDetections` JSON and from Log Analytics rows
//! (`AADUserRiskEvents`, `AADServicePrincipalRiskEvents`); a user's
//! detection never fires a workload rule or the other way round; a type
//! no rule knows still raises a finding that names it.

mod common;

use serde_json::{Value, json};

/// User risk types from the Graph reference and "What are risk
/// detections?" (Entra ID Protection), with the rule each must fire.
const USER: &[(&str, &str)] = &[
    (
        "adminConfirmedUserCompromised",
        "admin-confirmed-user-compromised",
    ),
    ("anomalousToken", "anomalous-token"),
    ("anomalousUserActivity", "anomalous-user-activity"),
    ("anonymizedIPAddress", "anonymized-ip-address"),
    ("attackerinTheMiddle", "attacker-in-the-middle"),
    ("attemptedPrtAccess", "attempted-prt-access"),
    ("generic", "generic"),
    ("impossibleTravel", "impossible-travel"),
    (
        "investigationsThreatIntelligence",
        "investigations-threat-intelligence",
    ),
    (
        "investigationsThreatIntelligenceSigninLinked",
        "investigations-threat-intelligence-signin-linked",
    ),
    ("leakedCredentials", "leaked-credentials"),
    ("maliciousIPAddress", "malicious-ip-address"),
    (
        "maliciousIPAddressValidCredentialsBlockedIP",
        "malicious-ip-address-valid-credentials-blocked-ip",
    ),
    ("malwareInfectedIPAddress", "malware-infected-ip-address"),
    (
        "mcasFinSuspiciousFileAccess",
        "mcas-fin-suspicious-file-access",
    ),
    ("mcasImpossibleTravel", "mcas-impossible-travel"),
    (
        "mcasSuspiciousInboxManipulationRules",
        "mcas-suspicious-inbox-manipulation-rules",
    ),
    ("nationStateIP", "nation-state-ip"),
    ("newCountry", "new-country"),
    ("passwordSpray", "password-spray"),
    ("riskyIPAddress", "risky-ip-address"),
    ("suspiciousAPITraffic", "suspicious-api-traffic"),
    ("suspiciousBrowser", "suspicious-browser"),
    ("suspiciousInboxForwarding", "suspicious-inbox-forwarding"),
    ("suspiciousIPAddress", "suspicious-ip-address"),
    ("suspiciousSendingPatterns", "suspicious-sending-patterns"),
    ("tokenIssuerAnomaly", "token-issuer-anomaly"),
    ("unfamiliarFeatures", "unfamiliar-features"),
    ("unlikelyTravel", "unlikely-travel"),
    (
        "userReportedSuspiciousActivity",
        "user-reported-suspicious-activity",
    ),
];

/// Workload identity risk types (`servicePrincipalRiskDetection`).
const WORKLOAD: &[(&str, &str)] = &[
    (
        "adminConfirmedServicePrincipalCompromised",
        "admin-confirmed-service-principal-compromised",
    ),
    (
        "anomalousServicePrincipalActivity",
        "anomalous-service-principal-activity",
    ),
    (
        "investigationsThreatIntelligence",
        "investigations-threat-intelligence",
    ),
    ("leakedCredentials", "leaked-credentials"),
    ("maliciousApplication", "malicious-application"),
    ("suspiciousAPITraffic", "suspicious-api-traffic"),
    ("suspiciousApplication", "suspicious-application"),
    ("suspiciousSignins", "suspicious-signins"),
];

/// A user's detection as Graph gives it (the shape of the v1.0 example).
fn graph_user(i: usize, kind: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.riskDetection",
        "id": format!("{i:064x}"),
        "requestId": format!("00000000-0000-4000-8000-{i:012x}"),
        "riskEventType": kind, "riskState": "atRisk", "riskLevel": "high",
        "riskDetail": "none", "source": "IdentityProtection",
        "detectionTimingType": "offline", "activity": "signin",
        "tokenIssuerType": "AzureAD", "ipAddress": format!("203.0.113.{}", i + 1),
        "activityDateTime": "2026-09-01T10:00:00Z",
        "detectedDateTime": "2026-09-01T10:05:00Z",
        "lastUpdatedDateTime": "2026-09-01T10:05:00Z",
        "userId": format!("00000000-0000-4000-a000-{i:012x}"),
        "userDisplayName": format!("User {i}"),
        "userPrincipalName": format!("user{i}@contoso.example"),
        "additionalInfo": "[]",
        "location": {"city": "Lisbon", "countryOrRegion": "PT"}
    })
}

/// The same detection as an `AADUserRiskEvents` row exported from Log
/// Analytics (its column names).
fn log_analytics_user(i: usize, kind: &str) -> Value {
    json!({
        "TenantId": "11111111-2222-3333-4444-555555555555",
        "TimeGenerated": "2026-09-01T10:06:00Z",
        "Id": format!("{i:064x}"), "RequestId": format!("00000000-0000-4000-8000-{i:012x}"),
        "RiskEventType": kind, "RiskState": "atRisk", "RiskLevel": "high",
        "RiskDetail": "none", "Source": "IdentityProtection",
        "DetectionTimingType": "offline", "Activity": "signin",
        "TokenIssuerType": "AzureAD", "IpAddress": format!("203.0.113.{}", i + 1),
        "ActivityDateTime": "2026-09-01T10:00:00Z",
        "DetectedDateTime": "2026-09-01T10:05:00Z",
        "LastUpdatedDateTime": "2026-09-01T10:05:00Z",
        "UserId": format!("00000000-0000-4000-a000-{i:012x}"),
        "UserDisplayName": format!("User {i}"),
        "UserPrincipalName": format!("user{i}@contoso.example"),
        "AdditionalInfo": "[]", "Type": "AADUserRiskEvents"
    })
}

fn graph_workload(i: usize, kind: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.servicePrincipalRiskDetection",
        "id": format!("sp{i:062x}"), "riskEventType": kind, "riskState": "atRisk",
        "riskLevel": "high", "riskDetail": "none", "source": "IdentityProtection",
        "detectionTimingType": "offline", "activity": "servicePrincipal",
        "tokenIssuerType": "AzureAD", "ipAddress": null, "location": null,
        "activityDateTime": "2026-09-01T00:00:00Z",
        "detectedDateTime": "2026-09-01T00:00:00Z",
        "lastUpdatedDateTime": "2026-09-01T16:28:17Z",
        "servicePrincipalId": format!("00000000-0000-4000-b000-{i:012x}"),
        "servicePrincipalDisplayName": format!("App {i}"),
        "appId": format!("00000000-0000-4000-c000-{i:012x}"),
        "keyIds": [], "additionalInfo": "[]"
    })
}

fn log_analytics_workload(i: usize, kind: &str) -> Value {
    json!({
        "TimeGenerated": "2026-09-01T00:01:00Z", "Id": format!("sp{i:062x}"),
        "RiskEventType": kind, "RiskState": "atRisk", "RiskLevel": "high",
        "RiskDetail": "none", "Source": "IdentityProtection",
        "DetectionTimingType": "offline", "Activity": "servicePrincipal",
        "ActivityDateTime": "2026-09-01T00:00:00Z",
        "DetectedDateTime": "2026-09-01T00:00:00Z",
        "ServicePrincipalId": format!("00000000-0000-4000-b000-{i:012x}"),
        "ServicePrincipalDisplayName": format!("App {i}"),
        "AppId": format!("00000000-0000-4000-c000-{i:012x}"),
        "Type": "AADServicePrincipalRiskEvents"
    })
}

/// Scans `records` (one NDJSON file) and returns, per record index, the
/// detections whose entities name that record's principal.
fn fired(records: &[Value], principal: impl Fn(usize) -> String) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("risk.ndjson");
    let text: Vec<String> = records.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n")).unwrap();
    let (findings, stderr) = common::scan_json(&[&file]);
    assert!(
        stderr.contains(&format!("{} records", records.len())),
        "{stderr}"
    );
    (0..records.len())
        .map(|i| {
            let name = principal(i);
            findings
                .iter()
                // The built-in rules are judged here, not the Sigma pack's.
                .filter(|f| !f["detection"].as_str().unwrap().starts_with("sigma:"))
                .filter(|f| {
                    f["entities"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|e| e["value"] == name.as_str())
                })
                .map(|f| f["detection"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn every_user_risk_type_fires_its_own_rule_in_graph_and_log_analytics_shapes() {
    for shape in [graph_user as fn(usize, &str) -> Value, log_analytics_user] {
        let records: Vec<Value> = USER
            .iter()
            .enumerate()
            .map(|(i, (t, _))| shape(i, t))
            .collect();
        let fired = fired(&records, |i| format!("user{i}@contoso.example"));
        for (i, (kind, rule)) in USER.iter().enumerate() {
            assert_eq!(
                fired[i],
                [format!("risk.user.{rule}")],
                "{kind} ({})",
                records[i]
            );
        }
    }
}

#[test]
fn every_workload_risk_type_fires_its_own_rule_and_no_user_rule() {
    for shape in [
        graph_workload as fn(usize, &str) -> Value,
        log_analytics_workload,
    ] {
        let records: Vec<Value> = WORKLOAD
            .iter()
            .enumerate()
            .map(|(i, (t, _))| shape(i, t))
            .collect();
        let fired = fired(&records, |i| format!("App {i}"));
        for (i, (kind, rule)) in WORKLOAD.iter().enumerate() {
            assert_eq!(fired[i], [format!("risk.workload.{rule}")], "{kind}");
        }
    }
}

#[test]
fn a_type_no_rule_knows_is_named_not_lost() {
    let records = [
        graph_user(0, "someFutureDetection"),
        graph_workload(1, "someFutureDetection"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("risk.json");
    std::fs::write(&file, json!({ "value": records }).to_string()).unwrap();
    let (findings, _) = common::scan_json(&[&file]);
    let mut got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["detection"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("risk.user.unknown-type", "medium"),
            ("risk.workload.unknown-type", "medium")
        ]
    );
    assert!(findings.iter().all(|f| {
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("someFutureDetection")
    }));
}

#[test]
fn graph_documentation_examples_fire_their_rules() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/graph/v1.0");
    if !data.exists() {
        eprintln!("note: ../shared/data is not here; the Graph examples are not read");
        return;
    }
    for (file, rule) in [
        ("riskDetections-list.json", "risk.user.unfamiliar-features"),
        (
            "servicePrincipalRiskDetections-list.json",
            "risk.workload.investigations-threat-intelligence",
        ),
    ] {
        let (findings, _) = common::scan_json(&[data.join(file)]);
        let detections: Vec<&str> = findings
            .iter()
            .map(|f| f["detection"].as_str().unwrap())
            .filter(|d| !d.starts_with("sigma:"))
            .collect();
        assert_eq!(detections, [rule], "{file}");
    }
}
