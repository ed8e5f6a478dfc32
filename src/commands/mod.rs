//! The body of each command, one module per command: what turns parsed
//! arguments into calls on the layers below, and an exit code. `main.rs`
//! only dispatches here.

pub mod case;
pub mod config;
pub mod console;
pub mod doctor;
pub mod emulator;
pub mod hunt;
pub mod kql;
pub mod lock;
pub mod login;
pub mod plan;
pub mod posture;
pub mod pull;
pub mod rules;
pub mod scan;
pub mod watch;

use std::path::PathBuf;

use crate::cli::Cli;
use crate::config::{Config, ConfigError};
use crate::paths::Paths;

/// What every command but the emulator starts from: where warroom's files
/// live, and the configuration (an error in it is kept until a command
/// needs the configuration, so `config path` and `scan` still work).
pub struct Setup {
    pub paths: Paths,
    pub config_path: PathBuf,
    pub config: Result<Config, ConfigError>,
}

impl Setup {
    pub fn load(cli: &Cli) -> anyhow::Result<Self> {
        let paths = Paths::discover()?;
        let config_path = cli.config.clone().unwrap_or_else(|| paths.config_file());
        let config = Config::load(&config_path, cli.config.is_some());
        if let Ok(config) = &config
            && let Some(name) = &config.file.case.responder
        {
            crate::case::record::set_responder(name);
        }
        Ok(Self {
            paths,
            config_path,
            config,
        })
    }

    /// The profile's connection settings, in a session keyring of this
    /// process's own.
    pub fn settings(&self, cli: &Cli) -> anyhow::Result<crate::config::Settings> {
        let config = self.config.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        let settings = config.settings(cli.profile.as_deref())?;
        join_session_keyring();
        Ok(settings)
    }
}

/// Before any thread starts: a session keyring of this process's own, so
/// sign-ins can be cached even where the SSH login set none up. Without a
/// usable keyring warroom still works; it asks again next time.
pub fn join_session_keyring() {
    if let Err(e) = crate::keyring::join_fresh_session() {
        tracing::info!("no session keyring of our own: {e}");
    }
}

pub fn render(format: crate::cli::Format, findings: &[crate::detect::Finding]) -> String {
    use crate::cli::Format;
    use crate::detect::report;
    match format {
        Format::Table => report::table(findings),
        Format::Json => report::json(findings),
        Format::Ndjson => report::ndjson(findings),
        Format::Markdown => report::markdown(findings),
    }
}
