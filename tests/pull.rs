//! `warroom pull` against `warroom emulator`, both as real processes over
//! loopback: every event exactly once under faults, resumption after a
//! kill, and plain errors.

mod common;

use std::collections::HashSet;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Emulator, Home, emulator};
use warroom::emulator::{Scenario, Spec, generate};

/// Every event id the emulator serves for this seed and size (the ids do
/// not depend on when the emulator started).
fn expected_ids(seed: u64, signins: u64) -> HashSet<String> {
    let tenant = generate::build(&Spec {
        scenario: Scenario::GoldenSaml,
        seed,
        signins,
        days: 30,
        end_ms: 1_795_000_000_000,
    });
    let mut ids: HashSet<String> = tenant
        .signins
        .records()
        .iter()
        .map(|r| r.id().to_string())
        .collect();
    ids.extend(tenant.audits.iter().map(|a| a.id.clone()));
    ids.extend(tenant.risks.iter().map(|r| r.id.clone()));
    let wanted = warroom::source::graph::pull::UAL_OPERATIONS;
    ids.extend(
        tenant
            .ual
            .iter()
            .filter(|r| wanted.contains(&r.operation.as_str()))
            .map(|r| r.id.clone()),
    );
    ids
}

/// The key of every line: event ids, and `source#id` for directory
/// objects (one sign-in method id recurs for every user).
fn pulled_ids(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let line: serde_json::Value = serde_json::from_str(l).unwrap();
            warroom::source::graph::snapshot::line_key(&line).unwrap()
        })
        .collect()
}

/// Splits keys into events and directory objects.
fn split(keys: &[String]) -> (HashSet<String>, HashSet<String>) {
    let (directory, events): (Vec<_>, Vec<_>) = keys.iter().cloned().partition(|k| k.contains('#'));
    (
        events.into_iter().collect(),
        directory.into_iter().collect(),
    )
}

/// The directory snapshot of an unthrottled, fault-free emulator with the
/// same seed: what a pull through faults must match.
fn reference_directory(seed: &str, signins: &str) -> HashSet<String> {
    let emu = emulator(&["--seed", seed, "--signins", signins, "--no-throttle"]);
    let home = Home::new();
    let out = home.path().join("reference.ndjson");
    let result = pull_command(&home, &emu, &out)
        .args(["--streams", "directory"])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    pulled_ids(&out).into_iter().collect()
}

fn pull_command(home: &Home, emu: &Emulator, out: &std::path::Path) -> Command {
    let mut cmd = command(home, emu);
    cmd.args(["pull", "--since", "90d", "--out"]).arg(out);
    cmd
}

