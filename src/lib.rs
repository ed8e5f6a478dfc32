//! warroom: a terminal console for winning back a Microsoft Entra ID /
//! Microsoft 365 / AD FS tenant after an identity compromise.
//!
//! The binary (`main.rs`) only parses arguments and dispatches; everything
//! lives here so integration tests can reach it. `model` and `config` never
//! import ratatui or crossterm; only `app` draws (`doctor` asks crossterm
//! for the terminal size and nothing else).

pub mod app;
pub mod case;
pub mod cli;
pub mod commands;
pub mod config;
pub mod detect;
pub mod emulator;
pub mod fuzzing;
pub mod hardening;
pub mod keyring;
pub mod logging;
pub mod model;
pub mod paths;
pub mod pipeline;
pub mod playbook;
pub mod source;
pub mod watch;

/// Installs the process-wide TLS crypto provider (ring). Every HTTP client is
/// built after this; calling it twice is harmless.
pub fn install_crypto_provider() {
    // `install_default` fails only when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
