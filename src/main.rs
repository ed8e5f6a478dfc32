//! The `warroom` binary: parse the command line and dispatch.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use warroom::cli::{Cli, Command, ConfigCommand, EmulatorArgs};
use warroom::config::Config;
use warroom::doctor::{self, Verdict};
use warroom::paths::Paths;

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
    if let Some(command) = &cli.command
        && let Some(what) = command.not_yet_available()
    {
        eprintln!(
            "warroom {}: not in this build yet (it needs {what}, which is still being built). Nothing was done.",
            command.name()
        );
        return Ok(2);
    }
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
        Some(Command::Doctor) => {
            warroom::install_crypto_provider();
            let checks = doctor::run(&paths, &config, cli.profile.as_deref());
            for check in &checks {
                println!("{check}");
            }
            Ok(u8::from(checks.iter().any(|c| c.verdict == Verdict::Fail)))
        }
        Some(other) => {
            // Every other command returned above through `not_yet_available`.
            eprintln!("warroom {}: not available in this build yet.", other.name());
            Ok(2)
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
        end_ms: jiff::Timestamp::now().as_millisecond(),
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
    emulator::run_cli(spec, &args.listen, options)
}

/// A certificate file, PEM or DER.
fn read_certificate(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let bytes = std::fs::read(path)?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(bytes);
    };
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect();
    if body.is_empty() {
        anyhow::bail!("no PEM certificate block in the file");
    }
    Ok(base64::engine::general_purpose::STANDARD.decode(body.trim())?)
}
