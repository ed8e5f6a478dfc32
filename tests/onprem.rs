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

/// The forged-token proof on the emulated intrusion, from the emulator's
/// own on-premises export: AD FS issuance on two farm servers (event XML
/// and Log Analytics rows) for every genuine federated sign-in and none
/// for the forged ones, with a stretch of ADFS01's records lost. Every
/// forged sign-in is named, no genuine one is, and the lost stretch is
/// reported as a gap.
#[test]
fn the_emulated_farm_proves_every_forgery_and_names_its_gap() {
    let home = common::Home::new();
    let onprem = home.path().join("onprem");
    let onprem_arg = onprem.to_str().unwrap().to_owned();
    let emu = common::emulator(&[
        "--scenario",
        "golden-saml",
        "--seed",
        "7",
        "--signins",
        "20000",
        "--no-throttle",
        "--export-onprem",
        &onprem_arg,
    ]);
    let key = emu.answer_key();
    let cloud = home.path().join("cloud.ndjson");
    common::pull_from(&home, &emu, &cloud);
    let mut files = vec![cloud.clone()];
    for entry in std::fs::read_dir(&onprem).unwrap() {
        files.push(entry.unwrap().path());
    }
    assert_eq!(files.len(), 6, "{files:?}");
    let (findings, stderr) = common::scan_json(&files);
    assert!(!stderr.contains("skipped"), "{stderr}");
    let forged = by_detection(&findings, "onprem.forged-token");
    let named: std::collections::BTreeSet<String> = forged
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    for f in &forged {
        assert_eq!(f["severity"], "critical");
        assert!(f["explanation"].as_str().unwrap().contains("never issued"));
    }
    let successful_forgeries = common::successful_forgeries(&cloud, &key);
    assert!(successful_forgeries.len() >= 3, "{successful_forgeries:?}");
    assert_eq!(named, successful_forgeries, "named vs forged");
    let gap = by_detection(&findings, "onprem.forged-token-uncovered");
    assert_eq!(gap.len(), 1, "{findings:#?}");
    let text = gap[0]["explanation"].as_str().unwrap();
    assert!(
        text.contains("gap in adfs01.contoso.com's log") && text.contains("record numbers"),
        "{text}"
    );
    assert!(gap[0]["count"].as_u64().unwrap() > 0);
    // The attacker's night on-premises, and nothing of AD FS's own work.
    let dkm = by_detection(&findings, "onprem.adfs-dkm-key-read");
    assert_eq!(dkm.len(), 1);
    assert!(names(dkm[0]).contains(&"svc-sqlbackup".to_owned()));
    let pipe = by_detection(&findings, "onprem.adfs-config-db-read");
    assert_eq!(pipe.len(), 1, "{findings:#?}");
    assert!(
        by_detection(&findings, "onprem.privileged-group-member-added")
            .iter()
            .any(|f| names(f).contains(&"Domain Admins".to_owned()))
    );
}

/// Every on-premises sample (eight formats, EVTX among them) is read
/// whole; the benign records beside the attacks raise nothing high.
#[test]
fn every_onprem_sample_is_read_whole() {
    let Some(dir) = sample("onprem") else {
        return;
    };
    let mut files = Vec::new();
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e != "md") {
                files.push(file);
            }
        }
    }
    assert!(files.len() >= 45, "{} files", files.len());
    for file in &files {
        let (_, stderr) = common::scan_json(&[file]);
        assert!(
            !stderr.contains("skipped") && !stderr.contains("unreadable"),
            "{stderr}"
        );
    }
}

/// Benign records raise nothing high: DC-to-DC replication, AD FS's own
/// process on its database pipe, a permission change that adds no
/// replication right, and an anonymised record whose rendered message
/// names a domain controller.
#[test]
fn benign_onprem_records_raise_nothing_high() {
    let (Some(replication), Some(rbcd), Some(export), Some(anonymised)) = (
        sample("onprem/evtx-to-mitre-attack/id4662_dcsync_attack_using_mimikatz.evtx"),
        sample("onprem/evtx-to-mitre-attack/id5136_computer_account_set_for_rbcd_delegation.evtx"),
        sample(
            "onprem/otrf-adfs/aadinternals_export_adfsdatabaseconfig_remotely_2021-04-27040833.json",
        ),
        sample("onprem/sekoia-intake-formats/operation_object.json"),
    ) else {
        return;
    };
    let (findings, _) = common::scan_json(&[&replication]);
    let sync = by_detection(&findings, "onprem.dcsync");
    assert_eq!(sync.len(), 1);
    assert!(names(sync[0]).contains(&"admmig".to_owned()));
    assert!(!names(sync[0]).contains(&"ROOTDC2$".to_owned()));
    let (findings, _) = common::scan_json(&[&rbcd]);
    assert!(by_detection(&findings, "onprem.dcsync-rights-granted").is_empty());
    assert_eq!(
        by_detection(&findings, "onprem.delegation-changed").len(),
        1
    );
    let (findings, _) = common::scan_json(&[&export]);
    assert!(by_detection(&findings, "onprem.adfs-config-db-read").is_empty());
    let (findings, _) = common::scan_json(&[&anonymised]);
    assert!(
        findings
            .iter()
            .all(|f| f["severity"] != "critical" && f["severity"] != "high"),
        "{findings:#?}"
    );
}

