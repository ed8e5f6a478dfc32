//! `warroom watch` against the emulated tenant over HTTP: what it finds
//! once history is in is what `pull` then `scan` find over the same
//! window, on every scenario; and a watch killed while fetching history
//! continues from the case's checkpoints without fetching an event twice.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, Home, age_identity, emulator, kept_ids, new_case};

/// Finding ids, detection by detection, leaving out posture (a file scan
/// takes no live snapshot to judge).
fn findings(json: &[u8]) -> BTreeSet<(String, String)> {
    let all: Vec<serde_json::Value> = serde_json::from_slice(json).unwrap();
    all.iter()
        .map(|f| {
            (
                f["detection"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(d, _)| !d.starts_with("posture."))
        .collect()
}

#[test]
fn watch_until_caught_up_finds_what_pull_and_scan_find() {
    for scenario in ["golden-saml", "clean", "hostile"] {
        let home = Home::new();
        let emu = emulator(&[
            "--scenario",
            scenario,
            "--signins",
            "4000",
            "--seed",
            "7",
            "--no-throttle",
        ]);
        let env = || emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let watched = home
            .command()
            .args([
                "watch",
                "--until-caught-up",
                "--since",
                "30d",
                "--format",
                "json",
            ])
            .envs(env())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&watched.stderr);
        assert!(watched.status.success(), "{scenario}: {said}");
        assert!(
            said.contains("no case: 30 days of history"),
            "{scenario}: {said}"
        );
        let out = home.path().join("pull.ndjson");
        let pulled = home
            .command()
            .args(["pull", "--since", "30d", "--out"])
            .arg(&out)
            .envs(env())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            pulled.status.success(),
            "{}",
            String::from_utf8_lossy(&pulled.stderr)
        );
        let scanned = Command::new(BIN)
            .args(["scan", "--format", "json"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(scanned.status.success());
        let (w, s) = (findings(&watched.stdout), findings(&scanned.stdout));
        assert!(!s.is_empty() || scenario != "golden-saml");
        assert_eq!(
            w.difference(&s).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "{scenario}: only watch found these"
        );
        assert_eq!(
            s.difference(&w).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "{scenario}: only pull and scan found these"
        );
    }
}

#[test]
fn a_killed_watch_continues_from_its_checkpoints() {
    if !common::have_tool("age-keygen", "age") {
        return;
    }
    let home = Home::new();
    // Throttled like Graph: the history takes long enough to be cut short.
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--signins",
        "12000",
        "--seed",
        "3",
    ]);
    let (id_file, public) = age_identity(home.path(), "id.txt");
    let mut env = home.env();
    env.extend(emu.env.iter().cloned());
    new_case(&env, "hist", &public);
    let watch = |args: &[&str]| {
        let mut cmd = home.command();
        cmd.args(["watch", "--case", "hist", "--no-posture", "--identity"])
            .arg(&id_file)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null());
        cmd
    };
    let mut first = watch(&[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some history is kept, well before it is all in.
    let started = Instant::now();
    while kept_ids(&home, &id_file, "hist").is_empty()
        && started.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(500));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let partial = kept_ids(&home, &id_file, "hist");
    assert!(!partial.is_empty(), "nothing was kept before the kill");
    let finished = watch(&["--until-caught-up", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        finished.status.success(),
        "{}",
        String::from_utf8_lossy(&finished.stderr)
    );
    let all = kept_ids(&home, &id_file, "hist");
    let twice: Vec<_> = all.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "kept twice: {:?}", twice.first());
    assert!(all.len() > partial.len(), "the restart added nothing");
    // Everything the tenant holds in the window is there once: the same
    // ids a pull of the window brings.
    let out = home.path().join("pull.ndjson");
    let pulled = home
        .command()
        .args([
            "pull",
            "--since",
            "30d",
            "--streams",
            "interactive,noninteractive,serviceprincipal,managedidentity,audit,risk,ual",
            "--out",
        ])
        .arg(&out)
        .envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(pulled.status.success());
    let expected: BTreeSet<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|id| !all.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} not kept, e.g. {:?}",
        missing.len(),
        missing.first()
    );
}

