//! Real exports nobody here wrote (`../shared/data/samples`, see its
//! CATALOGUE.md): the importers read them whole and the detections give
//! the answers the captures document. Without the data beside the
//! checkout, each test says so and passes.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn sample(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/samples")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is not beside this checkout", path.display());
        None
    }
}

fn scan(path: &std::path::Path) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(BIN)
        .arg("scan")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// OTRF's Golden SAML lab capture, Log Analytics `AuditLogs` rows: the
/// attacker adds a secret to SimuLandApp and grants it mail permissions.
#[test]
fn golden_saml_lab_audit_logs() {
    let Some(path) = sample("otrf-security-datasets/AADAuditEvents.json") else {
        return;
    };
    let (findings, stderr) = scan(&path);
    assert!(
        stderr.contains("NDJSON, 4 records") && !stderr.contains("skipped"),
        "{stderr}"
    );
    assert!(stderr.contains("4 directory audits"), "{stderr}");
    let credential = findings
        .iter()
        .find(|f| f["detection"] == "audit.app-credential-added")
        .expect("the added secret is found");
    assert!(
        credential["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["value"] == "SimuLandApp")
    );
    assert!(
        findings
            .iter()
            .any(|f| f["detection"] == "audit.high-risk-permission-granted")
    );
}

/// Azure Monitor diagnostic-settings records (Elastic's test samples):
/// read as sign-ins, nothing skipped, nothing alarming in benign events.
#[test]
fn diagnostic_settings_sign_ins() {
    for rel in [
        "elastic-integrations/test-adfs-signin.log",
        "elastic-integrations/test-managed-identity-sample.log",
    ] {
        let Some(path) = sample(rel) else { return };
        let (findings, stderr) = scan(&path);
        assert!(
            stderr.contains("sign-ins") && !stderr.contains("skipped"),
            "{rel}: {stderr}"
        );
        assert!(
            findings
                .iter()
                .all(|f| !matches!(f["severity"].as_str(), Some("critical" | "high"))),
            "{rel}: {findings:#?}"
        );
    }
}