/// The same DCSync in EVTX, Splunk's rendered XML and its classic text.
#[test]
fn dcsync_is_found_in_evtx_and_splunk_exports() {
    let (Some(evtx), Some(xml), Some(text)) = (
        sample("onprem/evtx-attack-samples/ca_dcsync_4662.evtx"),
        sample("onprem/splunk-attack-data/T1003.006_impacket_windows-security-xml.log"),
        sample("onprem/splunk-attack-data/T1003.006_mimikatz_windows-security.log"),
    ) else {
        return;
    };
    for (file, who) in [
        (&evtx, "Administrator"),
        (&xml, "Administrator"),
        (&text, "Administrator"),
    ] {
        let (findings, stderr) = common::scan_json(&[file]);
        let sync = by_detection(&findings, "onprem.dcsync");
        assert_eq!(sync.len(), 1, "{stderr}\n{findings:#?}");
        assert!(names(sync[0]).contains(&who.to_owned()), "{file:?}");
    }
    // Splunk's XML: the member server's account is flagged for review, the
    // domain controller's too (medium), the administrator as DCSync.
    let (findings, _) = common::scan_json(&[&xml]);
    let by_computer = by_detection(&findings, "onprem.dcsync-by-computer");
    assert_eq!(by_computer.len(), 2);
}

/// Real EVTX: local groups of member servers and a workstation are told
/// from the domain's groups on a domain controller.
#[test]
fn local_groups_on_member_servers_are_not_active_directory_findings() {
    let (Some(jump), Some(guest), Some(dns)) = (
        sample("onprem/evtx-to-mitre-attack/id4732_user_added_to_local_admin_groups.evtx"),
        sample("onprem/evtx-attack-samples/network_service_guest_added_to_admins_4732.evtx"),
        sample("onprem/evtx-to-mitre-attack/id4732_dnsadmin_new_member_added.evtx"),
    ) else {
        return;
    };
    // jump01 (a member server) and MSEDGEWIN10 (a workstation): their own
    // Administrators and Backup Operators, medium, nothing high about AD.
    for (file, groups) in [
        (&jump, vec!["Administrators", "Backup Operators"]),
        (&guest, vec!["Administrators"]),
    ] {
        let (findings, stderr) = common::scan_json(&[file]);
        let local = by_detection(&findings, "onprem.local-group-member-added");
        for group in groups {
            assert!(
                local.iter().any(|f| names(f).contains(&group.to_owned())),
                "{group} in {file:?}: {stderr}\n{findings:#?}"
            );
        }
        assert!(local.iter().all(|f| f["severity"] == "medium"));
        for ad in [
            "onprem.privileged-group-member-added",
            "onprem.builtin-group-member-added",
        ] {
            assert!(by_detection(&findings, ad).is_empty(), "{ad} in {file:?}");
        }
        // Windows' "-" for no name is not named; the member's SID is.
        let text = local[0]["explanation"].as_str().unwrap();
        assert!(!text.contains(" - ") && text.contains("S-1-5-"), "{text}");
    }
    // rootdc1's DnsAdmins is a domain group: high.
    let (findings, _) = common::scan_json(&[&dns]);
    let domain = by_detection(&findings, "onprem.privileged-group-member-added");
    assert_eq!(domain.len(), 1, "{findings:#?}");
    assert_eq!(domain[0]["severity"], "high");
    assert!(names(domain[0]).contains(&"DnsAdmins".to_owned()));
}

