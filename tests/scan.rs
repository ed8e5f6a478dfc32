//! `warroom scan` over what `warroom pull` got from each emulated
//! scenario, over awkward files, and the engine's two faces (a scan and
//! events fed one by one, as the console does) agreeing.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::{BIN, Home, emulator};
use warroom::emulator::{Scenario, Spec, generate};

fn pull(home: &Home, scenario: &str, seed: &str) -> std::path::PathBuf {
    pull_with_key(home, scenario, seed).0
}

/// The pulled file and the scenario's answer key.
fn pull_with_key(
    home: &Home,
    scenario: &str,
    seed: &str,
) -> (std::path::PathBuf, serde_json::Value) {
    let emu = emulator(&[
        "--scenario",
        scenario,
        "--seed",
        seed,
        "--signins",
        "15000",
        "--no-throttle",
    ]);
    let out = home.path().join(format!("{scenario}.ndjson"));
    common::pull_from(home, &emu, &out);
    (out, emu.answer_key())
}

fn scan(files: &[&Path]) -> (Vec<serde_json::Value>, String) {
    common::scan_json(files)
}

fn detections(findings: &[serde_json::Value]) -> BTreeSet<String> {
    findings
        .iter()
        .map(|f| f["detection"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn golden_saml_raises_every_step_of_the_intrusion() {
    let home = Home::new();
    let (file, answer) = pull_with_key(&home, "golden-saml", "31");
    let (findings, stderr) = scan(&[&file]);
    let found = detections(&findings);
    // Every malicious record the scenario planted (directory audits, risk
    // detections, mailbox records) is evidence of some finding, and every
    // malicious app is named by one.
    let evidence: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .filter_map(|e| e.as_str())
        .collect();
    let named = findings
        .iter()
        .map(|f| f["entities"].to_string())
        .collect::<String>();
    for list in ["audit_ids", "risk_detection_ids", "ual_ids"] {
        for id in answer[list].as_array().unwrap() {
            let id = id.as_str().unwrap();
            assert!(
                evidence.contains(id),
                "{list}: {id} is no finding's evidence"
            );
        }
    }
    // An app is named by its id, or by the name the snapshot gives it (a
    // consent audit names the app, not its id).
    let snapshot = std::fs::read_to_string(&file).unwrap();
    for app in answer["malicious_apps"].as_array().unwrap() {
        let app = app.as_str().unwrap();
        let name = snapshot
            .lines()
            .filter(|l| l.contains(app) && l.contains("\"@warroom.source\":\"servicePrincipals\""))
            .find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                v["displayName"].as_str().map(str::to_owned)
            });
        assert!(
            named.contains(app) || name.is_some_and(|n| named.contains(&n)),
            "{app} named by no finding"
        );
    }
    for wanted in [
        "audit.federation-changed",
        "audit.app-credential-added",
        "audit.high-risk-permission-granted",
        "audit.privileged-role-member-added",
        "audit.refresh-tokens-valid-from-changed",
        "signin.claim-from-new-network",
        "signin.service-principal-new-network",
        "signin.rotated-key-in-use",
        "mail.read-by-application",
        "mail.inbox-rule-hides-or-forwards",
    ] {
        assert!(found.contains(wanted), "{wanted} missing from {found:?}");
    }
    // The forged-token finding names the attacker's address.
    let key = generate::build(&Spec {
        scenario: Scenario::GoldenSaml,
        seed: 31,
        signins: 8000,
        days: 30,
        end_ms: 1_795_000_000_000,
    })
    .answer_key;
    let claim_ips: BTreeSet<&str> = findings
        .iter()
        .filter(|f| f["detection"] == "signin.claim-from-new-network")
        .flat_map(|f| f["entities"].as_array().unwrap())
        .filter(|e| e["field"] == "ipAddress")
        .map(|e| e["value"].as_str().unwrap())
        .collect();
    assert!(
        key.malicious_ips
            .iter()
            .any(|ip| claim_ips.contains(ip.as_str())),
        "{claim_ips:?} vs {:?}",
        key.malicious_ips
    );
    // Every finding carries the contract's fields and explains itself.
    for f in &findings {
        for field in [
            "id",
            "detection",
            "severity",
            "title",
            "techniques",
            "entities",
            "evidence",
            "first_seen",
            "last_seen",
            "remediation",
            "explanation",
        ] {
            assert!(f.get(field).is_some(), "{field} missing in {f}");
        }
        assert!(!f["explanation"].as_str().unwrap().contains('{'), "{f}");
    }
    assert!(
        stderr.contains("sign-ins") && stderr.contains("directory audits"),
        "{stderr}"
    );
}

#[test]
fn a_clean_tenant_raises_nothing_critical_or_high() {
    // `hostile` is the clean tenant with terminal attacks in its names.
    for (scenario, seed) in [("clean", "32"), ("hostile", "33")] {
        let home = Home::new();
        let file = pull(&home, scenario, seed);
        let (findings, _) = scan(&[&file]);
        let serious: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| matches!(f["severity"].as_str(), Some("critical" | "high")))
            .collect();
        assert!(serious.is_empty(), "{scenario}: {serious:#?}");
        // What does fire is the tenant's security debt, each explained.
        for f in &findings {
            assert!(!f["explanation"].as_str().unwrap().is_empty());
        }
        // The table a person reads carries no terminal control bytes.
        let table = Command::new(BIN).arg("scan").arg(&file).output().unwrap();
        assert!(
            !table
                .stdout
                .iter()
                .any(|b| *b == 0x1b || *b == 0x07 || *b == 0x9b),
            "{scenario}: control bytes in the table"
        );
    }
}

