//! Diagnostic logging to a file in the state directory, never to the
//! terminal (it would corrupt the console). The filter comes from
//! `WARROOM_LOG` (or `RUST_LOG`), default `info`. Nothing secret is logged:
//! tokens, passphrases and note text never reach a `tracing` macro.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::paths::ensure_private_dir;

/// Starts logging to `file`. Keep the guard alive until exit: dropping it
/// flushes what is buffered.
pub fn init(file: &Path) -> anyhow::Result<WorkerGuard> {
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
    let filter = EnvFilter::try_from_env("WARROOM_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot start logging: {e}"))?;
    Ok(guard)
}
