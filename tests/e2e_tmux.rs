//! The real binary in a real terminal (tmux): open, move, help, quit, and
//! the terminal is cooked again afterwards, also after SIGHUP and SIGTERM.

mod common;

use std::time::Duration;

use common::{BIN, Home, Tmux, child_of, have_tool, is_cooked, wait_for_file};

const START: Duration = Duration::from_secs(15);

/// Starts the console from a shell that records the exit status and the
/// terminal mode once it returns.
fn launch(tmux: &Tmux, home: &Home, args: &str) {
    let dir = home.path().display();
    tmux.type_line(&format!(
        "{BIN} {args}; echo $? > {dir}/rc; stty -a > {dir}/stty"
    ));
}

#[test]
fn open_move_help_quit_restores_the_terminal() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let tmux = Tmux::start(80, 24, &home.env());
    launch(&tmux, &home, "");
    assert!(
        tmux.wait_for("1 Findings", START),
        "no console: {}",
        tmux.screen()
    );
    let screen = tmux.screen();
    for pane in ["Findings", "Sign-ins", "Remediation", "Notes"] {
        assert!(screen.contains(pane), "{pane} missing at 80x24:\n{screen}");
    }
    tmux.keys(&["Tab"]);
    assert!(
        tmux.wait_for("▸ 1 Findings", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    assert!(tmux.screen().contains("┏ 2 Sign-ins"), "{}", tmux.screen());
    tmux.keys(&["?"]);
    assert!(
        tmux.wait_for("Help: keys and marks", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    tmux.keys(&["Escape"]);
    assert!(tmux.wait_for("NORMAL", Duration::from_secs(3)));
    tmux.keys(&["q"]);
    let stty =
        wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("q did not quit");
    assert!(is_cooked(&stty), "terminal left raw:\n{stty}");
    let rc = std::fs::read_to_string(home.path().join("rc")).unwrap();
    assert_eq!(rc.trim(), "0");
}

#[test]
fn signals_restore_the_terminal() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    for (signal, name, code) in [
        (1, "SIGHUP", "129"),
        (15, "SIGTERM", "143"),
        (2, "SIGINT", "130"),
    ] {
        let home = Home::new();
        let tmux = Tmux::start(100, 30, &home.env());
        launch(&tmux, &home, "");
        assert!(tmux.wait_for("1 Findings", START), "{name}: no console");
        let pid = child_of(tmux.shell_pid()).expect("console process");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("kill -{signal} {pid}"))
            .status()
            .unwrap();
        assert!(status.success());
        let stty = wait_for_file(&home.path().join("stty"), Duration::from_secs(8))
            .unwrap_or_else(|| panic!("{name}: console did not exit"));
        assert!(is_cooked(&stty), "{name}: terminal left raw:\n{stty}");
        let rc = std::fs::read_to_string(home.path().join("rc")).unwrap();
        assert_eq!(rc.trim(), code, "{name}: exit status");
        // The shell restores modes after a job killed by a signal, so the
        // checks above alone would pass without handlers: the console must
        // have caught the signal, left the alternate screen and said so.
        assert_eq!(
            tmux.cmd(&["display", "-p", "#{alternate_on}"]).trim(),
            "0",
            "{name}: still on the alternate screen"
        );
        let log = std::fs::read_to_string(home.path().join("state/warroom/warroom.log"))
            .unwrap_or_default();
        assert!(
            log.contains("shutting down"),
            "{name}: signal not handled:\n{log}"
        );
        assert!(
            log.contains(&format!("console stopped code={code}")),
            "{name}: no orderly stop:\n{log}"
        );
    }
}

/// A tenant name carrying OSC 52 (clipboard write), a screen clear and a
/// right-to-left override: on a real terminal it shows as text, the screen
/// is intact and no clipboard buffer was set.
#[test]
fn hostile_tenant_name_is_inert_on_a_real_terminal() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let mut env = home.env();
    env.push((
        "WARROOM_TENANT".into(),
        "evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2Jcorp\u{202e}gpj.exe".into(),
    ));
    // Sign-in goes nowhere: a closed port on loopback.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for var in ["WARROOM_AUTHORITY_URL", "WARROOM_GRAPH_URL"] {
        env.push((var.into(), format!("http://127.0.0.1:{closed}")));
    }
    let tmux = Tmux::start(120, 40, &env);
    // tmux accepts OSC 52 from programs with set-clipboard on, so a leak
    // would show up as a paste buffer.
    tmux.cmd(&["set", "-g", "set-clipboard", "on"]);
    launch(&tmux, &home, "");
    assert!(tmux.wait_for("1 Findings", START), "{}", tmux.screen());
    let screen = tmux.screen();
    assert!(
        screen.contains(r"tenant evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2Jcorp\u{202e}gpj.exe"),
        "{screen}"
    );
    assert!(
        screen.lines().next().unwrap_or("").contains("warroom"),
        "title line wiped:\n{screen}"
    );
    assert_eq!(
        tmux.cmd(&["list-buffers"]).trim(),
        "",
        "an OSC 52 clipboard write got through"
    );
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("quit");

    // Control: the same bytes printed raw do reach the clipboard, so the
    // check above can fail.
    tmux.type_line("printf 'evil\\033]52;c;cm0gLXJmIH4=\\007'");
    std::thread::sleep(Duration::from_millis(500));
    assert_ne!(
        tmux.cmd(&["list-buffers"]).trim(),
        "",
        "control: raw OSC 52 should set a buffer"
    );
}

