//! `warroom rules` lists every detection that runs: each rule file's rules,
//! the detections written in code (checked against the ids the engine's
//! code raises), and Sigma rules with their authors.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::BIN;

fn rules(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(BIN)
        .args(["rules", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Detection ids written as string literals in the engine's code, outside
/// its tests.
fn ids_in_code() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                // Posture checks are judged on snapshots, not listed here.
                if !path.ends_with("posture") {
                    walk(&path, out);
                }
                continue;
            }
            if path.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for part in code.split('"').skip(1).step_by(2) {
                let Some((family, name)) = part.split_once('.') else {
                    continue;
                };
                let word = |s: &str| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                };
                if ["signin", "audit", "onprem", "infra", "ioc", "mail", "risk"].contains(&family)
                    && word(name)
                {
                    out.insert(part.to_owned());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/detect"),
        &mut out,
    );
    out
}

#[test]
fn every_rule_and_every_detection_in_code_is_listed_once() {
    let listed = rules(&[]);
    let ids: Vec<&str> = listed.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an id is listed twice");
    for r in &listed {
        assert!(!r["title"].as_str().unwrap().is_empty(), "{r}");
        assert!(!r["kinds"].as_array().unwrap().is_empty(), "{r}");
        assert!(r["severity"].is_string(), "{r}");
    }
    // Every rule of every shipped rule file.
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/detections");
    let mut in_files = 0;
    for entry in std::fs::read_dir(assets).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for line in text.lines().filter(|l| l.starts_with("id = \"")) {
            let id = line.trim_start_matches("id = \"").trim_end_matches('"');
            assert!(unique.contains(id), "{id} is not listed");
            in_files += 1;
        }
    }
    // Every detection the engine's code raises, and nothing it does not.
    let stateful: BTreeSet<&str> = listed
        .iter()
        .filter(|r| r["source"] == "built-in (stateful)")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let in_code = ids_in_code();
    for id in &in_code {
        assert!(
            unique.contains(id.as_str()),
            "{id} is raised in code but not listed"
        );
    }
    for id in &stateful {
        assert!(
            in_code.contains(*id),
            "{id} is listed as written in code but no code raises it"
        );
    }
    let built_in = listed.iter().filter(|r| r["source"] != "sigma").count();
    assert_eq!(in_files + stateful.len(), built_in);
    // The pinned Sigma pack is listed too, every rule with its author.
    let pack: Vec<_> = listed.iter().filter(|r| r["source"] == "sigma").collect();
    assert!(pack.len() >= 250, "{} pack rules listed", pack.len());
    assert!(
        pack.iter()
            .all(|r| r["author"].as_str().is_some_and(|a| !a.is_empty()))
    );
}

#[test]
fn sigma_rules_are_listed_with_their_authors() {
    let sigma = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sigma");
    if !sigma.is_dir() {
        return;
    }
    let listed = rules(&["--sigma", sigma.to_str().unwrap()]);
    let from_sigma: Vec<_> = listed.iter().filter(|r| r["source"] == "sigma").collect();
    assert!(!from_sigma.is_empty());
    for r in from_sigma {
        assert!(r["id"].as_str().unwrap().starts_with("sigma."), "{r}");
        assert!(r["author"].is_string(), "no author: {r}");
    }
}
