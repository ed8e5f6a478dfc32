//! Threat indicators with `--ioc`: a CSV list and a STIX 2.1 bundle holding
//! an address, a network, a domain, a user agent and an application id,
//! matched against what `warroom pull` got from the emulated intrusion and
//! against a real Sentinel training-lab export; against a directory
//! snapshot with `posture --ioc`. An indicator outside its validity window
//! raises nothing; a bad list is refused before anything runs.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Home, emulator};
use serde_json::{Value, json};

fn scan_with(files: &[&Path], ioc: &Path) -> (Vec<Value>, String) {
    common::scan_json_with(files, &["--ioc".as_ref(), ioc.as_os_str()])
}

/// The IOC findings by the indicator they name.
fn by_indicator(findings: &[Value]) -> Vec<(String, &Value)> {
    findings
        .iter()
        .filter(|f| f["detection"] == "ioc.match")
        .map(|f| {
            let indicator = f["entities"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["field"] == "indicator")
                .unwrap()["value"]
                .as_str()
                .unwrap()
                .to_owned();
            (indicator, f)
        })
        .collect()
}

fn count(found: &[(String, &Value)], indicator: &str) -> u64 {
    found
        .iter()
        .filter(|(i, _)| i.eq_ignore_ascii_case(indicator))
        .map(|(_, f)| f["count"].as_u64().unwrap())
        .max()
        .unwrap_or(0)
}

fn stix(indicators: &[(&str, &str)], valid_until: &str) -> Value {
    let mut objects = vec![json!({"type": "identity", "spec_version": "2.1",
        "id": "identity--0b7e1d2c-95b1-4d9f-9b5b-3a0f3d0e7a11", "name": "Partner CERT",
        "identity_class": "organization", "created": "2021-01-01T00:00:00Z", "modified": "2021-01-01T00:00:00Z"})];
    for (i, (pattern, name)) in indicators.iter().enumerate() {
        objects.push(json!({"type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--0000000{i}-1111-4222-8333-444444444444"),
            "created_by_ref": "identity--0b7e1d2c-95b1-4d9f-9b5b-3a0f3d0e7a11",
            "created": "2021-01-01T00:00:00Z", "modified": "2021-01-01T00:00:00Z",
            "name": name, "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2021-01-01T00:00:00Z", "valid_until": valid_until, "confidence": 80}));
    }
    json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objects})
}

fn sentinel_sample() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/samples/sentinel-training-lab/sign-in_adelete.csv");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("note: ../shared/data is not here; the real sample is not read");
        None
    }
}

/// The Sentinel training lab's 56 sign-ins of one account from 175.45.176.99.
#[test]
fn a_real_export_matches_csv_and_stix_indicators() {
    let Some(sample) = sentinel_sample() else {
        return;
    };
    let home = Home::new();
    let csv = home.path().join("iocs.csv");
    std::fs::write(
        &csv,
        "type,value,source,confidence,valid_from,valid_until,description\n\
         ipv4-addr,175.45.176.99,Partner CERT,90,2021-01-01,2021-12-31,VPS\n\
         cidr,175.45.176.0/22,Partner CERT,60,,,the provider's range\n\
         domain,m365x816222.onmicrosoft.com,,,,,\n\
         user-agent,Edg/90.0.818.49,,,,,the browser build seen\n\
         app-id,5e3ce6c0-2b1f-4285-8d4b-75ee78787346,,,,,Teams web client\n\
         ipv4-addr,198.51.100.99,,,,,never seen\n\
         ipv4-addr,175.45.176.99,Old feed,90,2019-01-01,2020-01-01,expired\n",
    )
    .unwrap();
    let (findings, stderr) = scan_with(&[&sample], &csv);
    assert!(stderr.contains("--ioc"), "{stderr}");
    let found = by_indicator(&findings);
    assert_eq!(count(&found, "175.45.176.99"), 56, "{found:?}");
    assert_eq!(count(&found, "175.45.176.0/22"), 56);
    assert_eq!(count(&found, "m365x816222.onmicrosoft.com"), 56);
    assert_eq!(count(&found, "Edg/90.0.818.49"), 56);
    assert_eq!(count(&found, "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"), 16);
    assert_eq!(count(&found, "198.51.100.99"), 0);
    // The same address from an expired feed: a hit from the valid one, and
    // an informational note from the expired one.
    let ip: Vec<&Value> = found
        .iter()
        .filter(|(i, f)| i == "175.45.176.99" && f["severity"] != "info")
        .map(|(_, f)| *f)
        .collect();
    assert_eq!(ip.len(), 1);
    let explanation = ip[0]["explanation"].as_str().unwrap();
    assert!(explanation.contains("Partner CERT"), "{explanation}");
    assert!(explanation.contains("confidence 90"), "{explanation}");
    assert!(
        explanation.contains("valid 2021-01-01 to 2021-12-31"),
        "{explanation}"
    );
    assert_eq!(ip[0]["severity"], "high");
    let range = found
        .iter()
        .find(|(i, _)| i == "175.45.176.0/22")
        .unwrap()
        .1;
    assert_eq!(range["severity"], "medium");

    // The same indicators as a STIX bundle.
    let bundle = home.path().join("iocs.stix.json");
    let patterns = [
        ("[ipv4-addr:value = '175.45.176.99']", "VPS"),
        ("[ipv4-addr:value = '175.45.176.0/22']", "range"),
        (
            "[domain-name:value = 'm365x816222.onmicrosoft.com']",
            "tenant",
        ),
        (
            "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Edg/90.0.818.49']",
            "browser",
        ),
        (
            "[x-entra-application:app_id = '5e3ce6c0-2b1f-4285-8d4b-75ee78787346']",
            "Teams web",
        ),
    ];
    std::fs::write(&bundle, stix(&patterns, "2021-12-31T00:00:00Z").to_string()).unwrap();
    let (findings, _) = scan_with(&[&sample], &bundle);
    let found = by_indicator(&findings);
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(count(&found, "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"), 16);
    for (_, f) in &found {
        assert!(f["explanation"].as_str().unwrap().contains("Partner CERT"));
    }
    // Valid only before the sign-ins: no hits, but the records are shown
    // as worth a look (informational, none counted).
    std::fs::write(&bundle, stix(&patterns, "2021-03-01T00:00:00Z").to_string()).unwrap();
    let (findings, _) = scan_with(&[&sample], &bundle);
    let found = by_indicator(&findings);
    assert_eq!(found.len(), 5);
    for (_, f) in &found {
        assert_eq!(f["severity"], "info");
        assert_eq!(f["count"], 0);
        let explanation = f["explanation"].as_str().unwrap();
        assert!(
            explanation.contains("outside its validity window"),
            "{explanation}"
        );
    }
}

