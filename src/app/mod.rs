//! The terminal console: pure state and update, a keymap, draw functions and
//! the runtime that ties them to a real terminal.
//!
//! ```text
//!  keys ─▶ keymap ─▶ Msg ─▶ update(&mut AppState, Msg) ─▶ Vec<Effect> ─▶ runtime
//!                              ▲                                       │
//!  tasks ── bounded channel ───┘        ui::draw(&AppState) ◀── Render ┘
//! ```

pub mod action;
pub mod checklist;
pub mod commands;
pub mod feed;
pub mod findings;
pub mod keymap;
pub mod live;
pub mod notes;
pub mod runtime;
pub mod signins;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod triage;
pub mod ui;
pub mod update;

pub use action::{Action, Effect, Msg};
pub use keymap::Keymap;
pub use state::AppState;
pub use theme::Theme;
pub use update::update;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::model::SafeText;
use crate::paths::Paths;
use feed::Connection;
use state::{CaseLock, Session};

/// What the console is opened with, as the command line gave it.
#[derive(Clone, Debug, Default)]
pub struct ConsoleOptions {
    /// Connection profile from the configuration.
    pub profile: Option<String>,
    /// age identity file (or SSH key) that opens cases.
    pub identity: Option<std::path::PathBuf>,
    /// Checklist template instead of the built-in one.
    pub playbook: Option<std::path::PathBuf>,
    /// Plain ASCII borders and symbols.
    pub ascii: bool,
    /// Threat indicators to match against the live feed and directory.
    pub ioc: Option<std::path::PathBuf>,
    /// Sigma rules to run over the live feed.
    pub sigma: Option<std::path::PathBuf>,
    /// Evidence files read beside the live feed.
    pub evidence: Vec<std::path::PathBuf>,
    /// How much history to fetch (`--since`).
    pub since: Option<String>,
    /// Draw the first frame, leave, and say how long it took.
    pub bench_startup: bool,
    /// Panic after the first frame (tests that the terminal is restored).
    pub panic_after_first_frame: bool,
}

/// What the demo adds: the emulated tenant and how to play it.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    pub scenario: Option<String>,
    pub seed: Option<u64>,
    pub speed: Option<f64>,
    /// Lay the story out as if it were this moment.
    pub now: Option<jiff::Timestamp>,
    /// Keep notes and triage in this case instead of a throwaway one.
    pub case: Option<String>,
    /// Checklist actions only show what they would send.
    pub dry_run: bool,
    pub ioc: Option<std::path::PathBuf>,
    pub sigma: Option<std::path::PathBuf>,
    pub evidence: Vec<std::path::PathBuf>,
    /// Read the scenario's own on-premises logs too.
    pub onprem: bool,
}

/// Opens the console on the configured profile; returns the exit status.
pub fn open(
    opts: &ConsoleOptions,
    paths: &Paths,
    config: &Config,
    started: Instant,
) -> anyhow::Result<u8> {
    let settings = config.settings(opts.profile.as_deref())?;
    let iocs = load_iocs(opts.ioc.as_deref())?;
    let sigma = load_sigma(opts.sigma.as_deref())?;
    let krbtgt_wait = config.file.checklist.krbtgt_wait();
    // A tenant (or a token) is what makes a profile usable; without one
    // the panes say how to set it up.
    let configured = settings.tenant.is_some() || settings.has_access_token;
    let session = Session {
        profile: settings.profile.as_deref().map(SafeText::new),
        tenant: settings.tenant.as_deref().map(SafeText::new),
        connection: if configured {
            Connection::Connecting
        } else {
            Connection::NotConfigured
        },
        ..Session::default()
    };
    let mut session = session;
    // Opened before the terminal changes: a passphrase is asked here.
    let opened = open_case(
        opts,
        paths,
        config,
        settings.case.clone(),
        settings.identity.as_deref(),
        &mut session,
    );
    let case = opened.case.clone();
    let backfill = history(opts.since.as_deref(), config, case.is_some())?;
    if case.is_none() {
        // Said at once: the responder learns what a case would give.
        session.case_detail.get_or_insert_with(|| {
            SafeText::new(&format!(
                "no case: {} of history, kept for this run only; open a case (WARROOM_CASE) for 30 days kept sealed",
                crate::model::duration::describe(backfill)
            ))
        });
    }
    let graph = live::GraphSlot::default();
    let (verdicts, verdicts_rx) = tokio::sync::watch::channel(Default::default());
    let start = configured.then(|| {
        live::starter(live::LiveSetup {
            settings,
            backfill,
            case,
            verdicts: Some(verdicts_rx),
            graph: graph.clone(),
            writer: None,
            iocs,
            sigma,
            evidence: opts.evidence.clone(),
            throwaway_evidence: None,
            krbtgt_wait,
        })
    });
    let background = Background {
        start,
        graph,
        verdicts: Some(verdicts),
    };
    console(opts, paths, config, session, background, opened, started)
}

