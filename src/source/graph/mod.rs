//! Microsoft Graph: sign-in, request budgets, paged reads with retries, and
//! pulls to files. Works unchanged against the emulated tenant.

pub mod auth;
pub mod budget;
pub mod client;
pub mod pull;
pub mod snapshot;

use std::sync::Arc;

use crate::config::Settings;

pub use client::GraphClient;

/// A client for the profile in `settings`; device code prompts go to
/// `announce` (stderr when `None`).
pub fn connect(
    settings: &Settings,
    announce: Option<auth::Announce>,
) -> Result<Arc<GraphClient>, auth::AuthError> {
    crate::install_crypto_provider();
    let http = reqwest::Client::builder()
        .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(120))
        // A redirect would send a write (and its body) again, perhaps
        // elsewhere: Graph does not redirect, so none are followed.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| auth::AuthError::Setup(format!("cannot start the HTTP client: {e}")))?;
    let mut authenticator = auth::Authenticator::from_settings(settings, http.clone())?;
    if let Some(announce) = announce {
        authenticator = authenticator.with_announce(announce);
    }
    Ok(Arc::new(GraphClient::new(http, authenticator)))
}
