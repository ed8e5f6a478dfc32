//! The `warroom` binary: parse the command line and dispatch.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use warroom::cli::{Cli, Command, ConfigCommand, EmulatorArgs, PullArgs};
use warroom::config::Config;
use warroom::doctor::{self, Verdict};
use warroom::paths::Paths;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("warroom: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli, started: Instant) -> anyhow::Result<u8> {
    if let Some(Command::Emulator(args)) = &cli.command {
        return emulator(args);
    }
    let paths = Paths::discover()?;
    let config_path = cli.config.clone().unwrap_or_else(|| paths.config_file());
    let config = Config::load(&config_path, cli.config.is_some());
    match &cli.command {
        None => {
            if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "the console needs a terminal on standard input and output; for scripts use `warroom scan` or `warroom pull`"
                );
            }
            let config = config?;
            join_session_keyring();
            warroom::app::open(&cli, &paths, &config, started)
        }
        Some(Command::Config(ConfigCommand::Path)) => {
            println!("{}", config_path.display());
            Ok(0)
        }
        Some(Command::Config(ConfigCommand::Show)) => {
            let config = config?;
            if !config.exists {
                println!(
                    "# no config file at {}; defaults and environment in use",
                    config.path.display()
                );
            }
            print!("{}", config.settings(cli.profile.as_deref())?);
            Ok(0)
        }
        Some(Command::Demo(args)) => {
            if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "the demo is the console: it needs a terminal on standard input and output"
                );
            }
            warroom::app::demo(&cli, &paths, &config?, args, started)
        }
        Some(Command::Pull(args)) => {
            let settings = config?.settings(cli.profile.as_deref())?;
            join_session_keyring();
            pull(args, &settings)
        }
        Some(Command::Scan(args)) => {
            // The team's krbtgt wait, when its configuration sets one.
            let wait = config
                .as_ref()
                .ok()
                .and_then(|c| c.file.checklist.krbtgt_wait());
            scan(args, wait)
        }
        // Run above, before any configuration is read.
        Some(Command::Emulator(args)) => emulator(args),
        Some(Command::Posture(args)) => {
            let settings = if args.files.is_empty() {
                let settings = config?.settings(cli.profile.as_deref())?;
                join_session_keyring();
                Some(settings)
            } else {
                None
            };
            posture(args, settings.as_ref())
        }
        Some(Command::Login) => {
            let settings = config?.settings(cli.profile.as_deref())?;
            join_session_keyring();
            login(&settings)
        }
        Some(Command::Case(command)) => {
            let config = config?;
            let settings = config.settings(cli.profile.as_deref())?;
            join_session_keyring();
            let ctx = case_context(&cli, &paths, &config, &settings);
            Ok(warroom::case::cli::case(&ctx, command))
        }
        Some(Command::Identity(command)) => {
            let config = config?;
            let settings = config.settings(cli.profile.as_deref())?;
            join_session_keyring();
            let ctx = case_context(&cli, &paths, &config, &settings);
            Ok(warroom::case::cli::identity(&ctx, command))
        }
        Some(Command::Notes(command)) => {
            let config = config?;
            let settings = config.settings(cli.profile.as_deref())?;
            join_session_keyring();
            let ctx = case_context(&cli, &paths, &config, &settings);
            Ok(warroom::case::cli::notes(&ctx, command))
        }
        Some(Command::Lock) => {
            join_session_keyring();
            lock()
        }
        Some(Command::Doctor) => {
            warroom::install_crypto_provider();
            let checks = doctor::run(&paths, &config, cli.profile.as_deref());
            for check in &checks {
                println!("{check}");
            }
            Ok(u8::from(checks.iter().any(|c| c.verdict == Verdict::Fail)))
        }
    }
}

/// Before any thread starts: a session keyring of this process's own, so
/// sign-ins can be cached even where the SSH login set none up. Without a
/// usable keyring warroom still works; it asks again next time.
fn join_session_keyring() {
    if let Err(e) = warroom::keyring::join_fresh_session() {
        tracing::info!("no session keyring of our own: {e}");
    }
}

