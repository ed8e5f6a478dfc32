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
