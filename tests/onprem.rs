//! Windows events from AD FS servers and domain controllers, as real
//! captures hand them over (Log Analytics rows, OTRF and NXLog JSON): read
//! whole, and the attacker's steps in them found.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn sample(path: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/samples")
        .join(path);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("note: ../shared/data is not here; {path} is not read");
        None
    }
}

fn by_detection<'a>(findings: &'a [Value], id: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["detection"] == id).collect()
}

fn names(f: &Value) -> Vec<String> {
    f["entities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["value"].as_str().unwrap().to_owned())
        .collect()
}

/// The SimuLand Golden SAML capture: the DKM key read from DC01.
#[test]
fn the_adfs_key_theft_is_found_in_the_simuland_capture() {
    let Some(file) = sample("otrf-security-datasets/WindowsEvents.json") else {
        return;
    };
    let (findings, stderr) = common::scan_json(&[&file]);
    assert!(stderr.contains("38 records"), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
    let dkm = by_detection(&findings, "onprem.adfs-dkm-key-read");
    assert_eq!(dkm.len(), 1, "{findings:#?}");
    assert_eq!(dkm[0]["severity"], "critical");
    assert_eq!(dkm[0]["count"], 5);
    assert!(names(dkm[0]).contains(&"wardog".to_owned()));
    assert!(
        dkm[0]["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T1552.004")
    );
}

/// OTRF's DCSync, the rights granted for it, and a backdoor account.
#[test]
fn dcsync_its_rights_and_a_backdoor_account_are_found() {
    let (Some(dcsync), Some(acl), Some(wmic)) = (
        sample(
            "onprem/otrf-atomic/covenant_dcsync_dcerpc_drsuapi_DsGetNCChanges_2020-08-05020926.json",
        ),
        sample(
            "onprem/otrf-atomic/empire_powerview_ldap_ntsecuritydescriptor_2020-09-21130944.security.json",
        ),
        sample("onprem/otrf-atomic/empire_wmic_add_user_backdoor_2020-09-14080546.security.json"),
    ) else {
        return;
    };
    let (findings, stderr) = common::scan_json(&[&dcsync, &acl, &wmic]);
    assert!(!stderr.contains("skipped"), "{stderr}");
    let sync = by_detection(&findings, "onprem.dcsync");
    assert_eq!(sync.len(), 1, "{findings:#?}");
    assert!(names(sync[0]).contains(&"pgustavo".to_owned()));
    assert!(
        sync[0]["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T1003.006")
    );
    let rights = by_detection(&findings, "onprem.dcsync-rights-granted");
    assert_eq!(rights.len(), 1);
    assert!(names(rights[0]).contains(&"DC=theshire,DC=local".to_owned()));
    let created = by_detection(&findings, "onprem.account-created");
    assert!(
        created
            .iter()
            .any(|f| names(f).contains(&"backdoor".to_owned()))
    );
    // The failed reset (an audit failure with no target) changed nothing.
    assert!(by_detection(&findings, "onprem.password-reset").is_empty());
}

/// The forged-token proof on the emulated intrusion: AD FS issuance
/// events are written (in a Log Analytics export's shape) for every
/// genuine federated sign-in and none for the forged ones, as the farm's
/// Security log would hold them; the join finds exactly the forgeries.
#[test]
fn federated_sign_ins_adfs_never_issued_are_proven_forged() {
    use std::io::Write;
    let home = common::Home::new();
    let emu = common::emulator(&[
        "--scenario",
        "golden-saml",
        "--seed",
        "4",
        "--signins",
        "4000",
        "--no-throttle",
    ]);
    let key = emu.answer_key();
    let cloud = home.path().join("cloud.ndjson");
    common::pull_from(&home, &emu, &cloud);
    let forged_ids: std::collections::BTreeSet<String> = key["sign_in_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let adfs = home.path().join("adfs01-security.ndjson");
    let mut out = std::fs::File::create(&adfs).unwrap();
    let mut genuine = 0;
    let (mut from, mut to) = (String::from("9"), String::new());
    for line in std::fs::read_to_string(&cloud).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        // Sign-ins only (risk detections name the issuer type too).
        let signin = v["createdDateTime"].is_string() && v["status"].is_object();
        if !signin
            || v["tokenIssuerType"] != "ADFederationServices"
            || forged_ids.contains(v["id"].as_str().unwrap_or(""))
        {
            continue;
        }
        let time: jiff::Timestamp = v["createdDateTime"].as_str().unwrap().parse().unwrap();
        let issued = (time - jiff::SignedDuration::from_secs(4)).to_string();
        let account = v["userPrincipalName"]
            .as_str()
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_owned();
        from = from.min(issued.clone());
        to = to.max(issued.clone());
        let row = serde_json::json!({"TimeGenerated": issued, "Computer": "ADFS01.contoso.com",
            "EventID": 1200, "Type": "SecurityEvent", "Channel": "Security",
            "EventSourceName": "AD FS Auditing", "UserId": format!("CONTOSO\\{account}")});
        writeln!(out, "{row}").unwrap();
        genuine += 1;
    }
    drop(out);
    assert!(genuine > 100, "{genuine} genuine federated sign-ins");
    let (findings, stderr) = common::scan_json(&[&cloud, &adfs]);
    let forged = by_detection(&findings, "onprem.forged-token");
    assert!(!forged.is_empty(), "{stderr}");
    for f in &forged {
        assert_eq!(f["severity"], "critical");
        assert!(f["explanation"].as_str().unwrap().contains("never issued"));
        for id in f["evidence"].as_array().unwrap() {
            assert!(forged_ids.contains(id.as_str().unwrap()), "{id} is genuine");
        }
    }
    // Every forged federated sign-in the AD FS log's time covers is named.
    let named: u64 = forged.iter().map(|f| f["count"].as_u64().unwrap()).sum();
    let covered_forgeries = std::fs::read_to_string(&cloud)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| {
            v["tokenIssuerType"] == "ADFederationServices"
                && v["createdDateTime"].is_string()
                && v["status"]["errorCode"] == 0
                && forged_ids.contains(v["id"].as_str().unwrap_or(""))
                && v["createdDateTime"].as_str().unwrap() >= from.as_str()
                && v["createdDateTime"].as_str().unwrap() <= to.as_str()
        })
        .count() as u64;
    assert!(
        named >= covered_forgeries,
        "{named} named, {covered_forgeries} forged"
    );
    let users: Vec<String> = forged.iter().flat_map(|f| names(f)).collect();
    assert!(
        users.contains(&"megan.bowen@contoso.com".to_owned()),
        "{users:?}"
    );
}