#[test]
fn broken_records_are_skipped_and_counted_and_other_layouts_are_read() {
    let home = Home::new();
    let dir = home.path();
    let signin = |id: &str, detail: &str| {
        format!(
            r#"{{"id":"{id}","createdDateTime":"2026-11-20T10:00:00Z","userPrincipalName":"a@contoso.com","ipAddress":"203.0.113.5","status":{{"errorCode":5000811,"additionalDetails":"{detail}"}}}}"#
        )
    };
    // NDJSON with a line that is not JSON and a last line cut short.
    let ndjson = dir.join("mixed.ndjson");
    std::fs::write(
        &ndjson,
        format!(
            "{}\nthis is not json\n{}\n{{\"id\":\"cut",
            signin("s1", "x"),
            signin("s2", "y")
        ),
    )
    .unwrap();
    // A Graph page, pretty-printed, gzip-compressed.
    let page = serde_json::json!({"@odata.context": "x", "value": [
        serde_json::from_str::<serde_json::Value>(&signin("s3", "z")).unwrap()
    ]});
    let gz = dir.join("page.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder
        .write_all(serde_json::to_string_pretty(&page).unwrap().as_bytes())
        .unwrap();
    encoder.finish().unwrap();
    // NDJSON whose first line holds two records run together: that line
    // is skipped and named, the rest read.
    let joined = dir.join("joined.ndjson");
    let rest: Vec<String> = (0..20).map(|i| signin(&format!("j{i}"), "w")).collect();
    std::fs::write(
        &joined,
        format!(
            "{}{}\n{}\n",
            signin("ja", "w"),
            signin("jb", "w"),
            rest.join("\n")
        ),
    )
    .unwrap();
    let (_, joined_err) = scan(&[&joined]);
    assert!(
        joined_err.contains("joined.ndjson: NDJSON, 20 records (1 skipped; first:"),
        "{joined_err}"
    );
    assert!(joined_err.contains("joined.ndjson:1: not"), "{joined_err}");
    let (findings, stderr) = scan(&[&ndjson, &gz]);
    assert!(
        stderr.contains("mixed.ndjson: NDJSON, 2 records (2 skipped; first:"),
        "{stderr}"
    );
    assert!(stderr.contains("mixed.ndjson:2: not"), "{stderr}");
    assert!(
        stderr.contains("page.json.gz: JSON (gzip), 1 records"),
        "{stderr}"
    );
    let rotated = findings
        .iter()
        .find(|f| f["detection"] == "signin.rotated-key-in-use")
        .expect("5000811 finding");
    assert_eq!(rotated["count"], 3);

    // A zip as exports are handed over: NDJSON and a portal CSV (BOM, CRLF,
    // localised dates, a JSON column, a row with a broken quote) inside.
    let zip_path = dir.join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("signins/part1.ndjson", options).unwrap();
    zip.write_all(signin("z1", "a").as_bytes()).unwrap();
    zip.start_file("signins/portal.csv", options).unwrap();
    zip.write_all(
        "\u{feff}CreatedDateTime [UTC],Id,UserPrincipalName,IPAddress,Status\r\n\
         \"11/20/2026, 10:00:00.000 AM\",z2,a@contoso.com,203.0.113.5,\"{\"\"errorCode\"\":5000811}\"\r\n\
         \"11/20/2026, 10:05:00.000 AM\",z3,a@contoso.com,203.0.113.5,\"{\"\"errorCode\"\":5000811}\"\r\n"
            .as_bytes(),
    )
    .unwrap();
    zip.start_file("notes.txt", options).unwrap();
    zip.write_all(b"handed over by the customer").unwrap();
    zip.finish().unwrap();
    let (findings, stderr) = scan(&[&zip_path]);
    assert!(
        stderr.contains("export.zip: zip of 3 (NDJSON, CSV), 3 records"),
        "{stderr}"
    );
    // The text file is named as not read, and nothing else is lost.
    assert!(stderr.contains("notes.txt: not JSON"), "{stderr}");
    let rotated = findings
        .iter()
        .find(|f| f["detection"] == "signin.rotated-key-in-use")
        .expect("5000811 finding from the zip");
    assert_eq!(rotated["count"], 3);
    assert_eq!(rotated["first_seen"], "2026-11-20T10:00:00Z");
}

#[test]
fn scanning_and_feeding_events_one_by_one_agree() {
    let home = Home::new();
    let pulled = pull(&home, "golden-saml", "33");
    // Every kind of record mixed in each chunk, and few of the federated,
    // refresh-token and service principal sign-ins (which the forged-token
    // join and the baselines read), so that most records are read by
    // nothing and the scan passes over them unparsed.
    let text = std::fs::read_to_string(&pulled).unwrap();
    let mut lines: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(n, l)| {
            n % 20 == 0
                || ![
                    "First factor requirement",
                    "ADFederationServices",
                    "[\"servicePrincipal\"]",
                ]
                .iter()
                .any(|t| l.contains(t))
        })
        .map(|(_, l)| l)
        .collect();
    lines.sort_by_key(|l| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        l.hash(&mut h);
        h.finish()
    });
    let file = home.path().join("mixed.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut scanned = warroom::pipeline::scan::scan(
        warroom::detect::Engine::built_in().unwrap(),
        std::slice::from_ref(&file),
        2,
        &|_| {},
    );
    // What `scan` does next: the second look for attacker infrastructure.
    warroom::pipeline::scan::look_again(&mut scanned.engine, std::slice::from_ref(&file));
    let mut live = warroom::detect::Engine::built_in().unwrap();
    for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(event) = warroom::detect::Event::new(value, || format!("line {n}")) {
            live.observe(&event);
        }
    }
    let key = |f: &warroom::detect::Finding| (f.id.clone(), f.count, f.evidence.clone());
    let a: Vec<_> = scanned.engine.findings().iter().map(key).collect();
    let b: Vec<_> = live.findings().iter().map(key).collect();
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

