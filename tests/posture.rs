//! The posture review against the emulated tenants (over HTTP, as against
//! Graph) and against Microsoft's own documentation examples: every
//! weakness and planted object of a scenario's answer key is flagged,
//! nothing outside it is flagged critical or high, what a snapshot lacks
//! is "not judged" rather than passed, and a credential added between two
//! snapshots is named by the comparison.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use warroom::detect::Finding;
use warroom::detect::posture::{self, Outcome, Snapshot, diff};
use warroom::emulator::{self, Running, Scenario, Spec};
use warroom::source::graph::snapshot;

async fn tenant(scenario: Scenario) -> Running {
    warroom::install_crypto_provider();
    let options = emulator::Options {
        throttle: false,
        authority: emulator::oauth::AuthorityOptions {
            token_lifetime: Duration::from_secs(600),
            device_approval_delay: Duration::ZERO,
            device_poll_interval: Duration::from_millis(100),
        },
        ..Default::default()
    };
    let spec = Spec {
        scenario,
        seed: 11,
        signins: 300,
        days: 30,
        end_ms: jiff::Timestamp::now().as_millisecond(),
    };
    emulator::start(&spec, "127.0.0.1:0", options)
        .await
        .unwrap()
}

async fn take(running: &Running) -> Snapshot {
    Snapshot::from_lines(take_lines(running).await)
}

async fn take_lines(running: &Running) -> Vec<Value> {
    let client = warroom::source::graph::connect(&running.responder_settings(), None).unwrap();
    let (lines, summary) = snapshot::take(&client, &running.url, &|_| {})
        .await
        .unwrap();
    assert!(summary.gaps.is_empty(), "{:?}", summary.gaps);
    lines
}

fn review(snapshot: &Snapshot) -> (Vec<posture::Verdict>, Vec<Finding>) {
    let verdicts = posture::judge(snapshot, jiff::Timestamp::now());
    let findings = posture::findings(&verdicts, &[], snapshot.taken_at);
    (verdicts, findings)
}

/// Every object the answer key names: planted users and apps, and the
/// tenant's security debt.
fn key_objects(running: &Running) -> (BTreeSet<String>, Vec<(String, String)>) {
    let key = running.answer_key();
    let mut objects = BTreeSet::new();
    for list in ["malicious_users", "malicious_apps"] {
        for v in key[list].as_array().unwrap() {
            objects.insert(v.as_str().unwrap().to_lowercase());
        }
    }
    let mut debt = Vec::new();
    for d in key["debt"].as_array().unwrap() {
        let object = d["object"].as_str().unwrap().to_lowercase();
        objects.insert(object.clone());
        debt.push((d["kind"].as_str().unwrap().to_owned(), object));
    }
    (objects, debt)
}

fn names(f: &Finding) -> BTreeSet<String> {
    f.entities.iter().map(|e| e.value.to_lowercase()).collect()
}

fn serious(findings: &[Finding]) -> Vec<&Finding> {
    findings
        .iter()
        .filter(|f| f.severity <= warroom::model::Severity::High)
        .collect()
}

