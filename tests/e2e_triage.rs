//! The investigation panes in a real terminal (tmux) on `warroom demo`:
//! the forged-SAML finding is listed within 30 s, its evidence and its
//! user's sign-ins are one key away in the feed, and a triage decision is
//! kept in the case and shown again after a restart.

mod common;

use std::time::Duration;

use common::{Home, Tmux, have_tool, wait_for_file};

fn quit(tmux: &Tmux, home: &Home) {
    tmux.keys(&["q"]);
    let rc =
        wait_for_file(&home.path().join("rc"), Duration::from_secs(10)).expect("q did not quit");
    assert_eq!(rc.trim(), "0");
}

/// Filters the findings pane to the forged-token finding.
fn select_forged_finding(tmux: &Tmux) {
    // Esc clears the pane's filter first: the prompt starts from it.
    // Findings raised through its infrastructure name it too: left out.
    tmux.keys(&["1", "Escape", "/"]);
    tmux.cmd(&["send-keys", "-l", "rotated away -infra."]);
    tmux.keys(&["Enter"]);
    assert!(
        tmux.wait_for("/ rotated away -infra.", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
}

#[test]
fn forged_saml_finding_pivots_into_the_feed_and_its_triage_survives_a_restart() {
    if !have_tool("tmux", "tmux") || !have_tool("age-keygen", "age") {
        return;
    }
    let (home, env) = common::home_with_case();

    let tmux = Tmux::start(160, 48, &env);
    common::launch_in(&tmux, &home, "demo --seed 3 --case ir");
    // The forged tokens are signed with the key rotated away after the
    // federation change: Entra ID refuses them with 5000811.
    assert!(
        tmux.wait_for("Sign-ins signed with a ke", Duration::from_secs(30)),
        "no forged-SAML finding within 30 s: {}",
        tmux.screen()
    );
    select_forged_finding(&tmux);

    // Enter: the finding's evidence in the feed.
    tmux.keys(&["Enter"]);
    assert!(
        tmux.wait_for("/ finding:signin.rotated-key", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    assert!(
        tmux.wait_for("5000811", Duration::from_secs(5)),
        "no evidence rows: {}",
        tmux.screen()
    );
    // p: the feed filtered on that sign-in's user, evidence flagged.
    tmux.keys(&["p"]);
    assert!(
        tmux.wait_for("/ user:\"", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    let screen = tmux.screen();
    let evidence = screen
        .lines()
        .filter(|l| l.contains("5000811") && l.contains(" F"))
        .count();
    assert!(
        evidence >= 1,
        "the user's evidence sign-ins are not shown: {screen}"
    );

    // Triage it; the console changes once the journal holds the decision.
    select_forged_finding(&tmux);
    tmux.keys(&["s"]);
    assert!(
        tmux.wait_for("triage (state @owner reason)", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    tmux.cmd(&[
        "send-keys",
        "-l",
        "confirmed @carol forged token, key rotated away",
    ]);
    tmux.keys(&["Enter"]);
    // Confirmed, it names the attacker's infrastructure: the findings
    // raised through it may announce themselves over the saved notice.
    assert!(
        tmux.wait_for("HIGH CONF", Duration::from_secs(5)),
        "{}",
        tmux.screen()
    );
    quit(&tmux, &home);

    // A new console on the same case shows the decision again.
    common::launch_in(&tmux, &home, "demo --seed 3 --case ir");
    // The case's kept history opens at once, so the finding is back before
    // the emulated tenant is read again; many findings are: filter to it.
    assert!(
        tmux.wait_for("Federation trust changed", Duration::from_secs(30)),
        "{}",
        tmux.screen()
    );
    select_forged_finding(&tmux);
    assert!(
        tmux.wait_for("Sign-ins signed with a ke", Duration::from_secs(30)),
        "{}",
        tmux.screen()
    );
    assert!(
        tmux.wait_for("Triage: confirmed by alice@jumpbox", Duration::from_secs(3)),
        "triage lost across the restart: {}",
        tmux.screen()
    );
    let screen = tmux.screen();
    assert!(
        screen.contains("HIGH CONF") && screen.contains("carol"),
        "{screen}"
    );
    quit(&tmux, &home);
}
