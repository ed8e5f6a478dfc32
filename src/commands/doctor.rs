//! `warroom doctor`: what a responder checks on a fresh jump box before the
//! incident depends on it. One line per check: a verdict, what was seen,
//! and the fix when something is wrong.

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::config::{Config, ConfigError, Settings};
use crate::paths::{Paths, mode_of};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Ok,
    Skip,
    Warn,
    Fail,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "ok  ",
            Verdict::Skip => "skip",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self {
            name,
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn bad(
        name: &'static str,
        verdict: Verdict,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name,
            verdict,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {:<16} {}",
            self.verdict.label(),
            self.name,
            self.detail
        )?;
        if let Some(fix) = &self.fix {
            write!(f, " -> fix: {fix}")?;
        }
        Ok(())
    }
}

/// Runs every check. The keyring probe runs first, on the calling thread,
/// before any async runtime exists (session keyrings are per thread).
/// `warroom doctor`: prints each check; fails when one failed.
pub fn run(cli: &crate::cli::Cli, setup: super::Setup) -> anyhow::Result<u8> {
    crate::install_crypto_provider();
    let checks = checks(&setup.paths, &setup.config, cli.profile.as_deref());
    for check in &checks {
        println!("{check}");
    }
    Ok(u8::from(checks.iter().any(|c| c.verdict == Verdict::Fail)))
}

pub fn checks(
    paths: &Paths,
    config: &Result<Config, ConfigError>,
    profile: Option<&str>,
) -> Vec<Check> {
    let settings = config.as_ref().ok().map(|c| c.settings(profile));
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut checks = vec![
        keyring(),
        secrets_in_memory(crate::hardening::protected()),
        terminal_size(crossterm::terminal::size().ok()),
        colour(&env),
        unicode(&env),
        term_and_tmux(&env),
        config_check(config, settings.as_ref()),
    ];
    for (name, dir) in [
        ("config dir", &paths.config_dir),
        ("data dir", &paths.data_dir),
        ("state dir", &paths.state_dir),
    ] {
        checks.push(dir_permissions(name, dir));
    }
    checks.push(match settings.as_ref().and_then(|s| s.as_ref().ok()) {
        Some(settings) => clock_skew(&settings.graph_url),
        None => Check::bad(
            "clock",
            Verdict::Skip,
            "no settings (config invalid)",
            "fix the config, then run doctor again",
        ),
    });
    checks
}

/// Core dumps off and the process not dumpable (set at start by `main`).
pub fn secrets_in_memory((no_core, not_dumpable): (bool, bool)) -> Check {
    const NAME: &str = "process memory";
    match (no_core, not_dumpable) {
        (true, true) => Check::ok(NAME, "no core dumps; other processes cannot read this one"),
        (false, _) => Check::bad(
            NAME,
            Verdict::Warn,
            "core dumps are allowed: a crash could write case keys and tokens to disk",
            "run warroom as built (its start-up turns them off); check for a wrapper that raises the core limit",
        ),
        (true, false) => Check::bad(
            NAME,
            Verdict::Warn,
            "the process is dumpable: another process of this user could read its memory",
            "run warroom as built (its start-up sets it not dumpable)",
        ),
    }
}

pub fn terminal_size(size: Option<(u16, u16)>) -> Check {
    const NAME: &str = "terminal size";
    match size {
        None => Check::bad(
            NAME,
            Verdict::Skip,
            "standard output is not a terminal",
            "run doctor in the terminal you will use",
        ),
        Some((w, h)) if w >= 80 && h >= 24 => Check::ok(NAME, format!("{w}x{h}")),
        Some((w, h)) => Check::bad(
            NAME,
            Verdict::Warn,
            format!("{w}x{h} is below 80x24; panes will be cramped"),
            "enlarge the window, or use z to zoom one pane at a time",
        ),
    }
}

