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
    let Some(dir) = shared("sigma") else { return };
    let mut files = Vec::new();
    rule_files(&dir, &mut files);
    assert_eq!(files.len(), 142);
    let rules = SigmaRules::load(&dir).unwrap();
    assert!(rules.refused.is_empty(), "{:?}", rules.refused);
    // One rule per file: each is loaded or reported as not applicable.
    assert_eq!(rules.rules.len() + rules.inapplicable.len(), files.len());
    for (file, why) in &rules.inapplicable {
        assert!(!why.is_empty(), "{}", file.display());
    }
    assert!(rules.rules.len() >= 80, "{}", rules.summary());

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
        if !rules.matches(&event).contains(&index) {
            failures.push(format!("{name}: does not match {}", event.value));
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
