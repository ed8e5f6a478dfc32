//! `warroom login`: sign in now and keep the sign-in in the kernel keyring.

use super::Setup;
use crate::cli::Cli;

pub fn run(cli: &Cli, setup: Setup) -> anyhow::Result<u8> {
    login(&setup.settings(cli)?)
}

fn login(settings: &crate::config::Settings) -> anyhow::Result<u8> {
    use crate::config::AuthMethod;
    use crate::source::graph::{self, auth};
    if settings.auth != AuthMethod::DeviceCode {
        eprintln!(
            "warroom login: this profile signs in as an app ({}); there is no person's sign-in to cache, and every command signs in by itself.",
            settings.auth.name()
        );
        return Ok(0);
    }
    let cache = match auth::SignInCache::for_settings(settings) {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!(
                "warroom login: {e}. The sign-in cannot be kept between commands here; each command will show its own device code. Nothing was done."
            );
            return Ok(1);
        }
    };
    drop(cache);
    let client = match graph::connect(settings, None) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("warroom login: {e}");
            return Ok(1);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(client.sign_in()) {
        Ok(()) => {
            eprintln!(
                "warroom login: signed in to {}; the sign-in is kept in the kernel keyring for {} hours (`warroom lock` forgets it now).",
                crate::model::SafeText::new(settings.tenant.as_deref().unwrap_or("the tenant")),
                auth::SIGNIN_CACHE_TTL.as_secs() / 3600
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom login: {e}");
            Ok(1)
        }
    }
}
