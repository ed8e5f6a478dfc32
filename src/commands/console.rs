//! `warroom` (the console on the configured profile and case) and
//! `warroom demo` (the console against an emulated tenant).

use std::io::IsTerminal;
use std::time::Instant;

use super::Setup;
use crate::app::{ConsoleOptions, DemoOptions};
use crate::cli::{Cli, DemoArgs};

fn options(cli: &Cli) -> ConsoleOptions {
    ConsoleOptions {
        profile: cli.profile.clone(),
        identity: cli.identity.clone(),
        playbook: cli.playbook.clone(),
        ascii: cli.ascii,
        ioc: cli.ioc.clone(),
        sigma: cli.sigma.clone(),
        evidence: cli.evidence.clone(),
        since: cli.since.clone(),
        bench_startup: cli.bench_startup,
        panic_after_first_frame: cli.panic_after_first_frame,
    }
}

fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

pub fn open(cli: &Cli, setup: Setup, started: Instant) -> anyhow::Result<u8> {
    if !terminal() {
        anyhow::bail!(
            "the console needs a terminal on standard input and output; for scripts use `warroom scan` or `warroom pull`"
        );
    }
    let config = setup.config?;
    super::join_session_keyring();
    crate::app::open(&options(cli), &setup.paths, &config, started)
}

pub fn demo(cli: &Cli, setup: Setup, args: &DemoArgs, started: Instant) -> anyhow::Result<u8> {
    if !terminal() {
        anyhow::bail!("the demo is the console: it needs a terminal on standard input and output");
    }
    let demo = DemoOptions {
        scenario: args.scenario.clone(),
        seed: args.seed,
        speed: args.speed,
        now: args.now,
        case: args.case.clone(),
        dry_run: args.dry_run,
        ioc: args.ioc.clone(),
        sigma: args.sigma.clone(),
        evidence: args.evidence.clone(),
        onprem: args.onprem,
    };
    crate::app::demo(&options(cli), &setup.paths, &setup.config?, &demo, started)
}
