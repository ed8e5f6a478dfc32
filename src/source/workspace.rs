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

/// Whether `text` is a GUID (a workspace id is one).
pub fn is_guid(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

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

/// One query's answer: its columns and rows, and whether the service cut
/// the result (the rows that came are kept).
#[derive(Debug, Default)]
pub struct Answer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    pub cut: Option<String>,
}

impl Answer {
    /// The rows as maps of column to value.
    pub fn into_maps(self) -> Vec<Map<String, Value>> {
        let columns = self.columns;
        self.rows
            .into_iter()
            .map(|r| columns.iter().cloned().zip(r).collect())
            .collect()
    }
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
        self.run(kql, |bytes| {
            let answer: Value = serde_json::from_slice(bytes).ok()?;
            Some(read_answer(answer, &self.stats))
        })
        .await
    }

    /// Runs one query, its cells kept as the JSON text that came (a pull
    /// writes them out as they are).
    pub async fn query_raw(&self, kql: &str) -> Result<RawAnswer, WorkspaceError> {
        self.run(kql, |bytes| {
            let mut body: RawBody = serde_json::from_slice(bytes).ok()?;
            let table = if body.tables.is_empty() {
                RawTable::default()
            } else {
                body.tables.swap_remove(0)
            };
            self.stats
                .rows
                .fetch_add(table.rows.len() as u64, Ordering::Relaxed);
            Some(RawAnswer {
                columns: table.columns.into_iter().map(|c| c.name).collect(),
                rows: table.rows,
                cut: body.error.map(|e| cut_detail(&e)),
            })
        })
        .await
    }

    async fn run<T>(
        &self,
        kql: &str,
        read: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<T, WorkspaceError> {
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
            if status.is_success() {
                match read(&bytes) {
                    Some(answer) => return Ok(answer),
                    None => {
                        last = format!("{status} with an unreadable answer");
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                }
            }
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

/// What a `PartialError` says cut the result.
fn cut_detail(e: &Value) -> String {
    e["details"][0]["message"]
        .as_str()
        .or_else(|| e["message"].as_str())
        .unwrap_or("the result was cut")
        .to_owned()
}

/// A query's answer with each cell as the JSON text that came.
#[derive(Debug, Default)]
pub struct RawAnswer {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Box<serde_json::value::RawValue>>>,
    pub cut: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawBody {
    #[serde(default)]
    tables: Vec<RawTable>,
    error: Option<Value>,
}

#[derive(serde::Deserialize, Default)]
struct RawTable {
    #[serde(default)]
    columns: Vec<RawColumn>,
    #[serde(default)]
    rows: Vec<Vec<Box<serde_json::value::RawValue>>>,
}

#[derive(serde::Deserialize)]
struct RawColumn {
    name: String,
}

/// The first table's columns and rows; a `PartialError` (a cut result) said.
fn read_answer(mut answer: Value, stats: &Stats) -> Answer {
    let cut = answer["error"]
        .is_object()
        .then(|| cut_detail(&answer["error"]));
    let table = answer["tables"][0].take();
    let columns: Vec<String> = table["columns"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Vec<Value>> = match table {
        Value::Object(mut map) => match map.remove("rows") {
            Some(Value::Array(rows)) => rows
                .into_iter()
                .filter_map(|r| match r {
                    Value::Array(cells) => Some(cells),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    stats.rows.fetch_add(rows.len() as u64, Ordering::Relaxed);
    Answer { columns, rows, cut }
}