/// Two krbtgt resets eleven hours apart: after the playbook's ten-hour
/// wait by default, too soon for a team whose configuration waits twelve.
#[test]
fn krbtgt_resets_inside_the_configured_wait_are_flagged() {
    let home = common::Home::new();
    let log = home.path().join("DC01-Security.xml");
    let event = |time: &str, record: u32| {
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
             <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4724</EventID>\
             <Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='{time}'/>\
             <EventRecordID>{record}</EventRecordID><Channel>Security</Channel><Computer>DC01.contoso.com</Computer></System>\
             <EventData><Data Name='TargetUserName'>krbtgt</Data><Data Name='TargetDomainName'>CONTOSO</Data>\
             <Data Name='SubjectUserName'>alice.admin</Data></EventData></Event>"
        )
    };
    let xml = format!(
        "<Events>{}{}</Events>",
        event("2026-11-30T08:00:00.0000000Z", 100),
        event("2026-11-30T19:00:00.0000000Z", 101)
    );
    std::fs::write(&log, xml).unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", log.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let out = home.run(&args, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    };
    let findings = run(&[]);
    assert_eq!(by_detection(&findings, "onprem.krbtgt-reset").len(), 1);
    assert_eq!(
        by_detection(&findings, "onprem.krbtgt-reset")[0]["count"],
        2
    );
    assert!(by_detection(&findings, "onprem.krbtgt-reset-too-soon").is_empty());
    let config = home.path().join("waits.toml");
    std::fs::write(
        &config,
        "[checklist]\nwaits = { reset-krbtgt-second = 12 }\n",
    )
    .unwrap();
    let findings = run(&["--config", config.to_str().unwrap()]);
    let early = by_detection(&findings, "onprem.krbtgt-reset-too-soon");
    assert_eq!(early.len(), 1, "{findings:#?}");
    assert_eq!(early[0]["severity"], "high");
    assert!(
        early[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("inside the 12 h wait")
    );
}

/// AADInternals' remote export of the AD FS configuration, as the AD FS
/// server logged it (OTRF): the replication channel token (412) and the
/// person's account behind it (501); and a burst of group changes.
#[test]
fn the_remote_adfs_configuration_export_and_a_group_burst_are_found() {
    let (Some(export), Some(burst)) = (
        sample(
            "onprem/otrf-adfs/aadinternals_export_adfsdatabaseconfig_remotely_2021-04-27040833.json",
        ),
        sample("onprem/evtx-to-mitre-attack/id4728_massive_account_group_membership_change.evtx"),
    ) else {
        return;
    };
    let (findings, _) = common::scan_json(&[&export]);
    let transfer = by_detection(&findings, "onprem.adfs-config-transfer");
    assert_eq!(transfer.len(), 1, "{findings:#?}");
    assert!(names(transfer[0]).contains(&"BLACKSMITH\\adfsadmin".to_owned()));
    assert!(
        transfer[0]["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "T1552.004")
    );
    let (findings, _) = common::scan_json(&[&burst]);
    let changes = by_detection(&findings, "onprem.group-membership-burst");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["count"], 11);
}

/// Log Analytics downloads: a `SecurityEvent` CSV from the portal and
/// `WindowsEvent` rows (Azure Monitor Agent) whose data is an object.
#[test]
fn security_event_csv_and_windows_event_rows_are_read() {
    let home = common::Home::new();
    let csv = home.path().join("SecurityEvent.csv");
    std::fs::write(
        &csv,
        "TenantId,\"TimeGenerated [UTC]\",Computer,EventSourceName,Channel,EventID,SubjectUserName,SubjectDomainName,ObjectName,Properties,Type\n\
         x,\"8/2/2021, 1:11:39.770 PM\",DC01.corp.example,Microsoft-Windows-Security-Auditing,Security,4662,mallory,CORP,\"CN=abc,CN=ADFS,CN=Microsoft,CN=Program Data,DC=corp,DC=example\",\"%%7684 {77b5b886-944a-11d1-aebd-0000f80367c1} {8d3bca50-1d7e-11d0-a081-00aa006c33ed}\",SecurityEvent\n",
    )
    .unwrap();
    let rows = home.path().join("WindowsEvent.json");
    std::fs::write(
        &rows,
        r#"[{"TimeGenerated":"2026-11-30T08:00:00Z","Computer":"DC01.corp.example","Channel":"Security","Provider":"Microsoft-Windows-Security-Auditing","EventID":4724,"Type":"WindowsEvent","EventData":{"TargetUserName":"krbtgt","TargetDomainName":"CORP","SubjectUserName":"alice"}}]"#,
    )
    .unwrap();
    let (findings, stderr) = common::scan_json(&[&csv, &rows]);
    assert!(!stderr.contains("skipped"), "{stderr}");
    let dkm = by_detection(&findings, "onprem.adfs-dkm-key-read");
    assert_eq!(dkm.len(), 1, "{findings:#?}");
    assert!(names(dkm[0]).contains(&"mallory".to_owned()));
    assert_eq!(by_detection(&findings, "onprem.krbtgt-reset").len(), 1);
}
