//! The emulated identity platform: the token endpoint (client credentials,
//! device code, refresh token) and the device authorization endpoint, with
//! RFC 8628 polling (`authorization_pending`, `slow_down`, `expired_token`)
//! and the AADSTS error bodies Entra ID sends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::catalog;
use super::ids::Guid;
use super::tenant::Tenant;
use super::time;

pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// How long a device code may be polled.
pub const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);
/// The polling interval the device authorization response asks for.
pub const DEVICE_POLL_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug)]
pub struct AuthorityOptions {
    pub token_lifetime: Duration,
    /// How long after the device code is issued the "user" approves it.
    pub device_approval_delay: Duration,
    /// The interval the device flow asks clients to wait between polls.
    pub device_poll_interval: Duration,
}

impl Default for AuthorityOptions {
    fn default() -> Self {
        Self {
            token_lifetime: Duration::from_secs(3599),
            device_approval_delay: Duration::from_secs(3),
            device_poll_interval: DEVICE_POLL_INTERVAL,
        }
    }
}

/// Who an access token speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub app_id: String,
    /// The signed-in user for delegated tokens; `None` for app-only.
    pub user: Option<Guid>,
}

struct AccessToken {
    caller: Caller,
    expires: Instant,
    /// What it was issued for (`https://graph.microsoft.com/.default`).
    scope: String,
}

struct RefreshGrant {
    caller: Caller,
    scope: String,
    issued_ms: i64,
}

struct DeviceCode {
    client_id: String,
    scope: String,
    issued: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
}