/// How much history to fetch (see `watch::history_window`).
fn history(
    since: Option<&str>,
    config: &Config,
    with_case: bool,
) -> anyhow::Result<jiff::SignedDuration> {
    let configured = config.file.case.history.as_deref();
    crate::watch::history_window(since, configured, with_case)
        .map_err(|e| anyhow::anyhow!("{}", SafeText::new(&e)))
}

/// The demo tenant's on-premises logs, written in a directory of this
/// user's alone that the evidence reader removes once it has read them:
/// the directory and the files in it.
type DemoEvidence = (std::path::PathBuf, Vec<std::path::PathBuf>);

fn demo_onprem(emulator: &crate::emulator::Emulator) -> std::io::Result<DemoEvidence> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("warroom-demo-onprem-{:016x}", fastrand::u64(..)));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let written = crate::emulator::onprem::export(&emulator.read(), &dir)?;
    Ok((dir, written.files))
}

/// The `--ioc` list, read before the terminal changes so a bad file is
/// reported plainly.
fn load_iocs(
    path: Option<&std::path::Path>,
) -> anyhow::Result<Option<std::sync::Arc<crate::detect::ioc::IocList>>> {
    let Some(path) = path else { return Ok(None) };
    let (list, notes) = crate::detect::ioc::IocList::load(path)
        .map_err(|e| anyhow::anyhow!("--ioc {}", SafeText::new(&e)))?;
    if !notes.is_empty() {
        tracing::info!(left_out = notes.len(), "indicators left out of --ioc");
    }
    Ok(Some(std::sync::Arc::new(list)))
}

/// The Sigma rules (the pack and `--sigma`'s), read before the terminal
/// changes; rules that cannot apply are logged, not fatal.
fn load_sigma(
    dir: Option<&std::path::Path>,
) -> anyhow::Result<Option<std::sync::Arc<crate::detect::sigma::SigmaRules>>> {
    let (rules, lines) = crate::detect::sigma::SigmaRules::for_run(dir)
        .map_err(|e| anyhow::anyhow!("Sigma rules: {}", SafeText::new(&e)))?;
    for line in lines {
        tracing::info!(summary = %line, "Sigma rules");
    }
    Ok(rules.map(std::sync::Arc::new))
}

/// The console's background work and the Graph client it will connect.
struct Background {
    start: Option<runtime::Starter>,
    graph: live::GraphSlot,
    /// Where the triage decisions go, for the live detections.
    verdicts: Option<tokio::sync::watch::Sender<crate::detect::own::Team>>,
}

