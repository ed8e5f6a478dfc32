//! The catalogue run where the logs live: `warroom kql` writes a query for
//! nearly every built-in detection, each valid for Microsoft's Kusto
//! language service against the tables' documented columns, and `warroom
//! hunt --workspace` against the emulator's workspace finds what `pull`
//! then `scan` of the same tenant find, finding for finding.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Emulator, Home, emulator};
use serde_json::Value;

fn command(home: &Home, emu: &Emulator) -> Command {
    let mut cmd = home.command();
    cmd.envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.stdin(Stdio::null());
    cmd
}

fn json_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn kql_json(home: &Home) -> (Vec<Value>, String) {
    let out = home
        .command()
        .args(["kql", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap();
    (list, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_catalogue_compiles_to_kql_the_language_service_accepts() {
    let home = Home::new();
    let (queries, stderr) = kql_json(&home);
    let rules = home
        .command()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let listed: Vec<Value> = serde_json::from_slice(&rules.stdout).unwrap();
    let built_in: BTreeSet<String> = listed
        .iter()
        .filter(|r| r["source"].as_str().unwrap().starts_with("built-in"))
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let written: BTreeSet<String> = queries
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        written.len() * 10 >= built_in.len() * 9,
        "{} of {}",
        written.len(),
        built_in.len()
    );
    // Every built-in detection is written, or named with its reason.
    for id in built_in.difference(&written) {
        assert!(
            stderr.contains(&format!("{id} not written: ")),
            "{id} is neither written nor explained:\n{stderr}"
        );
    }
    for q in &queries {
        let tables = q["tables"].as_array().unwrap();
        assert!(!tables.is_empty(), "{q}");
        let text = q["query"].as_str().unwrap();
        assert!(
            tables.iter().any(|t| text.contains(t.as_str().unwrap())),
            "{q}"
        );
    }
    check_with_language_service(&home, &queries);
}

/// Microsoft's Kusto language service, offline, over the documented
/// columns of every table (when the checker and node are here).
fn check_with_language_service(home: &Home, queries: &[Value]) {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let checker = shared.join("tools/kql-check/run");
    let schemas = shared.join("data/log-analytics-schemas/schemas.json");
    let node = Command::new("node").arg("--version").output().is_ok();
    if !checker.exists() || !node {
        assert!(
            std::env::var_os("WARROOM_REQUIRE_TOOLS").is_none() || !checker.exists(),
            "node is needed to check the queries (WARROOM_REQUIRE_TOOLS is set)"
        );
        eprintln!("note: kql-check or node is not here; the queries are not checked");
        return;
    }
    let input = home.path().join("queries.ndjson");
    let lines: String = queries
        .iter()
        .map(|q| serde_json::json!({"id": q["id"], "query": q["query"]}).to_string() + "\n")
        .collect();
    std::fs::write(&input, lines).unwrap();
    let checked = Command::new(&checker)
        .arg("--schemas")
        .arg(&schemas)
        .arg(&input)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&checked.stdout).into_owned()
        + &String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "kql-check:\n{report}");
    assert!(report.contains("0 with errors"), "{report}");
}

/// `--format sentinel`: rules in the shape of Azure-Sentinel's
/// `Detections/*.yaml`, every field the schema requires, queries valid.
#[test]
fn sentinel_rules_load_as_yaml_with_every_required_field() {
    let home = Home::new();
    let dir = home.path().join("sentinel");
    let out = home
        .command()
        .args(["kql", "--format", "sentinel", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut queries = Vec::new();
    let mut ids = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let rule: Value =
            yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text_of = |k: &str| {
            rule[k]
                .as_str()
                .unwrap_or_else(|| panic!("{}: no {k}", path.display()))
                .to_owned()
        };
        let id = text_of("id");
        assert!(id.len() == 36 && id.matches('-').count() == 4, "{id}");
        assert!(ids.insert(id.clone()), "two rules share {id}");
        for k in [
            "name",
            "description",
            "queryFrequency",
            "queryPeriod",
            "query",
            "version",
        ] {
            assert!(!text_of(k).is_empty(), "{}: {k}", path.display());
        }
        assert!(["Informational", "Low", "Medium", "High"].contains(&text_of("severity").as_str()));
        assert_eq!(text_of("kind"), "Scheduled");
        assert!(["gt", "lt", "eq", "ne"].contains(&text_of("triggerOperator").as_str()));
        assert!(rule["triggerThreshold"].is_u64());
        let connectors = rule["requiredDataConnectors"].as_array().unwrap();
        assert!(!connectors.is_empty());
        for c in connectors {
            assert!(c["connectorId"].is_string() && !c["dataTypes"].as_array().unwrap().is_empty());
        }
        assert!(
            !rule["tactics"].as_array().unwrap().is_empty(),
            "{}: no tactics",
            path.display()
        );
        assert!(!rule["relevantTechniques"].as_array().unwrap().is_empty());
        let mappings = rule["entityMappings"].as_array().unwrap();
        assert!(mappings.len() <= 10);
        for m in mappings {
            let field = &m["fieldMappings"][0];
            let column = field["columnName"].as_str().unwrap();
            assert!(
                field["identifier"].is_string()
                    && rule["query"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("extend {column} ="))
            );
        }
        queries.push(serde_json::json!({"id": path.file_name().unwrap().to_string_lossy(), "query": text_of("query")}));
    }
    assert!(queries.len() > 100, "{}", queries.len());
    check_with_language_service(&home, &queries);
}

/// Findings keyed by id, of the detections that have queries.
fn by_id(findings: &Value, compiled: &BTreeSet<String>) -> BTreeMap<String, Value> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| compiled.contains(f["detection"].as_str().unwrap()))
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

fn hunt(home: &Home, emu: &Emulator, since: &str) -> (Value, String) {
    let out = command(home, emu)
        .args([
            "hunt",
            "--workspace",
            &emu.workspace,
            "--since",
            since,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    (
        json_of(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn pull_and_scan(home: &Home, emu: &Emulator, since: &str) -> Value {
    let file = home.path().join("pull.ndjson");
    let pulled = command(home, emu)
        .args(["pull", "--since", since, "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    let scanned = home
        .command()
        .arg("scan")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    json_of(&scanned)
}

fn agree(scenario: &str) {
    let home = Home::new();
    let (queries, _) = kql_json(&home);
    let compiled: BTreeSet<String> = queries
        .iter()
        .map(|q| q["id"].as_str().unwrap().to_owned())
        .collect();
    let emu = emulator(&["--scenario", scenario, "--signins", "4000", "--no-throttle"]);
    // Longer than the story: the seconds between the two runs move the
    // range's start, and no event may sit on that edge.
    let (hunted, stderr) = hunt(&home, &emu, "60d");
    let scanned = pull_and_scan(&home, &emu, "60d");
    let (h, s) = (by_id(&hunted, &compiled), by_id(&scanned, &compiled));
    assert!(
        !s.is_empty(),
        "{scenario}: the scan found nothing to compare"
    );
    let ids = |m: &BTreeMap<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(ids(&h), ids(&s), "{scenario}: findings differ\n{stderr}");
    for (id, found) in &h {
        let local = &s[id];
        for field in [
            "count",
            "entities",
            "first_seen",
            "last_seen",
            "severity",
            "remediation",
        ] {
            assert_eq!(found[field], local[field], "{scenario}: {id}: {field}");
        }
    }
    // What the workspace cannot hold is said, not silently missing.
    assert!(stderr.contains("no SecurityEvent table"), "{stderr}");
    assert!(
        hunted
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["detection"] == "hunt.not-run"),
        "{hunted}"
    );
}

#[test]
fn hunting_the_golden_saml_workspace_finds_what_a_pull_and_scan_find() {
    agree("golden-saml");
}

#[test]
fn hunting_the_clean_and_hostile_workspaces_finds_what_a_pull_and_scan_find() {
    agree("clean");
    agree("hostile");
}

/// A result the service cuts at its row limit is asked again over halves
/// of the range, and adds up to the same findings.
#[test]
fn results_cut_at_the_row_limit_are_split_and_add_up_the_same() {
    let home = Home::new();
    let whole = emulator(&["--signins", "3000", "--no-throttle", "--seed", "9"]);
    // Two emulators start apart: a range longer than their story keeps
    // its edge out of the comparison.
    let (all, _) = hunt(&home, &whole, "60d");
    let cut = emulator(&[
        "--signins",
        "3000",
        "--no-throttle",
        "--seed",
        "9",
        "--workspace-row-cap",
        "25",
    ]);
    let (split, stderr) = hunt(&home, &cut, "60d");
    let key = |v: &Value| -> BTreeMap<String, (Value, Value)> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|f| f["detection"] != "hunt.not-run")
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    (f["count"].clone(), f["entities"].clone()),
                )
            })
            .collect()
    };
    let requests = |s: &str| -> u64 {
        s.split(" requests")
            .next()
            .and_then(|h| h.rsplit('(').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(requests(&stderr) > 145, "no splitting happened: {stderr}");
    assert!(!stderr.contains("counts are floors"), "{stderr}");
    let (all, split) = (key(&all), key(&split));
    let differ: Vec<String> = all
        .keys()
        .chain(split.keys())
        .filter(|k| all.get(*k) != split.get(*k))
        .map(|k| format!("{k}: {:?} / {:?}", all.get(k), split.get(k)))
        .take(5)
        .collect();
    assert!(differ.is_empty(), "{differ:#?}\n{stderr}");
}

#[test]
fn a_wrong_workspace_id_is_refused_plainly() {
    let home = Home::new();
    let emu = emulator(&["--signins", "500"]);
    let out = command(&home, &emu)
        .args(["hunt", "--workspace", "not-a-guid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GUID"));
    let out = command(&home, &emu)
        .args([
            "hunt",
            "--workspace",
            "00000000-0000-4000-8000-000000000000",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no workspace 00000000"), "{stderr}");
}

/// The key of a pulled row: its table and its own id.
fn row_keys(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let row: Value = serde_json::from_str(l).unwrap();
            let id = row["Id"].as_str().or(row["OfficeId"].as_str()).unwrap();
            format!("{}#{id}", row["Type"].as_str().unwrap())
        })
        .collect()
}

/// `pull --workspace` brings the rows back as the workspace holds them;
/// scanned, they make the findings a Graph pull makes. A pull killed
/// part-way finishes on a rerun with every row exactly once.
#[test]
fn a_workspace_pull_scans_like_a_graph_pull_and_resumes_after_a_kill() {
    let home = Home::new();
    let emu = emulator(&["--signins", "20000", "--no-throttle", "--seed", "4"]);
    let full = home.path().join("full.ndjson");
    let pulled = command(&home, &emu)
        .args([
            "pull",
            "--since",
            "60d",
            "--workspace",
            &emu.workspace,
            "--out",
        ])
        .arg(&full)
        .output()
        .unwrap();
    assert!(
        pulled.status.success(),
        "{}",
        String::from_utf8_lossy(&pulled.stderr)
    );
    let scanned = home
        .command()
        .arg("scan")
        .arg(&full)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let from_workspace = json_of(&scanned);
    let from_graph = pull_and_scan(&home, &emu, "60d");
    let ids = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&from_workspace), ids(&from_graph));

    // Killed once the first window is checkpointed, then run again.
    let part = home.path().join("part.ndjson");
    let state = home.path().join("part.ndjson.state.json");
    let mut child = command(&home, &emu)
        .args([
            "pull",
            "--since",
            "60d",
            "--workspace",
            &emu.workspace,
            "--out",
        ])
        .arg(&part)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !state.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let rerun = command(&home, &emu)
        .args([
            "pull",
            "--since",
            "60d",
            "--workspace",
            &emu.workspace,
            "--out",
        ])
        .arg(&part)
        .output()
        .unwrap();
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let (whole, resumed) = (row_keys(&full), row_keys(&part));
    let unique: BTreeSet<&String> = resumed.iter().collect();
    assert_eq!(unique.len(), resumed.len(), "rows repeated after the rerun");
    assert_eq!(
        unique,
        whole.iter().collect::<BTreeSet<_>>(),
        "rows lost or added after the rerun"
    );
}