/// `warroom` with the test's home and the emulator's connection settings.
fn command(home: &Home, emu: &Emulator) -> Command {
    let mut cmd = home.command();
    cmd.envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn pull_gets_every_event_exactly_once_through_faults() {
    let emu = emulator(&[
        "--seed",
        "21",
        "--signins",
        "8000",
        "--no-throttle",
        "--faults",
        "429:0.08,503:0.08,504:0.05,reset:0.08,malformed:0.08,page-token:0.5",
    ]);
    let home = Home::new();
    let out = home.path().join("pull.ndjson");
    // In 45-day windows: each is paged (and restarted after a forgotten
    // page token) on its own, and events on a boundary are written once.
    let result = pull_command(&home, &emu, &out)
        .args(["--window", "45d"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    let got = pulled_ids(&out);
    let unique: HashSet<String> = got.iter().cloned().collect();
    assert_eq!(unique.len(), got.len(), "duplicates in the output");
    let (events, directory) = split(&got);
    assert_eq!(events, expected_ids(21, 8000), "lost or extra events");
    assert_eq!(
        directory,
        reference_directory("21", "8000"),
        "lost or extra directory objects"
    );
    assert!(
        stderr.contains("pulled") && stderr.contains("interactive"),
        "{stderr}"
    );
    assert!(
        !warroom::source::graph::pull::state_path(&out).exists(),
        "checkpoint left behind"
    );
}

#[test]
fn a_killed_pull_resumes_without_loss_or_repeats() {
    // Throttled: the pull takes several seconds, so it can be killed midway.
    let emu = emulator(&["--seed", "22", "--signins", "6000"]);
    let home = Home::new();
    let out = home.path().join("pull.ndjson");
    let state = warroom::source::graph::pull::state_path(&out);
    let mut first = pull_command(&home, &emu, &out)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let written = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if written > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the pull wrote nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(state.exists(), "no checkpoint after a kill");
    // Killed mid-write, the last line may be cut short (the resumed pull
    // drops whatever follows its checkpoint): count the whole lines.
    let partial = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    let result = pull_command(&home, &emu, &out).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(stderr.contains("resumed"), "{stderr}");
    let got = pulled_ids(&out);
    let unique: HashSet<String> = got.iter().cloned().collect();
    assert!(got.len() > partial);
    assert_eq!(unique.len(), got.len(), "duplicates after resuming");
    let (events, directory) = split(&got);
    assert_eq!(events, expected_ids(22, 6000));
    assert_eq!(directory, reference_directory("22", "6000"));
}

#[test]
fn pull_errors_are_plain() {
    let emu = emulator(&["--seed", "23", "--signins", "500", "--no-throttle"]);
    let home = Home::new();
    // A wrong secret: the identity platform's reason, in one line.
    let out = home.path().join("a.ndjson");
    let mut cmd = pull_command(&home, &emu, &out);
    cmd.env("WARROOM_CLIENT_SECRET", "wrong");
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr.contains("sign-in refused: invalid_client: AADSTS7000215"),
        "{stderr}"
    );
    // Nothing listening: said at once, with the reason.
    let out = home.path().join("d.ndjson");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = pull_command(&home, &emu, &out);
    cmd.env(
        "WARROOM_AUTHORITY_URL",
        format!("http://127.0.0.1:{closed}"),
    );
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1));
    assert!(
        stderr.contains("cannot reach the sign-in endpoint")
            && stderr.to_lowercase().contains("refused"),
        "{stderr}"
    );
    // Evidence is never overwritten.
    let out = home.path().join("b.ndjson");
    std::fs::write(&out, "{\"id\":\"x\"}\n").unwrap();
    let result = pull_command(&home, &emu, &out).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1));
    assert!(stderr.contains("already exists"), "{stderr}");
    // An unknown stream is named, with the known ones, and nothing is done.
    let out = home.path().join("c.ndjson");
    let result = pull_command(&home, &emu, &out)
        .args(["--streams", "interactive,signins"])
        .output()
        .unwrap();
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("unknown stream \"signins\"") && stderr.contains("directory"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn directory_snapshot_holds_what_the_posture_review_needs() {
    let emu = emulator(&["--seed", "26", "--signins", "500", "--no-throttle"]);
    let home = Home::new();
    let out = home.path().join("snapshot.ndjson");
    let result = pull_command(&home, &emu, &out)
        .args(["--streams", "directory"])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let all: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Each part read whole is marked, with how many objects it held.
    let (marks, lines): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|l| l.get("@warroom.part").is_some());
    for mark in &marks {
        let source = mark["@warroom.source"].as_str().unwrap();
        let held = lines
            .iter()
            .filter(|l| l["@warroom.source"] == source)
            .count() as u64;
        assert_eq!(mark["@warroom.part"]["objects"], held, "{source}");
    }
    assert!(
        marks
            .iter()
            .any(|m| m["@warroom.source"] == "identity/conditionalAccess/policies")
    );
    let from = |source: &str| -> HashSet<String> {
        lines
            .iter()
            .filter(|l| l["@warroom.source"] == source)
            .map(|l| l["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(lines.iter().all(|l| l["@odata.type"].is_string()
        && l["@warroom.snapshotAt"].is_string()
        && l.get("@warroom.gap").is_none()));
    let tenant = generate::build(&Spec {
        scenario: Scenario::GoldenSaml,
        seed: 26,
        signins: 500,
        days: 30,
        end_ms: 1_795_000_000_000,
    });
    let ids = |it: &mut dyn Iterator<Item = String>| -> HashSet<String> { it.collect() };
    assert_eq!(
        from("users"),
        ids(&mut tenant.users.iter().map(|u| u.id.to_string()))
    );
    assert_eq!(
        from("servicePrincipals"),
        ids(&mut tenant.service_principals.iter().map(|s| s.id.to_string()))
    );
    assert_eq!(
        from("applications"),
        ids(&mut tenant.applications.iter().map(|a| a.id.to_string()))
    );
    assert_eq!(from("oauth2PermissionGrants").len(), tenant.grants.len());
    assert_eq!(
        from("roleManagement/directory/roleAssignments").len(),
        tenant.role_assignments.len()
    );
    assert_eq!(from("domains").len(), tenant.domains.len());
    assert_eq!(
        from("identity/conditionalAccess/policies").len(),
        tenant.ca_policies.len()
    );
    assert_eq!(
        from("policies/identitySecurityDefaultsEnforcementPolicy").len(),
        1
    );
    // The federated domain's trust, with its signing certificate.
    let federated = tenant.domains.iter().find(|d| d.federated).unwrap();
    let trust: Vec<_> = lines
        .iter()
        .filter(|l| {
            l["@warroom.source"] == format!("domains/{}/federationConfiguration", federated.name)
        })
        .collect();
    assert_eq!(trust.len(), 1);
    assert!(trust[0]["signingCertificate"].is_string());
    // Sign-in methods of every Global Administrator who is a user.
    for assignment in tenant
        .role_assignments
        .iter()
        .filter(|a| a.role_template_id == "62e90394-69f5-4237-9190-012177145e10")
    {
        if let Some(user) = tenant
            .users
            .iter()
            .find(|u| u.id == assignment.principal_id)
        {
            assert_eq!(
                from(&format!("users/{}/authentication/methods", user.id)).len(),
                user.methods.len(),
                "methods of {}",
                user.upn
            );
        }
    }
    // Who holds Microsoft Graph's application permissions.
    assert!(
        lines
            .iter()
            .any(|l| l["@odata.type"] == "#microsoft.graph.appRoleAssignment")
    );
}

#[test]
fn pull_signs_in_with_a_certificate() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert = fixtures.join("responder-test-cert.pem");
    let emu = emulator(&[
        "--seed",
        "24",
        "--signins",
        "500",
        "--no-throttle",
        "--responder-certificate",
        cert.to_str().unwrap(),
    ]);
    let home = Home::new();
    home.write_config(&format!(
        "[profiles.ir]\nauth = \"certificate\"\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        cert.display(),
        fixtures.join("responder-test-key.pem").display()
    ));
    let out = home.path().join("pull.ndjson");
    let mut cmd = pull_command(&home, &emu, &out);
    cmd.env_remove("WARROOM_CLIENT_SECRET")
        .args(["--streams", "interactive"]);
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(!pulled_ids(&out).is_empty());
}

