//! The whole incident in the console (tmux, 120×40): opened with a case
//! on the golden-saml tenant, it fetches 30 days of history and, once
//! caught up, lists every malicious step of the story as a finding: the
//! forged sign-ins from the first day, the attacker's own federation
//! change, the credential added to the app, mail read by it, the inbox
//! rule, and the app's and svc-adsync-backup's activity raised through
//! the attacker's infrastructure.

mod common;

use std::time::Duration;

use common::{Tmux, emulator, have_tool, launch_in, wait_for_file};

#[test]
fn the_console_with_a_case_shows_the_whole_incident() {
    if !have_tool("tmux", "tmux") || !have_tool("age-keygen", "age") {
        return;
    }
    let (home, mut env) = common::home_with_case();
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--signins",
        "8000",
        "--seed",
        "5",
        "--no-throttle",
    ]);
    env.extend(emu.env.iter().cloned());
    env.push(("WARROOM_CASE".into(), "ir".into()));
    let tmux = Tmux::start(120, 40, &env);
    launch_in(&tmux, &home, "");
    assert!(
        tmux.wait_for("history is in", Duration::from_secs(120)),
        "history never caught up: {}",
        tmux.screen()
    );
    // Each step, found by filtering the findings pane: the selected
    // (first) finding's detail names it.
    let steps: [(&str, &[&str]); 7] = [
        (
            "claim-from-new-network megan",
            &["MFA claim", "megan.bowen"],
        ),
        (
            "federation-changed megan",
            &["Federation trust changed", "megan.bowen"],
        ),
        (
            "app-credential-added",
            &["Credentials added", "Contoso HR Connector"],
        ),
        (
            "mail.read-by-application",
            &["Mailbox read by an", "lynne.robbins"],
        ),
        ("inbox-rule", &["Inbox rule", "patti.fernandez"]),
        (
            "infra. Contoso HR Connector",
            &["Activity from infrastructure", "203.0.113.140"],
        ),
        (
            "infra. svc-adsync-backup",
            &["Activity from infrastructure", "svc-adsync-backup"],
        ),
    ];
    for (filter, wanted) in steps {
        tmux.keys(&["1", "Escape", "/"]);
        tmux.cmd(&["send-keys", "-l", filter]);
        tmux.keys(&["Enter"]);
        let shown = |screen: &str| wanted.iter().all(|w| screen.contains(w));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !shown(&tmux.screen()) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(shown(&tmux.screen()), "{filter}: {}", tmux.screen());
    }
    tmux.keys(&["q"]);
    let rc =
        wait_for_file(&home.path().join("rc"), Duration::from_secs(10)).expect("q did not quit");
    assert_eq!(rc.trim(), "0");
}

/// Killed (SIGKILL) while fetching its history and started again, the
/// console continues from the checkpoints kept in the case: no event is
/// kept twice, and the history is finished.
#[test]
fn a_console_killed_during_its_history_continues_where_it_stopped() {
    if !have_tool("tmux", "tmux") || !have_tool("age-keygen", "age") {
        return;
    }
    let (home, mut env) = common::home_with_case();
    let id_file = home.path().join("id.txt");
    // Throttled like Graph, so the history takes long enough to cut.
    let emu = emulator(&[
        "--scenario",
        "golden-saml",
        "--signins",
        "12000",
        "--seed",
        "3",
    ]);
    env.extend(emu.env.iter().cloned());
    env.push(("WARROOM_CASE".into(), "ir".into()));
    let tmux = Tmux::start(120, 40, &env);
    launch_in(&tmux, &home, "");
    let started = std::time::Instant::now();
    while common::kept_ids(&home, &id_file, "ir").is_empty()
        && started.elapsed() < Duration::from_secs(90)
    {
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        !tmux.screen().contains("history is in"),
        "the history was in before the kill: {}",
        tmux.screen()
    );
    let console = common::child_of(tmux.shell_pid()).expect("the console's process");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &console.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for_file(&home.path().join("rc"), Duration::from_secs(10)).expect("the shell saw no exit");
    let partial = common::kept_ids(&home, &id_file, "ir");
    assert!(!partial.is_empty(), "nothing was kept before the kill");

    tmux.type_line("stty sane; clear");
    launch_in(&tmux, &home, "");
    assert!(
        tmux.wait_for("history is in", Duration::from_secs(240)),
        "the restarted console never caught up: {}",
        tmux.screen()
    );
    tmux.keys(&["q"]);
    let rc =
        wait_for_file(&home.path().join("rc"), Duration::from_secs(10)).expect("q did not quit");
    assert_eq!(rc.trim(), "0");
    let all = common::kept_ids(&home, &id_file, "ir");
    let twice: Vec<_> = all.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "kept twice: {:?}", twice.first());
    assert!(all.len() > partial.len(), "the restart added nothing");
    assert!(partial.keys().all(|id| all.contains_key(id)));
}