/// Mailbox and tenant persistence seen only in the Unified Audit Log and
/// directory audits, as the Management Activity API writes them.
#[test]
fn mailbox_and_tenant_persistence_records() {
    let home = Home::new();
    let file = home.path().join("ual.ndjson");
    let records = [
        r#"{"CreationTime":"2026-11-20T10:00:00","Id":"u1","Operation":"MailboxLogin","RecordType":2,"Workload":"Exchange","UserId":"megan@contoso.com","ClientIPAddress":"203.0.113.7","ClientInfoString":"Client=Microsoft WinRM Client;Version=15.20"}"#,
        r#"{"CreationTime":"2026-11-20T10:05:00","Id":"u2","Operation":"New-MobileDevice","RecordType":1,"Workload":"Exchange","UserId":"megan@contoso.com","ObjectId":"megan@contoso.com/ExchangeActiveSyncDevices/attacker","Parameters":[{"Name":"DeviceId","Value":"attacker"}]}"#,
        r#"{"CreationTime":"2026-11-20T10:06:00","Id":"u3","Operation":"New-ManagementRoleAssignment","RecordType":1,"Workload":"Exchange","UserId":"megan@contoso.com","Parameters":[{"Name":"Role","Value":"ApplicationImpersonation"},{"Name":"User","Value":"svc-sync"}]}"#,
        r#"{"CreationTime":"2026-11-20T10:07:00","Id":"u4","Operation":"Set company information.","RecordType":8,"Workload":"AzureActiveDirectory","UserId":"megan@contoso.com","ObjectId":"contoso","ModifiedProperties":[{"Name":"TrustedCAsForPasswordlessAuth","NewValue":"[\"CN=Attacker Root\"]","OldValue":"[]"}]}"#,
        r#"{"CreationTime":"2026-11-20T10:09:00","Id":"u6","Operation":"MailItemsAccessed","RecordType":50,"Workload":"Exchange","UserId":"svc-sync@contoso.com","LogonType":2,"MailboxOwnerUPN":"ceo@contoso.com","ClientInfoString":"Client=REST;;"}"#,
        // The mailbox owner reading mail in Outlook on the web: nothing.
        r#"{"CreationTime":"2026-11-20T10:08:00","Id":"u5","Operation":"MailItemsAccessed","RecordType":50,"Workload":"Exchange","UserId":"adele@contoso.com","AppId":"00000002-0000-0ff1-ce00-000000000000","ClientInfoString":"Client=OWA;Action=ViaProxy","MailboxOwnerUPN":"adele@contoso.com"}"#,
    ];
    std::fs::write(&file, records.join("\n")).unwrap();
    let (findings, stderr) = scan(&[&file]);
    let found = detections(&findings);
    for wanted in [
        "mail.powershell-login",
        "mail.mobile-device-added",
        "mail.impersonation-role",
        "audit.trusted-root-ca-added",
        "mail.read-by-another-user",
    ] {
        assert!(
            found.contains(wanted),
            "{wanted} missing from {found:?}\n{stderr}"
        );
    }
    assert!(!found.contains("mail.read-by-application"), "{found:?}");
}