pub fn colour(env: &dyn Fn(&str) -> Option<String>) -> Check {
    const NAME: &str = "colour";
    let term = env("TERM").unwrap_or_default();
    if term == "dumb" || term.is_empty() {
        return Check::bad(
            NAME,
            Verdict::Fail,
            format!("TERM={term:?} cannot run a full-screen console"),
            "export TERM=xterm-256color (or tmux-256color inside tmux)",
        );
    }
    if env("NO_COLOR").is_some() {
        return Check::ok(
            NAME,
            format!("TERM={term}; NO_COLOR is set: the mono theme is used"),
        );
    }
    let colorterm = env("COLORTERM").unwrap_or_default();
    if colorterm == "truecolor"
        || colorterm == "24bit"
        || term.contains("256color")
        || term.contains("direct")
    {
        Check::ok(NAME, format!("TERM={term}"))
    } else {
        Check::bad(
            NAME,
            Verdict::Warn,
            format!("TERM={term} may offer only 8 colours"),
            "export TERM=xterm-256color if the terminal supports it",
        )
    }
}

pub fn unicode(env: &dyn Fn(&str) -> Option<String>) -> Check {
    const NAME: &str = "unicode";
    let locale = env("LC_ALL")
        .or_else(|| env("LC_CTYPE"))
        .or_else(|| env("LANG"))
        .unwrap_or_else(|| "C".into());
    let lower = locale.to_ascii_lowercase();
    if lower.contains("utf-8") || lower.contains("utf8") {
        Check::ok(NAME, format!("locale {locale}"))
    } else {
        Check::bad(
            NAME,
            Verdict::Warn,
            format!("locale {locale} is not UTF-8: borders and symbols may garble"),
            "export LANG=C.UTF-8, or run warroom --ascii",
        )
    }
}

pub fn term_and_tmux(env: &dyn Fn(&str) -> Option<String>) -> Check {
    const NAME: &str = "tmux";
    let term = env("TERM").unwrap_or_default();
    match env("TMUX") {
        Some(_) if term.starts_with("tmux") || term.starts_with("screen") => {
            Check::ok(NAME, format!("inside tmux, TERM={term}"))
        }
        Some(_) => Check::bad(
            NAME,
            Verdict::Warn,
            format!("inside tmux but TERM={term}"),
            "set -g default-terminal tmux-256color in ~/.tmux.conf",
        ),
        None => Check::bad(
            NAME,
            Verdict::Warn,
            "not inside tmux: an SSH drop ends the session",
            "run: tmux new -A -s warroom",
        ),
    }
}

/// The config as the console would load it: the file, the chosen profile
/// and the key bindings.
fn config_check(
    config: &Result<Config, ConfigError>,
    settings: Option<&Result<Settings, ConfigError>>,
) -> Check {
    const NAME: &str = "config";
    if let Some(Err(e)) = settings {
        return Check::bad(
            NAME,
            Verdict::Fail,
            e.to_string(),
            "name an existing profile, or add it to the file",
        );
    }
    if let Ok(c) = config
        && let Err(e) = crate::app::Keymap::with_overrides(&c.key_overrides())
    {
        return Check::bad(
            NAME,
            Verdict::Fail,
            format!("{}: {e}", c.path.display()),
            "correct the [keys] tables",
        );
    }
    match config {
        Ok(c) if c.exists => Check::ok(
            NAME,
            format!(
                "{} ({} profile(s))",
                c.path.display(),
                c.file.profiles.len()
            ),
        ),
        Ok(c) => Check::ok(
            NAME,
            format!(
                "no config file; defaults in use (create {} to add a profile)",
                c.path.display()
            ),
        ),
        Err(e) => Check::bad(
            NAME,
            Verdict::Fail,
            e.to_string(),
            "correct the file at the line shown",
        ),
    }
}