/// `warroom demo`: the console against the in-process emulated tenant
/// fills the sign-in feed, shows every stream live, and quits cleanly.
#[test]
fn demo_streams_sign_ins_into_the_console() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let tmux = Tmux::start(120, 40, &home.env());
    launch(&tmux, &home, "demo --seed 3");
    assert!(
        tmux.wait_for("live 7/7", Duration::from_secs(60)),
        "streams not live: {}",
        tmux.screen()
    );
    // A row: a time, then the kind of sign-in.
    let has_row = |screen: &str| {
        screen.lines().any(|l| {
            ["user", "nonint", "sp", "mi"].iter().any(|kind| {
                l.split_whitespace()
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| {
                        // The pane's border is glued to the time.
                        let time = w[0].trim_start_matches(|c: char| !c.is_ascii_digit());
                        time.len() == 8 && time.matches(':').count() == 2 && w[1] == *kind
                    })
            })
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !has_row(&tmux.screen()) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        has_row(&tmux.screen()),
        "no sign-in rows: {}",
        tmux.screen()
    );
    let screen = tmux.screen();
    assert!(screen.contains("Contoso (emulated"), "{screen}");
    // The detections run on the feed: the scenario's federation change is
    // a critical finding in the findings pane.
    assert!(
        tmux.wait_for("Federation trust changed", Duration::from_secs(30)),
        "no live findings: {}",
        tmux.screen()
    );
    assert!(tmux.screen().contains("CRIT"), "{}", tmux.screen());
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("q did not quit");
    let rc = std::fs::read_to_string(home.path().join("rc")).unwrap();
    assert_eq!(rc.trim(), "0");
}

/// SGR parameters that set a foreground or background colour.
fn colour_params(styled: &str) -> Vec<String> {
    let mut found = Vec::new();
    for seq in styled.split("\x1b[").skip(1) {
        let Some(end) = seq.find(|c: char| !(c.is_ascii_digit() || c == ';')) else {
            continue;
        };
        if !seq[end..].starts_with('m') {
            continue;
        }
        for p in seq[..end].split(';') {
            if let Ok(n) = p.parse::<u16>()
                && matches!(n, 30..=38 | 40..=48 | 90..=97 | 100..=107)
            {
                found.push(seq[..end].to_owned());
            }
        }
    }
    found
}

#[test]
fn no_color_and_ascii_on_a_real_terminal() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let tmux = Tmux::start(80, 24, &home.env());
    launch(&tmux, &home, "");
    assert!(tmux.wait_for("1 Findings", START));
    assert!(
        !colour_params(&tmux.screen_with_styles()).is_empty(),
        "control: default theme has colour"
    );
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("quit");

    let home = Home::new();
    let mut env = home.env();
    env.push(("NO_COLOR".into(), "1".into()));
    let tmux = Tmux::start(80, 24, &env);
    launch(&tmux, &home, "--ascii");
    assert!(tmux.wait_for("1 Findings", START), "{}", tmux.screen());
    let styled = tmux.screen_with_styles();
    assert_eq!(
        colour_params(&styled),
        Vec::<String>::new(),
        "colour under NO_COLOR"
    );
    let screen = tmux.screen();
    assert!(screen.is_ascii(), "non-ASCII under --ascii:\n{screen}");
    assert!(
        screen.contains("#="),
        "focused pane not marked in ASCII:\n{screen}"
    );
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("quit");
}

#[test]
fn wide_terminal_shows_all_four_panes_open() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let tmux = Tmux::start(200, 60, &home.env());
    launch(&tmux, &home, "");
    assert!(tmux.wait_for("1 Findings", START));
    let screen = tmux.screen();
    for title in [
        "┏ 1 Findings",
        "┌ 2 Sign-ins",
        "┌ 3 Remediation",
        "┌ 4 Notes",
    ] {
        assert!(
            screen.contains(title),
            "{title} not open at 200x60:\n{screen}"
        );
    }
    // Resizing to 80x24 switches to the stacked layout live.
    tmux.cmd(&["resize-window", "-x", "80", "-y", "24"]);
    assert!(
        tmux.wait_for("▸ 2 Sign-ins", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("quit");
}

#[test]
fn bad_keymap_in_config_is_reported_before_the_terminal_changes() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    home.write_config("[keys.normal]\nzoom = [\"q\"]\n");
    let tmux = Tmux::start(100, 30, &home.env());
    launch(&tmux, &home, "");
    let stty = wait_for_file(&home.path().join("stty"), Duration::from_secs(10)).expect("exit");
    assert!(is_cooked(&stty));
    let screen = tmux.screen().replace('\n', "");
    assert!(
        screen.contains("\"q\" is bound to both zoom and quit"),
        "{screen}"
    );
    assert_eq!(
        std::fs::read_to_string(home.path().join("rc"))
            .unwrap()
            .trim(),
        "1"
    );
}