/// Exports as other tools write them: PowerShell's `Export-Csv` with its
/// `#TYPE` line, a spreadsheet's Windows code page, NDJSON with a BOM, a
/// zip member whose name carries a terminal escape.
#[test]
fn awkward_exports_lose_nothing_and_escape_names() {
    let home = Home::new();
    let dir = home.path();
    let csv = dir.join("ual.csv");
    let mut bytes = b"#TYPE System.Management.Automation.PSCustomObject\r\n\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\r\n".to_vec();
    // "Jos\xe9" is cp1252, not UTF-8.
    bytes.extend_from_slice(b"\"ExchangeAdmin\",\"11/20/2026 10:00:00 AM\",\"Jos\xe9@contoso.com\",\"Set-Mailbox\",\"{\"\"CreationTime\"\":\"\"2026-11-20T10:00:00\"\",\"\"Operation\"\":\"\"Set-Mailbox\"\",\"\"RecordType\"\":1,\"\"Workload\"\":\"\"Exchange\"\",\"\"ObjectId\"\":\"\"ceo\"\",\"\"Parameters\"\":[{\"\"Name\"\":\"\"ForwardingSmtpAddress\"\",\"\"Value\"\":\"\"smtp:x@evil.example\"\"}]}\"\r\n");
    std::fs::write(&csv, bytes).unwrap();
    let ndjson = dir.join("bom.ndjson");
    std::fs::write(
        &ndjson,
        "\u{feff}{\"id\":\"b1\",\"createdDateTime\":\"2026-11-20T10:00:00Z\",\"userPrincipalName\":\"a@contoso.com\",\"ipAddress\":\"203.0.113.5\",\"status\":{\"errorCode\":5000811}}\n",
    )
    .unwrap();
    let zip_path = dir.join("named.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    zip.start_file(
        "\u{1b}]0;owned\u{7}.txt",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    zip.write_all(b"not a log").unwrap();
    zip.finish().unwrap();
    let (findings, stderr) = scan(&[&csv, &ndjson, &zip_path]);
    assert!(
        stderr.contains("ual.csv: CSV (windows-1252), 1 records")
            && stderr.contains("bom.ndjson: NDJSON, 1 records"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("ual.csv: CSV (windows-1252), 1 records (")
            && !stderr.contains("bom.ndjson: NDJSON, 1 records ("),
        "{stderr}"
    );
    let found = detections(&findings);
    assert!(
        found.contains("mail.forwarding-set") && found.contains("signin.rotated-key-in-use"),
        "{found:?}"
    );
    // The member's name is shown, its escape made visible.
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "{stderr:?}"
    );
    assert!(stderr.contains("named.zip"), "{stderr}");
}

/// The scan passes over records it judges nothing reads; feeding every
/// record of every real sample one by one must come to the same findings.
#[test]
fn passing_over_unread_records_loses_no_finding_on_the_real_samples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/samples");
    if !dir.is_dir() {
        eprintln!("note: ../shared/data is not here; the real samples are not read");
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut compared = 0;
    for file in &files {
        let scanned = warroom::pipeline::scan::scan(
            warroom::detect::Engine::built_in().unwrap(),
            std::slice::from_ref(file),
            2,
            &|_| {},
        );
        let mut live = warroom::detect::Engine::built_in().unwrap();
        warroom::source::import::read_all(file, &mut |value, place| {
            if let Some(event) = warroom::detect::Event::new(value, || place) {
                live.observe(&event);
            }
        });
        let key = |f: &warroom::detect::Finding| {
            (
                f.id.clone(),
                f.count,
                f.first_seen.clone(),
                f.last_seen.clone(),
            )
        };
        let a: Vec<_> = scanned.engine.findings().iter().map(key).collect();
        let b: Vec<_> = live.findings().iter().map(key).collect();
        assert_eq!(a, b, "{}", file.display());
        compared += usize::from(!a.is_empty());
    }
    // Most samples are attacks: a comparison of empty lists proves little.
    assert!(compared > 30, "only {compared} samples gave findings");
}

/// A missing file, a file that is not a log, and a file of records no
/// detection reads: every format of the report names each, and the exit
/// status says something could not be read.
#[test]
fn every_report_names_inputs_that_were_not_read() {
    let home = Home::new();
    let dir = home.path();
    let missing = dir.join("missing-input.json");
    let garbage = dir.join("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 7, 1, 2]).unwrap();
    let foreign = dir.join("foreign.json");
    std::fs::write(&foreign, "{\"foo\":1}\n{\"bar\":2}\n").unwrap();
    let files = [&missing, &garbage, &foreign];
    for format in ["table", "markdown", "json", "ndjson"] {
        let out = home
            .command()
            .arg("scan")
            .args(files)
            .args(["--format", format])
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {report}");
        for name in ["missing-input.json", "garbage.bin", "foreign.json"] {
            assert!(
                report.contains(name),
                "{format} does not name {name}:\n{report}"
            );
        }
        assert!(
            report.contains("none of a kind warroom reads"),
            "{format}:\n{report}"
        );
        assert!(!report.contains("No findings."), "{format}:\n{report}");
    }
    // JSON stays one array tools read; the inputs ride in it.
    let out = home
        .command()
        .arg("scan")
        .args([&missing, &foreign])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let kinds = detections(&findings);
    assert!(kinds.contains("scan.input-not-read"), "{kinds:?}");
    assert!(kinds.contains("scan.input-not-understood"), "{kinds:?}");
    // Read whole, with something warroom reads: nothing to say.
    let good = dir.join("good.ndjson");
    std::fs::write(
        &good,
        r#"{"id":"s1","createdDateTime":"2026-11-20T10:00:00Z","userPrincipalName":"a@contoso.com","ipAddress":"203.0.113.5","status":{"errorCode":0}}"#,
    )
    .unwrap();
    let out = home
        .command()
        .args(["scan", good.to_str().unwrap(), "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("No findings."), "{report}");
    assert!(
        report.contains("good.ndjson: NDJSON, 1 records"),
        "{report}"
    );
}