/// The case named by `WARROOM_CASE`, unlocked with this responder's
/// identity; on failure the console still opens and says why.
fn open_case(
    opts: &ConsoleOptions,
    paths: &Paths,
    config: &Config,
    name: Option<String>,
    identity: Option<&std::path::Path>,
    session: &mut Session,
) -> OpenedCase {
    use crate::case::{Case, keys};
    let Some(name) = name else {
        return OpenedCase::default();
    };
    let identity_path = keys::identity_path(opts.identity.as_deref(), identity, &paths.data_dir);
    let unlocked = keys::load_identity(
        &identity_path,
        &crate::case::keys::ask_passphrase,
        config.file.case.unlock_ttl(),
    )
    .and_then(|identity| Case::find(&paths.data_dir, &name)?.unlock(&identity));
    let display = SafeText::new(&name);
    match unlocked {
        Ok(case) => {
            session.case = CaseLock::Unlocked(display);
            OpenedCase::from(case, session)
        }
        Err(e) => {
            session.case = CaseLock::Locked(display);
            session.case_detail = Some(SafeText::new(&e.to_string()));
            OpenedCase::default()
        }
    }
}

/// An unlocked case and the notes it holds.
#[derive(Default)]
struct OpenedCase {
    case: Option<Arc<crate::case::Unlocked>>,
    notes: Vec<notes::NoteRow>,
    /// Triage and checklist records, oldest first.
    decisions: Vec<crate::case::record::Record>,
}

impl OpenedCase {
    fn from(case: crate::case::Unlocked, session: &mut Session) -> Self {
        use crate::case::record::Body;
        let mut decisions = Vec::new();
        let notes = match case.read() {
            Ok(contents) => {
                decisions.extend(
                    contents
                        .records
                        .iter()
                        .filter(|r| {
                            matches!(
                                r.body,
                                Body::Triage { .. }
                                    | Body::Suppress { .. }
                                    | Body::ItemState { .. }
                                    | Body::ItemAdded { .. }
                                    | Body::Action { .. }
                            )
                        })
                        .cloned(),
                );
                if let Some(damage) = &contents.damage {
                    session.case_detail = Some(SafeText::new(&format!(
                        "the journal is damaged at record {}: {}; run `warroom case verify`",
                        damage.record, damage.reason
                    )));
                }
                contents
                    .records
                    .iter()
                    .rev()
                    .filter_map(notes::NoteRow::from_record)
                    .collect()
            }
            Err(e) => {
                session.case_detail = Some(SafeText::new(&e.to_string()));
                Vec::new()
            }
        };
        Self {
            case: Some(Arc::new(case)),
            notes,
            decisions,
        }
    }
}