pub fn dir_permissions(name: &'static str, dir: &Path) -> Check {
    match mode_of(dir) {
        None => Check::ok(
            name,
            format!(
                "{} not created yet (warroom creates it with mode 0700)",
                dir.display()
            ),
        ),
        Some(0o700) => Check::ok(name, format!("{} (0700)", dir.display())),
        Some(mode) if mode & 0o077 != 0 => Check::bad(
            name,
            Verdict::Fail,
            format!(
                "{} is mode {mode:04o}: other users can look inside",
                dir.display()
            ),
            format!("chmod 700 {}", dir.display()),
        ),
        Some(mode) => Check::bad(
            name,
            Verdict::Warn,
            format!("{} is mode {mode:04o}", dir.display()),
            format!("chmod 700 {}", dir.display()),
        ),
    }
}

/// Stores, reads back and removes a probe key in the kernel keyring, the way
/// the case identity cache will: join a fresh session keyring first (an SSH
/// login without pam_keyinit only has the user's default one, where adding
/// keys is refused), then check the persistent keyring that lets the next
/// process find a cached identity.
fn keyring() -> Check {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};
    const NAME: &str = "keyring";
    const FIX: &str = "warroom will ask for the case passphrase at every start; on a container host allow the keyctl system calls";
    let session = match KeyRing::from_special_id(KeyRingIdentifier::Session, true) {
        Ok(ring) => ring,
        Err(e) => return Check::bad(NAME, Verdict::Warn, format!("no session keyring: {e}"), FIX),
    };
    let probe = b"warroom doctor probe";
    let stored = session
        .add_key("warroom:doctor-probe", probe)
        .and_then(|key| {
            let read = key.read_to_vec();
            let _ = key.invalidate();
            read
        });
    match stored {
        Ok(value) if value == probe => {}
        Ok(_) => {
            return Check::bad(
                NAME,
                Verdict::Fail,
                "the session keyring returned a different value",
                FIX,
            );
        }
        Err(e) => {
            return Check::bad(
                NAME,
                Verdict::Warn,
                format!("cannot store in the session keyring: {e}"),
                FIX,
            );
        }
    }
    match KeyRing::get_persistent(KeyRingIdentifier::Session) {
        Ok(_) => Check::ok(
            NAME,
            "kernel keyutils: session keyring usable, persistent keyring available",
        ),
        Err(e) => Check::bad(
            NAME,
            Verdict::Warn,
            format!(
                "session keyring usable, but no persistent keyring ({e}): each warroom process unlocks the case again"
            ),
            "use a kernel with CONFIG_PERSISTENT_KEYRINGS, or keep one console open",
        ),
    }
}

/// Compares the local clock with the `Date` header of the Graph host.
/// Tokens and sign-in times are judged by time, so skew matters.
fn clock_skew(graph_url: &str) -> Check {
    const NAME: &str = "clock";
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Check::bad(
                NAME,
                Verdict::Skip,
                format!("cannot start the HTTP client: {e}"),
                "compare `date -u` with a trusted clock",
            );
        }
    };
    let url = graph_url.to_owned();
    let result = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let before = SystemTime::now();
        let response = client.head(&url).send().await?;
        let after = SystemTime::now();
        Ok::<_, reqwest::Error>((
            response.headers().get(reqwest::header::DATE).cloned(),
            before,
            after,
        ))
    });
    let (date, before, after) = match result {
        Ok(r) => r,
        Err(e) => {
            return Check::bad(
                NAME,
                Verdict::Skip,
                format!("{graph_url} unreachable: {}", error_chain(&e)),
                "compare `date -u` with a trusted clock",
            );
        }
    };
    let Some(server) = date.and_then(|d| d.to_str().ok().map(str::to_owned)) else {
        return Check::bad(
            NAME,
            Verdict::Skip,
            format!("{graph_url} sent no Date header"),
            "compare `date -u` with a trusted clock",
        );
    };
    let Ok(server_time) = jiff::fmt::rfc2822::parse(&server).map(|z| z.timestamp()) else {
        return Check::bad(
            NAME,
            Verdict::Skip,
            format!("unreadable Date header {server:?}"),
            "compare `date -u` with a trusted clock",
        );
    };
    // Judge against the middle of the request; the header has 1 s resolution.
    let midpoint = before + after.duration_since(before).unwrap_or_default() / 2;
    let local = jiff::Timestamp::try_from(midpoint).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    skew_verdict(local.as_second() - server_time.as_second(), graph_url)
}