#[tokio::test]
async fn golden_saml_posture_flags_the_answer_key_and_nothing_else_high() {
    let running = tenant(Scenario::GoldenSaml).await;
    let snapshot = take(&running).await;
    let (verdicts, findings) = review(&snapshot);
    let (objects, debt) = key_objects(&running);

    // Every weakness the scenario plants is flagged, by the object it names.
    for (kind, object) in &debt {
        assert!(
            findings
                .iter()
                .any(|f| f.verdict == Some(Outcome::Fail) && names(f).contains(object)),
            "security debt {kind} ({object}) is not flagged"
        );
    }
    // So is every malicious user and app present in the directory.
    let key = running.answer_key();
    for list in ["malicious_users", "malicious_apps"] {
        for v in key[list].as_array().unwrap() {
            let object = v.as_str().unwrap().to_lowercase();
            assert!(
                serious(&findings)
                    .iter()
                    .any(|f| names(f).contains(&object)),
                "{object} ({list}) is not in a critical or high finding"
            );
        }
    }
    // The tampered trust: a foreign issuer and the attacker's certificate.
    let failed: BTreeSet<&str> = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Fail)
        .map(|v| v.check.id)
        .collect();
    for check in [
        "posture.federation-foreign-issuer",
        "posture.federation-next-certificate-differs",
        "posture.federation-certificate-long-lived",
        "posture.app-new-credential-high-risk",
    ] {
        assert!(failed.contains(check), "{check} did not fail: {failed:?}");
    }
    // The backdoor credential is named by its keyId, so the checklist can
    // offer to remove it.
    let backdoor = findings
        .iter()
        .find(|f| f.detection == "posture.app-new-credential-high-risk")
        .unwrap();
    assert!(backdoor.entities.iter().any(|e| e.field == "keyId"));
    assert!(backdoor.explanation.contains("Contoso HR Connector"));

    // Nothing critical or high falls outside the answer key.
    for f in serious(&findings) {
        assert!(
            !names(f).is_disjoint(&objects),
            "{} flags objects outside the answer key: {:?}",
            f.detection,
            f.entities
        );
    }
    // Everything in the emulated tenant can be judged.
    assert!(
        verdicts.iter().all(|v| v.outcome != Outcome::Unknown),
        "{:?}",
        verdicts
            .iter()
            .filter(|v| v.outcome == Outcome::Unknown)
            .map(|v| (v.check.id, &v.note))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_clean_tenant_shows_only_its_debt() {
    let running = tenant(Scenario::Clean).await;
    let snapshot = take(&running).await;
    let (_, findings) = review(&snapshot);
    let (objects, debt) = key_objects(&running);
    for f in serious(&findings) {
        assert!(
            !names(f).is_disjoint(&objects),
            "{} flags objects outside the answer key on a clean tenant: {:?}",
            f.detection,
            f.entities
        );
        assert!(
            !f.detection.contains("foreign-issuer")
                && !f.detection.contains("next-certificate")
                && !f.detection.contains("new-credential"),
            "{} fires on a clean tenant",
            f.detection
        );
    }
    for (kind, object) in &debt {
        assert!(
            findings.iter().any(|f| names(f).contains(object)),
            "security debt {kind} ({object}) is not flagged"
        );
    }
}

/// The hardened tenant (no attack, no debt) passes every check, each
/// judged (nothing "not judged"), with nothing in its answer key; and the
/// same checks fail on golden-saml's planted debt.
#[tokio::test]
async fn the_hardened_tenant_passes_every_check() {
    let running = tenant(Scenario::Hardened).await;
    let snapshot = take(&running).await;
    let (verdicts, findings) = review(&snapshot);
    assert_eq!(verdicts.len(), posture::CHECKS.len());
    for v in &verdicts {
        assert_eq!(v.outcome, Outcome::Pass, "{}: {}", v.check.id, v.note);
    }
    assert!(findings.is_empty(), "{findings:#?}");
    let (objects, debt) = key_objects(&running);
    assert!(objects.is_empty() && debt.is_empty(), "{objects:?}");
}

/// Each part left out of the hardened tenant's snapshot makes only checks
/// that say they read it "not judged", fails none, and leaves some check
/// not judged exactly when some check says it reads the part: what
/// `posture --checks` says each check reads is true.
#[tokio::test]
async fn a_missing_part_leaves_only_its_checks_unjudged() {
    let running = tenant(Scenario::Hardened).await;
    let lines = take_lines(&running).await;
    let part_of = |line: &Value| {
        line["@warroom.source"]
            .as_str()
            .and_then(posture::Part::from_path)
    };
    let parts: BTreeSet<posture::Part> = lines.iter().filter_map(part_of).collect();
    assert!(parts.len() >= 15, "{parts:?}");
    for part in parts {
        let kept: Vec<Value> = lines
            .iter()
            .filter(|l| part_of(l) != Some(part))
            .cloned()
            .collect();
        let (verdicts, _) = review(&Snapshot::from_lines(kept));
        let mut unjudged = 0;
        for v in &verdicts {
            assert_ne!(
                v.outcome,
                Outcome::Fail,
                "{} fails without {part:?}",
                v.check.id
            );
            if v.outcome == Outcome::Unknown {
                unjudged += 1;
                assert!(
                    v.check.reads.contains(&part),
                    "{} is not judged without {part:?}, which it does not say it reads",
                    v.check.id
                );
            }
        }
        let read = posture::CHECKS.iter().any(|c| c.reads.contains(&part));
        assert_eq!(unjudged > 0, read, "{part:?}: {unjudged} checks not judged");
    }
}

/// Sends one write and returns Graph's answer body.
async fn send(client: &warroom::source::graph::GraphClient, url: &str, body: Value) -> Value {
    let outcome = client
        .write_once(reqwest::Method::POST, url, Some(&body))
        .await;
    match outcome {
        warroom::source::graph::client::WriteOutcome::Done { body, .. } => body,
        other => panic!("{url}: {other:?}"),
    }
}

#[tokio::test]
async fn what_an_attacker_adds_between_snapshots_is_named() {
    let running = tenant(Scenario::Clean).await;
    let before = take(&running).await;
    // The responder app may add a secret (it holds Application.ReadWrite.All);
    // the consent and the role are given by a Global Administrator signed in.
    let app = warroom::source::graph::connect(&running.responder_settings(), None).unwrap();
    let mut settings = running.responder_settings();
    settings.auth = warroom::config::AuthMethod::DeviceCode;
    let quiet: warroom::source::graph::auth::Announce = std::sync::Arc::new(|_| {});
    let admin = warroom::source::graph::connect(&settings, Some(quiet)).unwrap();
    let find = |part, name: &str| -> String {
        before
            .list(part)
            .iter()
            .find(|o| o["displayName"] == name || o["userPrincipalName"] == name)
            .unwrap_or_else(|| panic!("{name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let payroll_app = find(posture::Part::Applications, "Payroll Sync");
    let payroll = find(posture::Part::ServicePrincipals, "Payroll Sync");
    let graph = find(posture::Part::ServicePrincipals, "Microsoft Graph");
    let isaiah = find(posture::Part::Users, "isaiah.langer@contoso.com");
    let base = format!("{}/v1.0", running.url);

    let secret = send(
        &app,
        &format!("{base}/applications/{payroll_app}/addPassword"),
        serde_json::json!({"passwordCredential": {"displayName": "late"}}),
    )
    .await;
    let key_id = secret["keyId"].as_str().unwrap().to_owned();
    assert!(secret["secretText"].as_str().unwrap().len() >= 16);
    send(
        &admin,
        &format!("{base}/oauth2PermissionGrants"),
        serde_json::json!({"clientId": payroll, "consentType": "AllPrincipals",
            "resourceId": graph, "scope": "Mail.ReadWrite offline_access"}),
    )
    .await;
    let owned = admin
        .write_once(
            reqwest::Method::POST,
            &format!("{base}/applications/{payroll_app}/owners/$ref"),
            Some(&serde_json::json!({
                "@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{isaiah}")
            })),
        )
        .await;
    assert!(
        matches!(
            owned,
            warroom::source::graph::client::WriteOutcome::Done { status: 204, .. }
        ),
        "{owned:?}"
    );
    send(
        &admin,
        &format!("{base}/roleManagement/directory/roleAssignments"),
        serde_json::json!({"principalId": isaiah, "directoryScopeId": "/",
            "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10"}),
    )
    .await;
    // The app holds no right to consent: Graph's answer, and nothing changes.
    let refused = app
        .write_once(
            reqwest::Method::POST,
            &format!("{base}/oauth2PermissionGrants"),
            Some(
                &serde_json::json!({"clientId": payroll, "consentType": "AllPrincipals",
                "resourceId": graph, "scope": "Mail.Send"}),
            ),
        )
        .await;
    assert!(
        matches!(
            refused,
            warroom::source::graph::client::WriteOutcome::Refused { status: 403, .. }
        ),
        "{refused:?}"
    );

    let after = take(&running).await;
    let changes = diff::compare(&before, &after);
    assert!(
        changes.not_compared.is_empty(),
        "{:?}",
        changes.not_compared
    );
    let one = |detection: &str| -> &Finding {
        let found: Vec<&Finding> = changes
            .findings
            .iter()
            .filter(|f| f.detection == detection)
            .collect();
        assert_eq!(found.len(), 1, "{detection}: {:#?}", changes.findings);
        found[0]
    };
    let credential = one("posture.diff.credential-added");
    assert!(credential.explanation.contains(&key_id));
    assert!(credential.explanation.contains("Payroll Sync"));
    let grant = one("posture.diff.grant-added");
    assert!(
        grant.explanation.contains("Mail.ReadWrite"),
        "{}",
        grant.explanation
    );
    assert!(grant.explanation.contains("every user"));
    let role = one("posture.diff.role-member-added");
    assert!(role.explanation.contains("isaiah.langer@contoso.com"));
    assert!(role.explanation.contains("Global Administrator"));
    let owner = one("posture.diff.owner-added");
    assert!(owner.explanation.contains("isaiah.langer@contoso.com"));
    assert!(owner.explanation.contains("Payroll Sync"));
    for f in [credential, grant, role, owner] {
        assert_eq!(
            f.severity,
            warroom::model::Severity::High,
            "{}",
            f.detection
        );
    }
    // Nothing else changed, and a snapshot compared with itself shows nothing.
    assert_eq!(changes.findings.len(), 4, "{:#?}", changes.findings);
    assert!(diff::compare(&after, &after).findings.is_empty());

    // The review of the new snapshot sees the new admin stand outside PIM.
    let (_, findings) = review(&after);
    assert!(
        findings
            .iter()
            .any(|f| f.detection == "posture.standing-privileged-assignment"
                && names(f).contains("isaiah.langer@contoso.com"))
    );
}

fn graph_docs() -> Option<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/graph/v1.0");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("note: ../shared/data is not here; the documentation examples are not read");
        None
    }
}

#[test]
fn graph_documentation_examples_are_judged_without_a_false_pass() {
    let Some(dir) = graph_docs() else { return };
    let files: Vec<std::path::PathBuf> = [
        "domains-list.json",
        "domain-get.json",
        "domain-federationConfiguration-list.json",
        "domain-federationConfiguration-get.json",
        "applications-list.json",
        "application-get.json",
        "application-get-by-appid-select.json",
        "servicePrincipals-list.json",
        "servicePrincipal-get.json",
        "servicePrincipal-get-select.json",
        "servicePrincipal-appRoleAssignedTo-list.json",
        "servicePrincipal-appRoleAssignments-list.json",
        "oauth2PermissionGrants-list.json",
        "roleDefinitions-list.json",
        "roleAssignments-list-expand-principal.json",
        "roleAssignments-list-filter-principal.json",
        "roleAssignmentScheduleInstances-list.json",
        "roleEligibilitySchedules-list.json",
        "conditionalAccessPolicies-list.json",
        "identitySecurityDefaultsEnforcementPolicy-get.json",
        "users-list.json",
        "users-list-signinactivity.json",
        "users-list-guests.json",
        "user-authenticationMethods-list.json",
        "groups-list.json",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let (snapshot, summaries) = warroom::pipeline::snapshot::read(&files);
    for s in &summaries {
        assert_eq!(s.skipped, 0, "{}", s.line());
        assert!(s.records > 0, "{}", s.line());
    }
    assert_eq!(snapshot.passed_over, 0);
    for part in [
        posture::Part::Domains,
        posture::Part::Federation,
        posture::Part::Applications,
        posture::Part::ServicePrincipals,
        posture::Part::Grants,
        posture::Part::AppRoleAssignments,
        posture::Part::RoleDefinitions,
        posture::Part::RoleAssignments,
        posture::Part::RoleInstances,
        posture::Part::RoleEligibilities,
        posture::Part::ConditionalAccess,
        posture::Part::SecurityDefaults,
        posture::Part::Users,
        posture::Part::Groups,
        posture::Part::AuthMethods,
    ] {
        assert!(snapshot.has(part), "{} not read", part.name());
    }
    let (verdicts, findings) = review(&snapshot);
    let verdict = |id: &str| verdicts.iter().find(|v| v.check.id == id).unwrap();
    // The documentation's certificate is cut short: not judged, never passed.
    let long = verdict("posture.federation-certificate-long-lived");
    assert_eq!(long.outcome, Outcome::Unknown, "{}", long.note);
    assert!(long.note.contains("cannot be read"), "{}", long.note);
    // Its issuer is the domain itself and MFA is rejected from the IdP.
    assert_eq!(
        verdict("posture.federation-foreign-issuer").outcome,
        Outcome::Pass
    );
    assert_eq!(
        verdict("posture.federation-accepts-idp-mfa").outcome,
        Outcome::Pass
    );
    // The sample grants Directory.ReadWrite.All and more to every user.
    assert_eq!(
        verdict("posture.tenant-wide-high-risk-grant").outcome,
        Outcome::Fail
    );
    // Security defaults are on in the sample: legacy protocols are blocked.
    assert_eq!(
        verdict("posture.legacy-auth-not-blocked").outcome,
        Outcome::Pass
    );
    // Users listed without onPremisesSyncEnabled cannot be judged synced.
    assert_ne!(
        verdict("posture.synced-privileged-account").outcome,
        Outcome::Fail
    );
    assert!(findings.iter().all(|f| f.verdict.is_some()));
}

#[test]
fn posture_on_files_runs_headless_and_says_what_it_lacks() {
    let home = common::Home::new();
    let only_domains = home.path().join("snapshot.ndjson");
    std::fs::write(
        &only_domains,
        concat!(
            r#"{"id":"contoso.com","authenticationType":"Federated","isVerified":true,"@warroom.source":"domains","@warroom.snapshotAt":"2026-11-30T10:00:00Z"}"#,
            "\n",
            r#"{"id":"f1","issuerUri":"http://any.sts/B9A1F2","passiveSignInUri":"https://sts.contoso.com/adfs/ls","@warroom.source":"domains/contoso.com/federationConfiguration","@warroom.snapshotAt":"2026-11-30T10:00:00Z"}"#,
            "\n",
            "not json\n",
        ),
    )
    .unwrap();
    let out = home.run(
        &[
            "posture",
            only_domains.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 skipped"), "{stderr}");
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let any_sts = findings
        .iter()
        .find(|f| f["detection"] == "posture.federation-foreign-issuer")
        .expect("any.sts is flagged");
    assert_eq!(any_sts["severity"], "critical");
    assert_eq!(any_sts["verdict"], "fail");
    assert!(any_sts["explanation"].as_str().unwrap().contains("any.sts"));
    // What the file lacks is not judged, and says so.
    let legacy = findings
        .iter()
        .find(|f| f["detection"] == "posture.legacy-auth-not-blocked")
        .expect("legacy authentication is reported as not judged");
    assert_eq!(legacy["verdict"], "unknown");
    assert_eq!(legacy["severity"], "info");
    assert!(
        legacy["explanation"]
            .as_str()
            .unwrap()
            .contains("conditional access")
    );

    // A file with no directory object is an error, with the way out.
    let empty = home.path().join("empty.json");
    std::fs::write(&empty, "[]").unwrap();
    let out = home.run(&["posture", empty.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--streams directory"));
}