/// A refusal from the token or device endpoints, in AADSTS form.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl OAuthError {
    fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    pub fn error(&self) -> &str {
        self.error
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let trace = Guid::from_seed(fastrand::u64(..)).to_string();
        let correlation = Guid::from_seed(fastrand::u64(..)).to_string();
        let stamp = time::iso(time::now_ms()).replace('T', " ");
        let body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {stamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Why an access token was refused at a Graph endpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Expired,
    Unknown,
}

#[derive(Default)]
pub struct Authority {
    options: AuthorityOptions,
    /// Assertion ids (`jti`) already used: an assertion works once.
    used_assertions: Mutex<std::collections::HashSet<String>>,
    access: Mutex<HashMap<String, AccessToken>>,
    refresh: Mutex<HashMap<String, RefreshGrant>>,
    devices: Mutex<HashMap<String, DeviceCode>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{:016x}{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

impl Authority {
    pub fn new(options: AuthorityOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// The caller behind `Authorization: Bearer <token>`.
    pub fn check(&self, token: &str) -> Result<Caller, Refusal> {
        if token.is_empty() {
            return Err(Refusal::Missing);
        }
        match lock(&self.access).get(token) {
            Some(t) if t.expires > Instant::now() => Ok(t.caller.clone()),
            Some(_) => Err(Refusal::Expired),
            None => Err(Refusal::Unknown),
        }
    }

    /// The scope a live token was issued for.
    pub fn scope_of(&self, token: &str) -> Option<String> {
        lock(&self.access).get(token).map(|t| t.scope.clone())
    }

    fn issue(&self, caller: Caller, scope: &str, with_refresh: bool) -> Value {
        let access_token = random_token("emu.");
        let lifetime = self.options.token_lifetime;
        lock(&self.access).insert(
            access_token.clone(),
            AccessToken {
                caller: caller.clone(),
                expires: Instant::now() + lifetime,
                scope: scope.to_owned(),
            },
        );
        let mut body = json!({
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": lifetime.as_secs(),
            "ext_expires_in": lifetime.as_secs(),
            "access_token": access_token,
        });
        if with_refresh {
            let refresh_token = random_token("emr.");
            lock(&self.refresh).insert(
                refresh_token.clone(),
                RefreshGrant {
                    caller,
                    scope: scope.to_owned(),
                    issued_ms: time::now_ms(),
                },
            );
            body["refresh_token"] = Value::from(refresh_token);
        }
        body
    }

    /// `POST /{tenant}/oauth2/v2.0/devicecode`.
    pub fn device_code(
        &self,
        tenant: &Tenant,
        tenant_name: &str,
        form: &HashMap<String, String>,
        base_url: &str,
    ) -> Result<Value, OAuthError> {
        if !tenant.is_named(tenant_name) {
            return Err(unknown_tenant(tenant_name));
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        if !is_public_client(tenant, &client_id) {
            return Err(unknown_app(&client_id, tenant_name));
        }
        let scope = form.get("scope").cloned().unwrap_or_default();
        if scope.trim().is_empty() {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            ));
        }
        let device_code = random_token("emd.");
        let user_code: String = (0..9)
            .map(|_| (b'A' + fastrand::u8(..26)) as char)
            .collect();
        let interval = self.options.device_poll_interval;
        lock(&self.devices).insert(
            device_code.clone(),
            DeviceCode {
                client_id,
                scope,
                issued: Instant::now(),
                interval,
                last_poll: None,
            },
        );
        let verification_uri = format!("{base_url}/devicelogin");
        Ok(json!({
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": verification_uri,
            "expires_in": DEVICE_CODE_LIFETIME.as_secs(),
            "interval": interval.as_secs().max(1),
            "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
        }))
    }

    /// `POST /{tenant}/oauth2/v2.0/token`.
    pub fn token(
        &self,
        tenant: &Tenant,
        tenant_name: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        if !tenant.is_named(tenant_name) {
            return Err(unknown_tenant(tenant_name));
        }
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => self.client_credentials(tenant, tenant_name, form),
            Some(DEVICE_CODE_GRANT) => self.device_poll(tenant, form),
            Some("refresh_token") => self.refresh(tenant, form),
            Some(other) => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )),
            None => Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            )),
        }
    }

    fn client_credentials(
        &self,
        tenant: &Tenant,
        tenant_name: &str,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let scope = form.get("scope").map(String::as_str).unwrap_or("");
        if !scope.ends_with("/.default") {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        let responder = &tenant.responder;
        if !client_id.eq_ignore_ascii_case(&responder.app_id.to_string()) {
            return Err(unknown_app(&client_id, tenant_name));
        }
        match form.get("client_assertion_type").map(String::as_str) {
            Some(JWT_BEARER_ASSERTION) => {
                let assertion = form
                    .get("client_assertion")
                    .map(String::as_str)
                    .unwrap_or("");
                let audience = format!("/{tenant_name}/oauth2/v2.0/token");
                self.verify_assertion(tenant, &client_id, assertion, &audience)?;
            }
            Some(other) => {
                return Err(OAuthError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    700023,
                    format!("Unsupported client assertion type '{other}'."),
                ));
            }
            None if form.get("client_secret") != Some(&responder.secret) => {
                return Err(OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
                ));
            }
            None => {}
        }
        let caller = Caller {
            app_id: client_id,
            user: None,
        };
        // A token is for the one resource it was asked for (Graph, Log
        // Analytics); the scope names it.
        Ok(self.issue(caller, scope, false))
    }

    /// Checks a JWT client assertion: signed (RS256 or PS256) by a
    /// certificate registered on the app, named by its `x5t#S256` (or
    /// `x5t`) thumbprint, for this token endpoint, by this client, in its
    /// validity window, and never seen before.
    fn verify_assertion(
        &self,
        tenant: &Tenant,
        client_id: &str,
        assertion: &str,
        audience_path: &str,
    ) -> Result<(), OAuthError> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let invalid = |code: u32, text: &str| {
            OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", code, text)
        };
        let malformed = || invalid(50027, "JWT token is invalid or malformed.");
        let mut parts = assertion.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let decode = |part: &str| -> Result<Value, OAuthError> {
            let bytes = b64.decode(part).map_err(|_| malformed())?;
            serde_json::from_slice(&bytes).map_err(|_| malformed())
        };
        let (header_json, claims) = (decode(header)?, decode(payload)?);
        let signature = b64.decode(signature).map_err(|_| malformed())?;
        let algorithm = match header_json["alg"].as_str() {
            Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            _ => {
                return Err(invalid(
                    5002738,
                    "The client assertion must be signed with RS256 or PS256.",
                ));
            }
        };
        let thumbprint_256 = header_json["x5t#S256"].as_str();
        let thumbprint_1 = header_json["x5t"].as_str();
        let certificate = tenant.responder.certificates.iter().find(|der| {
            let s256 = b64.encode(ring::digest::digest(&ring::digest::SHA256, der));
            let s1 = b64.encode(ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                der,
            ));
            thumbprint_256 == Some(s256.as_str()) || thumbprint_1 == Some(s1.as_str())
        });
        let Some(certificate) = certificate else {
            let named = thumbprint_256.or(thumbprint_1).unwrap_or("");
            return Err(invalid(
                700027,
                &format!(
                    "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{named}']"
                ),
            ));
        };
        let der = rustls::pki_types::CertificateDer::from(certificate.as_slice());
        let cert = webpki::EndEntityCert::try_from(&der).map_err(|_| {
            invalid(
                700027,
                "Client assertion failed signature validation (unreadable certificate).",
            )
        })?;
        let signed = &assertion[..header.len() + 1 + payload.len()];
        cert.verify_signature(algorithm, signed.as_bytes(), &signature)
            .map_err(|_| invalid(700027, "Client assertion failed signature validation."))?;

        let text = |name: &str| claims[name].as_str().unwrap_or("");
        if !text("aud").ends_with(audience_path) {
            return Err(invalid(
                700016,
                &format!(
                    "The audience '{}' in the client assertion is not this token endpoint.",
                    text("aud")
                ),
            ));
        }
        if !text("iss").eq_ignore_ascii_case(client_id)
            || !text("sub").eq_ignore_ascii_case(client_id)
        {
            return Err(invalid(
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            ));
        }
        let now = time::now_ms() / 1000;
        let (nbf, exp) = (
            claims["nbf"].as_i64().unwrap_or(0),
            claims["exp"].as_i64().unwrap_or(0),
        );
        // Entra allows five minutes of clock skew.
        if exp + 300 < now || nbf - 300 > now {
            return Err(invalid(
                700024,
                "Client assertion is not within its valid time range.",
            ));
        }
        let jti = text("jti");
        if jti.is_empty() || !lock(&self.used_assertions).insert(jti.to_owned()) {
            return Err(invalid(
                700025,
                "Client assertion has already been used (jti replay) or carries no jti.",
            ));
        }
        Ok(())
    }

    fn device_poll(
        &self,
        tenant: &Tenant,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let code = form.get("device_code").cloned().unwrap_or_default();
        let now = Instant::now();
        let mut devices = lock(&self.devices);
        let Some(device) = devices.get_mut(&code) else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                70019,
                "Verification code expired or not found.",
            ));
        };
        if form.get("client_id") != Some(&device.client_id) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                70000,
                "The device code was issued to another application.",
            ));
        }
        if now.duration_since(device.issued) >= DEVICE_CODE_LIFETIME {
            devices.remove(&code);
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "expired_token",
                70020,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        // RFC 8628 3.5: polling faster than asked earns slow_down and a
        // longer interval.
        let too_fast = device
            .last_poll
            .is_some_and(|last| now.duration_since(last) < device.interval);
        device.last_poll = Some(now);
        if too_fast {
            device.interval += Duration::from_secs(5);
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "slow_down",
                70016,
                "Polling too fast: wait at least the interval between requests.",
            ));
        }
        if now.duration_since(device.issued) < self.options.device_approval_delay {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            ));
        }
        let device = devices.remove(&code).expect("present: looked up above");
        drop(devices);
        // The responder signs in with the tenant's emergency access account.
        let user = tenant.users.first().map(|u| u.id);
        let caller = Caller {
            app_id: device.client_id,
            user,
        };
        let mut body = self.issue(caller, &device.scope, true);
        body["id_token"] = Value::from("eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.e30.");
        Ok(body)
    }

    fn refresh(
        &self,
        tenant: &Tenant,
        form: &HashMap<String, String>,
    ) -> Result<Value, OAuthError> {
        let presented = form.get("refresh_token").cloned().unwrap_or_default();
        // Redeeming a refresh token does not use it up (Entra's refresh
        // tokens live until they expire or are revoked), so a client that
        // retries a refresh is not locked out.
        let grant = lock(&self.refresh).get(&presented).map(|g| RefreshGrant {
            caller: g.caller.clone(),
            scope: g.scope.clone(),
            issued_ms: g.issued_ms,
        });
        let Some(grant) = grant else {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            ));
        };
        if form.get("client_id") != Some(&grant.caller.app_id) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                70000,
                "The refresh token was issued to another application.",
            ));
        }
        // Revoking sign-in sessions moves the user's valid-from time past
        // every refresh token issued before it.
        let revoked = grant
            .caller
            .user
            .and_then(|id| tenant.users.iter().find(|u| u.id == id))
            .is_some_and(|u| u.refresh_tokens_valid_from_ms > grant.issued_ms);
        if revoked {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed.",
            ));
        }
        Ok(self.issue(grant.caller, &grant.scope, true))
    }
}

fn unknown_tenant(name: &str) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        format!("Tenant '{name}' not found."),
    )
}

fn unknown_app(client_id: &str, tenant_name: &str) -> OAuthError {
    OAuthError::new(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
        format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant_name}'."
        ),
    )
}

/// Apps that may use the device code flow here: the responder's own app
/// and Microsoft's public clients.
fn is_public_client(tenant: &Tenant, client_id: &str) -> bool {
    client_id.eq_ignore_ascii_case(&tenant.responder.app_id.to_string())
        || catalog::CLIENT_APPS
            .iter()
            .any(|(id, _)| id.eq_ignore_ascii_case(client_id))
}
