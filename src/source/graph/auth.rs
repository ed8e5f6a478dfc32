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
    /// A certificate registered on the app and its private key: each token
    /// request carries a fresh signed assertion.
    Certificate(Box<CertificateKey>),
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
            AuthMethod::Certificate => {
                Credential::Certificate(Box::new(CertificateKey::load(settings)?))
            }
            AuthMethod::DeviceCode => {
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
        let mut form = vec![
            ("grant_type", "client_credentials".to_owned()),
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
        ];
        match &self.credential {
            Credential::Fixed(token) => {
                return Ok(Token {
                    value: token.clone(),
                    renew_at: None,
                });
            }
            Credential::ClientSecret(secret) => form.push(("client_secret", secret.clone())),
            Credential::Certificate(key) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ));
                form.push((
                    "client_assertion",
                    key.assertion(&self.client_id, &self.token_url)?,
                ));
            }
        }
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Network {
                url: self.token_url.clone(),
                reason: super::client::cause(&e),
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

/// An RSA key and the certificate registered for it, for signed client
/// assertions (RFC 7523) as Entra expects them: RS256, `x5t#S256`.
pub struct CertificateKey {
    key: ring::signature::RsaKeyPair,
    /// Base64url SHA-256 of the certificate (DER).
    thumbprint: String,
}

/// The DER inside the first PEM block whose label contains `label`.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let mut lines = text
        .lines()
        .skip_while(|l| !(l.starts_with("-----BEGIN ") && l.contains(label)));
    lines.next()?;
    let body: String = lines.take_while(|l| !l.starts_with("-----END ")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
}

impl CertificateKey {
    fn load(settings: &Settings) -> Result<Self, AuthError> {
        let setup = |m: String| AuthError::Setup(m);
        let cert_path = settings.certificate.as_ref().ok_or_else(|| {
            setup("auth is certificate but the profile names no certificate".into())
        })?;
        let key_path = settings.private_key.as_ref().ok_or_else(|| {
            setup("auth is certificate but the profile names no private_key".into())
        })?;
        let cert_text = std::fs::read_to_string(cert_path)
            .map_err(|e| setup(format!("cannot read {}: {e}", cert_path.display())))?;
        let key_text = std::fs::read_to_string(key_path)
            .map_err(|e| setup(format!("cannot read {}: {e}", key_path.display())))?;
        let cert = pem_block(&cert_text, "CERTIFICATE")
            .ok_or_else(|| setup(format!("{}: no PEM certificate in it", cert_path.display())))?;
        let key = if let Some(der) = pem_block(&key_text, "RSA PRIVATE KEY") {
            ring::signature::RsaKeyPair::from_der(&der)
        } else if let Some(der) = pem_block(&key_text, "PRIVATE KEY") {
            ring::signature::RsaKeyPair::from_pkcs8(&der)
        } else {
            return Err(setup(format!(
                "{}: no PEM private key in it",
                key_path.display()
            )));
        }
        .map_err(|e| {
            setup(format!(
                "{}: not a usable RSA key ({e})",
                key_path.display()
            ))
        })?;
        use base64::Engine;
        let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(ring::digest::digest(&ring::digest::SHA256, &cert));
        Ok(Self { key, thumbprint })
    }

    /// A fresh assertion for one token request.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, AuthError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = jiff::Timestamp::now().as_second();
        let header =
            serde_json::json!({ "alg": "RS256", "typ": "JWT", "x5t#S256": self.thumbprint });
        let claims = serde_json::json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            "nbf": now,
            "iat": now,
            "exp": now + 600,
        });
        let signed = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signed.as_bytes(),
                &mut signature,
            )
            .map_err(|_| AuthError::Setup("could not sign the client assertion".into()))?;
        Ok(format!("{signed}.{}", b64.encode(signature)))
    }
}
