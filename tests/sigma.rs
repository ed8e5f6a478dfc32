//! SigmaHQ's Entra ID and Microsoft 365 rules (`../shared/data/sigma`,
//! DRL 1.1): every file loads or is reported with its reason, every rule
//! that can apply matches a record built from its own values once that
//! record is in warroom's model, and the rules run over the real samples
//! with each finding naming its rule and author.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use warroom::detect::sigma::{SigmaRules, build};
use warroom::detect::{Engine, Event};

fn shared(path: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(path);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("note: ../shared/data is not here; the Sigma rules are not read");
        None
    }
}

fn rule_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rule_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_rule_loads_or_says_why_and_matches_its_own_values() {
    loads_and_matches_its_own_values("sigma", 142, 80);
}

/// SigmaHQ's Windows Security and System rules, over the Windows events
/// warroom reads (EVTX, event XML, `SecurityEvent` rows) by channel.
#[test]
fn windows_security_and_system_rules_load_and_match_their_own_values() {
    loads_and_matches_its_own_values("sigma-windows/security", 145, 120);
    loads_and_matches_its_own_values("sigma-windows/system", 63, 60);
}

/// SigmaHQ's regression EVTX for Windows Security rules: each sample
/// raises its own rule's finding, and only findings of rules that match it.
#[test]
fn sigma_regression_evtx_raise_their_rules() {
    let (Some(rules), Some(regression)) = (
        shared("sigma-windows/security"),
        shared("sigma-windows/regression/rules/windows/builtin/security"),
    ) else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(regression).unwrap().flatten() {
        let dir = entry.path();
        let info = std::fs::read_to_string(dir.join("info.yml")).unwrap();
        // The rule's id is under `rule_metadata` (the first `id:` is the
        // test's own).
        let id = info
            .split("rule_metadata:")
            .nth(1)
            .and_then(|rest| rest.lines().find_map(|l| l.trim().strip_prefix("- id:")))
            .map(|v| v.trim().trim_matches('"').to_owned())
            .unwrap();
        let evtx: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "evtx"))
            .collect();
        assert!(!evtx.is_empty(), "{}", dir.display());
        let (findings, _) = common::scan_json_with(&evtx, &["--sigma".as_ref(), rules.as_os_str()]);
        let detections: Vec<&str> = findings
            .iter()
            .map(|f| f["detection"].as_str().unwrap())
            .collect();
        assert!(
            detections.contains(&format!("sigma:{id}").as_str()),
            "{}: {detections:?}",
            dir.display()
        );
        checked += 1;
    }
    assert!(checked >= 2);
}

/// Rules whose own values do not make a matching record, by the example
/// builder's limits or the rule's own logic, not the matching's: values
/// that are regular expressions (the builder writes them literally), a
/// selection that only matches with a field its filters require to be set
/// (the builder fills selections, not what the filters leave open), a
/// keyword rule, and one whose filter excludes the very channel its
/// logsource names (Sigma's mapping of `service: system` is `System`).
const NO_EXAMPLE: [&str; 10] = [
    "win_security_alert_ad_user_backdoors.yml",
    "win_security_invoke_obfuscation_obfuscated_iex_services_security.yml",
    "win_security_metasploit_authentication.yml",
    "win_security_metasploit_or_impacket_smb_psexec_service_install.yml",
    "win_system_isatap_router_address_set.yml",
    "win_system_eventlog_cleared.yml",
    "win_system_possible_zerologon_exploitation_using_wellknown_tools.yml",
    "win_system_invoke_obfuscation_obfuscated_iex_services.yml",
    "win_system_service_install_sliver.yml",
    "win_system_susp_service_installation_folder_pattern.yml",
];

