//! The encrypted case through the real binary: age and SSH recipients, the
//! `age` tool reading what warroom wrote, re-keying when someone leaves,
//! kill -9 during appends, tampering, permissions, and no plaintext on disk.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{BIN, Home, Tmux, age_identity, have_tool, wait_for_file};

fn warroom(home: &Home, args: &[&str], stdin: &str, identity: &Path) -> Output {
    let mut child = command(home, args, identity)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn command(home: &Home, args: &[&str], identity: &Path) -> Command {
    let mut cmd = home.command();
    cmd.args(args)
        .env("WARROOM_IDENTITY", identity)
        .env("WARROOM_AUTHOR", "tester@jumpbox");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn case_dir(home: &Home, name: &str) -> PathBuf {
    home.path().join("data/warroom/cases").join(name)
}

#[test]
fn notes_round_trip_and_the_age_tool_opens_the_case_key() {
    if !have_tool("age", "age") {
        return;
    }
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    let out = warroom(
        &home,
        &["case", "new", "ir-1", "--recipient", &public],
        "",
        &id,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(
        &home,
        &["notes", "add", "--case", "ir-1", "--tag", "adfs"],
        "token-signing cert exported from ADFS01\nsecond line\n",
        &id,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let note_id = text(&out.stdout).trim().to_owned();
    assert_eq!(note_id.len(), 32, "prints the record id");
    let out = warroom(&home, &["notes", "list", "--case", "ir-1"], "", &id);
    let listed = text(&out.stdout);
    assert!(
        listed.contains(&note_id) && listed.contains("[adfs]"),
        "{listed}"
    );
    assert!(listed.contains("    token-signing cert exported from ADFS01\n    second line"));
    assert!(listed.contains("tester@jumpbox"));
    // The age tool, with the same identity, opens the case key (and
    // nothing but a recipient can).
    let key = case_dir(&home, "ir-1").join("key.1.age");
    let opened = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&id)
        .arg(&key)
        .output()
        .unwrap();
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(opened.stdout.len(), 32);
    let (stranger, _) = age_identity(home.path(), "stranger.txt");
    let refused = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&stranger)
        .arg(&key)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let out = warroom(&home, &["notes", "list", "--case", "ir-1"], "", &stranger);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not among the recipients"),
        "{}",
        text(&out.stderr)
    );
    let out = warroom(&home, &["case", "verify", "ir-1"], "", &id);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("2 records, chain intact"));
}

#[test]
fn ssh_keys_are_recipients_and_identities() {
    if !have_tool("ssh-keygen", "openssh-client") {
        return;
    }
    let home = Home::new();
    let mut publics = Vec::new();
    let mut privates = Vec::new();
    for kind in ["ed25519", "rsa"] {
        let key = home.path().join(format!("id_{kind}"));
        let out = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                kind,
                "-N",
                "",
                "-C",
                &format!("{kind}@team"),
                "-f",
            ])
            .arg(&key)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        publics.push(
            std::fs::read_to_string(key.with_extension("pub"))
                .unwrap()
                .trim()
                .to_owned(),
        );
        privates.push(key);
    }
    let out = warroom(
        &home,
        &[
            "case",
            "new",
            "ssh-case",
            "--recipient",
            &publics[0],
            "--recipient",
            &publics[1],
        ],
        "",
        &privates[0],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(
        &home,
        &["notes", "add", "--case", "ssh-case"],
        "from ed25519",
        &privates[0],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(
        &home,
        &["notes", "list", "--case", "ssh-case"],
        "",
        &privates[1],
    );
    assert!(
        text(&out.stdout).contains("from ed25519"),
        "{}",
        text(&out.stderr)
    );
    // The age tool opens the case key with the SSH private key too.
    if have_tool("age", "age") {
        let key = case_dir(&home, "ssh-case").join("key.1.age");
        let opened = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&privates[0])
            .arg(&key)
            .output()
            .unwrap();
        assert!(opened.status.success(), "{}", text(&opened.stderr));
        assert_eq!(opened.stdout.len(), 32);
    }
    let out = warroom(
        &home,
        &["case", "recipients", "list", "ssh-case"],
        "",
        &privates[1],
    );
    assert!(text(&out.stdout).contains("ed25519@team") && text(&out.stdout).contains("rsa@team"));
}