#[test]
fn the_emulated_intrusion_is_found_by_its_indicators() {
    let home = Home::new();
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--seed",
        "5",
        "--signins",
        "3000",
        "--no-throttle",
    ]);
    let key = emu.answer_key();
    let out = home.path().join("pulled.ndjson");
    common::pull_from(&home, &emu, &out);
    let backdoored = key["malicious_apps"][0].as_str().unwrap();
    let csv = home.path().join("iocs.csv");
    std::fs::write(
        &csv,
        format!(
            "indicator,type\n203.0.113.66,ip\n203.0.113.128/25,cidr\ncontoso-auth.com,domain\npython-requests,user-agent\n{backdoored},app-id\n"
        ),
    )
    .unwrap();
    let (findings, _) = scan_with(&[&out], &csv);
    let found = by_indicator(&findings);
    for indicator in [
        "203.0.113.66",
        "203.0.113.128/25",
        "contoso-auth.com",
        "python-requests",
        backdoored,
    ] {
        assert!(count(&found, indicator) > 0, "{indicator}: {found:?}");
    }
    // Everything the attacker's address touched is in the answer key.
    let malicious: BTreeSet<&str> = ["sign_in_ids", "audit_ids", "risk_detection_ids", "ual_ids"]
        .iter()
        .flat_map(|l| key[*l].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    let (_, address) = found.iter().find(|(i, _)| i == "203.0.113.66").unwrap();
    for id in address["evidence"].as_array().unwrap() {
        assert!(
            malicious.contains(id.as_str().unwrap()),
            "{id} is not the attacker's"
        );
    }
    assert!(
        address["remediation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "block-attacker-addresses")
    );

    // The directory holds the backdoored app and the forged issuer.
    let posture = home
        .command()
        .args(["posture", "--format", "json", "--ioc"])
        .arg(&csv)
        .envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        posture.status.success(),
        "{}",
        String::from_utf8_lossy(&posture.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&posture.stdout).unwrap();
    let found = by_indicator(&findings);
    assert!(count(&found, backdoored) >= 1, "{found:?}");
    assert!(count(&found, "contoso-auth.com") >= 1, "{found:?}");
}

#[test]
fn a_bad_list_is_refused_before_anything_runs() {
    let home = Home::new();
    let empty = home.path().join("empty.csv");
    std::fs::write(&empty, "value\n").unwrap();
    let not_stix = home.path().join("x.json");
    std::fs::write(&not_stix, r#"{"objects": []}"#).unwrap();
    let data = home.path().join("d.ndjson");
    std::fs::write(&data, "").unwrap();
    for list in [&empty, &not_stix, &home.path().join("missing.csv")] {
        let out = home
            .command()
            .arg("scan")
            .arg(&data)
            .arg("--ioc")
            .arg(list)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{list:?}");
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Nothing was done"), "{stderr}");
    }
}
