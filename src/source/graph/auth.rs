//! Getting an access token for Graph: app-only with a client secret (read
//! from an environment variable or a file, never a flag), or a token the
//! responder already holds (`WARROOM_ACCESS_TOKEN`), or a person signing in
//! with a device code. Access tokens live in memory only and are renewed
//! before they expire; a person's refresh token is also kept in the kernel
//! keyring for a working shift, never in a file. Nothing here logs a secret.

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
    /// A person signs in with the device code flow; the refresh token
    /// stays in memory, and in the keyring cache when there is one.
    DeviceCode {
        refresh: std::sync::Mutex<Option<String>>,
        cache: Option<SignInCache>,
    },
}

/// How long a person's sign-in stays cached in the keyring: a shift.
pub const SIGNIN_CACHE_TTL: Duration = Duration::from_secs(12 * 3600);

/// A person's refresh token in the kernel keyring, under a name that ties
/// it to the authority, tenant and client it was issued for.
pub struct SignInCache {
    cache: crate::keyring::Cache,
    name: String,
}

impl SignInCache {
    /// The cache for `settings`, when the kernel keyring is usable.
    pub fn for_settings(settings: &Settings) -> Result<Self, crate::keyring::KeyringError> {
        Ok(Self {
            cache: crate::keyring::Cache::open()?,
            name: signin_cache_name(settings),
        })
    }

    fn load(&self) -> Option<String> {
        match self.cache.load(&self.name) {
            Ok(found) => found.and_then(|s| String::from_utf8(s.to_vec()).ok()),
            Err(e) => {
                tracing::warn!("cached sign-in not read: {e}");
                None
            }
        }
    }

    fn store(&self, refresh_token: &str) {
        if let Err(e) = self
            .cache
            .store(&self.name, refresh_token.as_bytes(), SIGNIN_CACHE_TTL)
        {
            tracing::warn!("sign-in not cached: {e}");
        }
    }

    /// Drops the cached sign-in; says whether there was one.
    pub fn forget(&self) -> Result<bool, crate::keyring::KeyringError> {
        self.cache.remove(&self.name)
    }
}

/// `signin:<authority>/<tenant>/<client>`: one cached sign-in per profile
/// target.
pub fn signin_cache_name(settings: &Settings) -> String {
    format!(
        "signin:{}/{}/{}",
        settings.authority_url.trim_end_matches('/'),
        settings.tenant.as_deref().unwrap_or(""),
        settings
            .client_id
            .as_deref()
            .unwrap_or(DEFAULT_PUBLIC_CLIENT)
    )
}

/// What a person must do to finish a device code sign-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevicePrompt {
    pub verification_uri: String,
    pub user_code: String,
    pub expires_in_secs: u64,
}

/// Shows a device code prompt: stderr for commands, the console its own.
pub type Announce = std::sync::Arc<dyn Fn(&DevicePrompt) + Send + Sync>;

/// The public client used for device code sign-in when the profile names
/// none: Microsoft's Graph command-line tools app, present in every tenant.
pub const DEFAULT_PUBLIC_CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Tells the person at the terminal what to do, and puts the code on their
/// clipboard with OSC 52 when stderr is a terminal (the code is short-lived
/// and worthless without their sign-in).
pub fn announce_on_stderr(prompt: &DevicePrompt) {
    use base64::Engine;
    use std::io::{IsTerminal, Write};
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "warroom: to sign in, open {} and enter the code {} (valid {} minutes)",
        crate::model::SafeText::new(&prompt.verification_uri),
        crate::model::SafeText::new(&prompt.user_code),
        prompt.expires_in_secs / 60
    );
    if err.is_terminal() && prompt.user_code.chars().all(|c| c.is_ascii_alphanumeric()) {
        let code = base64::engine::general_purpose::STANDARD.encode(&prompt.user_code);
        let _ = write!(err, "\x1b]52;c;{code}\x07");
    }
}

struct Token {
    value: String,
    renew_at: Option<Instant>,
    /// The permissions the identity platform says it granted (`scope`).
    granted: Option<String>,
}