fn login(settings: &warroom::config::Settings) -> anyhow::Result<u8> {
    use warroom::config::AuthMethod;
    use warroom::source::graph::{self, auth};
    if settings.auth != AuthMethod::DeviceCode {
        eprintln!(
            "warroom login: this profile signs in as an app ({}); there is no person's sign-in to cache, and every command signs in by itself.",
            settings.auth.name()
        );
        return Ok(0);
    }
    let cache = match auth::SignInCache::for_settings(settings) {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!(
                "warroom login: {e}. The sign-in cannot be kept between commands here; each command will show its own device code. Nothing was done."
            );
            return Ok(1);
        }
    };
    drop(cache);
    let client = match graph::connect(settings, None) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("warroom login: {e}");
            return Ok(1);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(client.sign_in()) {
        Ok(()) => {
            eprintln!(
                "warroom login: signed in to {}; the sign-in is kept in the kernel keyring for {} hours (`warroom lock` forgets it now).",
                warroom::model::SafeText::new(settings.tenant.as_deref().unwrap_or("the tenant")),
                auth::SIGNIN_CACHE_TTL.as_secs() / 3600
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom login: {e}");
            Ok(1)
        }
    }
}

fn case_context(
    cli: &Cli,
    paths: &Paths,
    config: &Config,
    settings: &warroom::config::Settings,
) -> warroom::case::cli::Context {
    warroom::case::cli::Context {
        data_dir: paths.data_dir.clone(),
        identity: cli.identity.clone().or_else(|| settings.identity.clone()),
        default_case: settings.case.clone(),
        unlock_ttl: config.file.case.unlock_ttl(),
    }
}

/// `scan --records`: what warroom reads from each file, record by record.
/// Characters a terminal would act on are written as JSON escapes, so the
/// output is the same JSON and safe to read on screen.
fn print_records(files: &[std::path::PathBuf]) -> anyhow::Result<u8> {
    use std::io::Write;
    use warroom::detect::event::Event;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = None;
    let mut unreadable = false;
    for path in files {
        if failed.is_some() {
            break;
        }
        let summary = warroom::source::import::read_all(path, &mut |value, place| {
            if failed.is_some() {
                return;
            }
            let line = match Event::new(value.clone(), || place.clone()) {
                Some(event) => {
                    serde_json::json!({"kind": event.kind, "place": place, "record": event.value})
                }
                None => serde_json::json!({"kind": null, "place": place, "record": value}),
            };
            if let Err(e) = writeln!(out, "{}", escape_dangerous(&line.to_string())) {
                failed = Some(e);
            }
        });
        eprintln!("warroom scan: {}", summary.line());
        unreadable |= summary.format == "unreadable";
    }
    match failed {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Some(e) => Err(e.into()),
        None => {
            out.flush()?;
            Ok(u8::from(unreadable))
        }
    }
}