#[test]
fn pull_signs_in_a_person_with_a_device_code() {
    // Throttled and with 2-second tokens: the pull outlives several tokens,
    // which the refresh token renews without asking the person again.
    let emu = emulator(&[
        "--seed",
        "25",
        "--signins",
        "9000",
        "--token-lifetime",
        "2",
        "--device-approve-after",
        "1",
        "--device-poll-interval",
        "1",
    ]);
    let home = Home::new();
    home.write_config("[profiles.ir]\nauth = \"device-code\"\n");
    let out = home.path().join("pull.ndjson");
    let mut cmd = pull_command(&home, &emu, &out);
    cmd.env_remove("WARROOM_CLIENT_SECRET")
        .args(["--streams", "interactive,noninteractive,audit"]);
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{stderr}");
    assert!(
        stderr.contains("to sign in, open")
            && stderr.contains("/devicelogin")
            && stderr.contains("enter the code"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\x1b]52"),
        "no clipboard escape when stderr is not a terminal"
    );
    assert_eq!(
        stderr.matches("to sign in, open").count(),
        1,
        "asked to sign in again: {stderr}"
    );
    assert!(!pulled_ids(&out).is_empty());

    // The refresh token went to the kernel keyring (never a file): the next
    // command signs in without asking, `lock` forgets it, `login` asks once
    // and caches it again.
    if warroom::keyring::Cache::open().is_err() {
        assert!(
            std::env::var_os("WARROOM_REQUIRE_TOOLS").is_none(),
            "the kernel keyring is not usable"
        );
        return;
    }
    let run = |args: &[&str], out: Option<&str>| {
        let mut cmd = match out {
            Some(name) => pull_command(&home, &emu, &home.path().join(name)),
            None => command(&home, &emu),
        };
        cmd.env_remove("WARROOM_CLIENT_SECRET").args(args);
        let result = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
        assert!(result.status.success(), "{args:?}: {stderr}");
        stderr
    };
    let asked = |stderr: &str| stderr.contains("to sign in, open");
    let again = run(&["--streams", "audit"], Some("again.ndjson"));
    assert!(
        !asked(&again),
        "asked although the sign-in is cached: {again}"
    );
    let locked = run(&["lock"], None);
    assert!(
        locked.contains("dropped") && !locked.contains("dropped 0"),
        "{locked}"
    );
    let login = run(&["login"], None);
    assert!(asked(&login) && login.contains("signed in to"), "{login}");
    let after = run(&["--streams", "audit"], Some("after.ndjson"));
    assert!(!asked(&after), "login did not cache the sign-in: {after}");
    run(&["lock"], None);
    assert!(
        !home.path().read_dir().unwrap().any(|e| {
            std::fs::read(e.unwrap().path())
                .is_ok_and(|b| String::from_utf8_lossy(&b).contains("emr."))
        }),
        "a refresh token reached a file"
    );
}
