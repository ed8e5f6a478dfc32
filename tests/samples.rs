//! Real exports nobody here wrote (`../shared/data/samples`, see its
//! CATALOGUE.md): the importers read them whole and the detections give
//! the answers the captures document. Without the data beside the
//! checkout, each test says so and passes.

mod common;

use std::path::PathBuf;

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
    scan_quiet(&[path.to_path_buf()])
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

fn scan_quiet(paths: &[PathBuf]) -> (Vec<serde_json::Value>, String) {
    common::scan_json(paths)
}

fn fired(findings: &[serde_json::Value], detection: &str) -> bool {
    findings.iter().any(|f| f["detection"] == detection)
}

/// Every real export the catalogue lists is read whole: the records it
/// holds, none skipped, each of a kind the engine reads (Defender's
/// on-premises tables aside).
#[test]
fn every_export_is_read_whole() {
    let cases: &[(&str, u64, u64)] = &[
        // (file, records, of a kind warroom does not read)
        ("huntress-ctf-2023/purview.csv", 219, 0),
        ("sentinel-training-lab/AuditLogs_Hunting.csv", 5, 0),
        ("sentinel-training-lab/sign-in_adelete.csv", 56, 0),
        ("sentinel-training-lab/disable_accounts.csv", 4, 0),
        ("sentinel-training-lab/office_activity.csv", 266, 0),
        ("sentinel-training-lab/office_activity_inbox_rule.csv", 2, 0),
        ("otrf-security-datasets/AADAuditEvents.json", 4, 0),
        ("otrf-security-datasets/OfficeActivityEvents.json", 1, 0),
        // LDAP searches and replication on the AD FS server: on-premises.
        (
            "otrf-security-datasets/Microsoft365DefenderEvents.json",
            9,
            7,
        ),
        ("elastic-integrations/test-adfs-signin.log", 1, 0),
        (
            "elastic-integrations/test-managed-identity-sample.log",
            2,
            0,
        ),
        ("cribl-microsoft-graph-rest-io/7cieEB.json", 2, 0),
    ];
    for (rel, records, unknown) in cases {
        let Some(path) = sample(rel) else { return };
        let (_, stderr) = scan_quiet(&[path]);
        assert!(
            stderr.contains(&format!(", {records} records")) && !stderr.contains("skipped"),
            "{rel}: {stderr}"
        );
        let passed = stderr.contains("passed over");
        assert_eq!(passed, *unknown > 0, "{rel}: {stderr}");
        if *unknown > 0 {
            assert!(
                stderr.contains(&format!("{unknown} records of no kind")),
                "{rel}: {stderr}"
            );
        }
    }
}

/// The Sentinel training lab's narrative: the attacker's IP tries a
/// disabled account, a hunting query finds secrets added to OAuth apps,
/// and AdeleV gets inbox rules that delete and move mail.
#[test]
fn sentinel_training_lab_findings() {
    let Some(hunting) = sample("sentinel-training-lab/AuditLogs_Hunting.csv") else {
        return;
    };
    let (findings, _) = scan_quiet(&[hunting]);
    let apps: Vec<&str> = findings
        .iter()
        .filter(|f| f["detection"] == "audit.app-credential-added")
        .flat_map(|f| f["entities"].as_array().unwrap())
        .filter(|e| e["field"] == "targetResources.displayName")
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    for app in [
        "purview-spn-user099",
        "EntApp01",
        "EntApp02",
        "EntApp03",
        "EntApp04",
    ] {
        assert!(apps.contains(&app), "{app} missing from {apps:?}");
    }
    let (findings, _) =
        scan_quiet(&[sample("sentinel-training-lab/disable_accounts.csv").unwrap()]);
    let disabled = findings
        .iter()
        .find(|f| f["detection"] == "signin.disabled-account")
        .expect("sign-ins to the disabled account");
    assert_eq!(disabled["count"], 4);
    assert!(
        disabled["explanation"]
            .as_str()
            .unwrap()
            .contains("175.45.176.99")
    );
    let (findings, _) =
        scan_quiet(&[sample("sentinel-training-lab/office_activity_inbox_rule.csv").unwrap()]);
    assert!(
        fired(&findings, "mail.inbox-rule-hides-or-forwards"),
        "{findings:#?}"
    );
}

