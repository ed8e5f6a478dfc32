//! The checklist's actions in a real terminal (tmux) on `warroom demo`:
//! revoke the compromised admin's sessions and remove the attacker's app
//! credential from the checklist. Each is previewed, confirmed by typing the
//! object's name, sent once; the items are done only because the tenant,
//! read again, shows the change; the case journal holds both actions with
//! the request, the answer and the object before and after.

mod common;

use std::time::Duration;

use common::{BIN, Tmux, have_tool, wait_for_file};

/// Shows the checklist zoomed and filtered to `text`.
fn checklist(tmux: &Tmux, text: &str) {
    // Esc clears the old filter (the prompt starts from it); a pause keeps
    // Esc and / from reading as Alt-/.
    for key in ["3", "Escape", "/"] {
        tmux.keys(&[key]);
        std::thread::sleep(Duration::from_millis(300));
    }
    tmux.cmd(&["send-keys", "-l", text]);
    tmux.keys(&["Enter"]);
    assert!(
        tmux.wait_for(&format!("/ {text}"), Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
}

/// Moves to the concrete line naming `object`, acts, confirms with `name`.
fn act(tmux: &Tmux, object: &str, name: &str) {
    assert!(
        tmux.wait_for(object, Duration::from_secs(10)),
        "no item for {object}: {}",
        tmux.screen()
    );
    tmux.keys(&["j", "x"]);
    assert!(
        tmux.wait_for("Change the tenant?", Duration::from_secs(10)),
        "no preview: {}",
        tmux.screen()
    );
    let preview = tmux.screen();
    assert!(
        preview.contains("Request, sent once") && preview.contains("Now, as read from the tenant"),
        "{preview}"
    );
    // A wrong name sends nothing.
    tmux.cmd(&["send-keys", "-l", "not-the-name"]);
    tmux.keys(&["Enter"]);
    assert!(
        tmux.wait_for("nothing was sent", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    for _ in 0.."not-the-name".len() {
        tmux.keys(&["BSpace"]);
    }
    tmux.cmd(&["send-keys", "-l", name]);
    tmux.keys(&["Enter"]);
    assert!(
        tmux.wait_for("read again shows the change", Duration::from_secs(15)),
        "{}",
        tmux.screen()
    );
}

#[test]
fn revoking_the_admins_sessions_and_removing_the_attackers_credential() {
    if !have_tool("tmux", "tmux") || !have_tool("age-keygen", "age") {
        return;
    }
    let (home, env) = common::home_with_case();
    let tmux = Tmux::start(160, 48, &env);
    common::launch_in(&tmux, &home, "demo --seed 3 --case ir");
    assert!(
        tmux.wait_for("Federation trust changed", Duration::from_secs(30)),
        "{}",
        tmux.screen()
    );

    // The break-glass account is spared; the forged user is not.
    checklist(&tmux, "sessions of megan.bowen");
    act(
        &tmux,
        "Revoke the sessions of megan.bowen@",
        "megan.bowen@contoso.com",
    );
    assert!(
        tmux.wait_for(
            "[x] Revoke the sessions of megan.bowen@",
            Duration::from_secs(5)
        ),
        "{}",
        tmux.screen()
    );

    checklist(&tmux, "remove credential");
    act(&tmux, "Remove credential ", "Contoso HR Connector");
    assert!(
        tmux.wait_for(
            "[x] Remove credentials the attacker added",
            Duration::from_secs(5)
        ),
        "{}",
        tmux.screen()
    );

    tmux.keys(&["q"]);
    let rc =
        wait_for_file(&home.path().join("rc"), Duration::from_secs(10)).expect("q did not quit");
    assert_eq!(rc.trim(), "0");

    // The journal holds both actions: request, answer, before and after.
    let out = std::process::Command::new(BIN)
        .args(["case", "export", "ir", "--format", "json", "--out", "-"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = export["records"].as_array().expect("records");
    let actions: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["kind"] == "action" && r["outcome"] != "sending")
        .collect();
    assert_eq!(actions.len(), 2, "{actions:#?}");
    // Each was written down before it was sent.
    let intents = records
        .iter()
        .filter(|r| r["kind"] == "action" && r["outcome"] == "sending")
        .count();
    assert_eq!(intents, 2);
    let revoke = actions
        .iter()
        .find(|a| {
            a["url"]
                .as_str()
                .unwrap()
                .ends_with("/revokeSignInSessions")
        })
        .unwrap();
    assert_eq!(revoke["outcome"], "done");
    assert_eq!(revoke["verified"], true);
    assert_eq!(revoke["author"], "alice@jumpbox");
    let (before, after) = (
        revoke["before"].as_str().unwrap(),
        revoke["after"].as_str().unwrap(),
    );
    let valid_from = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text).unwrap()["signInSessionsValidFromDateTime"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(
        valid_from(after) > valid_from(before),
        "the tenant did not change: {before} / {after}"
    );
    let removal = actions
        .iter()
        .find(|a| a["url"].as_str().unwrap().ends_with("/removePassword"))
        .unwrap();
    assert_eq!(removal["verified"], true);
    let key = serde_json::from_str::<serde_json::Value>(removal["request"].as_str().unwrap())
        .unwrap()["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !removal["after"].as_str().unwrap().contains(&key),
        "the key is still on the app"
    );
}