/// The console against an emulated tenant under attack, served in this
/// process on loopback; nothing to set up.
pub fn demo(
    opts: &ConsoleOptions,
    paths: &Paths,
    config: &Config,
    args: &DemoOptions,
    started: Instant,
) -> anyhow::Result<u8> {
    use crate::emulator::{self, Scenario, Spec};
    let name = args.scenario.as_deref().unwrap_or("golden-saml");
    let Some(scenario) = Scenario::from_name(name) else {
        let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        anyhow::bail!("unknown scenario \"{name}\" (known: {})", known.join(", "));
    };
    let speed = args.speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0 && speed <= 1000.0) {
        anyhow::bail!("--speed takes a number above 0 and up to 1000, such as 0.5 or 10");
    }
    let spec = Spec {
        scenario,
        seed: args.seed.unwrap_or(7),
        signins: 5_000,
        days: 7,
        end_ms: args
            .now
            .unwrap_or_else(jiff::Timestamp::now)
            .as_millisecond(),
    };
    let options = emulator::Options {
        seed: spec.seed,
        live_per_minute: Some((DEMO_SIGNINS_PER_MINUTE * speed).round().max(1.0) as u32),
        ..emulator::Options::default()
    };
    let session = Session {
        profile: Some(SafeText::new(&format!("demo ({name})"))),
        tenant: Some(SafeText::new("Contoso (emulated on loopback)")),
        connection: Connection::Connecting,
        ..Session::default()
    };
    let mut session = session;
    let (opened, throwaway) = match &args.case {
        // A named case: the responder's own, opened as the console does.
        Some(name) => {
            let identity = config
                .settings(opts.profile.as_deref())
                .ok()
                .and_then(|s| s.identity);
            let opened = open_case(
                opts,
                paths,
                config,
                Some(name.clone()),
                identity.as_deref(),
                &mut session,
            );
            (opened, None)
        }
        None => match demo_case(&mut session) {
            Ok((opened, dir)) => (opened, Some(dir)),
            Err(e) => {
                session.case_detail = Some(SafeText::new(&format!("no demo case: {e}")));
                (OpenedCase::default(), None)
            }
        },
    };
    let demo_events_case = opened.case.clone();
    let dry_run = args.dry_run;
    let iocs = load_iocs(args.ioc.as_deref())?;
    let sigma = load_sigma(args.sigma.as_deref())?;
    let evidence = args.evidence.clone();
    let onprem = args.onprem;
    let krbtgt_wait = config.file.checklist.krbtgt_wait();
    let graph = live::GraphSlot::default();
    let slot = graph.clone();
    let (verdicts, verdicts_rx) = tokio::sync::watch::channel(Default::default());
    let start: runtime::Starter = Box::new(move |tx| {
        tokio::spawn(async move {
            let running = match emulator::start(&spec, "127.0.0.1:0", options).await {
                Ok(running) => running,
                Err(e) => {
                    let reason = SafeText::new(&format!("the emulated tenant did not start: {e}"));
                    let _ = tx.send(Msg::Connection(Connection::Failed(reason))).await;
                    return;
                }
            };
            let settings = running.responder_settings();
            let mut evidence = evidence;
            let mut throwaway_evidence = None;
            if onprem {
                // Megabytes of files: written off the async threads.
                let emulator = running.emulator.clone();
                let written = tokio::task::spawn_blocking(move || demo_onprem(&emulator))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
                match written {
                    Ok((dir, files)) => {
                        evidence.extend(files);
                        throwaway_evidence = Some(dir);
                    }
                    Err(e) => {
                        let text = format!("the scenario's on-premises logs were not written: {e}");
                        let _ = tx.send(Msg::Problem(SafeText::new(&text))).await;
                    }
                }
            }
            // Actions write as the tenant's emergency administrator (a
            // device code the emulated tenant approves by itself).
            let mut writer = running.responder_settings();
            writer.auth = crate::config::AuthMethod::DeviceCode;
            writer.writes = !dry_run;
            live::starter(live::LiveSetup {
                settings,
                // The emulated tenant's whole story, as a case would hold it.
                backfill: crate::watch::DEFAULT_HISTORY,
                case: demo_events_case,
                verdicts: Some(verdicts_rx),
                graph,
                writer: Some(writer),
                iocs,
                sigma,
                evidence,
                throwaway_evidence,
                krbtgt_wait,
            })(tx);
            // The server runs on its own task; keep its handle alive here.
            let _ = running.server.await;
        });
    });
    let background = Background {
        start: Some(start),
        graph: slot,
        verdicts: Some(verdicts),
    };
    let outcome = console(opts, paths, config, session, background, opened, started);
    if let Some(dir) = throwaway {
        let _ = std::fs::remove_dir_all(dir);
    }
    outcome
}

/// A throwaway case for the demo: a fresh identity that lives only in
/// memory, and a case under a private temporary directory that is
/// removed when the demo ends.
fn demo_case(
    session: &mut Session,
) -> Result<(OpenedCase, std::path::PathBuf), crate::case::CaseError> {
    use crate::case::{Case, keys};
    let mut random = [0u8; 8];
    crate::case::journal::getrandom(&mut random)?;
    let suffix = crate::model::hex(&random);
    let dir = std::env::temp_dir().join(format!("warroom-demo-{suffix}"));
    crate::paths::ensure_private_dir(&dir)?;
    let secret = age::x25519::Identity::generate();
    let public = secret.to_public().to_string();
    let recipient = keys::Recipient::parse(&public)?;
    let case = Case::create(&dir, "demo", vec![recipient])?;
    let identity = keys::Identity {
        path: dir.join("(in memory)"),
        keys: vec![Box::new(secret)],
        public: vec![public],
    };
    let unlocked = case.unlock(&identity)?;
    session.case = CaseLock::Unlocked(SafeText::new("demo"));
    session.throwaway_case = true;
    // WARROOM_CASE names a real case: demo data stays out of it unless
    // asked for by name, and the demo says so rather than ignore it quietly.
    let ignored = std::env::var("WARROOM_CASE")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            format!(" WARROOM_CASE={c} is not used by the demo: start it with --case {c} to keep the demo's notes and triage there.")
        })
        .unwrap_or_default();
    session.case_detail = Some(SafeText::new(&format!(
        "A throwaway demo case in {} with a fresh key held only in memory; it is deleted when you quit.{ignored}",
        dir.display()
    )));
    Ok((OpenedCase::from(unlocked, session), dir))
}

