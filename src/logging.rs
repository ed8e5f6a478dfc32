//! Diagnostic logging to a file in the state directory, never to the
//! terminal (it would corrupt the console). The filter comes from
//! `WARROOM_LOG` (or `RUST_LOG`), default `info`. Nothing secret is logged:
//! tokens, passphrases and note text never reach a `tracing` macro.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::paths::ensure_private_dir;

/// The writer's guard: dropping it writes out what is buffered. Held here so
/// that both a normal exit and the panic hook can flush.
static GUARD: Mutex<Option<WorkerGuard>> = Mutex::new(None);

/// The HTTP and TLS libraries' finest levels describe connections,
/// frames and buffers carrying tokens and secrets, in words this crate
/// does not control: kept at `info` whatever filter is asked for, so
/// `WARROOM_LOG=trace` is warroom's own trace, which names no secret.
const QUIET_LIBRARIES: [&str; 6] = [
    "h2=info",
    "hyper=info",
    "hyper_util=info",
    "reqwest=info",
    "rustls=info",
    "tower_http=info",
];

/// Starts logging to `file`, until [`flush`].
pub fn init(file: &Path) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        ensure_private_dir(dir)?;
    }
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| anyhow::anyhow!("cannot open log file {}: {e}", file.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(log);
    let mut filter = EnvFilter::try_from_env("WARROOM_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in QUIET_LIBRARIES {
        filter = filter.add_directive(directive.parse()?);
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))?;
    if let Ok(mut slot) = GUARD.lock() {
        *slot = Some(guard);
    }
    Ok(())
}

/// Writes out every buffered log line. Later lines are dropped.
pub fn flush() {
    // A poisoned lock still holds the guard; take it either way.
    let guard = match GUARD.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    drop(guard);
}