#[test]
fn a_panic_restores_the_terminal_and_points_at_the_log() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let tmux = Tmux::start(100, 30, &home.env());
    let dir = home.path().display();
    tmux.type_line(&format!(
        "{BIN} --panic-after-first-frame 2> {dir}/err; echo $? > {dir}/rc; stty -a > {dir}/stty"
    ));
    let stty = wait_for_file(&home.path().join("stty"), Duration::from_secs(10)).expect("exit");
    assert!(is_cooked(&stty), "terminal left raw after a panic:\n{stty}");
    assert_eq!(
        std::fs::read_to_string(home.path().join("rc"))
            .unwrap()
            .trim(),
        "101"
    );
    let err = std::fs::read_to_string(home.path().join("err")).unwrap();
    let log = home.path().join("state/warroom/warroom.log");
    assert!(
        err.contains(&format!(
            "the terminal was restored. Log: {}",
            log.display()
        )),
        "{err}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("deliberate panic"),
        "panic not in the log:\n{logged}"
    );
}

/// A note written in the console lands in the encrypted case (the CLI
/// reads it back) and nowhere on disk in plaintext: not in the data,
/// config, state (log) or cache directories, nor in the temp directory.
#[test]
fn a_note_written_in_the_console_is_saved_encrypted_and_nowhere_in_plaintext() {
    if !have_tool("tmux", "tmux") || !have_tool("age-keygen", "age") {
        return;
    }
    let home = Home::new();
    let (id, public) = common::age_identity(home.path(), "id.txt");
    let tmp = home.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut env = home.env();
    env.push(("WARROOM_IDENTITY".into(), id.display().to_string()));
    env.push(("WARROOM_CASE".into(), "ir".into()));
    env.push(("TMPDIR".into(), tmp.display().to_string()));
    common::new_case(&env, "ir", &public);
    let canary = format!("CANARY{}", fastrand::u64(..));
    let tmux = Tmux::start(100, 30, &env);
    launch(&tmux, &home, "");
    assert!(tmux.wait_for("case ir open", START), "{}", tmux.screen());
    tmux.keys(&["n"]);
    assert!(
        tmux.wait_for("new note", Duration::from_secs(3)),
        "{}",
        tmux.screen()
    );
    tmux.cmd(&["send-keys", "-l", &format!("golden saml {canary} #adfs")]);
    tmux.keys(&["C-s"]);
    assert!(
        tmux.wait_for("note saved to the case", Duration::from_secs(5)),
        "{}",
        tmux.screen()
    );
    tmux.keys(&["q"]);
    wait_for_file(&home.path().join("stty"), Duration::from_secs(5)).expect("q did not quit");
    let listed = std::process::Command::new(BIN)
        .args(["notes", "list"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&canary));
    let mut stack = vec![home.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if String::from_utf8_lossy(&std::fs::read(&path).unwrap()).contains(&canary) {
                panic!("canary in plaintext in {}", path.display());
            }
        }
    }
}

/// The demo says it leaves WARROOM_CASE alone, and its throwaway case is
/// removed even when the terminal goes away (SIGHUP), not only on `q`.
#[test]
fn a_hung_up_demo_removes_its_throwaway_case_and_said_it_ignored_warroom_case() {
    if !have_tool("tmux", "tmux") {
        return;
    }
    let home = Home::new();
    let mut env = home.env();
    env.push(("WARROOM_CASE".into(), "ir-1".into()));
    let tmux = Tmux::start(200, 60, &env);
    launch(&tmux, &home, "demo --seed 3");
    assert!(
        tmux.wait_for("WARROOM_CASE=ir-1 is not used by the demo", START),
        "{}",
        tmux.screen()
    );
    let screen = tmux.screen();
    let start = screen
        .find("warroom-demo-")
        .expect("the case's directory is named");
    let name: String = screen[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let dir = std::env::temp_dir().join(&name);
    assert!(
        dir.is_dir(),
        "{} is not there while the demo runs",
        dir.display()
    );
    tmux.cmd(&["kill-server"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dir.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        !dir.exists(),
        "{} is left behind after SIGHUP",
        dir.display()
    );
}
