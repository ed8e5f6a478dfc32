//! The command line without a terminal: commands that are not built yet say
//! so and exit 2, config errors name the file and line, `config show` masks
//! secrets, and `doctor` checks the clock against a real HTTP server.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::Home;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn config_path_follows_xdg() {
    let home = Home::new();
    let out = home.run(&["config", "path"], &[]);
    assert!(out.status.success());
    assert_eq!(
        stdout(&out).trim(),
        home.config_file().display().to_string()
    );
}

#[test]
fn config_show_masks_secrets() {
    let home = Home::new();
    home.write_config(
        "default_profile = \"ir\"\n[profiles.ir]\ntenant = \"contoso.onmicrosoft.com\"\nclient_id = \"11111111-2222-3333-4444-555555555555\"\nauth = \"client-secret\"\n",
    );
    let out = home.run(
        &["config", "show"],
        &[
            ("WARROOM_CLIENT_SECRET", "hunter2-very-secret"),
            ("WARROOM_ACCESS_TOKEN", "eyJ0eXAi.secret.token"),
        ],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("tenant         = contoso.onmicrosoft.com"),
        "{text}"
    );
    assert!(
        text.contains("******** (from $WARROOM_CLIENT_SECRET)"),
        "{text}"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("eyJ0eXAi"),
        "secret printed:\n{text}"
    );
}

#[test]
fn bad_config_names_file_and_line() {
    let home = Home::new();
    home.write_config("[profiles.ir]\ntenant = \"contoso\"\ncloud = \"mars\"\n");
    let out = home.run(&["config", "show"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let want = format!("{}:3:9:", home.config_file().display());
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("mars"), "{err}");
}

#[test]
fn explicit_missing_config_is_an_error() {
    let home = Home::new();
    let out = home.run(
        &["--config", "/nonexistent/warroom.toml", "config", "show"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read config file /nonexistent/warroom.toml"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn console_without_a_terminal_explains() {
    let home = Home::new();
    let out = home.run(&[], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("needs a terminal"),
        "{}",
        stderr(&out)
    );
}

/// Serves one HEAD request with a `Date` header ten minutes in the past.
fn skewed_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        // Give up after 10 s so a doctor that never connects fails the test
        // instead of hanging it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => panic!("doctor never connected: {e}"),
            }
        };
        conn.set_nonblocking(false).unwrap();
        let mut buf = [0u8; 2048];
        let _ = conn.read(&mut buf);
        let past = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(600);
        let date = jiff::fmt::rfc2822::to_string(&past.to_zoned(jiff::tz::TimeZone::UTC)).unwrap();
        let date = date.replace("+0000", "GMT");
        let reply = format!(
            "HTTP/1.1 200 OK\r\nDate: {date}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        conn.write_all(reply.as_bytes()).unwrap();
    });
    (url, handle)
}

#[test]
fn doctor_reports_every_check_and_catches_clock_skew() {
    let home = Home::new();
    let (url, server) = skewed_server();
    let out = home.run(&["doctor"], &[("WARROOM_GRAPH_URL", url.as_str())]);
    server.join().unwrap();
    let text = stdout(&out);
    let names = [
        "keyring",
        "process memory",
        "terminal size",
        "colour",
        "unicode",
        "tmux",
        "config",
        "config dir",
        "data dir",
        "state dir",
        "clock",
    ];
    assert_eq!(text.lines().count(), names.len(), "{text}");
    for (line, name) in text.lines().zip(names) {
        let verdict = &line[..4];
        assert!(
            ["ok  ", "skip", "WARN", "FAIL"].contains(&verdict),
            "{line}"
        );
        assert!(line[6..].starts_with(name), "{line}");
    }
    let clock = text.lines().last().unwrap();
    let skew_seen = ["+599 s", "+600 s", "+601 s"]
        .iter()
        .any(|s| clock.contains(s));
    assert!(clock.starts_with("FAIL") && skew_seen, "{clock}");
    assert_eq!(out.status.code(), Some(1), "a failed check exits 1");
}

#[test]
fn doctor_skips_the_clock_when_graph_is_unreachable() {
    let home = Home::new();
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = home.run(&["doctor"], &[("WARROOM_GRAPH_URL", url.as_str())]);
    let text = stdout(&out);
    let clock = text.lines().last().unwrap();
    assert!(
        clock.starts_with("skip") && clock.contains("unreachable"),
        "{clock}"
    );
}

/// `scan --records` prints what was read as JSON a terminal cannot act
/// on: C1 controls and bidi overrides are escaped, the value unchanged.
#[test]
fn scan_records_escapes_what_a_terminal_would_act_on() {
    let home = Home::new();
    let file = home.path().join("hostile.ndjson");
    std::fs::write(
        &file,
        "{\"createdDateTime\":\"2026-01-01T00:00:00Z\",\"status\":{\"errorCode\":0},\"userPrincipalName\":\"a\\u009b31m\\u202eb\"}\n",
    )
    .unwrap();
    let out = home.run(&["scan", "--records", file.to_str().unwrap()], &[]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        !text.contains('\u{9b}') && !text.contains('\u{202e}'),
        "{text}"
    );
    let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(line["kind"], "sign-in");
    assert_eq!(line["record"]["userPrincipalName"], "a\u{9b}31m\u{202e}b");
    let missing = home.run(&["scan", "--records", "/nonexistent/file.json"], &[]);
    assert_eq!(missing.status.code(), Some(1));
}