pub fn skew_verdict(skew_secs: i64, host: &str) -> Check {
    const NAME: &str = "clock";
    let detail = format!("local clock is {skew_secs:+} s against {host}");
    match skew_secs.abs() {
        0..=30 => Check::ok(NAME, detail),
        31..=300 => Check::bad(
            NAME,
            Verdict::Warn,
            detail,
            "enable NTP (timedatectl set-ntp true)",
        ),
        _ => Check::bad(
            NAME,
            Verdict::Fail,
            format!("{detail}: tokens will be refused and timelines will be wrong"),
            "enable NTP (timedatectl set-ntp true) and check the time zone",
        ),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn small_terminal_warns() {
        assert_eq!(terminal_size(Some((80, 24))).verdict, Verdict::Ok);
        assert_eq!(terminal_size(Some((70, 20))).verdict, Verdict::Warn);
        assert_eq!(terminal_size(None).verdict, Verdict::Skip);
    }

    #[test]
    fn colour_and_locale() {
        assert_eq!(colour(&env_of(&[("TERM", "dumb")])).verdict, Verdict::Fail);
        assert_eq!(
            colour(&env_of(&[("TERM", "tmux-256color")])).verdict,
            Verdict::Ok
        );
        let dumb = env_of(&[("TERM", "dumb"), ("NO_COLOR", "1")]);
        assert_eq!(
            colour(&dumb).verdict,
            Verdict::Fail,
            "NO_COLOR does not make TERM=dumb usable"
        );
        let mono = env_of(&[("TERM", "xterm"), ("NO_COLOR", "1")]);
        assert_eq!(colour(&mono).verdict, Verdict::Ok);
        assert_eq!(colour(&env_of(&[("TERM", "vt100")])).verdict, Verdict::Warn);
        assert_eq!(
            unicode(&env_of(&[("LANG", "en_US.UTF-8")])).verdict,
            Verdict::Ok
        );
        let c = unicode(&env_of(&[("LANG", "en_US.UTF-8"), ("LC_ALL", "C")]));
        assert_eq!(c.verdict, Verdict::Warn);
        assert!(c.fix.unwrap().contains("--ascii"));
    }

    #[test]
    fn tmux_detection() {
        assert_eq!(
            term_and_tmux(&env_of(&[
                ("TMUX", "/tmp/x,1,0"),
                ("TERM", "tmux-256color")
            ]))
            .verdict,
            Verdict::Ok
        );
        assert_eq!(
            term_and_tmux(&env_of(&[("TMUX", "/tmp/x,1,0"), ("TERM", "xterm")])).verdict,
            Verdict::Warn
        );
        assert_eq!(
            term_and_tmux(&env_of(&[("TERM", "xterm")])).verdict,
            Verdict::Warn
        );
    }

    #[test]
    fn open_directory_fails() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = dir_permissions("data dir", dir.path());
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.to_string().contains("chmod 700"), "{c}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(dir_permissions("data dir", dir.path()).verdict, Verdict::Ok);
        assert_eq!(
            dir_permissions("data dir", &dir.path().join("absent")).verdict,
            Verdict::Ok
        );
    }

    #[test]
    fn skew_thresholds() {
        assert_eq!(skew_verdict(-3, "h").verdict, Verdict::Ok);
        assert_eq!(skew_verdict(120, "h").verdict, Verdict::Warn);
        assert_eq!(skew_verdict(-900, "h").verdict, Verdict::Fail);
        assert!(skew_verdict(120, "h").detail.contains("+120 s"));
    }
}
