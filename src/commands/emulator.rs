//! `warroom emulator`: serve the emulated tenant.

use std::time::Duration;

use crate::cli::EmulatorArgs;

pub fn run(args: &EmulatorArgs) -> anyhow::Result<u8> {
    use crate::emulator::{self, Scenario, Spec};
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
        workspace_row_cap: args.workspace_row_cap.max(1),
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
    crate::source::graph::auth::pem_block(text, "CERTIFICATE")
        .ok_or_else(|| anyhow::anyhow!("no PEM certificate block in the file"))
}
