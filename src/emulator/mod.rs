//! The emulated tenant: a local HTTP server that answers like the parts of
//! the Microsoft identity platform and Microsoft Graph that warroom uses,
//! over a generated tenant with an attack hidden in realistic noise. It is
//! the tenant for `warroom demo`, the integration tests and the benchmarks.
//!
//! Nothing here draws or imports the console.

mod apps;
pub mod audit;
pub mod catalog;
pub mod directory;
pub mod faults;
pub mod generate;
mod grants;
mod hardened;
pub mod ids;
pub mod kql;
pub mod live;
pub mod noise;
pub mod oauth;
pub mod odata;
pub mod onprem;
pub mod policies;
pub mod server;
pub mod signins;
pub mod story;
pub mod tenant;
pub mod throttle;
pub mod time;
pub mod ual;
pub mod workspace;
pub mod writes;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

pub use generate::{Scenario, Spec};
pub use server::{Emulator, Options};

/// Defaults of `warroom emulator`.
pub const DEFAULT_SEED: u64 = 1;
pub const DEFAULT_SIGNINS: u64 = 100_000;
pub const DEFAULT_DAYS: u32 = 30;

/// A running emulator: where it listens and what it holds.
pub struct Running {
    pub emulator: Arc<Emulator>,
    pub addr: SocketAddr,
    pub url: String,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// What the scenario planted, as `GET /_emulator/answer-key` serves it.
    pub fn answer_key(&self) -> serde_json::Value {
        serde_json::to_value(&self.emulator.read().answer_key).unwrap_or_default()
    }

    /// Connection settings for the responder app registered in the
    /// emulated tenant, signing in with its client secret.
    pub fn responder_settings(&self) -> crate::config::Settings {
        use crate::config::{AuthMethod, Cloud, InMemorySecret, SecretSource, Settings};
        let tenant = self.emulator.read();
        Settings {
            profile: None,
            tenant: Some(tenant.id.to_string()),
            cloud: Cloud::default(),
            authority_url: self.url.clone(),
            graph_url: self.url.clone(),
            client_id: Some(tenant.responder.app_id.to_string()),
            auth: AuthMethod::ClientSecret,
            secret: SecretSource::InMemory(InMemorySecret(tenant.responder.secret.clone())),
            has_access_token: false,
            certificate: None,
            private_key: None,
            case: None,
            identity: None,
            writes: false,
        }
    }
}

/// Builds the tenant, binds `listen` and serves on the current runtime.
pub async fn start(spec: &Spec, listen: &str, options: Options) -> anyhow::Result<Running> {
    let live = options.live_per_minute;
    let mut tenant = generate::build(spec);
    if let Some(der) = &options.responder_certificate {
        register_certificate(&mut tenant, der.clone());
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");
    let emulator = Arc::new(Emulator::new(tenant, options, url.clone()));
    let app = server::router(emulator.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if let Some(per_minute) = live {
        tokio::spawn(live::run(emulator.clone(), per_minute));
    }
    Ok(Running {
        emulator,
        addr,
        url,
        server,
    })
}

/// Registers a certificate on the responder app, as an administrator would
/// upload it, so the app can authenticate with signed assertions.
pub fn register_certificate(tenant: &mut tenant::Tenant, der: Vec<u8>) {
    let key_id = ids::Guid::from_seed(ids::mix(
        der.len() as u64
            ^ u64::from(
                der.iter()
                    .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b))),
            ),
    ));
    let responder = tenant.responder.app_id;
    if let Some(app) = tenant
        .applications
        .iter_mut()
        .find(|a| a.app_id == responder)
    {
        app.credentials.push(directory::Credential {
            key_id,
            kind: directory::CredentialKind::Certificate,
            display: "CN=warroom responder".into(),
            start_ms: time::now_ms(),
            end_ms: time::now_ms() + 365 * time::DAY,
            hint: String::new(),
        });
    }
    tenant.responder.certificates.push(der);
}

/// `warroom emulator`: serve until interrupted. The first stdout line is the
/// URL, the second the responder app's credentials.
/// With `export`, the scenario's on-premises evidence is written there
/// before the first line is printed.
pub fn run_cli(
    spec: Spec,
    listen: &str,
    options: Options,
    export: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let running = start(&spec, listen, options).await?;
        if let Some(dir) = export {
            let written = onprem::export(&running.emulator.read(), dir).map_err(|e| {
                anyhow::anyhow!("--export-onprem {}: {e}", dir.display())
            })?;
            eprintln!(
                "warroom emulator: on-premises evidence in {}: {} files, {} AD FS token issuances{}",
                dir.display(),
                written.files.len(),
                written.issuances,
                match written.gap {
                    Some((from, to)) => format!(
                        "; ADFS01's log lacks {} to {}",
                        time::iso(from),
                        time::iso(to)
                    ),
                    None => String::new(),
                }
            );
        }
        let (tenant_id, client_id, secret) = {
            let tenant = running
                .emulator
                .tenant
                .read()
                .unwrap_or_else(|p| p.into_inner());
            (
                tenant.id.to_string(),
                tenant.responder.app_id.to_string(),
                tenant.responder.secret.clone(),
            )
        };
        let workspace = running.emulator.workspace_id.clone();
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", running.url)?;
        writeln!(
            out,
            "tenant={tenant_id} client_id={client_id} client_secret={secret} workspace={workspace}"
        )?;
        out.flush()?;
        drop(out);
        eprintln!(
            "warroom emulator: scenario {} seed {} with {} sign-ins over {} days; Ctrl-C stops it",
            spec.scenario.name(),
            spec.seed,
            spec.signins,
            spec.days
        );
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = running.server => {
                result.map_err(|e| anyhow::anyhow!("server task failed: {e}"))??;
            }
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        let injected = running.emulator.faults.injected();
        if !injected.is_empty() {
            let parts: Vec<String> = injected
                .iter()
                .map(|(fault, n)| format!("{} {n}", fault.name()))
                .collect();
            eprintln!("warroom emulator: faults injected: {}", parts.join(", "));
        }
        Ok(0)
    })
}
