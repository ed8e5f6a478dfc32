//! Helpers for tests that drive the real binary: required system tools, a
//! private tmux server per test, and private XDG directories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// `warroom scan FILES --format json`: the findings and what it said on
/// stderr; a failed scan fails the test.
pub fn scan_json<P: AsRef<std::ffi::OsStr>>(files: &[P]) -> (Vec<serde_json::Value>, String) {
    scan_json_with(files, &[])
}

/// `warroom scan FILES… ARGS… --format json`: the findings and stderr.
pub fn scan_json_with<P: AsRef<std::ffi::OsStr>>(
    files: &[P],
    args: &[&std::ffi::OsStr],
) -> (Vec<serde_json::Value>, String) {
    let out = Command::new(BIN)
        .arg("scan")
        .args(files)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// True when `tool` is on PATH. When it is missing the test is skipped with a
/// message, unless `WARROOM_REQUIRE_TOOLS=1` (CI), where it fails.
pub fn have_tool(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("WARROOM_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{tool} is required (WARROOM_REQUIRE_TOOLS=1): apt-get install {package}");
        }
        eprintln!("skipped: install {package} to run this test");
    }
    found
}

/// Private config, data, state and cache directories for one test.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let p = self.dir.path().display();
        vec![
            ("HOME".into(), format!("{p}/home")),
            ("XDG_CONFIG_HOME".into(), format!("{p}/config")),
            ("XDG_DATA_HOME".into(), format!("{p}/data")),
            ("XDG_STATE_HOME".into(), format!("{p}/state")),
            ("XDG_CACHE_HOME".into(), format!("{p}/cache")),
        ]
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config/warroom/config.toml")
    }

    pub fn write_config(&self, text: &str) {
        let file = self.config_file();
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// Runs the binary with these directories and no WARROOM_* from outside.
    pub fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command();
        cmd.args(args).envs(extra_env.iter().copied());
        cmd.output().expect("run warroom")
    }

    /// `warroom` with these directories, and none of the caller's
    /// `WARROOM_*`, proxy or `NO_COLOR` settings.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars() {
            let proxy = k.to_ascii_lowercase().ends_with("_proxy");
            if k.starts_with("WARROOM_") || k == "NO_COLOR" || proxy {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.env());
        cmd
    }
}

/// A tmux server of our own, with one window running an interactive shell.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(width: u16, height: u16, env: &[(String, String)]) -> Self {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let tmux = Self {
            socket: format!("warroom-test-{}-{n}", std::process::id()),
        };
        let mut args: Vec<String> = vec![
            "-f".into(),
            "/dev/null".into(),
            "new-session".into(),
            "-d".into(),
            "-x".into(),
            width.to_string(),
            "-y".into(),
            height.to_string(),
        ];
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push("bash --norc --noprofile".into());
        tmux.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>());
        tmux
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types a line into the shell and presses Enter.
    pub fn type_line(&self, line: &str) {
        self.cmd(&["send-keys", "-l", line]);
        self.cmd(&["send-keys", "Enter"]);
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p"])
    }

    /// The screen with its SGR escape sequences.
    pub fn screen_with_styles(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-e"])
    }

    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.screen().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    pub fn shell_pid(&self) -> u32 {
        self.cmd(&["display", "-p", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane pid")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// The first child process of `parent`, read from /proc.
pub fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // Fields after the command name, which is in parentheses.
            let rest = &stat[stat.rfind(')')? + 2..];
            let ppid: u32 = rest.split(' ').nth(1)?.parse().ok()?;
            (ppid == parent).then_some(pid)
        })
}

