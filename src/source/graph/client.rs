//! GET requests to Graph with the budget, retries and error explanations a
//! long pull needs. Reads are safe to repeat: a throttled, failed, cut or
//! garbled page is fetched again from the same URL, so paging resumes from
//! the last page that arrived whole. (Writes never come through here: they
//! are never retried automatically.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::auth::{AuthError, Authenticator};
use super::budget::{Budget, Family};

/// Give up on one URL after this many failed attempts in a row.
pub const MAX_ATTEMPTS: u32 = 12;
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured as given.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("Graph refused access to {what}: {message}. The app needs {needs}")]
    Permission {
        what: String,
        message: String,
        needs: &'static str,
    },
    #[error("the page token expired")]
    ExpiredPageToken,
    #[error("Graph answered {status} {code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("gave up on {url} after {attempts} attempts; last: {last}")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
}

/// What one write did. A write is sent once: never again by itself, since a
/// repeated write can do harm a repeated read cannot.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    /// Graph did it (2xx), with what it answered (`Null` for 204).
    Done { status: u16, body: Value },
    /// Graph answered that it did not do it (4xx), and why.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// No answer that settles it (connection lost, timeout, 5xx, a body
    /// that does not read): it may or may not have happened. Read the
    /// object again to know; do not send it again blindly.
    Unknown { reason: String },
}

/// One page of a collection, with events kept as Graph sent them.
#[derive(Debug)]
pub struct Page {
    pub value: Vec<Value>,
    pub next_link: Option<String>,
}

/// Counters for progress reports.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    /// Requests of the reports family (sign-ins, audits), whose budget
    /// bounds how fast history comes in.
    pub reports: AtomicU64,
    pub throttled: AtomicU64,
    pub retries: AtomicU64,
    pub budget_wait_ms: AtomicU64,
}

pub struct GraphClient {
    http: reqwest::Client,
    auth: Authenticator,
    reports: Budget,
    identity_protection: Budget,
    pub stats: Stats,
}

/// What a call needs, in the words of Graph's permission reference.
fn permission_for(url: &str) -> &'static str {
    if url.contains("/auditLogs/signIns") {
        "AuditLog.Read.All and Directory.Read.All (application permissions), or a Reports Reader or Security Reader role when signed in"
    } else if url.contains("/auditLogs/directoryAudits") {
        "AuditLog.Read.All (application permission), or a Reports Reader or Security Reader role when signed in"
    } else if url.contains("/identityProtection/") || url.contains("/riskyUsers") {
        "IdentityRiskEvent.Read.All (application permission) and an Entra ID P2 licence"
    } else if url.contains("/security/auditLog/") {
        "AuditLogsQuery.Read.All (application permission)"
    } else if url.contains("signInActivity") {
        "AuditLog.Read.All and Directory.Read.All (application permissions) and an Entra ID P1 licence"
    } else if url.contains("/roleManagement/") {
        "RoleManagement.Read.Directory (application permission), and Entra ID P2 for PIM schedules"
    } else if url.contains("/roleManagementPolicyAssignments") {
        "RoleManagementPolicy.Read.Directory (application permission) and Entra ID P2"
    } else if url.contains("/onPremisesSynchronization") {
        "OnPremDirectorySynchronization.Read.All (application permission)"
    } else if url.contains("/conditionalAccess/") || url.contains("/policies/") {
        "Policy.Read.All (application permission), or a Security Reader role when signed in"
    } else if url.contains("/authentication/methods") {
        "UserAuthenticationMethod.Read.All (application permission)"
    } else if url.contains("/federationConfiguration") {
        "Domain.Read.All (application permission)"
    } else {
        "Directory.Read.All (application permission), or a Global Reader role when signed in"
    }
}

fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE
        .saturating_mul(1 << attempt.min(8))
        .min(BACKOFF_CAP);
    // ±20 % jitter so parallel streams do not retry in step.
    let jitter = 0.8 + fastrand::f64() * 0.4;
    exp.mul_f64(jitter)
}

