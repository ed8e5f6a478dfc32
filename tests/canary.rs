//! Secrets stay in memory. A session with every secret kind planted as a
//! canary (the tenant's client secret, a passphrase, a note's text, and
//! the access and refresh tokens the tenant hands out), logging at
//! `trace`, through the console, `pull`, `scan`, `watch`, `case export`,
//! `config show` and `doctor`; then no file anywhere under the session's
//! home, data, state, cache or temporary directory holds one of them.
//! And the process that holds them cannot dump core or be read by
//! another.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{BIN, Home, Tmux, emulator, have_tool, wait_for_file};

const PASSPHRASE: &str = "canary-passphrase-0f9e8d7c";
const NOTE: &str = "canary-note-text-5b4a3c2d";

/// Runs `line` in the tmux shell and waits for it to finish, answering a
/// passphrase prompt if one comes.
fn run(tmux: &Tmux, home: &Home, line: &str) {
    let done = home.path().join("done");
    let _ = std::fs::remove_file(&done);
    tmux.type_line(&format!("{line}; echo $? > {}", done.display()));
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        if let Ok(rc) = std::fs::read_to_string(&done)
            && !rc.is_empty()
        {
            assert_eq!(rc.trim(), "0", "{line} failed:\n{}", tmux.screen());
            return;
        }
        if asks_passphrase(&tmux.screen()) {
            tmux.type_line(PASSPHRASE);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{line} did not finish:\n{}", tmux.screen());
}

/// The prompt waits on the screen's last written line.
fn asks_passphrase(screen: &str) -> bool {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.contains("Passphrase for"))
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path, out: &mut Vec<(std::path::PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files(&path, out);
        } else if kind.is_file() {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
}

/// A token the emulator issues: its prefix, then 48 hex digits.
fn holds_token(bytes: &[u8]) -> bool {
    bytes.windows(52).any(|w| {
        (w.starts_with(b"emu.") || w.starts_with(b"emr."))
            && w[4..].iter().all(u8::is_ascii_hexdigit)
    })
}

#[test]
fn no_secret_reaches_a_log_an_export_or_a_temporary_file() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let emu = emulator(&["--signins", "2000", "--no-throttle", "--days", "2"]);
    let secret = emu
        .env
        .iter()
        .find(|(k, _)| k == "WARROOM_CLIENT_SECRET")
        .unwrap()
        .1
        .clone();
    let home = Home::new();
    let dir = home.path();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let mut env = home.env();
    env.extend(emu.env.iter().cloned());
    env.push((
        "WARROOM_IDENTITY".into(),
        dir.join("me.age").display().to_string(),
    ));
    env.push(("WARROOM_LOG".into(), "trace".into()));
    env.push(("TMPDIR".into(), dir.join("tmp").display().to_string()));
    let tmux = Tmux::start(120, 40, &env);

    let public = dir.join("public");
    tmux.type_line(&format!("{BIN} identity new > {}", public.display()));
    for prompt in ["New passphrase", "same passphrase"] {
        assert!(
            tmux.wait_for(prompt, Duration::from_secs(10)),
            "{}",
            tmux.screen()
        );
        tmux.type_line(PASSPHRASE);
    }
    let public = wait_for_file(&public, Duration::from_secs(20)).expect("public key");
    run(
        &tmux,
        &home,
        &format!("{BIN} case new cn --recipient {}", public.trim()),
    );
    run(
        &tmux,
        &home,
        &format!("printf '{NOTE}' | {BIN} notes add --case cn"),
    );

    // The console, with the case: history lands, the note is shown.
    let rc = dir.join("rc");
    tmux.type_line(&format!(
        "WARROOM_CASE=cn {BIN}; echo $? > {}",
        rc.display()
    ));
    let mut seen = false;
    for _ in 0..600 {
        let screen = tmux.screen();
        if asks_passphrase(&screen) {
            tmux.type_line(PASSPHRASE);
        }
        if screen.contains(NOTE) && screen.contains("live") {
            seen = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        seen,
        "the console did not show the note and go live:\n{}",
        tmux.screen()
    );
    std::thread::sleep(Duration::from_secs(3));
    tmux.keys(&["q"]);
    wait_for_file(&rc, Duration::from_secs(10)).expect("the console quit");

    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let o = out.display();
    for line in [
        format!("{BIN} pull --since 2d --out {o}/pulled.ndjson < /dev/null"),
        format!("{BIN} scan {o}/pulled.ndjson --format markdown > {o}/report.md"),
        format!("{BIN} scan {o}/pulled.ndjson --format json > {o}/report.json"),
        format!(
            "{BIN} watch --case cn --no-posture --until-caught-up --format json > {o}/watch.json"
        ),
        format!("{BIN} case export cn --format bundle --out {o}/bundle.age"),
        format!("{BIN} case verify cn > {o}/verify.txt"),
        format!("{BIN} config show > {o}/config.txt"),
        format!("{BIN} doctor > {o}/doctor.txt || true"),
    ] {
        run(&tmux, &home, &line);
    }

    // The log was written at trace, so it had every chance to leak.
    let log = std::fs::read_to_string(dir.join("state/warroom/warroom.log")).unwrap();
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    let doctor = std::fs::read_to_string(out.join("doctor.txt")).unwrap();
    assert!(
        doctor.contains("ok    process memory"),
        "the process was not protected:\n{doctor}"
    );

    let mut all = Vec::new();
    files(dir, &mut all);
    assert!(all.len() > 10, "too few files to judge: {}", all.len());
    let mut leaks = Vec::new();
    for (path, bytes) in &all {
        let text = String::from_utf8_lossy(bytes);
        for (what, canary) in [
            ("client secret", secret.as_str()),
            ("passphrase", PASSPHRASE),
            ("note text", NOTE),
        ] {
            if text.contains(canary) {
                leaks.push(format!("{what} in {}", path.display()));
            }
        }
        if holds_token(bytes) {
            leaks.push(format!("a token in {}", path.display()));
        }
    }
    assert!(leaks.is_empty(), "secrets on disk:\n{}", leaks.join("\n"));
}

/// A long-running command (the emulator) has a zero core limit: what a
/// crash would dump, it cannot.
#[test]
fn a_running_warroom_cannot_dump_core() {
    let emu = emulator(&["--signins", "100", "--no-throttle"]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", emu.pid())).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{core}");
}