#[test]
fn a_pull_added_to_a_case_is_not_fetched_again() {
    if !common::have_tool("age-keygen", "age") {
        return;
    }
    let home = Home::new();
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--signins",
        "3000",
        "--seed",
        "5",
        "--no-throttle",
    ]);
    let (id_file, public) = age_identity(home.path(), "id.txt");
    let mut env = home.env();
    env.extend(emu.env.iter().cloned());
    let envs = || env.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    new_case(&env, "hist", &public);
    let out = home.path().join("pull.ndjson");
    let pulled = home
        .command()
        .args(["pull", "--since", "30d", "--out"])
        .arg(&out)
        .envs(envs())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(pulled.status.success());
    let pulled_ids: BTreeSet<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("@warroom.source").is_none())
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    let add = |file: &std::path::Path| {
        home.command()
            .args(["case", "add-events", "hist"])
            .arg(file)
            .arg("--identity")
            .arg(&id_file)
            .envs(envs())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let added = add(&out);
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(
        added.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(
        said.contains(" interactive ") && said.contains("0 already held"),
        "{said}"
    );
    // Added twice: nothing new.
    let again = add(&out);
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.contains("kept nothing new"), "{said}");
    assert_eq!(kept_ids(&home, &id_file, "hist").len(), pulled_ids.len());

    let watched = home
        .command()
        .args([
            "watch",
            "--case",
            "hist",
            "--no-posture",
            "--until-caught-up",
        ])
        .args(["--since", "30d", "--format", "json", "--identity"])
        .arg(&id_file)
        .envs(envs())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&watched.stderr);
    assert!(watched.status.success(), "{said}");
    let all = kept_ids(&home, &id_file, "hist");
    let twice: Vec<_> = all.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "kept twice: {:?}", twice.first());
    assert!(pulled_ids.iter().all(|id| all.contains_key(id)));
    // What watch finds from the case is what scan finds in the file.
    let scanned = Command::new(BIN)
        .args(["scan", "--format", "json"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        findings(&watched.stdout),
        findings(&scanned.stdout),
        "{said}"
    );
    eprintln!("{said}");
}

/// `warroom plan` with no files reads the tenant as `watch` does and makes
/// the plan once history is in: the forged users are revoked, the
/// attacker's account disabled, and the emergency account the directory
/// snapshot shows is spared, as from the files of a pull.
#[test]
fn plan_from_the_tenant_acts_on_the_right_accounts() {
    let home = Home::new();
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--signins",
        "4000",
        "--seed",
        "5",
        "--no-throttle",
    ]);
    let planned = home
        .command()
        .args(["plan", "--since", "30d", "--format", "json"])
        .envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&planned.stderr);
    assert!(planned.status.success(), "{said}");
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    let spared = plan["emergency_accounts"].to_string();
    assert!(spared.contains("bg-admin01"), "{spared}");
    let titles: Vec<String> = plan["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap())
        .map(|i| i["title"].as_str().unwrap_or("").to_lowercase())
        .collect();
    let has = |words: &[&str]| titles.iter().any(|t| words.iter().all(|w| t.contains(w)));
    for who in ["megan.bowen", "patti.fernandez", "lynne.robbins"] {
        assert!(has(&["revoke", who]), "no revoke for {who}: {titles:#?}");
    }
    assert!(has(&["disable", "svc-adsync-backup"]), "{titles:#?}");
    // Reviewing its role is fine; locking it out is not.
    let locks = ["revoke", "reset", "disable", "remove", "block"];
    assert!(
        !titles
            .iter()
            .any(|t| t.contains("bg-admin01") && locks.iter().any(|l| t.contains(l))),
        "an item locks out the emergency account: {titles:#?}"
    );
    assert!(
        plan["inputs"].to_string().contains("the tenant"),
        "{}",
        plan["inputs"]
    );
}