/// The innermost reason of an HTTP error ("Connection refused"), which is
/// what a responder needs to read.
pub(crate) fn cause(error: &dyn std::error::Error) -> String {
    let mut innermost = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        innermost = s.to_string();
        source = s.source();
    }
    innermost
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?;
    // Graph sends seconds, sometimes with a fraction; anything odd or huge
    // is held to a sane bound.
    let seconds = value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)?;
    Duration::try_from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())).ok()
}

impl GraphClient {
    /// Signs in now (a person is asked for a device code if needed), so
    /// later calls find a token ready.
    pub async fn sign_in(&self) -> Result<(), AuthError> {
        self.auth.token().await.map(drop)
    }

    /// How much of a family's budget the current window has used.
    pub fn budget_use(&self, family: Family) -> Option<(usize, usize)> {
        match family {
            Family::Reports => Some(self.reports.in_use()),
            Family::IdentityProtection => Some(self.identity_protection.in_use()),
            Family::Directory => None,
        }
    }

    pub fn new(http: reqwest::Client, auth: Authenticator) -> Self {
        Self {
            http,
            auth,
            reports: Budget::for_family(Family::Reports).expect("reports are budgeted"),
            identity_protection: Budget::for_family(Family::IdentityProtection)
                .expect("identity protection is budgeted"),
            stats: Stats::default(),
        }
    }

    fn budget(&self, family: Family) -> Option<&Budget> {
        match family {
            Family::Reports => Some(&self.reports),
            Family::IdentityProtection => Some(&self.identity_protection),
            Family::Directory => None,
        }
    }

    /// Fetches one page, waiting for the family's budget and retrying what
    /// can be retried.
    pub async fn page(&self, url: &str, family: Family) -> Result<Page, GraphError> {
        self.page_with_attempts(url, family, MAX_ATTEMPTS).await
    }