/// The labelled lab captures (Sentinel's training lab, OTRF's Golden SAML
/// set): each labelled record gives the labelled answer where warroom has
/// a detection of the same meaning; the rest are listed with the reason.
#[test]
fn labelled_lab_cases_give_the_labelled_answer() {
    // (files scanned together, detection, must fire, what the label says)
    let cases: &[(&[&str], &str, bool, &str)] = &[
        (
            &["sentinel-training-lab/AuditLogs_Hunting.csv"],
            "audit.app-credential-added",
            true,
            "secrets added to OAuth apps (T1098.001)",
        ),
        (
            &["sentinel-training-lab/disable_accounts.csv"],
            "signin.disabled-account",
            true,
            "attempts on a disabled account (T1110)",
        ),
        (
            &[
                "sentinel-training-lab/disable_accounts.csv",
                "sentinel-training-lab/sign-in_adelete.csv",
            ],
            "infra.attacker-infrastructure",
            true,
            "AdeleV's sign-ins from the address that tried the disabled account (T1078.004)",
        ),
        (
            &["sentinel-training-lab/sign-in_adelete.csv"],
            "infra.attacker-infrastructure",
            false,
            "the same sign-ins alone: nothing ties the address to a probe",
        ),
        (
            &["sentinel-training-lab/office_activity_inbox_rule.csv"],
            "mail.inbox-rule-hides-or-forwards",
            true,
            "rules that delete and move mail (T1564.008)",
        ),
        (
            &["otrf-security-datasets/AADAuditEvents.json"],
            "audit.app-credential-added",
            true,
            "secret added to SimuLandApp (T1098.001)",
        ),
        (
            &["otrf-security-datasets/AADAuditEvents.json"],
            "audit.high-risk-permission-granted",
            true,
            "Mail.ReadWrite granted (T1098.003)",
        ),
        (
            &["otrf-security-datasets/OfficeActivityEvents.json"],
            "mail.read-by-application",
            true,
            "mail read through Graph (T1114.002)",
        ),
        (
            &["otrf-security-datasets/Microsoft365DefenderEvents.json"],
            "mail.read-by-application",
            true,
            "mail read through Graph (T1114.002)",
        ),
        (
            &["otrf-security-datasets/WindowsEvents.json"],
            "onprem.adfs-dkm-key-read",
            true,
            "the AD FS key container read (T1552.004)",
        ),
        (
            &[
                "otrf-security-datasets/aadinternals_export_adfsdatabaseconfig_remotely_2021-04-27040833.json",
            ],
            "onprem.adfs-config-transfer",
            true,
            "the AD FS configuration exported remotely (T1552.004)",
        ),
    ];
    // Labelled files or records with no detection of the same meaning.
    let unmatched: &[(&str, &str)] = &[
        (
            "sentinel-training-lab/office_activity.csv",
            "the one labelled New-InboxRule pins mail about \"legal\" and stops other rules: nothing is hidden, moved, deleted or forwarded, so the inbox-rule detection rightly stays quiet; a rule on every new inbox rule would flag ordinary users all day",
        ),
        (
            "sentinel-training-lab/signinLogs.csv",
            "an analytic rule's result row, not a log: read as not understood",
        ),
        (
            "sentinel-training-lab/HighRiskApps.csv",
            "a watchlist, not a log: read as not understood",
        ),
    ];
    let mut failures = Vec::new();
    for (files, detection, want, label) in cases {
        let Some(paths) = files.iter().map(|f| sample(f)).collect::<Option<Vec<_>>>() else {
            return;
        };
        let (findings, _) = scan_quiet(&paths);
        if fired(&findings, detection) != *want {
            failures.push(format!("{files:?}: {detection} should be {want} ({label})"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (file, reason) in unmatched {
        assert!(sample(file).is_some() && !reason.is_empty());
    }
    // The probe's address: what succeeded there, at medium, not the failures.
    let (findings, _) = scan_quiet(&[
        sample("sentinel-training-lab/disable_accounts.csv").unwrap(),
        sample("sentinel-training-lab/sign-in_adelete.csv").unwrap(),
    ]);
    let adele = findings
        .iter()
        .find(|f| f["detection"] == "infra.attacker-infrastructure")
        .unwrap();
    assert_eq!(adele["severity"], "medium");
    assert_eq!(adele["count"], 53, "{adele}");
}

/// Huntress CTF "Rogue Inbox" (Purview audit search CSV): 38 hiding rules
/// in DebraB's mailbox; tenant provisioning by Exchange itself is not a
/// finding.
#[test]
fn purview_rogue_inbox() {
    let Some(path) = sample("huntress-ctf-2023/purview.csv") else {
        return;
    };
    let (findings, stderr) = scan_quiet(&[path]);
    let rule = findings
        .iter()
        .find(|f| f["detection"] == "mail.inbox-rule-hides-or-forwards")
        .expect("the rogue inbox rules");
    assert_eq!(rule["count"], 38);
    assert!(
        rule["explanation"].as_str().unwrap().contains("DebraB@"),
        "{rule}"
    );
    assert!(!fired(&findings, "mail.delegate-added"), "{findings:#?}");
    // Entra ID's own records in the UAL are read as directory audits and
    // sign-ins.
    assert!(
        stderr.contains("directory audits") && stderr.contains("sign-ins"),
        "{stderr}"
    );
}

/// OTRF's Golden SAML capture, mail side: the attacker's app reads
/// pgustavo's mailbox through Graph (OfficeActivity and Defender's
/// CloudAppEvents), and the delegated grant shows in Defender too.
#[test]
fn golden_saml_lab_mail_access() {
    for rel in [
        "otrf-security-datasets/OfficeActivityEvents.json",
        "otrf-security-datasets/Microsoft365DefenderEvents.json",
    ] {
        let Some(path) = sample(rel) else { return };
        let (findings, _) = scan_quiet(&[path]);
        let read = findings
            .iter()
            .find(|f| f["detection"] == "mail.read-by-application")
            .unwrap_or_else(|| panic!("{rel}: {findings:#?}"));
        let text = read.to_string();
        assert!(
            text.contains("5a95e683-08ad-424e-a441-1d1aec52c02c"),
            "{rel}: {text}"
        );
    }
    let (findings, _) =
        scan_quiet(&[sample("otrf-security-datasets/Microsoft365DefenderEvents.json").unwrap()]);
    assert!(fired(&findings, "audit.high-risk-permission-granted"));
}

/// SEKOIA's parser test events (each wrapped in `input.message` by the
/// test format; unwrapped here as a responder's export would hold them).
#[test]
fn sekoia_events_are_read_and_judged() {
    let Some(root) = sample("sekoia-intake-formats") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for family in ["azure-ad", "o365", "entraid-graphapi"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(family))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let wrapped: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let raw = wrapped["input"]["message"].as_str().unwrap();
            let name = format!("{family}-{}", file.file_name().unwrap().to_string_lossy());
            let out = dir.path().join(name);
            std::fs::write(&out, raw).unwrap();
            paths.push(out);
        }
    }
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (findings, stderr) = scan_quiet(std::slice::from_ref(path));
        assert!(!stderr.contains("skipped"), "{name}: {stderr}");
        // Graph activity logs are not a record kind the engine reads.
        assert_eq!(
            stderr.contains("passed over"),
            name.contains("graph_activity"),
            "{name}: {stderr}"
        );
        let expect: &[&str] = match name.as_str() {
            "o365-add_member_to_role.json" => &["audit.privileged-role-member-added"],
            "o365-inbox_rule.json" => &["mail.inbox-rule-hides-or-forwards"],
            "azure-ad-add_domain.json" => &["audit.domain-added"],
            _ => &[],
        };
        for detection in expect {
            assert!(
                fired(&findings, detection),
                "{name}: {detection} in {findings:#?}"
            );
        }
        // A credential change that added no key is not a credential added.
        if name == "entraid-graphapi-test_event_0077.json" {
            assert!(findings.is_empty(), "{name}: {findings:#?}");
        }
        // Owner access through Outlook on the web is not an app reading mail.
        if name == "o365-exchange_item_aggregated.json" {
            assert!(
                !fired(&findings, "mail.read-by-application"),
                "{name}: {findings:#?}"
            );
        }
    }
}

/// Microsoft's own Graph documentation examples of the records scan
/// reads: every one read, none skipped, each of a known kind.
#[test]
fn graph_documentation_examples_are_read() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/graph");
    if !root.exists() {
        eprintln!("skipped: {} is not beside this checkout", root.display());
        return;
    }
    let mut paths = Vec::new();
    for version in ["v1.0", "beta"] {
        for entry in std::fs::read_dir(root.join(version)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let wanted = [
                "signIn",
                "directoryAudit",
                "riskDetection",
                "auditLogQuery-records",
            ]
            .iter()
            .any(|p| name.starts_with(p) || name.contains(p));
            if wanted && name.ends_with(".json") && !name.contains("request") {
                paths.push(path);
            }
        }
    }
    assert!(paths.len() >= 10, "{paths:?}");
    for path in paths {
        let (_, stderr) = scan_quiet(std::slice::from_ref(&path));
        assert!(
            !stderr.contains("skipped") && !stderr.contains("passed over"),
            "{}: {stderr}",
            path.display()
        );
    }
}