#[test]
fn removing_a_recipient_replaces_the_key() {
    let home = Home::new();
    let (alice, alice_pub) = age_identity(home.path(), "alice.txt");
    let (bob, bob_pub) = age_identity(home.path(), "bob.txt");
    let new = [
        "case",
        "new",
        "team",
        "--recipient",
        &alice_pub,
        "--recipient",
        &bob_pub,
    ];
    assert!(warroom(&home, &new, "", &alice).status.success());
    assert!(
        warroom(&home, &["notes", "add", "--case", "team"], "before", &bob)
            .status
            .success()
    );
    let out = warroom(
        &home,
        &["case", "recipients", "remove", "team", &bob_pub],
        "",
        &alice,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(&home, &["notes", "list", "--case", "team"], "", &bob);
    assert!(
        text(&out.stderr).contains("not among the recipients"),
        "{}",
        text(&out.stderr)
    );
    // The old generation is gone; the new key is not sealed to Bob.
    let dir = case_dir(&home, "team");
    assert!(!dir.join("journal.1").exists() && !dir.join("key.1.age").exists());
    let opened = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&bob)
        .arg(dir.join("key.2.age"))
        .output();
    if let Ok(opened) = opened {
        assert!(!opened.status.success());
    }
    assert!(
        warroom(&home, &["notes", "add", "--case", "team"], "after", &alice)
            .status
            .success()
    );
    let out = warroom(&home, &["notes", "list", "--case", "team"], "", &alice);
    let listed = text(&out.stdout);
    assert!(
        listed.contains("before") && listed.contains("after"),
        "{listed}"
    );
    let out = warroom(&home, &["case", "verify", "team"], "", &alice);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = warroom(
        &home,
        &["case", "recipients", "add", "team", &bob_pub],
        "",
        &alice,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(&home, &["notes", "list", "--case", "team"], "", &bob);
    assert!(text(&out.stdout).contains("after"), "{}", text(&out.stderr));
}

#[test]
fn kill_9_during_appends_loses_no_acknowledged_note() {
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    assert!(
        warroom(
            &home,
            &["case", "new", "crash", "--recipient", &public],
            "",
            &id
        )
        .status
        .success()
    );
    let mut acked = Vec::new();
    let mut killed = 0;
    for i in 0..200 {
        let mut child = command(&home, &["notes", "add", "--case", "crash"], &id)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("note-{i}").as_bytes())
            .unwrap();
        if fastrand::u8(..) < 90 {
            // At a random moment of its run: starting, sealing, writing.
            std::thread::sleep(Duration::from_micros(fastrand::u64(0..12_000)));
            let _ = child.kill();
            killed += 1;
        }
        let out = child.wait_with_output().unwrap();
        if out.status.success() && text(&out.stdout).trim().len() == 32 {
            acked.push(format!("note-{i}"));
        }
    }
    assert!(
        killed > 20 && acked.len() > 50,
        "killed {killed}, acked {}",
        acked.len()
    );
    let out = warroom(&home, &["notes", "list", "--case", "crash"], "", &id);
    let listed = text(&out.stdout);
    let lines: std::collections::HashSet<&str> = listed.lines().map(str::trim).collect();
    let lost: Vec<&String> = acked
        .iter()
        .filter(|n| !lines.contains(n.as_str()))
        .collect();
    assert!(lost.is_empty(), "acknowledged notes lost: {lost:?}");
    let out = warroom(&home, &["case", "verify", "crash"], "", &id);
    let said = text(&out.stdout);
    assert!(out.status.success() || said.contains("torn"), "{said}");
    // The next write sets a torn tail aside; then the chain is whole.
    assert!(
        warroom(&home, &["notes", "add", "--case", "crash"], "after", &id)
            .status
            .success()
    );
    let out = warroom(&home, &["case", "verify", "crash"], "", &id);
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn tampering_and_loose_permissions_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    assert!(
        warroom(
            &home,
            &["case", "new", "t", "--recipient", &public],
            "",
            &id
        )
        .status
        .success()
    );
    for i in 0..5 {
        assert!(
            warroom(
                &home,
                &["notes", "add", "--case", "t"],
                &format!("n{i}"),
                &id
            )
            .status
            .success()
        );
    }
    let journal = case_dir(&home, "t").join("journal.1");
    let good = std::fs::read(&journal).unwrap();
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x01;
    std::fs::write(&journal, &bad).unwrap();
    let out = warroom(&home, &["case", "verify", "t"], "", &id);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("damaged at record"),
        "{}",
        text(&out.stdout)
    );
    // Nothing is appended to an altered journal.
    let out = warroom(&home, &["notes", "add", "--case", "t"], "more", &id);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&journal).unwrap(), bad);
    std::fs::write(&journal, &good).unwrap();
    assert!(
        warroom(&home, &["case", "verify", "t"], "", &id)
            .status
            .success()
    );
    // A case directory others can enter is refused, with the fix.
    let dir = case_dir(&home, "t");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = warroom(&home, &["notes", "list", "--case", "t"], "", &id);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("chmod -R go-rwx"),
        "{}",
        text(&out.stderr)
    );
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    // So is an identity others can read.
    std::fs::set_permissions(&id, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = warroom(&home, &["notes", "list", "--case", "t"], "", &id);
    assert!(
        text(&out.stderr).contains("chmod 600"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_note_never_reaches_disk_in_plaintext() {
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    let canary = format!("CANARY-{}-golden", fastrand::u64(..));
    assert!(
        warroom(
            &home,
            &["case", "new", "leak", "--recipient", &public],
            "",
            &id
        )
        .status
        .success()
    );
    let out = warroom(
        &home,
        &["notes", "add", "--case", "leak", "--tag", &canary],
        &canary,
        &id,
    );
    assert!(out.status.success());
    assert!(
        text(&warroom(&home, &["notes", "list", "--case", "leak"], "", &id).stdout)
            .contains(&canary)
    );
    let mut found = Vec::new();
    let mut stack = vec![home.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains(&canary) {
                found.push(path);
            }
        }
    }
    assert!(found.is_empty(), "canary in plaintext: {found:?}");
}

/// A passphrase-protected identity made by the `age` tool: warroom asks
/// for the passphrase on the terminal (no echo), caches the unlocked
/// identity in the kernel keyring, and `lock` drops it.
#[test]
fn a_passphrase_identity_is_asked_once_then_cached_until_lock() {
    if !have_tool("tmux", "tmux") || !have_tool("age", "age") {
        return;
    }
    if warroom::keyring::Cache::open().is_err() {
        assert!(
            std::env::var_os("WARROOM_REQUIRE_TOOLS").is_none(),
            "no kernel keyring"
        );
        return;
    }
    let home = Home::new();
    let (plain, public) = age_identity(home.path(), "plain.txt");
    let sealed = home.path().join("id.age");
    let mut env = home.env();
    env.push(("WARROOM_IDENTITY".into(), sealed.display().to_string()));
    env.push(("WARROOM_CASE".into(), "pp".into()));
    let tmux = Tmux::start(120, 30, &env);
    // age -p asks twice on the terminal.
    tmux.type_line(&format!(
        "age -a -p -o {} {}",
        sealed.display(),
        plain.display()
    ));
    for _ in 0..2 {
        assert!(
            tmux.wait_for("passphrase", Duration::from_secs(10)),
            "{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(300));
        tmux.type_line("correct horse battery");
    }
    assert!(
        wait_for_file(&sealed, Duration::from_secs(10)).is_some(),
        "age wrote no identity: {}",
        tmux.screen()
    );
    std::fs::remove_file(&plain).unwrap();
    let mut sealed_mode = std::fs::metadata(&sealed).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut sealed_mode, 0o600);
    std::fs::set_permissions(&sealed, sealed_mode).unwrap();
    tmux.type_line("clear");
    let done = home.path().join("done");
    tmux.type_line(&format!(
        "{BIN} case new pp --recipient {public} && echo note-one | {BIN} notes add; echo done > {}",
        done.display()
    ));
    assert!(
        tmux.wait_for("Passphrase for", Duration::from_secs(10)),
        "{}",
        tmux.screen()
    );
    tmux.type_line("correct horse battery");
    wait_for_file(&done, Duration::from_secs(20)).expect("commands finished");
    assert!(
        !tmux.screen().contains("correct horse"),
        "the passphrase was echoed"
    );
    // Cached: no question this time.
    let out = Command::new(BIN)
        .args(["notes", "list"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("note-one"),
        "{}",
        text(&out.stderr)
    );
    // Locked: asked again.
    let out = Command::new(BIN)
        .arg("lock")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("dropped"),
        "{}",
        text(&out.stderr)
    );
    tmux.type_line("clear");
    tmux.type_line(&format!("{BIN} notes list"));
    assert!(
        tmux.wait_for("Passphrase for", Duration::from_secs(10)),
        "{}",
        tmux.screen()
    );
    tmux.type_line("wrong horse");
    assert!(
        tmux.wait_for(
            "wrong passphrase; try again (2 left)",
            Duration::from_secs(20)
        ),
        "{}",
        tmux.screen()
    );
    // A mistyped passphrase is asked again, and the right one opens it.
    tmux.type_line("correct horse battery");
    assert!(
        tmux.wait_for("note-one", Duration::from_secs(20)),
        "{}",
        tmux.screen()
    );
}

#[test]
fn exports_for_the_report_and_a_bundle_for_a_teammate() {
    let home = Home::new();
    let (alice, alice_pub) = age_identity(home.path(), "alice.txt");
    let (bob, bob_pub) = age_identity(home.path(), "bob.txt");
    assert!(
        warroom(
            &home,
            &["case", "new", "ir", "--recipient", &alice_pub],
            "",
            &alice
        )
        .status
        .success()
    );
    assert!(
        warroom(
            &home,
            &["notes", "add", "--case", "ir", "--tag", "adfs"],
            "cert | exported\nfrom ADFS01",
            &alice
        )
        .status
        .success()
    );
    // A decrypted export needs to be asked for, and never overwrites.
    let out = warroom(
        &home,
        &["case", "export", "ir", "--format", "md"],
        "",
        &alice,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--out"), "{}", text(&out.stderr));
    let md = home.path().join("report.md");
    let out = warroom(
        &home,
        &[
            "case",
            "export",
            "ir",
            "--format",
            "md",
            "--out",
            md.to_str().unwrap(),
        ],
        "",
        &alice,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(
        report.contains("# Case ir") && report.contains("note: cert \\| exported"),
        "{report}"
    );
    assert!(report.contains("    from ADFS01") && report.contains("Tags: adfs"));
    let again = warroom(
        &home,
        &[
            "case",
            "export",
            "ir",
            "--format",
            "md",
            "--out",
            md.to_str().unwrap(),
        ],
        "",
        &alice,
    );
    assert_eq!(again.status.code(), Some(1));
    let json = warroom(
        &home,
        &["case", "export", "ir", "--format", "json", "--out", "-"],
        "",
        &alice,
    );
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["records"].as_array().unwrap().len(), 2);
    // A bundle sealed to Bob: Bob imports it on his jump box.
    let bundle = home.path().join("ir.bundle");
    let out = warroom(
        &home,
        &[
            "case",
            "export",
            "ir",
            "--format",
            "bundle",
            "--recipient",
            &bob_pub,
            "--out",
            bundle.to_str().unwrap(),
        ],
        "",
        &alice,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!String::from_utf8_lossy(&std::fs::read(&bundle).unwrap()).contains("ADFS01"));
    let bob_home = Home::new();
    let out = warroom(
        &bob_home,
        &["case", "import", bundle.to_str().unwrap()],
        "",
        &bob,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = warroom(&bob_home, &["notes", "list", "--case", "ir"], "", &bob);
    assert!(
        text(&out.stdout).contains("from ADFS01"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        warroom(&bob_home, &["case", "verify", "ir"], "", &bob)
            .status
            .success()
    );
    // Alice cannot open what was sealed to Bob alone.
    let out = warroom(
        &home,
        &["case", "import", bundle.to_str().unwrap(), "--name", "copy"],
        "",
        &alice,
    );
    assert_eq!(out.status.code(), Some(1));
}

/// `identity new` writes a passphrase-protected identity that the `age`
/// tool opens with the same passphrase.
#[test]
fn identity_new_is_an_age_passphrase_file() {
    if !have_tool("tmux", "tmux") || !have_tool("age", "age") {
        return;
    }
    let home = Home::new();
    let path = home.path().join("me.age");
    let mut env = home.env();
    env.push(("WARROOM_IDENTITY".into(), path.display().to_string()));
    let tmux = Tmux::start(120, 30, &env);
    let public = home.path().join("public");
    tmux.type_line(&format!("{BIN} identity new > {}", public.display()));
    for prompt in ["New passphrase", "same passphrase"] {
        assert!(
            tmux.wait_for(prompt, Duration::from_secs(10)),
            "{}",
            tmux.screen()
        );
        tmux.type_line("a long passphrase for tests");
    }
    let public = wait_for_file(&public, Duration::from_secs(20)).expect("public key printed");
    assert!(public.trim().starts_with("age1"), "{public}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let opened = home.path().join("opened");
    tmux.type_line(&format!("age -d {} > {}", path.display(), opened.display()));
    assert!(
        tmux.wait_for("Enter passphrase", Duration::from_secs(10)),
        "{}",
        tmux.screen()
    );
    tmux.type_line("a long passphrase for tests");
    let secret = wait_for_file(&opened, Duration::from_secs(20)).expect("age opened it");
    assert!(secret.contains("AGE-SECRET-KEY-1"));
    assert!(secret.contains(public.trim()));
}

/// Pulled events kept in the case: sealed segments the journal vouches
/// for, readable after a re-key and carried by a bundle.
#[test]
fn pulled_events_are_kept_sealed_and_vouched_for() {
    use warroom::case::Case;
    use warroom::case::keys::Recipient;
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    let data = home.path().join("data/warroom");
    let identity =
        || warroom::case::keys::load_identity(&id, &|_| None, Duration::from_secs(60)).unwrap();
    let case = Case::create(&data, "ev", vec![Recipient::parse(&public).unwrap()]).unwrap();
    let case = case.unlock(&identity()).unwrap();
    let batch: Vec<serde_json::Value> = (0..500)
        .map(|i| serde_json::json!({"id": format!("e{i}"), "userPrincipalName": "adele.vance@contoso.com", "ipAddress": "185.220.101.7"}))
        .collect();
    case.save_events("interactive", &batch).unwrap();
    case.save_events("audit", &batch[..3]).unwrap();
    let out = warroom(&home, &["case", "verify", "ev"], "", &id);
    assert!(
        text(&out.stdout).contains("503 pulled events"),
        "{}",
        text(&out.stdout)
    );
    // No plaintext, and smaller than the JSON.
    let segments = case_dir(&home, "ev").join("events.1");
    let first = std::fs::read(segments.join("000001.seg")).unwrap();
    assert!(!String::from_utf8_lossy(&first).contains("adele"));
    assert!(first.len() < serde_json::to_vec(&batch).unwrap().len() / 3);
    // Removing someone re-seals the segments under the new key.
    let (_, other_pub) = age_identity(home.path(), "other.txt");
    let case = case
        .set_recipients(
            vec![
                Recipient::parse(&public).unwrap(),
                Recipient::parse(&other_pub).unwrap(),
            ],
            true,
        )
        .unwrap();
    let contents = case.read().unwrap();
    let kept: usize = contents
        .records
        .iter()
        .map(|r| case.load_events(r).unwrap().len())
        .sum();
    assert_eq!(kept, 503);
    // A segment swapped for another is caught.
    let dir = case_dir(&home, "ev").join("events.2");
    std::fs::copy(dir.join("000002.seg"), dir.join("000001.seg")).unwrap();
    let out = warroom(&home, &["case", "verify", "ev"], "", &id);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("not the one the journal vouches for"),
        "{}",
        text(&out.stdout)
    );
}

/// Without a usable keyring, the passphrase is asked every time, and the
/// responder is told why.
#[test]
fn without_a_keyring_the_passphrase_is_asked_each_time() {
    if !have_tool("tmux", "tmux") || !have_tool("age", "age") {
        return;
    }
    let home = Home::new();
    let path = home.path().join("me.age");
    let mut env = home.env();
    env.push(("WARROOM_IDENTITY".into(), path.display().to_string()));
    env.push(("WARROOM_CASE".into(), "nk".into()));
    env.push(("WARROOM_NO_KEYRING".into(), "1".into()));
    let tmux = Tmux::start(120, 30, &env);
    let public = home.path().join("public");
    tmux.type_line(&format!("{BIN} identity new > {}", public.display()));
    for prompt in ["New passphrase", "same passphrase"] {
        assert!(
            tmux.wait_for(prompt, Duration::from_secs(10)),
            "{}",
            tmux.screen()
        );
        tmux.type_line("a long passphrase for tests");
    }
    let public = wait_for_file(&public, Duration::from_secs(20)).expect("public key");
    // Naming the recipient needs no identity; reading does, every time.
    let created = home.path().join("created");
    tmux.type_line(&format!(
        "{BIN} case new nk --recipient {} && echo ok > {}",
        public.trim(),
        created.display()
    ));
    wait_for_file(&created, Duration::from_secs(20)).expect("case created");
    for (i, args) in ["notes list".to_owned(), "notes list".to_owned()]
        .iter()
        .enumerate()
    {
        tmux.type_line("clear");
        let done = home.path().join(format!("done{i}"));
        tmux.type_line(&format!("{BIN} {args}; echo $? > {}", done.display()));
        assert!(
            tmux.wait_for("Passphrase for", Duration::from_secs(10)),
            "{}",
            tmux.screen()
        );
        assert!(
            tmux.screen().contains("WARROOM_NO_KEYRING"),
            "{}",
            tmux.screen()
        );
        tmux.type_line("a long passphrase for tests");
        let rc = wait_for_file(&done, Duration::from_secs(20)).expect("finished");
        assert_eq!(rc.trim(), "0", "{}", tmux.screen());
    }
}
