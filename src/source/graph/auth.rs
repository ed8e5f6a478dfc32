//! Getting an access token for Graph: app-only with a client secret (read
//! from an environment variable or a file, never a flag), or a token the
//! responder already holds (`WARROOM_ACCESS_TOKEN`). Tokens live in memory
//! only and are renewed before they expire. Nothing here logs a secret.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::{AuthMethod, SecretSource, Settings, env};

/// Renew this long before the token expires.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Setup(String),
    #[error("sign-in refused: {error}: {description}")]
    Refused { error: String, description: String },
    #[error("cannot reach the sign-in endpoint {url}: {reason}")]
    Network { url: String, reason: String },
}

enum Credential {
    ClientSecret(String),
    /// A token obtained elsewhere; it cannot be renewed here.
    Fixed(String),
}

struct Token {
    value: String,
    renew_at: Option<Instant>,
}

pub struct Authenticator {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scope: String,
    credential: Credential,
    token: Mutex<Option<Token>>,
}

fn read_secret(source: &SecretSource) -> Result<String, AuthError> {
    match source {
        SecretSource::Env(var) => std::env::var(var)
            .ok()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                AuthError::Setup(format!(
                    "the client secret is expected in ${var}, which is not set"
                ))
            }),
        SecretSource::File(path) => std::fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| {
                AuthError::Setup(format!(
                    "cannot read the client secret file {}: {e}",
                    path.display()
                ))
            }),
        SecretSource::None => Err(AuthError::Setup(format!(
            "no client secret: set {} or client_secret_env / client_secret_file in the profile",
            env::CLIENT_SECRET
        ))),
    }
}

impl Authenticator {
    pub fn from_settings(settings: &Settings, http: reqwest::Client) -> Result<Self, AuthError> {
        let credential = match settings.auth {
            AuthMethod::AccessToken => {
                let token = std::env::var(env::ACCESS_TOKEN)
                    .ok()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        AuthError::Setup(format!(
                            "auth is access-token but {} is not set",
                            env::ACCESS_TOKEN
                        ))
                    })?;
                Credential::Fixed(token)
            }
            AuthMethod::ClientSecret => Credential::ClientSecret(read_secret(&settings.secret)?),
            AuthMethod::DeviceCode | AuthMethod::Certificate => {
                return Err(AuthError::Setup(format!(
                    "auth {} is not in this build yet: use a client secret ({}) or a token ({})",
                    settings.auth.name(),
                    env::CLIENT_SECRET,
                    env::ACCESS_TOKEN
                )));
            }
        };
        let tenant = settings.tenant.clone().ok_or_else(|| {
            AuthError::Setup(format!(
                "no tenant: set {} or tenant in the profile",
                env::TENANT
            ))
        })?;
        let client_id = settings.client_id.clone().unwrap_or_default();
        if client_id.is_empty() && !matches!(credential, Credential::Fixed(_)) {
            return Err(AuthError::Setup(format!(
                "no client id: set {} or client_id in the profile",
                env::CLIENT_ID
            )));
        }
        Ok(Self {
            http,
            token_url: format!(
                "{}/{tenant}/oauth2/v2.0/token",
                settings.authority_url.trim_end_matches('/')
            ),
            client_id,
            // The resource is Graph of the profile's cloud, even when the
            // Graph URL points somewhere else (a test tenant, a proxy).
            scope: format!("{}/.default", settings.cloud.graph_url()),
            credential,
            token: Mutex::new(None),
        })
    }

    /// A token valid for a while yet.
    pub async fn token(&self) -> Result<String, AuthError> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref()
            && t.renew_at.is_none_or(|at| Instant::now() < at)
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch().await?;
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }

    /// Forget the current token after Graph refused it (401).
    pub async fn invalidate(&self) -> bool {
        let mut slot = self.token.lock().await;
        if matches!(self.credential, Credential::Fixed(_)) {
            return false;
        }
        *slot = None;
        true
    }

    async fn fetch(&self) -> Result<Token, AuthError> {
        let secret = match &self.credential {
            Credential::Fixed(token) => {
                return Ok(Token {
                    value: token.clone(),
                    renew_at: None,
                });
            }
            Credential::ClientSecret(secret) => secret,
        };
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", secret.as_str()),
            ("scope", self.scope.as_str()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Network {
                url: self.token_url.clone(),
                reason: e.to_string(),
            })?;
        let body: serde_json::Value = response.json().await.map_err(|e| AuthError::Network {
            url: self.token_url.clone(),
            reason: format!("unreadable answer: {e}"),
        })?;
        if let Some(token) = body["access_token"].as_str() {
            let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3599));
            let renew_in = lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
            return Ok(Token {
                value: token.to_owned(),
                renew_at: Some(Instant::now() + renew_in),
            });
        }
        let description = body["error_description"]
            .as_str()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        Err(AuthError::Refused {
            error: body["error"].as_str().unwrap_or("unknown_error").to_owned(),
            description,
        })
    }
}