/// Panther's labelled rule tests (synthetic events in real shapes): where a
/// warroom detection means the same as a Panther rule, it gives Panther's
/// answer. `both` checks must-fire and must-not-fire cases; rules of a
/// wider meaning than Panther's (warroom reports every forwarding set,
/// Panther only external ones) are held to the must-fire cases alone.
#[test]
fn panther_labelled_cases() {
    let Some(root) = sample("panther-analysis/rules") else {
        return;
    };
    let mapping: &[(&str, &[&str], bool)] = &[
        (
            "azure_service_principal_credentials_added.yml",
            &["audit.app-credential-added"],
            true,
        ),
        (
            "azure_domain_trust_settings_modified.yml",
            &["audit.federation-changed", "audit.domain-made-federated"],
            true,
        ),
        // warroom keeps dismissed high-risk sign-ins: an attacker holding an
        // admin role dismisses risk to hide.
        ("azure_high_risk_signin.yml", &["signin.high-risk"], false),
        (
            "azure_policy_changed.yml",
            &["audit.conditional-access-weakened"],
            true,
        ),
        (
            "azure_mfa_disabled.yml",
            &["audit.conditional-access-weakened"],
            false,
        ),
        (
            "azure_role_changed_pim.yml",
            &["audit.privileged-role-member-added"],
            false,
        ),
        (
            "azure_legacyauth.yml",
            &["signin.legacy-auth-success"],
            false,
        ),
        (
            "azure_device_code_broker_client.yml",
            &["signin.device-code"],
            false,
        ),
        (
            "microsoft_exchange_external_forwarding.yml",
            &["mail.forwarding-set", "mail.inbox-rule-hides-or-forwards"],
            false,
        ),
        // warroom reports every authentication methods policy update;
        // Panther only one that changes the OIDC discovery URL.
        (
            "azure_auth_methods_policy_oidc_change.yml",
            &["audit.authorization-policy-changed"],
            false,
        ),
        // warroom reports smart lockouts from Microsoft's own networks too
        // (attackers rent Azure addresses).
        (
            "azure_excessive_account_lockouts.yml",
            &["signin.smart-lockout"],
            false,
        ),
        // warroom reports every account created, invitee in the inviter's
        // domain or not.
        (
            "azure_invite_external_users.yml",
            &["audit.user-created"],
            false,
        ),
        ("azure_ropc_login_no_mfa.yml", &["signin.ropc"], true),
        (
            "azure_vscode_oauth_phishing.yml",
            &["signin.vscode-to-graph"],
            true,
        ),
        (
            "microsoft365_mfa_disabled.yml",
            &["audit.mfa-methods-cleared"],
            true,
        ),
        // The activity is named only in the diagnostic envelope.
        (
            "azure_elevate_user_access_admin.yml",
            &["audit.elevate-access"],
            true,
        ),
    ];
    // Panther rules no warroom detection means the same as, and why.
    let unmapped: &[(&str, &str)] = &[
        (
            "azure_failed_signins.yml",
            "any single failed sign-in; warroom reports failures by pattern (spray, brute force, lockout, bad service principal credential), each needing a count within a window",
        ),
        (
            "azure_graph_session_multiple_ips.yml",
            "one session id used from several addresses: warroom does not read sessionId yet",
        ),
        (
            "azure_multiple_protection_alerts.yml",
            "counts medium-or-high risky sign-ins per user; warroom reports high sign-in risk and every Identity Protection detection, not counts of medium ones",
        ),
        (
            "azure_risklevel_passthrough.yml",
            "passes through low and medium sign-in risk; warroom reports high sign-in risk and every risk detection",
        ),
        (
            "microsoft365_brute_force_login_by_user.yml",
            "signin.brute-force means the same but needs 20 wrong passwords within an hour, and the test record has a LogonError with no ErrorNumber",
        ),
        (
            "microsoft365_external_sharing.yml",
            "no SharePoint or OneDrive sharing rule; Panther's must-not-fire cases rest on its own allow-lists",
        ),
        (
            "microsoft_graph_passthrough.yml",
            "Graph security alerts are not a record warroom reads (it says so rather than counting them as sign-ins)",
        ),
    ];
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            mapping.iter().any(|(f, _, _)| *f == name) || unmapped.iter().any(|(f, _)| *f == name),
            "{name}: neither mapped to a detection nor listed with the reason"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (file, detections, both) in mapping {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        let doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
        for (i, case) in doc["Tests"].as_array().unwrap().iter().enumerate() {
            let expected = case["ExpectedResult"].as_bool().unwrap();
            if !expected && !both {
                continue;
            }
            let path = dir.path().join(format!("{file}-{i}.json"));
            std::fs::write(&path, serde_json::to_string(&case["Log"]).unwrap()).unwrap();
            let (findings, stderr) = scan_quiet(&[path]);
            assert!(
                !stderr.contains("skipped"),
                "{file} {}: {stderr}",
                case["Name"]
            );
            let got = detections.iter().any(|d| fired(&findings, d));
            assert_eq!(
                got, expected,
                "{file}: {} (expected {expected}): {findings:#?}\n{stderr}",
                case["Name"]
            );
            checked += 1;
        }
    }
    assert!(checked >= 29, "only {checked} labelled cases checked");
}