    /// As [`GraphClient::page`], giving up after `attempts` (the live feed
    /// polls again soon anyway and wants to report trouble quickly).
    pub async fn page_with_attempts(
        &self,
        url: &str,
        family: Family,
        attempts: u32,
    ) -> Result<Page, GraphError> {
        let body = self
            .attempt(reqwest::Method::GET, url, family, None, attempts.max(1))
            .await?;
        let next_link = body["@odata.nextLink"].as_str().map(str::to_owned);
        let value = match body {
            Value::Object(mut map) => match map.remove("value") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(Page { value, next_link })
    }

    /// GETs one object (a query's status, a single record).
    pub async fn get(&self, url: &str, family: Family) -> Result<Value, GraphError> {
        self.request(reqwest::Method::GET, url, family, None).await
    }

    /// POSTs a search job (an audit log query). Only for requests that
    /// change nothing in the tenant: a repeated search is harmless, a
    /// repeated write is not, and writes never come through here.
    pub async fn start_search(&self, url: &str, body: &Value) -> Result<Value, GraphError> {
        self.request(reqwest::Method::POST, url, Family::Directory, Some(body))
            .await
    }

    /// The permissions the sign-in was granted, when the token endpoint
    /// said (signing in first if needed).
    pub async fn granted_scopes(&self) -> Option<String> {
        self.auth.token().await.ok()?;
        self.auth.granted().await
    }

    /// Sends one write exactly once. Only a 401 (the token expired; Graph
    /// did nothing) is sent again, once, with a renewed token.
    pub async fn write_once(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
    ) -> WriteOutcome {
        let mut renewed = false;
        loop {
            let token = match self.auth.token().await {
                Ok(token) => token,
                Err(e) => {
                    return WriteOutcome::Refused {
                        status: 0,
                        code: "sign-in".into(),
                        message: format!("no token, nothing sent: {e}"),
                    };
                }
            };
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut builder = self.http.request(method.clone(), url).bearer_auth(&token);
            if let Some(body) = body {
                builder = builder.json(body);
            }
            let response = match builder.send().await {
                Ok(r) => r,
                Err(e) => return WriteOutcome::Unknown { reason: cause(&e) },
            };
            let status = response.status();
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    return WriteOutcome::Unknown {
                        reason: format!("{status}, then the connection dropped: {}", cause(&e)),
                    };
                }
            };
            if status == StatusCode::UNAUTHORIZED && !renewed && self.auth.invalidate(&token).await
            {
                renewed = true;
                continue;
            }
            let body: Value = if bytes.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(e) if status.is_success() => {
                        return WriteOutcome::Unknown {
                            reason: format!("{status} with an unreadable answer: {e}"),
                        };
                    }
                    Err(_) => Value::Null,
                }
            };
            if status.is_success() {
                return WriteOutcome::Done {
                    status: status.as_u16(),
                    body,
                };
            }
            if status.is_server_error() || status.is_redirection() {
                return WriteOutcome::Unknown {
                    reason: format!("Graph answered {status} (redirects are not followed)"),
                };
            }
            return WriteOutcome::Refused {
                status: status.as_u16(),
                code: body["error"]["code"].as_str().unwrap_or("").to_owned(),
                message: body["error"]["message"].as_str().unwrap_or("").to_owned(),
            };
        }
    }

    async fn request(
        &self,
        method: reqwest::Method,
        url: &str,
        family: Family,
        body: Option<&Value>,
    ) -> Result<Value, GraphError> {
        self.attempt(method, url, family, body, MAX_ATTEMPTS).await
    }

    async fn attempt(
        &self,
        method: reqwest::Method,
        url: &str,
        family: Family,
        body: Option<&Value>,
        attempts: u32,
    ) -> Result<Value, GraphError> {
        let mut refreshed = false;
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(budget) = self.budget(family) {
                let waited = budget.acquire().await;
                self.stats
                    .budget_wait_ms
                    .fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
            }
            let token = self.auth.token().await?;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            if family == Family::Reports {
                self.stats.reports.fetch_add(1, Ordering::Relaxed);
            }
            let mut builder = self.http.request(method.clone(), url).bearer_auth(&token);
            if let Some(body) = body {
                builder = builder.json(body);
            }
            let response = match builder.send().await {
                Ok(r) => r,
                Err(e) if method == reqwest::Method::GET => {
                    last = cause(&e);
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                // A search may have been started already: do not repeat it.
                Err(e) => {
                    let url = url.split('?').next().unwrap_or(url).to_owned();
                    return Err(GraphError::GaveUp {
                        url,
                        attempts: attempt + 1,
                        last: cause(&e),
                    });
                }
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = retry_after(&response).unwrap_or_else(|| backoff(attempt));
                if let Some(budget) = self.budget(family) {
                    budget.pause(wait);
                } else {
                    tokio::time::sleep(wait).await;
                }
                last = "429 Too Many Requests".into();
                continue;
            }
            if status.is_server_error() && method != reqwest::Method::GET {
                let message = "the search was not started; run the command again".to_owned();
                return Err(GraphError::Rejected {
                    status: status.as_u16(),
                    code: String::new(),
                    message,
                });
            }
            if status.is_server_error() {
                let wait = retry_after(&response).unwrap_or_else(|| backoff(attempt));
                last = format!("{status}");
                tokio::time::sleep(wait).await;
                continue;
            }
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = format!("connection dropped mid-page: {}", cause(&e));
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            if status == StatusCode::UNAUTHORIZED
                && !refreshed
                && self.auth.invalidate(&token).await
            {
                refreshed = true;
                continue;
            }
            let body: Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) if status.is_success() => {
                    last = format!("unreadable page: {e}");
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(_) => Value::Null,
            };
            if !status.is_success() {
                let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
                let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
                return Err(match status {
                    StatusCode::FORBIDDEN => GraphError::Permission {
                        what: url.to_owned(),
                        message,
                        needs: permission_for(url),
                    },
                    StatusCode::BAD_REQUEST
                        if code == "Directory_ExpiredPageToken"
                            || message.contains("DirectoryPageTokenNotFoundException") =>
                    {
                        GraphError::ExpiredPageToken
                    }
                    StatusCode::UNAUTHORIZED => GraphError::Rejected {
                        status: 401,
                        code,
                        message: format!(
                            "{message} (the token was refused even after renewing it)"
                        ),
                    },
                    _ => GraphError::Rejected {
                        status: status.as_u16(),
                        code,
                        message,
                    },
                });
            }
            return Ok(body);
        }
        Err(GraphError::GaveUp {
            url: url.to_owned(),
            attempts,
            last,
        })
    }
}