fn loads_and_matches_its_own_values(path: &str, files_expected: usize, loaded_at_least: usize) {
    let Some(dir) = shared(path) else { return };
    let mut files = Vec::new();
    rule_files(&dir, &mut files);
    assert_eq!(files.len(), files_expected);
    let rules = SigmaRules::load(&dir).unwrap();
    assert!(rules.refused.is_empty(), "{:?}", rules.refused);
    // One rule per file: each is loaded or reported as not applicable.
    assert_eq!(rules.rules.len() + rules.inapplicable.len(), files.len());
    for (file, why) in &rules.inapplicable {
        assert!(!why.is_empty(), "{}", file.display());
    }
    assert!(rules.rules.len() >= loaded_at_least, "{}", rules.summary());

    let mut failures = Vec::new();
    for (index, rule) in rules.rules.iter().enumerate() {
        let name = rule
            .file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let example = match build::example(rule) {
            Ok(v) => v,
            Err(_) if NO_EXAMPLE.contains(&name.as_str()) => continue,
            Err(why) => {
                failures.push(format!("{name}: no example ({why})"));
                continue;
            }
        };
        let Some(event) = Event::new(example.clone(), || "example".into()) else {
            failures.push(format!("{name}: {example} is not a record warroom reads"));
            continue;
        };
        if event.kind != rule.service.kind() {
            failures.push(format!("{name}: read as a {:?}", event.kind));
            continue;
        }
        let matched = rules.matches(&event).contains(&index);
        if matched == NO_EXAMPLE.contains(&name.as_str()) {
            failures.push(format!("{name}: matched {matched}: {}", event.value));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rules fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn rules_run_over_real_exports_and_name_their_authors() {
    let (Some(dir), Some(samples)) = (shared("sigma"), shared("samples")) else {
        return;
    };
    let files = [
        "sentinel-training-lab/sign-in_adelete.csv",
        "sentinel-training-lab/disable_accounts.csv",
        "otrf-security-datasets/AADAuditEvents.json",
        "huntress-ctf-2023/purview.csv",
    ];
    let paths: Vec<PathBuf> = files.iter().map(|f| samples.join(f)).collect();
    let (findings, stderr) = common::scan_json_with(&paths, &["--sigma".as_ref(), dir.as_os_str()]);
    assert!(stderr.contains("rules loaded"), "{stderr}");
    let sigma: Vec<&Value> = findings
        .iter()
        .filter(|f| f["detection"].as_str().unwrap().starts_with("sigma:"))
        .collect();
    let titles: Vec<&str> = sigma.iter().map(|f| f["title"].as_str().unwrap()).collect();
    // The training lab's sign-ins to a disabled account, the SimuLand
    // lab's consent for every user, and the secret added to its app (whose
    // activity name Entra ends with a space).
    for expected in [
        "Login to Disabled Account",
        "Delegated Permissions Granted For All Users",
        "App Granted Microsoft Permissions",
        "Added Credentials to Existing Application",
    ] {
        assert!(titles.contains(&expected), "{expected} not in {titles:?}");
    }
    for f in &sigma {
        let author = f["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["field"] == "sigma.author")
            .expect("every Sigma finding names the rule's author");
        let explanation = f["explanation"].as_str().unwrap();
        assert!(
            explanation.contains(author["value"].as_str().unwrap()),
            "{explanation}"
        );
        assert!(
            explanation.contains("Detection Rule License"),
            "{explanation}"
        );
    }
    // The table a person reads shows the author too.
    let home = common::Home::new();
    let table = home
        .command()
        .arg("scan")
        .arg(samples.join(files[1]))
        .arg("--sigma")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Login to Disabled Account"), "{text}");
    assert!(text.contains("by AlertIQ"), "{text}");
}

#[test]
fn the_console_engine_and_scan_agree_with_sigma_loaded() {
    let (Some(dir), Some(samples)) = (shared("sigma"), shared("samples")) else {
        return;
    };
    let rules = std::sync::Arc::new(SigmaRules::load(&dir).unwrap());
    let file = samples.join("sentinel-training-lab/sign-in_adelete.csv");
    let scanned = warroom::pipeline::scan::scan(
        Engine::built_in().unwrap().with_sigma(rules.clone()),
        std::slice::from_ref(&file),
        2,
        &|_| {},
    );
    let mut one_by_one = Engine::built_in().unwrap().with_sigma(rules);
    let mut n = 0;
    let mut summary = warroom::source::import::FileSummary::default();
    let reader = std::io::BufReader::new(std::fs::File::open(&file).unwrap());
    warroom::source::import::csv::read_csv(reader, &mut summary, &mut |value, place| {
        n += 1;
        if let Some(event) = Event::new(value, || place.clone()) {
            one_by_one.observe(&event);
        }
    });
    assert!(n > 0);
    let ids = |e: &Engine| -> Vec<(String, u64)> {
        e.findings()
            .iter()
            .map(|f| (f.id.clone(), f.count))
            .collect()
    };
    assert_eq!(ids(&scanned.engine), ids(&one_by_one));
    assert!(
        ids(&one_by_one)
            .iter()
            .any(|(id, _)| id.starts_with("sigma:"))
    );
}

/// With SigmaHQ's cloud and Windows rules loaded, a scan (which offers a
/// record to the Sigma rules only when it holds one of their texts, and
/// builds only the fields they read) and the console's engine (which
/// offers every record whole) come to the same findings, on every real
/// sample and every regression EVTX.
#[test]
fn passing_over_records_no_sigma_rule_can_match_loses_nothing() {
    let (Some(cloud), Some(windows), Some(samples)) =
        (shared("sigma"), shared("sigma-windows"), shared("samples"))
    else {
        return;
    };
    let both = tempfile::tempdir().unwrap();
    for (from, name) in [(&cloud, "cloud"), (&windows, "windows")] {
        let mut files = Vec::new();
        rule_files(from, &mut files);
        for f in files {
            let to = both.path().join(name).join(f.strip_prefix(from).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
        }
    }
    let rules = std::sync::Arc::new(SigmaRules::load(both.path()).unwrap());
    let mut files = Vec::new();
    let mut stack = vec![samples, windows.join("regression")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "md" && e != "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut with_sigma = 0;
    for file in &files {
        let scanned = warroom::pipeline::scan::scan(
            Engine::built_in().unwrap().with_sigma(rules.clone()),
            std::slice::from_ref(file),
            2,
            &|_| {},
        );
        let mut live = Engine::built_in().unwrap().with_sigma(rules.clone());
        warroom::source::import::read_all(file, &mut |value, place| {
            if let Some(event) = Event::new(value, || place) {
                live.observe(&event);
            }
        });
        let key = |f: &warroom::detect::Finding| (f.id.clone(), f.count, f.evidence.clone());
        let a: Vec<_> = scanned.engine.findings().iter().map(key).collect();
        let b: Vec<_> = live.findings().iter().map(key).collect();
        assert_eq!(a, b, "{}", file.display());
        with_sigma += usize::from(b.iter().any(|(id, ..)| id.starts_with("sigma:")));
    }
    assert!(
        with_sigma >= 10,
        "only {with_sigma} files raised a Sigma rule"
    );
}

/// The pinned pack runs unless `WARROOM_SIGMA_PACK` says otherwise: `off`
/// runs none, a directory runs its rules instead; `--sigma` adds rules,
/// and one of a pack rule's id replaces it rather than running twice.
#[test]
fn the_pack_is_the_default_and_a_directory_or_off_replaces_it() {
    let Some(cloud) = shared("sigma") else { return };
    let sigma_count = |env: Option<&str>, more: Option<&Path>| -> usize {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"));
        cmd.args(["rules", "--format", "json"]);
        if let Some(dir) = more {
            cmd.arg("--sigma").arg(dir);
        }
        match env {
            Some(v) => cmd.env("WARROOM_SIGMA_PACK", v),
            None => cmd.env_remove("WARROOM_SIGMA_PACK"),
        };
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let ids: Vec<&str> = listed
            .iter()
            .filter(|r| r["source"] == "sigma")
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a Sigma rule listed twice");
        ids.len()
    };
    let pinned = sigma_count(None, None);
    assert!(pinned >= 250, "{pinned}");
    assert_eq!(sigma_count(Some("off"), None), 0);
    let cloud_only = sigma_count(Some(cloud.to_str().unwrap()), None);
    assert!(cloud_only > 50 && cloud_only < pinned, "{cloud_only}");
    assert_eq!(sigma_count(Some("off"), Some(&cloud)), cloud_only);
    // The cloud rules are in the pin too: given again, they are not added.
    // (The pack leaves a few out that --sigma runs.)
    let both = sigma_count(None, Some(&cloud));
    assert!(both >= pinned && both <= pinned + 5, "{both} vs {pinned}");
}