/// JSON text with every character a terminal would act on as `\uXXXX`
/// (serde escapes C0 controls only; these can only be inside strings).
fn escape_dangerous(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if warroom::model::is_dangerous(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn scan(args: &warroom::cli::ScanArgs, krbtgt_wait: Option<f64>) -> anyhow::Result<u8> {
    use warroom::detect::Engine;
    use warroom::pipeline::scan;
    if args.records {
        return print_records(&args.files);
    }
    let mut engine = match Engine::built_in() {
        Ok(engine) => engine,
        Err(e) => anyhow::bail!("the built-in detections do not load: {e}"),
    };
    if let Some(hours) = krbtgt_wait.filter(|h| h.is_finite() && *h > 0.0) {
        engine = engine.with_krbtgt_wait(hours);
    }
    if let Some(path) = &args.ioc {
        match load_iocs("scan", path) {
            Some(list) => engine = engine.with_iocs(list),
            None => return Ok(2),
        }
    }
    if let Some(dir) = &args.sigma {
        match load_sigma("scan", dir) {
            Some(rules) => engine = engine.with_sigma(rules),
            None => return Ok(2),
        }
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let started = Instant::now();
    let shown = bar.clone();
    let scanned = scan::scan(engine, &args.files, threads, &move |bytes| {
        if let Some(bar) = &shown {
            bar.set_message(format!("{:.0} MB read", bytes as f64 / 1e6));
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let findings = scanned.engine.findings();
    print!("{}", render(args.format, &findings));
    let mut unreadable = false;
    for file in &scanned.files {
        eprintln!("warroom scan: {}", file.line());
        unreadable |= file.format == "unreadable";
    }
    let seen: Vec<String> = scanned
        .engine
        .seen()
        .iter()
        .map(|(kind, n)| format!("{n} {kind}s"))
        .collect();
    eprintln!(
        "warroom scan: {} findings from {} in {:.1} s{}",
        findings.len(),
        if seen.is_empty() {
            "no known records".to_owned()
        } else {
            seen.join(", ")
        },
        started.elapsed().as_secs_f64(),
        if scanned.unknown > 0 {
            format!(
                "; {} records of no kind warroom reads were passed over",
                scanned.unknown
            )
        } else {
            String::new()
        }
    );
    Ok(if unreadable { 1 } else { 0 })
}

/// `warroom posture`: judge a snapshot (the files given, or one taken
/// now through Graph) and compare it with an older one.
fn posture(
    args: &warroom::cli::PostureArgs,
    settings: Option<&warroom::config::Settings>,
) -> anyhow::Result<u8> {
    use warroom::detect::posture::{self, Outcome, Snapshot, diff};
    let iocs = match &args.ioc {
        None => None,
        Some(path) => match load_iocs("posture", path) {
            Some(list) => Some(list),
            None => return Ok(2),
        },
    };
    let (snapshot, files) = match settings {
        None => warroom::pipeline::snapshot::read(&args.files),
        Some(settings) => match live_snapshot(settings) {
            Ok(lines) => (Snapshot::from_lines(lines), Vec::new()),
            Err(e) => {
                eprintln!("warroom posture: {e}");
                return Ok(1);
            }
        },
    };
    let mut unreadable = false;
    for file in &files {
        eprintln!("warroom posture: {}", file.line());
        unreadable |= file.format == "unreadable";
    }
    let changes = match &args.against {
        None => None,
        Some(old) => {
            let (before, old_files) = warroom::pipeline::snapshot::read(std::slice::from_ref(old));
            for file in &old_files {
                eprintln!("warroom posture: --against {}", file.line());
                if file.format == "unreadable" {
                    return Ok(1);
                }
            }
            Some(diff::compare(&before, &snapshot))
        }
    };
    let verdicts = posture::judge(&snapshot, jiff::Timestamp::now());
    let mut extra: Vec<warroom::detect::Finding> = changes
        .as_ref()
        .map(|c| c.findings.clone())
        .unwrap_or_default();
    if let Some(list) = &iocs {
        extra.extend(list.judge_snapshot(&snapshot));
    }
    let findings = posture::findings(&verdicts, &extra, snapshot.taken_at);
    print!("{}", render(args.format, &findings));
    if matches!(args.format, warroom::cli::Format::Markdown) {
        print!("{}", posture::verdicts_markdown(&verdicts));
    }
    let count = |o: Outcome| verdicts.iter().filter(|v| v.outcome == o).count();
    let passed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Pass)
        .map(|v| v.check.id.trim_start_matches("posture."))
        .collect();
    eprintln!(
        "warroom posture: {} checks: {} failed, {} not judged, {} passed ({})",
        verdicts.len(),
        count(Outcome::Fail),
        count(Outcome::Unknown),
        passed.len(),
        passed.join(", ")
    );
    if let Some(changes) = &changes {
        eprintln!(
            "warroom posture: {} changes since the older snapshot{}",
            changes.findings.len(),
            if changes.not_compared.is_empty() {
                String::new()
            } else {
                format!(
                    "; not compared (one snapshot lacks them): {}",
                    changes.not_compared.join(", ")
                )
            }
        );
    }
    if snapshot.objects.is_empty() && snapshot.federation.is_empty() {
        eprintln!(
            "warroom posture: no directory object was read; `warroom pull --streams directory --out FILE` writes a snapshot."
        );
        return Ok(1);
    }
    Ok(u8::from(unreadable))
}

/// An indicator list, with what it holds and left out said on stderr;
/// `None` (after saying why) when it cannot be used.
fn load_iocs(
    command: &str,
    path: &std::path::Path,
) -> Option<std::sync::Arc<warroom::detect::ioc::IocList>> {
    use warroom::model::SafeText;
    match warroom::detect::ioc::IocList::load(path) {
        Ok((list, notes)) => {
            eprintln!(
                "warroom {command}: --ioc {}: {} indicators",
                SafeText::new(&path.display().to_string()),
                list.indicators.len()
            );
            for note in notes.iter().take(10) {
                eprintln!("warroom {command}: --ioc left out {}", SafeText::new(note));
            }
            if notes.len() > 10 {
                eprintln!(
                    "warroom {command}: --ioc left out {} more",
                    notes.len() - 10
                );
            }
            Some(std::sync::Arc::new(list))
        }
        Err(e) => {
            eprintln!(
                "warroom {command}: --ioc {}. Nothing was done.",
                SafeText::new(&e)
            );
            None
        }
    }
}

/// Sigma rules, with what loaded, what cannot apply and what was refused
/// said on stderr; `None` (after saying why) when none can be used.
fn load_sigma(
    command: &str,
    dir: &std::path::Path,
) -> Option<std::sync::Arc<warroom::detect::sigma::SigmaRules>> {
    use warroom::model::SafeText;
    match warroom::detect::sigma::SigmaRules::load(dir) {
        Ok(rules) => {
            eprintln!(
                "warroom {command}: --sigma {}",
                SafeText::new(&rules.summary())
            );
            for (file, why) in &rules.refused {
                eprintln!(
                    "warroom {command}: --sigma refused {}: {}",
                    SafeText::new(&file.display().to_string()),
                    SafeText::new(why)
                );
            }
            Some(std::sync::Arc::new(rules))
        }
        Err(e) => {
            eprintln!(
                "warroom {command}: --sigma {}. Nothing was done.",
                SafeText::new(&e)
            );
            None
        }
    }
}

/// A directory snapshot taken now through Graph.
fn live_snapshot(settings: &warroom::config::Settings) -> anyhow::Result<Vec<serde_json::Value>> {
    use warroom::source::graph::{self, snapshot};
    let client = graph::connect(settings, None)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bar = indicatif::ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        bar.enable_steady_tick(Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let shown = bar.clone();
    let progress = move |line: &str| shown.set_message(line.to_owned());
    let taken = runtime.block_on(snapshot::take(&client, &settings.graph_url, &progress));
    bar.finish_and_clear();
    let (lines, summary) = taken?;
    for gap in &summary.gaps {
        eprintln!("warroom posture: not in the snapshot: {gap}");
    }
    Ok(lines)
}

fn render(format: warroom::cli::Format, findings: &[warroom::detect::Finding]) -> String {
    use warroom::cli::Format;
    use warroom::detect::report;
    match format {
        Format::Table => report::table(findings),
        Format::Json => report::json(findings),
        Format::Ndjson => report::ndjson(findings),
        Format::Markdown => report::markdown(findings),
    }
}

/// Drops every secret warroom keeps in the kernel keyring.
fn lock() -> anyhow::Result<u8> {
    let cache = match warroom::keyring::Cache::open() {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!("warroom lock: {e}; warroom keeps nothing in it here.");
            return Ok(0);
        }
    };
    match cache.remove_all() {
        Ok(n) => {
            eprintln!(
                "warroom lock: dropped {n} cached secret{} (sign-ins, case keys) from the kernel keyring.",
                if n == 1 { "" } else { "s" }
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom lock: {e}");
            Ok(1)
        }
    }
}

fn emulator(args: &EmulatorArgs) -> anyhow::Result<u8> {
    use warroom::emulator::{self, Scenario, Spec};
    let Some(scenario) = Scenario::from_name(&args.scenario) else {
        let known: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        eprintln!(
            "warroom emulator: unknown scenario \"{}\" (known: {})",
            args.scenario,
            known.join(", ")
        );
        return Ok(2);
    };
    let spec = Spec {
        scenario,
        seed: args.seed,
        signins: args.signins,
        days: args.days.max(1),
        end_ms: args
            .now
            .unwrap_or_else(jiff::Timestamp::now)
            .as_millisecond(),
    };
    let faults = match args
        .faults
        .as_deref()
        .map(emulator::faults::FaultSpec::parse)
    {
        None => emulator::faults::FaultSpec { rates: Vec::new() },
        Some(Ok(spec)) => spec,
        Some(Err(e)) => {
            eprintln!("warroom emulator: --faults: {e}");
            return Ok(2);
        }
    };
    let responder_certificate = match &args.responder_certificate {
        None => None,
        Some(path) => match read_certificate(path) {
            Ok(der) => Some(der),
            Err(e) => {
                eprintln!(
                    "warroom emulator: --responder-certificate {}: {e}",
                    path.display()
                );
                return Ok(2);
            }
        },
    };
    let options = emulator::Options {
        throttle: !args.no_throttle,
        faults,
        seed: args.seed,
        live_per_minute: args.live.then_some(args.live_rate),
        responder_certificate,
        authority: emulator::oauth::AuthorityOptions {
            token_lifetime: Duration::from_secs(args.token_lifetime.max(1)),
            device_approval_delay: Duration::from_secs(args.device_approve_after),
            device_poll_interval: Duration::from_secs(args.device_poll_interval),
        },
    };
    emulator::run_cli(spec, &args.listen, options, args.export_onprem.as_deref())
}

/// A certificate file, PEM or DER.
fn read_certificate(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    warroom::source::graph::auth::pem_block(text, "CERTIFICATE")
        .ok_or_else(|| anyhow::anyhow!("no PEM certificate block in the file"))
}

fn pull(args: &PullArgs, settings: &warroom::config::Settings) -> anyhow::Result<u8> {
    use warroom::source::graph::{self, pull};
    let streams = match args.streams.as_deref().map(pull::Stream::parse_list) {
        None => pull::Stream::ALL.to_vec(),
        Some(Ok(streams)) => streams,
        Some(Err(e)) => {
            eprintln!("warroom pull: {e}. Nothing was done.");
            return Ok(2);
        }
    };
    let now = jiff::Timestamp::now();
    let window = match (&args.since, &args.from, &args.to) {
        (Some(since), _, _) => warroom::model::duration::parse_duration(since)
            .and_then(|secs| {
                now.checked_sub(jiff::SignedDuration::from_secs(secs))
                    .map_err(|e| e.to_string())
            })
            .map(|from| (from, now)),
        (None, Some(from), Some(to)) => match (
            from.parse::<jiff::Timestamp>(),
            to.parse::<jiff::Timestamp>(),
        ) {
            (Ok(f), Ok(t)) if f < t => Ok((f, t)),
            (Ok(_), Ok(_)) => Err("--from must be before --to".to_owned()),
            _ => Err("--from and --to take times like 2026-11-01T00:00:00Z".to_owned()),
        },
        _ => Ok((now - jiff::SignedDuration::from_hours(24 * 7), now)),
    };
    let (from, to) = match window {
        Ok(w) => w,
        Err(e) => {
            eprintln!("warroom pull: {e}. Nothing was done.");
            return Ok(2);
        }
    };
    let window = match args.window.as_deref().map(warroom::model::duration::parse_duration) {
        None => None,
        Some(Ok(secs)) if secs > 0 => Some(jiff::SignedDuration::from_secs(secs)),
        Some(Ok(_)) => {
            eprintln!("warroom pull: --window must be longer than zero. Nothing was done.");
            return Ok(2);
        }
        Some(Err(e)) => {
            eprintln!("warroom pull: --window {e}. Nothing was done.");
            return Ok(2);
        }
    };
    let client = match graph::connect(settings, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warroom pull: {e}");
            return Ok(1);
        }
    };
    let request = pull::PullRequest {
        window,
        graph_url: settings.graph_url.clone(),
        streams,
        from,
        to,
        out: args.out.clone(),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stats_client = client.clone();
    let final_stats = client.clone();
    let progress_bar = bar.clone();
    let result = runtime.block_on(pull::pull(client, request, move |line| {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &stats_client.stats;
        progress_bar.set_message(format!(
            "{line}; {} requests, {} throttled, {} retries, {:.0} s waiting for the budget",
            s.requests.load(Relaxed),
            s.throttled.load(Relaxed),
            s.retries.load(Relaxed),
            s.budget_wait_ms.load(Relaxed) as f64 / 1000.0
        ));
    }));
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            let total: u64 = summary.per_stream.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = summary
                .per_stream
                .iter()
                .map(|(s, n)| format!("{} {n}", s.name()))
                .collect();
            use std::sync::atomic::Ordering::Relaxed;
            let s = &final_stats.stats;
            eprintln!(
                "warroom pull: {} {total} events to {} in {:.1} s ({:.0}/s): {}{}; {} requests, {} throttled (429), {} retries",
                if summary.resumed {
                    "finished a resumed pull:"
                } else {
                    "pulled"
                },
                args.out.display(),
                summary.seconds,
                total as f64 / summary.seconds.max(0.001),
                parts.join(", "),
                if summary.duplicates_dropped > 0 {
                    format!("; {} repeats dropped", summary.duplicates_dropped)
                } else {
                    String::new()
                },
                s.requests.load(Relaxed),
                s.throttled.load(Relaxed),
                s.retries.load(Relaxed),
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom pull: {e}");
            eprintln!(
                "warroom pull: what was pulled is kept; run the same command again to continue."
            );
            Ok(1)
        }
    }
}
