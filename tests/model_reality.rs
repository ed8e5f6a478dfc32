//! warroom's model against reality: Microsoft's documented example
//! responses (in ../shared/data, read in place) and the emulator's
//! responses go through the same reader.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use warroom::model::{
    DirectoryAudit, FederationConfiguration, Page, RiskDetection, SignIn, SignInKind, read_page,
};

fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/graph");
    if dir.exists() {
        Some(dir)
    } else {
        eprintln!("skipped: ../shared/data is not beside this checkout");
        None
    }
}

fn read<T: DeserializeOwned>(dir: &Path, file: &str) -> Page<T> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    read_page(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn documented_sign_ins_read() {
    let Some(dir) = data_dir() else { return };
    let files = [
        "beta/signIns-list.json",
        "beta/signIn-get.json",
        "beta/signIns-list-filter-appdisplayname.json",
        "beta/signIns-list-noninteractive.json",
        "beta/history/signIns-list-2020-example1.json",
        "beta/history/signIns-list-2020-example2.json",
        "v1.0/signIns-list.json",
        "v1.0/signIn-get.json",
        "v1.0/signIns-list-filter-appdisplayname.json",
    ];
    for file in files {
        let page: Page<SignIn> = read(&dir, file);
        assert!(!page.records.is_empty(), "{file}");
        assert_eq!(page.skipped, 0, "{file}: {:?}", page.first_error);
        for s in &page.records {
            assert!(!s.id.is_empty(), "{file}: no id");
            assert!(s.created_date_time.is_some(), "{file}: no time");
        }
    }
    // Duplicate keys, numbers and the beta event types come through.
    let page: Page<SignIn> = read(&dir, "beta/signIns-list.json");
    let s = &page.records[0];
    assert_eq!(s.status.error_code, Some(50126));
    assert_eq!(s.kind(), SignInKind::Interactive);
    assert_eq!(s.autonomous_system_number, Some(3598));
    let page: Page<SignIn> = read(&dir, "beta/signIns-list-noninteractive.json");
    assert!(
        page.records
            .iter()
            .all(|s| s.kind() == SignInKind::NonInteractive)
    );
}

#[test]
fn documented_audits_risks_and_federation_read() {
    let Some(dir) = data_dir() else { return };
    for file in [
        "v1.0/directoryAudits-list.json",
        "v1.0/directoryAudit-get.json",
        "v1.0/directoryAudits-list-filter-initiatedby.json",
        "beta/directoryAudits-list.json",
        "beta/directoryAudit-get.json",
        "beta/directoryAudits-list-filter-initiatedby.json",
    ] {
        let page: Page<DirectoryAudit> = read(&dir, file);
        assert!(!page.records.is_empty(), "{file}");
        let a = &page.records[0];
        assert!(!a.activity_display_name.is_empty(), "{file}");
        assert!(
            !a.target_resources.is_empty(),
            "{file}: targets (also `targetResource` and `Type`)"
        );
        assert!(
            a.target_resources.iter().all(|t| !t.kind().is_empty()),
            "{file}: target type"
        );
    }
    for file in [
        "v1.0/riskDetections-list.json",
        "beta/riskDetection-get.json",
    ] {
        let page: Page<RiskDetection> = read(&dir, file);
        assert!(!page.records.is_empty(), "{file}");
        assert_eq!(
            page.records[0].risk_event_type.as_str(),
            "unfamiliarFeatures",
            "{file}: riskType alias"
        );
    }
    for file in [
        "v1.0/domain-federationConfiguration-list.json",
        "v1.0/domain-federationConfiguration-get.json",
    ] {
        let page: Page<FederationConfiguration> = read(&dir, file);
        assert!(!page.records[0].signing_certificate.is_empty(), "{file}");
    }
}

/// The same reader over the emulator's output, and its forged sign-ins
/// look forged through the model.
#[tokio::test]
async fn emulator_responses_read_with_the_same_code() {
    use warroom::emulator::{self, Scenario, Spec};
    warroom::install_crypto_provider();
    let spec = Spec {
        scenario: Scenario::GoldenSaml,
        seed: 7,
        signins: 3_000,
        days: 30,
        end_ms: 1_795_000_000_000,
    };
    let options = emulator::Options {
        throttle: false,
        ..Default::default()
    };
    let running = emulator::start(&spec, "127.0.0.1:0", options)
        .await
        .unwrap();
    let (tenant, id, secret) = {
        let t = running.emulator.tenant.read().unwrap();
        (
            t.id.to_string(),
            t.responder.app_id.to_string(),
            t.responder.secret.clone(),
        )
    };
    let client = reqwest::Client::new();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let token: serde_json::Value = client
        .post(format!("{}/{tenant}/oauth2/v2.0/token", running.url))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let get = |path: &str| {
        let request = client
            .get(format!("{}{path}", running.url))
            .bearer_auth(&token);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let signins: Page<SignIn> =
        read_page(&get("/beta/auditLogs/signIns?$filter=ipAddress%20eq%20'203.0.113.66'").await)
            .unwrap();
    assert!(signins.records.iter().any(SignIn::mfa_by_claim));
    let audits: Page<DirectoryAudit> =
        read_page(&get("/v1.0/auditLogs/directoryAudits?$top=50").await).unwrap();
    assert_eq!(audits.records.len(), 50);
    assert!(audits.next_link.is_some());
    let risks: Page<RiskDetection> =
        read_page(&get("/v1.0/identityProtection/riskDetections").await).unwrap();
    assert!(
        risks
            .records
            .iter()
            .any(|r| r.risk_event_type.as_str() == "tokenIssuerAnomaly")
    );
    let fed: Page<FederationConfiguration> =
        read_page(&get("/v1.0/domains/contoso.com/federationConfiguration").await).unwrap();
    assert!(!fed.records[0].next_signing_certificate.is_empty());
}