/// New sign-ins per minute the demo's tenant makes at speed 1.
const DEMO_SIGNINS_PER_MINUTE: f64 = 30.0;

fn console(
    opts: &ConsoleOptions,
    paths: &Paths,
    config: &Config,
    session: Session,
    background: Background,
    opened: OpenedCase,
    started: Instant,
) -> anyhow::Result<u8> {
    let keymap = Keymap::with_overrides(&config.key_overrides())
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.path.display()))?;
    let theme = Theme::for_terminal(
        config.file.ui.theme,
        opts.ascii || config.file.ui.ascii,
        Theme::no_color_requested(),
    );
    // A responder must not be blocked by a log file problem: say it, go on.
    let log_file = paths.log_file();
    let logging = match crate::logging::init(&log_file) {
        Ok(()) => Some(log_file),
        Err(e) => {
            eprintln!("warroom: running without a log: {e:#}");
            None
        }
    };
    terminal::install_panic_hook(logging);
    crate::install_crypto_provider();
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "console starting");

    let mut state = AppState::new(Arc::new(keymap), session, jiff::Timestamp::now());
    state.pane_mut(state::PaneId::Notes).len = opened.notes.len();
    state.notes = opened.notes;
    if let Some(path) = &opts.playbook {
        let template = crate::playbook::Template::load(path).map_err(|e| anyhow::anyhow!(e))?;
        state.plan = crate::playbook::Plan::new(Arc::new(template));
    }
    for (item, hours) in &config.file.checklist.waits {
        let waits = state
            .plan
            .template
            .item(item)
            .is_some_and(|i| i.wait.is_some());
        let max = crate::playbook::template::MAX_WAIT_HOURS;
        if !(hours.is_finite() && *hours > 0.0 && *hours <= max && waits) {
            anyhow::bail!(
                "{}: [checklist] waits: {item} = {hours} needs a playbook item that waits and a number of hours above 0, at most {max}",
                config.path.display()
            );
        }
        state.plan.set_wait(item, *hours);
    }
    // Emergency accounts from the configuration; break-glass names are
    // spared in any case. (`plan` also reads them from a snapshot.)
    state
        .plan
        .set_emergency_accounts(config.file.checklist.emergency_accounts.clone());
    for record in &opened.decisions {
        state.triage.apply(record);
        state.plan.apply(record);
    }
    checklist::refresh(&mut state, None);
    let services = runtime::Services {
        case: opened.case,
        graph: background.graph,
        verdicts: background.verdicts,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = runtime::RunOptions {
        stop_after_first_frame: opts.bench_startup,
        panic_after_first_frame: opts.panic_after_first_frame,
    };
    let outcome = runtime.block_on(runtime::run(
        state,
        theme,
        started,
        options,
        background.start,
        services,
    ));
    // Input reader threads may still be parked on stdin; do not wait on them.
    runtime.shutdown_timeout(Duration::from_millis(200));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::error!("console failed: {e:#}");
            crate::logging::flush();
            return Err(e);
        }
    };
    if opts.bench_startup
        && let Some(first) = outcome.first_frame
    {
        eprintln!("first frame after {:.2} ms", first.as_secs_f64() * 1000.0);
    }
    tracing::info!(code = outcome.exit_code, "console stopped");
    crate::logging::flush();
    Ok(outcome.exit_code)
}
