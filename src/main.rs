//! The `warroom` binary: parse the command line and hand each command to
//! its body in `warroom::commands` (one module per command).

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use warroom::cli::{Cli, Command};
use warroom::commands::{self, Setup};

// Scans make and drop millions of small values (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = Instant::now();
    // Before any secret is read: no core file, no other process reading ours.
    let unprotected = warroom::hardening::keep_secrets_in_memory();
    let cli = Cli::parse();
    for problem in &unprotected {
        eprintln!("warroom: {problem}");
    }
    match run(&cli, started) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("warroom: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: &Cli, started: Instant) -> anyhow::Result<u8> {
    // The emulator reads no configuration: it is its own tenant.
    if let Some(Command::Emulator(args)) = &cli.command {
        return commands::emulator::run(args);
    }
    let setup = Setup::load(cli)?;
    match &cli.command {
        None => commands::console::open(cli, setup, started),
        Some(Command::Demo(args)) => commands::console::demo(cli, setup, args, started),
        Some(Command::Config(command)) => commands::config::run(cli, setup, command),
        Some(Command::Emulator(args)) => commands::emulator::run(args),
        Some(Command::Pull(args)) => commands::pull::run(cli, setup, args),
        Some(Command::Scan(args)) => commands::scan::run(setup, args),
        Some(Command::Watch(args)) => commands::watch::run(cli, setup, args),
        Some(Command::Posture(args)) => commands::posture::run(cli, setup, args),
        Some(Command::Plan(args)) => commands::plan::run(cli, setup, args),
        Some(Command::Login) => commands::login::run(cli, setup),
        Some(Command::Case(command)) => commands::case::run_case(cli, setup, command),
        Some(Command::Identity(command)) => commands::case::run_identity(cli, setup, command),
        Some(Command::Notes(command)) => commands::case::run_notes(cli, setup, command),
        Some(Command::Lock) => commands::lock::run(),
        Some(Command::Rules(args)) => commands::rules::run(args),
        Some(Command::Kql(args)) => commands::kql::run(args),
        Some(Command::Hunt(args)) => commands::hunt::run(cli, setup, args),
        Some(Command::Doctor) => commands::doctor::run(cli, setup),
    }
}