pub struct Authenticator {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scope: String,
    credential: Credential,
    token: Mutex<Option<Token>>,
    announce: Announce,
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
        SecretSource::InMemory(secret) => Ok(secret.0.clone()),
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
            AuthMethod::DeviceCode => Credential::DeviceCode {
                refresh: std::sync::Mutex::new(None),
                // Without a usable keyring the sign-in lasts this process.
                cache: SignInCache::for_settings(settings)
                    .inspect_err(|e| tracing::info!("sign-ins are not cached: {e}"))
                    .ok(),
            },
        };
        let tenant = settings.tenant.clone().ok_or_else(|| {
            AuthError::Setup(format!(
                "no tenant: set {} or tenant in the profile",
                env::TENANT
            ))
        })?;
        let client_id = match (&settings.client_id, &credential) {
            (Some(id), _) => id.clone(),
            (None, Credential::DeviceCode { .. }) => DEFAULT_PUBLIC_CLIENT.to_owned(),
            (None, _) => String::new(),
        };
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
            announce: std::sync::Arc::new(announce_on_stderr),
        })
    }

    /// Tokens for another resource than Graph (the Log Analytics query
    /// API), with the same credential.
    pub fn for_resource(
        settings: &Settings,
        http: reqwest::Client,
        resource: &str,
    ) -> Result<Self, AuthError> {
        let mut auth = Self::from_settings(settings, http)?;
        auth.scope = format!("{}/.default", resource.trim_end_matches('/'));
        Ok(auth)
    }

    /// Where device code prompts go (the console shows them in a pane).
    pub fn with_announce(mut self, announce: Announce) -> Self {
        self.announce = announce;
        self
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

    /// What the current token was granted, as the token endpoint said
    /// (`None` before a sign-in, or when it did not say).
    pub async fn granted(&self) -> Option<String> {
        self.token
            .lock()
            .await
            .as_ref()
            .and_then(|t| t.granted.clone())
    }

    /// Forget the current token after Graph refused it (401).
    /// `stale` is the token Graph refused: another task may already have
    /// replaced it, and a fresh token is kept.
    pub async fn invalidate(&self, stale: &str) -> bool {
        let mut slot = self.token.lock().await;
        if matches!(self.credential, Credential::Fixed(_)) {
            return false;
        }
        if slot.as_ref().is_some_and(|t| t.value == stale) {
            *slot = None;
        }
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
                    granted: None,
                });
            }
            Credential::ClientSecret(secret) => form.push(("client_secret", secret.clone())),
            Credential::DeviceCode { refresh, cache } => {
                return self.signed_in_user(refresh, cache.as_ref()).await;
            }
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
        let body = self.exchange(&form).await?;
        Ok(token_from(&body))
    }

    /// A delegated token: renewed with the refresh token when there is one,
    /// else through the device code flow.
    async fn signed_in_user(
        &self,
        refresh: &std::sync::Mutex<Option<String>>,
        cache: Option<&SignInCache>,
    ) -> Result<Token, AuthError> {
        let saved = refresh
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .or_else(|| cache.and_then(SignInCache::load));
        let body = match saved {
            Some(rt) => {
                let form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("client_id", self.client_id.clone()),
                    ("refresh_token", rt),
                    ("scope", format!("{} offline_access", self.scope)),
                ];
                match self.exchange(&form).await {
                    Ok(body) => body,
                    // Revoked or expired: the person signs in again.
                    // Only a grant that is gone needs the person again;
                    // an outage or a bad client id is reported as such.
                    Err(AuthError::Refused { error, .. })
                        if error == "invalid_grant" || error == "interaction_required" =>
                    {
                        if let Some(cache) = cache {
                            let _ = cache.forget();
                        }
                        self.device_flow().await?
                    }
                    Err(e) => return Err(e),
                }
            }
            None => self.device_flow().await?,
        };
        if let Some(rt) = body["refresh_token"].as_str() {
            *refresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(rt.to_owned());
            if let Some(cache) = cache {
                cache.store(rt);
            }
        }
        Ok(token_from(&body))
    }

    /// RFC 8628: ask for a code, show it, poll at the interval asked
    /// (slower after `slow_down`) until approved, refused or expired.
    async fn device_flow(&self) -> Result<serde_json::Value, AuthError> {
        let devicecode_url = self
            .token_url
            .replace("/oauth2/v2.0/token", "/oauth2/v2.0/devicecode");
        let form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", format!("{} offline_access", self.scope)),
        ];
        let code = self.post(&devicecode_url, &form).await?;
        let device_code = code["device_code"]
            .as_str()
            .ok_or_else(|| refused(&code))?
            .to_owned();
        let (Some(uri), Some(user_code)) = (
            code["verification_uri"].as_str(),
            code["user_code"].as_str(),
        ) else {
            return Err(AuthError::Setup(
                "the device code answer lacks the sign-in address or the code".into(),
            ));
        };
        let prompt = DevicePrompt {
            verification_uri: uri.to_owned(),
            user_code: user_code.to_owned(),
            expires_in_secs: code["expires_in"].as_u64().unwrap_or(900),
        };
        (self.announce)(&prompt);
        let mut interval = Duration::from_secs(code["interval"].as_u64().unwrap_or(5).max(1));
        let deadline = Instant::now() + Duration::from_secs(prompt.expires_in_secs);
        let poll = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:device_code".to_owned(),
            ),
            ("client_id", self.client_id.clone()),
            ("device_code", device_code),
        ];
        loop {
            if Instant::now() >= deadline {
                return Err(AuthError::Setup(
                    "the sign-in code expired before it was used; run the command again".into(),
                ));
            }
            tokio::time::sleep(interval).await;
            let body = match self.post(&self.token_url, &poll).await {
                Ok(body) => body,
                // RFC 8628 3.5: on a connection problem, poll more slowly
                // and keep going until the code expires.
                Err(AuthError::Network { .. }) => {
                    interval = (interval * 2).min(Duration::from_secs(60));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if body["access_token"].is_string() {
                return Ok(body);
            }
            match body["error"].as_str() {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += Duration::from_secs(5),
                Some("expired_token") => {
                    return Err(AuthError::Setup(
                        "the sign-in code expired before it was used; run the command again".into(),
                    ));
                }
                _ => return Err(refused(&body)),
            }
        }
    }

    /// A token request whose answer must carry a token.
    async fn exchange(&self, form: &[(&str, String)]) -> Result<serde_json::Value, AuthError> {
        let body = self.post(&self.token_url, form).await?;
        if body["access_token"].is_string() {
            Ok(body)
        } else {
            Err(refused(&body))
        }
    }

    async fn post(
        &self,
        url: &str,
        form: &[(&str, String)],
    ) -> Result<serde_json::Value, AuthError> {
        let response =
            self.http
                .post(url)
                .form(form)
                .send()
                .await
                .map_err(|e| AuthError::Network {
                    url: url.to_owned(),
                    reason: super::client::cause(&e),
                })?;
        response.json().await.map_err(|e| AuthError::Network {
            url: url.to_owned(),
            reason: format!("unreadable answer: {e}"),
        })
    }
}

fn token_from(body: &serde_json::Value) -> Token {
    let lifetime = Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3599));
    let renew_in = lifetime.saturating_sub(RENEW_BEFORE).max(lifetime / 2);
    Token {
        value: body["access_token"].as_str().unwrap_or_default().to_owned(),
        renew_at: Some(Instant::now() + renew_in),
        granted: body["scope"].as_str().map(str::to_owned),
    }
}

/// The identity platform's refusal, first line of its description.
fn refused(body: &serde_json::Value) -> AuthError {
    let description = body["error_description"]
        .as_str()
        .unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    AuthError::Refused {
        error: body["error"].as_str().unwrap_or("unknown_error").to_owned(),
        description,
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
pub fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
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