pub fn wait_for_file(path: &Path, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            // Give the writer a moment to finish the line.
            std::thread::sleep(Duration::from_millis(50));
            return std::fs::read_to_string(path).ok();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// True when `stty -a` output shows a cooked terminal.
pub fn is_cooked(stty: &str) -> bool {
    let words: Vec<&str> = stty.split_whitespace().collect();
    words.contains(&"icanon") && words.contains(&"echo")
}

/// `warroom emulator` as a real process, killed when dropped.
pub struct Emulator {
    child: std::process::Child,
    /// `WARROOM_*` settings that point `warroom` at it.
    pub env: Vec<(String, String)>,
    /// The id of its Log Analytics workspace.
    #[allow(dead_code)]
    pub workspace: String,
}

impl Emulator {
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn setting(&self, name: &str) -> &str {
        &self.env.iter().find(|(k, _)| k == name).unwrap().1
    }

    /// One HTTP/1.1 exchange with the emulator (tests need no client).
    fn exchange(&self, request: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let host = self
            .setting("WARROOM_GRAPH_URL")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .write_all(request.replace("{host}", host).as_bytes())
            .unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        let text = String::from_utf8(reply).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
        serde_json::from_str(body).unwrap()
    }

    /// What the scenario planted (`/_emulator/answer-key`).
    #[allow(dead_code)]
    pub fn answer_key(&self) -> serde_json::Value {
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
            self.setting("WARROOM_CLIENT_ID"),
            self.setting("WARROOM_CLIENT_SECRET")
        );
        let token = self.exchange(&format!(
            "POST /{}/oauth2/v2.0/token HTTP/1.1\r\nHost: {{host}}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            self.setting("WARROOM_TENANT"),
            form.len()
        ));
        let token = token["access_token"].as_str().unwrap();
        self.exchange(&format!(
            "GET /_emulator/answer-key HTTP/1.1\r\nHost: {{host}}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        ))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `warroom pull --since 90d --out OUT` from the emulator; fails the test
/// with the pull's own words if it fails.
#[allow(dead_code)]
/// The planted forged sign-ins Entra ID accepted, as pulled: federated,
/// interactive, successful, and in the scenario's answer key.
pub fn successful_forgeries(
    cloud: &Path,
    key: &serde_json::Value,
) -> std::collections::BTreeSet<String> {
    let planted: std::collections::BTreeSet<&str> = key["sign_in_ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    std::fs::read_to_string(cloud)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| {
            v["tokenIssuerType"] == "ADFederationServices"
                && v["isInteractive"] == true
                && v["status"]["errorCode"] == 0
                && planted.contains(v["id"].as_str().unwrap_or(""))
        })
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn pull_from(home: &Home, emu: &Emulator, out: &Path) {
    let result = home
        .command()
        .args(["pull", "--since", "90d", "--out"])
        .arg(out)
        .envs(emu.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// Starts `warroom emulator ARGS` and reads its two announcement lines.
pub fn emulator(args: &[&str]) -> Emulator {
    let mut child = std::process::Command::new(BIN)
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start emulator");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let url = lines
        .next()
        .unwrap()
        .unwrap()
        .trim_start_matches("listening on ")
        .to_owned();
    let creds = lines.next().unwrap().unwrap();
    let field = |name: &str| {
        creds
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let env = vec![
        ("WARROOM_GRAPH_URL".to_owned(), url.clone()),
        ("WARROOM_AUTHORITY_URL".to_owned(), url),
        ("WARROOM_TENANT".to_owned(), field("tenant")),
        ("WARROOM_CLIENT_ID".to_owned(), field("client_id")),
        ("WARROOM_CLIENT_SECRET".to_owned(), field("client_secret")),
    ];
    Emulator {
        child,
        env,
        workspace: field("workspace"),
    }
}

/// A fresh age identity from `age-keygen`: (file, public key).
pub fn age_identity(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let made = Command::new("age-keygen")
        .arg("-o")
        .arg(&path)
        .output()
        .unwrap();
    assert!(made.status.success(), "age-keygen failed");
    let public = Command::new("age-keygen")
        .arg("-y")
        .arg(&path)
        .output()
        .unwrap();
    (
        path,
        String::from_utf8_lossy(&public.stdout).trim().to_owned(),
    )
}

/// `warroom case new NAME --recipient PUBLIC` with these environment
/// variables; a failure fails the test.
pub fn new_case(env: &[(String, String)], name: &str, public: &str) {
    let created = Command::new(BIN)
        .args(["case", "new", name, "--recipient", public])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
}

/// A private home with an age identity and a case `ir` encrypted to it;
/// records are written as `alice@jumpbox`. Returns the home and its
/// environment.
pub fn home_with_case() -> (Home, Vec<(String, String)>) {
    let home = Home::new();
    let (id, public) = age_identity(home.path(), "id.txt");
    let mut env = home.env();
    env.push(("WARROOM_IDENTITY".into(), id.display().to_string()));
    env.push(("WARROOM_AUTHOR".into(), "alice@jumpbox".into()));
    new_case(&env, "ir", &public);
    (home, env)
}

/// Starts `warroom ARGS` in the tmux shell; its exit status lands in the
/// home's `rc` file.
pub fn launch_in(tmux: &Tmux, home: &Home, args: &str) {
    let dir = home.path().display();
    let _ = std::fs::remove_file(home.path().join("rc"));
    tmux.type_line(&format!("{BIN} {args}; echo $? > {dir}/rc"));
}

/// Every event id the case keeps, with how many times it is kept.
pub fn kept_ids(home: &Home, id_file: &Path, case: &str) -> std::collections::HashMap<String, u32> {
    let data = home.path().join("data/warroom");
    let identity =
        warroom::case::keys::load_identity(id_file, &|_| None, Duration::from_secs(60)).unwrap();
    let case = warroom::case::Case::find(&data, case)
        .unwrap()
        .unlock(&identity)
        .unwrap();
    let stored = warroom::watch::checkpoint::stored(&case);
    assert!(stored.problems.is_empty(), "{:?}", stored.problems);
    let mut ids = std::collections::HashMap::new();
    for (_, batch) in stored.batches {
        for event in batch {
            *ids.entry(event["id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    ids
}