/// The real exports as Windows tools save them: UTF-16LE and UTF-16BE with
/// a byte-order mark (Windows PowerShell 5.1's `Out-File` and `>`),
/// UTF-16LE without one, and Windows-1252 (Excel's CSV). Each reads the
/// same records and raises the same findings as the UTF-8 original, and
/// the summary names the encoding.
#[test]
fn windows_encodings_read_like_the_utf8_original() {
    let files = [
        "huntress-ctf-2023/purview.csv",
        "sentinel-training-lab/sign-in_adelete.csv",
        // Not ASCII: its Windows-1252 copy differs from the UTF-8 bytes.
        "sentinel-training-lab/AuditLogs_Hunting.csv",
        "otrf-security-datasets/AADAuditEvents.json",
        "cribl-microsoft-graph-rest-io/7cieEB.json",
    ];
    let dir = tempfile::tempdir().unwrap();
    let ids = |findings: &[serde_json::Value]| -> Vec<String> {
        let mut ids: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}", f["id"], f["count"]))
            .collect();
        ids.sort();
        ids
    };
    let records = |stderr: &str| -> String {
        stderr
            .lines()
            .find_map(|l| l.split(", ").nth(1).map(str::to_owned))
            .unwrap_or_default()
    };
    for rel in files {
        let Some(path) = sample(rel) else { return };
        let original = std::fs::read_to_string(&path).unwrap();
        let text = original.trim_start_matches('\u{feff}');
        let (want, said) = scan(&path);
        let utf16 = |big: bool, bom: bool| -> Vec<u8> {
            let mut out = Vec::new();
            let units = bom
                .then_some(0xfeff_u16)
                .into_iter()
                .chain(text.encode_utf16());
            for unit in units {
                out.extend(if big {
                    unit.to_be_bytes()
                } else {
                    unit.to_le_bytes()
                });
            }
            out
        };
        let mut variants = vec![
            ("UTF-16LE", utf16(false, true)),
            ("UTF-16BE", utf16(true, true)),
            ("UTF-16LE", utf16(false, false)),
        ];
        let (cp1252, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
        if !lossy && !text.is_ascii() {
            variants.push(("windows-1252", cp1252.into_owned()));
        }
        for (i, (encoding, bytes)) in variants.into_iter().enumerate() {
            let name = std::path::Path::new(rel)
                .file_name()
                .unwrap()
                .to_string_lossy();
            let copy = dir.path().join(format!("{i}-{name}"));
            std::fs::write(&copy, &bytes).unwrap();
            let (got, stderr) = scan(&copy);
            assert!(stderr.contains(encoding), "{rel} as {encoding}: {stderr}");
            assert_eq!(
                records(&stderr),
                records(&said),
                "{rel} as {encoding}: {stderr}"
            );
            assert_eq!(ids(&got), ids(&want), "{rel} as {encoding}: {stderr}");
        }
    }
}
