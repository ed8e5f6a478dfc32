//! The Log Analytics query API (`POST /v1/workspaces/{id}/query`, a token
//! for `https://api.loganalytics.io`), within its documented limits: 200
//! requests per 30 seconds per caller (a 429 is waited out as
//! `Retry-After` says), at most 5 queries at once, results cut at 500,000
//! rows or 64 MB (said as a `PartialError`, which the caller answers by
//! splitting the time range), 10 minutes a query. Queries only read, so a
//! failed one is safe to send again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value};

use crate::config::Settings;
use crate::source::graph::auth::{AuthError, Authenticator};
use crate::source::graph::client::cause;

/// Queries in flight at once (the service runs 5 per caller).
pub const CONCURRENT: usize = 5;
const MAX_ATTEMPTS: u32 = 8;
const QUERY_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The query was refused as written (`SyntaxError`, `SemanticError`).
    #[error("{code}: {message}")]
    Query { code: String, message: String },
    #[error(
        "the workspace refused access ({message}); the identity needs Log Analytics Reader (or Microsoft.OperationalInsights/workspaces/query/read) on workspace {workspace}"
    )]
    Denied { workspace: String, message: String },
    #[error("no workspace {0}: check the workspace id (a GUID, from the workspace's overview)")]
    NotFound(String),
    #[error("gave up after {attempts} attempts; last: {last}")]
    GaveUp { attempts: u32, last: String },
}

/// One query's answer: its rows by column name, and whether the service
/// cut the result (the rows that came are kept).
#[derive(Debug, Default)]
pub struct Answer {
    pub rows: Vec<Map<String, Value>>,
    pub cut: Option<String>,
}

#[derive(Debug, Default)]
pub struct Stats {
    pub queries: AtomicU64,
    pub throttled: AtomicU64,
    pub retries: AtomicU64,
    pub rows: AtomicU64,
}

pub struct WorkspaceClient {
    http: reqwest::Client,
    auth: Authenticator,
    url: String,
    pub workspace: String,
    pub stats: Stats,
}

impl WorkspaceClient {
    pub fn connect(settings: &Settings, workspace: &str) -> Result<Self, AuthError> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("warroom/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(QUERY_TIMEOUT + Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthError::Setup(format!("cannot start the HTTP client: {e}")))?;
        let auth = Authenticator::for_resource(
            settings,
            http.clone(),
            settings.cloud.log_analytics_url(),
        )?;
        let base = settings.log_analytics_url();
        Ok(Self {
            http,
            auth,
            url: format!(
                "{}/v1/workspaces/{}/query",
                base.trim_end_matches('/'),
                workspace
            ),
            workspace: workspace.to_owned(),
            stats: Stats::default(),
        })
    }

    /// Runs one query, retrying what can be retried.
    pub async fn query(&self, kql: &str) -> Result<Answer, WorkspaceError> {
        let body = serde_json::json!({ "query": kql });
        let mut last = String::new();
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
            }
            let token = self.auth.token().await?;
            self.stats.queries.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .post(&self.url)
                .bearer_auth(&token)
                // Ask the service to wait as long as it allows.
                .header("Prefer", "wait=600")
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = cause(&e);
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let status = response.status();
            let wait = retry_after(&response);
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    last = format!("{status}, then the connection dropped: {}", cause(&e));
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
            };
            let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let error = &answer["error"];
            let inner = |field: &str| {
                error["innererror"][field]
                    .as_str()
                    .or_else(|| error[field].as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            match status {
                s if s.is_success() => {
                    if answer.is_null() {
                        last = format!("{status} with an unreadable answer");
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    return Ok(read_answer(&answer, &self.stats));
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    last = "throttled (429)".into();
                    tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt))).await;
                }
                StatusCode::UNAUTHORIZED if self.auth.invalidate(&token).await => {
                    last = "the token expired".into();
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(WorkspaceError::Denied {
                        workspace: self.workspace.clone(),
                        message: format!("{status} {}", error["message"].as_str().unwrap_or("")),
                    });
                }
                StatusCode::NOT_FOUND => {
                    return Err(WorkspaceError::NotFound(self.workspace.clone()));
                }
                StatusCode::BAD_REQUEST => {
                    return Err(WorkspaceError::Query {
                        code: inner("code"),
                        message: inner("message"),
                    });
                }
                _ => {
                    last = format!("{status} {}", error["message"].as_str().unwrap_or(""));
                    tokio::time::sleep(wait.unwrap_or_else(|| backoff(attempt))).await;
                }
            }
        }
        Err(WorkspaceError::GaveUp {
            attempts: MAX_ATTEMPTS,
            last,
        })
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.min(6));
    base.min(Duration::from_secs(30))
        .mul_f64(0.8 + fastrand::f64() * 0.4)
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let secs: f64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(300.0)))
}

/// The first table's rows as maps; a `PartialError` (a cut result) said.
fn read_answer(answer: &Value, stats: &Stats) -> Answer {
    let table = &answer["tables"][0];
    let columns: Vec<String> = table["columns"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Map<String, Value>> = table["rows"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(Value::as_array)
                .map(|r| columns.iter().cloned().zip(r.iter().cloned()).collect())
                .collect()
        })
        .unwrap_or_default();
    stats.rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
    let cut = answer["error"].is_object().then(|| {
        let e = &answer["error"];
        let detail = e["details"][0]["message"]
            .as_str()
            .or_else(|| e["message"].as_str())
            .unwrap_or("the result was cut");
        detail.to_owned()
    });
    Answer { rows, cut }
}
