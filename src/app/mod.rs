//! The terminal console: pure state and update, a keymap, draw functions and
//! the runtime that ties them to a real terminal.
//!
//! ```text
//!  keys ─▶ keymap ─▶ Msg ─▶ update(&mut AppState, Msg) ─▶ Vec<Effect> ─▶ runtime
//!                              ▲                                       │
//!  tasks ── bounded channel ───┘        ui::draw(&AppState) ◀── Render ┘
//! ```

pub mod action;
pub mod commands;
pub mod keymap;
pub mod runtime;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod ui;
pub mod update;

pub use action::{Action, Effect, Msg};
pub use keymap::Keymap;
pub use state::AppState;
pub use theme::Theme;
pub use update::update;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Cli;
use crate::config::Config;
use crate::model::SafeText;
use crate::paths::Paths;
use state::Session;

/// Opens the console on the configured profile; returns the exit status.
pub fn open(cli: &Cli, paths: &Paths, config: &Config, started: Instant) -> anyhow::Result<u8> {
    let settings = config.settings(cli.profile.as_deref())?;
    let keymap = Keymap::with_overrides(&config.key_overrides())
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.path.display()))?;
    let theme = Theme::for_terminal(
        config.file.ui.theme,
        cli.ascii || config.file.ui.ascii,
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

    let session = Session {
        profile: settings.profile.as_deref().map(SafeText::new),
        tenant: settings.tenant.as_deref().map(SafeText::new),
        ..Session::default()
    };
    let state = AppState::new(Arc::new(keymap), session, jiff::Timestamp::now());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let options = runtime::RunOptions {
        stop_after_first_frame: cli.bench_startup,
        panic_after_first_frame: cli.panic_after_first_frame,
    };
    let outcome = runtime.block_on(runtime::run(state, theme, started, options));
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
    if cli.bench_startup
        && let Some(first) = outcome.first_frame
    {
        eprintln!("first frame after {:.2} ms", first.as_secs_f64() * 1000.0);
    }
    tracing::info!(code = outcome.exit_code, "console stopped");
    crate::logging::flush();
    Ok(outcome.exit_code)
}
