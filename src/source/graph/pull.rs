//! `warroom pull`: every event of the chosen streams in a time window, to
//! NDJSON in Graph's own shape, exactly once, resumable after a kill.
//!
//! Streams page concurrently inside the shared budgets. After each page the
//! new events are appended, flushed to disk, and only then is the
//! checkpoint (`OUT.state.json`: per-stream next link, bytes written)
//! replaced. A restarted pull cuts the file back to the checkpoint, reloads
//! the ids already written, and continues from the saved links, so nothing
//! is lost or written twice. A page token that Graph has forgotten restarts
//! that stream below the oldest event it already holds.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::budget::Family;
use super::client::{GraphClient, GraphError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
    Audit,
    Risk,
    /// Unified Audit Log records, through an audit log query.
    Ual,
    /// A snapshot of the directory (see `snapshot`), not a time window.
    Directory,
}

/// The Unified Audit Log operations the investigation needs: mail read by
/// apps, inbox rules and forwarding, mailbox permissions, consent.
pub const UAL_OPERATIONS: &[&str] = &[
    "MailItemsAccessed",
    "New-InboxRule",
    "Set-InboxRule",
    "UpdateInboxRules",
    "Set-Mailbox",
    "Add-MailboxPermission",
    "Add-RecipientPermission",
    "Consent to application.",
    "Add app role assignment to service principal.",
    "Add delegated permission grant.",
];

impl Stream {
    /// The streams this build pulls, in the contract's order.
    pub const ALL: [Stream; 8] = [
        Stream::Interactive,
        Stream::NonInteractive,
        Stream::ServicePrincipal,
        Stream::ManagedIdentity,
        Stream::Audit,
        Stream::Risk,
        Stream::Ual,
        Stream::Directory,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stream::Interactive => "interactive",
            Stream::NonInteractive => "noninteractive",
            Stream::ServicePrincipal => "serviceprincipal",
            Stream::ManagedIdentity => "managedidentity",
            Stream::Audit => "audit",
            Stream::Risk => "risk",
            Stream::Ual => "ual",
            Stream::Directory => "directory",
        }
    }

    /// Whether the stream is a time window that can be polled again.
    pub fn is_windowed(self) -> bool {
        !matches!(self, Stream::Ual | Stream::Directory)
    }

    /// Parses a `--streams` list.
    pub fn parse_list(text: &str) -> Result<Vec<Stream>, String> {
        let mut streams = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let stream = match name {
                "all" => return Ok(Stream::ALL.to_vec()),
                _ => Stream::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
                    format!("unknown stream \"{name}\" (interactive, noninteractive, serviceprincipal, managedidentity, audit, risk, ual, directory)")
                })?,
            };
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        if streams.is_empty() {
            return Err("no stream named".into());
        }
        Ok(streams)
    }

    pub(crate) fn family(self) -> Family {
        match self {
            Stream::Risk => Family::IdentityProtection,
            Stream::Ual | Stream::Directory => Family::Directory,
            _ => Family::Reports,
        }
    }

    /// The event's time field, used for windows and restarts.
    pub(crate) fn time_field(self) -> &'static str {
        match self {
            Stream::Audit => "activityDateTime",
            Stream::Risk => "detectedDateTime",
            _ => "createdDateTime",
        }
    }

    /// Where a window starts over after Graph forgot its page token:
    /// sign-ins and audits come newest first, so below the oldest event
    /// already held (its whole second; repeats are dropped by id). Risk
    /// detections have no promised order: the window again.
    pub(crate) fn restart_url(
        self,
        graph: &str,
        from: &str,
        to: &str,
        oldest: Option<&str>,
    ) -> String {
        match (self, oldest.and_then(one_second_later)) {
            (Stream::Risk, _) | (_, None) => self.first_url(graph, from, to),
            (_, Some(upper)) => self
                .first_url(graph, from, &upper)
                .replacen("%20le%20", "%20lt%20", 1),
        }
    }

    pub(crate) fn first_url(self, graph: &str, from: &str, to: &str) -> String {
        let field = self.time_field();
        let window = format!("{field} ge {from} and {field} le {to}");
        let (path, extra, top) = match self {
            Stream::Interactive => (
                "beta/auditLogs/signIns",
                " and signInEventTypes/any(t: t eq 'interactiveUser')",
                1000,
            ),
            Stream::NonInteractive => (
                "beta/auditLogs/signIns",
                " and signInEventTypes/any(t: t eq 'nonInteractiveUser')",
                1000,
            ),
            Stream::ServicePrincipal => (
                "beta/auditLogs/signIns",
                " and signInEventTypes/any(t: t eq 'servicePrincipal')",
                1000,
            ),
            Stream::ManagedIdentity => (
                "beta/auditLogs/signIns",
                " and signInEventTypes/any(t: t eq 'managedIdentity')",
                1000,
            ),
            Stream::Audit => ("v1.0/auditLogs/directoryAudits", "", 1000),
            Stream::Risk => ("v1.0/identityProtection/riskDetections", "", 500),
            // Records come from a query (see `ual_records_url`), and the
            // directory from `snapshot`, not from a filtered window.
            Stream::Ual | Stream::Directory => ("v1.0/security/auditLog/queries", "", 1000),
        };
        format!(
            "{}/{path}?$top={top}&$filter={}",
            graph.trim_end_matches('/'),
            encode(&format!("{window}{extra}"))
        )
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters and
/// `:` and `@` (allowed in paths and queries alike).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Graph(#[from] GraphError),
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::File {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StreamState {
    stream: Stream,
    /// The window this entry covers (ISO text); the whole range when absent.
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    /// For `ual`: the audit log query that holds the records.
    #[serde(default)]
    query: Option<String>,
    next: Option<String>,
    done: bool,
    /// The oldest event time written for this stream (ISO text).
    oldest: Option<String>,
    written: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Checkpoint {
    from: String,
    to: String,
    /// Bytes of the output that are complete and counted.
    bytes: u64,
    streams: Vec<StreamState>,
}

pub struct PullRequest {
    pub graph_url: String,
    pub streams: Vec<Stream>,
    pub from: Timestamp,
    pub to: Timestamp,
    /// Window size for `--window`; `None`: one window.
    pub window: Option<jiff::SignedDuration>,
    pub out: PathBuf,
}

/// `[from, to]` in windows of `size`, newest first (the order Graph
/// returns events in); one window when `size` is `None`.
fn split(
    from: Timestamp,
    to: Timestamp,
    size: Option<jiff::SignedDuration>,
) -> Vec<(Timestamp, Timestamp)> {
    let Some(size) = size.filter(|s| s.is_positive()) else {
        return vec![(from, to)];
    };
    let mut windows = Vec::new();
    let mut upper = to;
    while upper > from {
        let lower = upper.checked_sub(size).unwrap_or(from).max(from);
        windows.push((lower, upper));
        upper = lower;
    }
    if windows.is_empty() {
        windows.push((from, to));
    }
    windows
}

#[derive(Debug)]
pub struct Summary {
    pub resumed: bool,
    pub per_stream: Vec<(Stream, u64)>,
    pub duplicates_dropped: u64,
    pub seconds: f64,
}

struct Output {
    file: File,
    path: PathBuf,
    state_path: PathBuf,
    ids: HashSet<String>,
    checkpoint: Checkpoint,
    duplicates: u64,
    /// Set when a write failed: nothing more is appended.
    failed: bool,
}

impl Output {
    /// Appends a page's new events, makes them durable, then moves the
    /// checkpoint past them.
    fn commit(
        &mut self,
        index: usize,
        events: &[Value],
        next: Option<String>,
    ) -> Result<u64, PullError> {
        let stream = self.checkpoint.streams[index].stream;
        let mut text = String::new();
        let mut added = 0;
        let mut oldest: Option<String> = None;
        for event in events {
            let Some(id) = super::snapshot::line_key(event) else {
                continue;
            };
            if let Some(t) = event[stream.time_field()].as_str()
                && oldest.as_deref().is_none_or(|o| t < o)
            {
                oldest = Some(t.to_owned());
            }
            if !self.ids.insert(id) {
                self.duplicates += 1;
                continue;
            }
            text.push_str(&event.to_string());
            text.push('\n');
            added += 1;
        }
        if self.failed {
            return Err(PullError::Refused(
                "an earlier write failed; stopping".into(),
            ));
        }
        let written = self
            .file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Cut back to the last checkpoint so a rerun finds a whole file.
            self.failed = true;
            let _ = self.file.set_len(self.checkpoint.bytes);
            return Err(PullError::File {
                path: self.path.clone(),
                source: e,
            });
        }
        self.checkpoint.bytes += text.len() as u64;
        let state = &mut self.checkpoint.streams[index];
        state.written += added;
        state.done = next.is_none();
        state.next = next;
        if let Some(t) = oldest
            && state.oldest.as_deref().is_none_or(|o| t.as_str() < o)
        {
            state.oldest = Some(t);
        }
        self.save()?;
        Ok(added)
    }

    fn save(&self) -> Result<(), PullError> {
        let tmp = self.state_path.with_extension("tmp");
        let text = serde_json::to_vec_pretty(&self.checkpoint).unwrap_or_default();
        std::fs::write(&tmp, text).map_err(file_error(&tmp))?;
        std::fs::rename(&tmp, &self.state_path).map_err(file_error(&self.state_path))
    }

    fn set_query(&mut self, index: usize, id: &str) -> Result<(), PullError> {
        self.checkpoint.streams[index].query = Some(id.to_owned());
        self.save()
    }

    fn state(&self, index: usize) -> StreamState {
        self.checkpoint.streams[index].clone()
    }

    /// Events written for `stream` across its windows.
    fn written(&self, stream: Stream) -> u64 {
        self.checkpoint
            .streams
            .iter()
            .filter(|s| s.stream == stream)
            .map(|s| s.written)
            .sum()
    }
}

pub fn state_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".state.json");
    out.with_file_name(name)
}

/// Opens the output: fresh, or resumed from its checkpoint.
fn open(request: &PullRequest) -> Result<(Output, bool), PullError> {
    let out = &request.out;
    let state_path = state_path(out);
    if state_path.exists() {
        let text = std::fs::read_to_string(&state_path).map_err(file_error(&state_path))?;
        let checkpoint: Checkpoint = serde_json::from_str(&text).map_err(|e| {
            PullError::Refused(format!(
                "{}: unreadable checkpoint ({e}); remove it to start over",
                state_path.display()
            ))
        })?;
        let mut had: Vec<Stream> = checkpoint.streams.iter().map(|s| s.stream).collect();
        let mut want = request.streams.clone();
        had.sort_by_key(|s| s.name());
        had.dedup();
        want.sort_by_key(|s| s.name());
        if had != want {
            return Err(PullError::Refused(format!(
                "{} holds an unfinished pull of other streams; finish it with the same --streams, or remove {} to start over",
                out.display(),
                state_path.display()
            )));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(out)
            .map_err(file_error(out))?;
        // Drop anything written after the last checkpoint: it is fetched again.
        file.set_len(checkpoint.bytes).map_err(file_error(out))?;
        let mut ids = HashSet::new();
        for line in BufReader::new(&file).lines() {
            let line = line.map_err(file_error(out))?;
            if let Some(id) = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| super::snapshot::line_key(&v))
            {
                ids.insert(id);
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(out)
            .map_err(file_error(out))?;
        let output = Output {
            file,
            path: out.clone(),
            state_path,
            ids,
            checkpoint,
            duplicates: 0,
            failed: false,
        };
        return Ok((output, true));
    }
    if out.exists() && std::fs::metadata(out).map(|m| m.len() > 0).unwrap_or(false) {
        return Err(PullError::Refused(format!(
            "{} already exists and is not an unfinished pull; choose another --out (evidence is never overwritten)",
            out.display()
        )));
    }
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(out)
        .map_err(file_error(out))?;
    let iso = crate::model::de::graph_time;
    let checkpoint = Checkpoint {
        from: iso(request.from),
        to: iso(request.to),
        bytes: 0,
        streams: request
            .streams
            .iter()
            .flat_map(|s| {
                // Audit log queries and snapshots are not windows.
                let windows = if s.is_windowed() {
                    split(request.from, request.to, request.window)
                } else {
                    vec![(request.from, request.to)]
                };
                let whole = windows.len() == 1;
                windows.into_iter().map(move |(from, to)| StreamState {
                    stream: *s,
                    from: (!whole).then(|| iso(from)),
                    to: (!whole).then(|| iso(to)),
                    query: None,
                    next: None,
                    done: false,
                    oldest: None,
                    written: 0,
                })
            })
            .collect(),
    };
    let output = Output {
        file,
        path: out.clone(),
        state_path,
        ids: HashSet::new(),
        checkpoint,
        duplicates: 0,
        failed: false,
    };
    output.save()?;
    Ok((output, false))
}

/// Pulls every stream to the output; `progress` is told after each page.
pub async fn pull(
    client: Arc<GraphClient>,
    request: PullRequest,
    progress: impl Fn(&str) + Send + Sync + 'static,
) -> Result<Summary, PullError> {
    let started = Instant::now();
    let (output, resumed) = open(&request)?;
    let range = (output.checkpoint.from.clone(), output.checkpoint.to.clone());
    let entries: Vec<(usize, Stream)> = output
        .checkpoint
        .streams
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.stream))
        .collect();
    let output = Arc::new(Mutex::new(output));
    let progress: Arc<Progress> = Arc::new(progress);
    let mut tasks = tokio::task::JoinSet::new();
    // Streams run side by side; a stream's windows run one after another,
    // newest first, each resumable on its own.
    for stream in request.streams.iter().copied() {
        let windows: Vec<usize> = entries
            .iter()
            .filter(|(_, s)| *s == stream)
            .map(|(i, _)| *i)
            .collect();
        let job = Job {
            client: client.clone(),
            output: output.clone(),
            progress: progress.clone(),
            graph: request.graph_url.clone(),
            range: range.clone(),
        };
        tasks.spawn(async move {
            for index in windows {
                job.window(index).await?;
            }
            Ok::<(), PullError>(())
        });
    }
    let mut first_error = None;
    while let Some(result) = tasks.join_next().await {
        let outcome = result
            .unwrap_or_else(|e| Err(PullError::Refused(format!("a stream task failed: {e}"))));
        if let Err(e) = outcome
            && first_error.is_none()
        {
            first_error = Some(e);
            // Stop the others; the checkpoint lets a rerun finish the job.
            tasks.abort_all();
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    let out = output.lock().unwrap_or_else(|p| p.into_inner());
    std::fs::remove_file(&out.state_path).map_err(file_error(&out.state_path))?;
    Ok(Summary {
        resumed,
        per_stream: request
            .streams
            .iter()
            .map(|s| (*s, out.written(*s)))
            .collect(),
        duplicates_dropped: out.duplicates,
        seconds: started.elapsed().as_secs_f64(),
    })
}

type Progress = dyn Fn(&str) + Send + Sync;

/// What one stream's task needs.
struct Job {
    client: Arc<GraphClient>,
    output: Arc<Mutex<Output>>,
    progress: Arc<Progress>,
    graph: String,
    /// The whole range (ISO text), for entries that are not windows.
    range: (String, String),
}

impl Job {
    fn output(&self) -> std::sync::MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pulls one checkpoint entry (a stream's window) to the end.
    async fn window(&self, index: usize) -> Result<(), PullError> {
        let state = self.output().state(index);
        if state.done {
            return Ok(());
        }
        let stream = state.stream;
        let (graph, client) = (self.graph.as_str(), &*self.client);
        let from = state.from.clone().unwrap_or_else(|| self.range.0.clone());
        let to = state.to.clone().unwrap_or_else(|| self.range.1.clone());
        if stream == Stream::Directory {
            // A snapshot is small next to the logs: an interrupted one is
            // read again whole and what is already written is dropped by key.
            super::snapshot::snapshot(
                client,
                graph,
                |lines| {
                    self.output()
                        .commit(index, &lines, Some("snapshot".into()))
                        .map(drop)
                },
                &*self.progress,
            )
            .await?;
            self.output().commit(index, &[], None)?;
            return Ok(());
        }
        let mut url = match (stream, state.next) {
            (_, Some(next)) => rebase(&next, graph),
            (Stream::Ual, None) => {
                let query = match state.query {
                    Some(id) => id,
                    None => {
                        let id = start_ual_query(client, graph, &from, &to).await?;
                        self.output().set_query(index, &id)?;
                        id
                    }
                };
                wait_for_query(client, graph, &query, &*self.progress).await?;
                ual_records_url(graph, &query)
            }
            (_, None) => stream.first_url(graph, &from, &to),
        };
        let mut restarts = 0;
        loop {
            let page = match client.page(&url, stream.family()).await {
                Ok(page) => page,
                Err(GraphError::ExpiredPageToken) if stream == Stream::Ual => {
                    // Page the query's records again from the start; what
                    // is already written is dropped by id.
                    match self.output().state(index).query {
                        Some(id) => url = ual_records_url(graph, &id),
                        None => return Err(GraphError::ExpiredPageToken.into()),
                    }
                    continue;
                }
                Err(GraphError::ExpiredPageToken) => {
                    restarts += 1;
                    if restarts > MAX_RESTARTS {
                        return Err(PullError::Refused(format!(
                            "{}: Graph kept forgetting page tokens ({MAX_RESTARTS} restarts)",
                            stream.name()
                        )));
                    }
                    let oldest = self.output().state(index).oldest;
                    url = stream.restart_url(graph, &from, &to, oldest.as_deref());
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            // Links are followed only on the Graph host warroom was given:
            // the token never goes anywhere else.
            let next = page.next_link.as_deref().map(|link| rebase(link, graph));
            let line = {
                let mut out = self.output();
                out.commit(index, &page.value, next.clone())?;
                let total: u64 = out.checkpoint.streams.iter().map(|s| s.written).sum();
                format!("{total} events ({} {})", stream.name(), out.written(stream))
            };
            (self.progress)(&line);
            match next {
                Some(n) => url = n,
                None => return Ok(()),
            }
        }
    }
}

/// Starts an audit log query over the window for the operations the
/// investigation needs; returns its id.
pub(crate) async fn start_ual_query(
    client: &GraphClient,
    graph: &str,
    from: &str,
    to: &str,
) -> Result<String, PullError> {
    let body = serde_json::json!({
        "@odata.type": "#microsoft.graph.security.auditLogQuery",
        "displayName": format!("warroom {from} to {to}"),
        "filterStartDateTime": from,
        "filterEndDateTime": to,
        "operationFilters": UAL_OPERATIONS,
    });
    let url = format!(
        "{}/v1.0/security/auditLog/queries",
        graph.trim_end_matches('/')
    );
    let query = client.start_search(&url, &body).await?;
    query["id"].as_str().map(str::to_owned).ok_or_else(|| {
        PullError::Refused("Graph accepted the audit log query but returned no id".into())
    })
}

pub(crate) fn ual_records_url(graph: &str, query: &str) -> String {
    format!(
        "{}/v1.0/security/auditLog/queries/{query}/records?$top=1000",
        graph.trim_end_matches('/')
    )
}

/// Polls an audit log query until it has succeeded.
pub(crate) async fn wait_for_query(
    client: &GraphClient,
    graph: &str,
    id: &str,
    progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), PullError> {
    let url = format!(
        "{}/v1.0/security/auditLog/queries/{id}",
        graph.trim_end_matches('/')
    );
    let mut wait = std::time::Duration::from_millis(500);
    let deadline = std::time::Instant::now() + QUERY_DEADLINE;
    loop {
        if std::time::Instant::now() > deadline {
            return Err(PullError::Refused(format!(
                "the audit log query {id} has not finished after {} minutes; run the command again later to pick it up",
                QUERY_DEADLINE.as_secs() / 60
            )));
        }
        let query = client.get(&url, Family::Directory).await?;
        match query["status"].as_str() {
            Some("succeeded") => return Ok(()),
            Some("failed" | "cancelled") => {
                return Err(PullError::Refused(format!(
                    "the audit log query {id} ended as {}",
                    query["status"]
                )));
            }
            status => progress(&format!("audit log query {}", status.unwrap_or("pending"))),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(15));
    }
}

/// `link` with its scheme and host replaced by `graph`'s: a next link
/// from the service (or an edited checkpoint) cannot send the token to
/// another host, and a resumed pull follows a moved Graph URL.
pub(crate) fn rebase(link: &str, graph: &str) -> String {
    fn split(url: &str) -> (&str, &str) {
        let start = url.find("://").map_or(0, |i| i + 3);
        let end = url[start..].find('/').map_or(url.len(), |i| start + i);
        url.split_at(end)
    }
    let (origin, _) = split(graph.trim_end_matches('/'));
    let (_, rest) = split(link);
    format!("{origin}{rest}")
}

/// How long to wait for an audit log query (large tenants take minutes).
const QUERY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// How many times one stream may start over after forgotten page tokens.
pub(crate) const MAX_RESTARTS: u32 = 50;

/// The second after an event time, to bound a restart with `lt` (Graph's
/// times have sub-second precision; the text may not).
pub(crate) fn one_second_later(time: &str) -> Option<String> {
    let t = crate::model::de::parse_time(time)?;
    let next = t.checked_add(jiff::SignedDuration::from_secs(1)).ok()?;
    Some(crate::model::de::graph_time(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_durations() {
        assert_eq!(
            Stream::parse_list("interactive,audit").unwrap(),
            vec![Stream::Interactive, Stream::Audit]
        );
        assert_eq!(Stream::parse_list("all").unwrap().len(), 8);
        assert_eq!(
            Stream::parse_list("directory").unwrap(),
            vec![Stream::Directory]
        );
        assert!(
            Stream::parse_list("bogus")
                .unwrap_err()
                .contains("unknown stream")
        );
    }

    #[test]
    fn windows_cover_the_range_newest_first() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        let from = t("2026-11-01T00:00:00Z");
        let to = t("2026-11-03T12:00:00Z");
        let day = Some(jiff::SignedDuration::from_hours(24));
        let windows = split(from, to, day);
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0], (t("2026-11-02T12:00:00Z"), to));
        assert_eq!(windows[2], (from, t("2026-11-01T12:00:00Z")));
        for pair in windows.windows(2) {
            assert_eq!(pair[0].0, pair[1].1, "gap or overlap between windows");
        }
        assert_eq!(split(from, to, None), vec![(from, to)]);
    }

    #[test]
    fn next_links_stay_on_the_graph_host() {
        assert_eq!(
            rebase(
                "https://evil.example:8443/v1.0/users?$skiptoken=x",
                "http://127.0.0.1:5000"
            ),
            "http://127.0.0.1:5000/v1.0/users?$skiptoken=x"
        );
        assert_eq!(
            rebase(
                "https://graph.microsoft.com/beta/x?a=b",
                "https://graph.microsoft.com/"
            ),
            "https://graph.microsoft.com/beta/x?a=b"
        );
        assert_eq!(
            one_second_later("2026-11-25T12:04:15Z").as_deref(),
            Some("2026-11-25T12:04:16Z")
        );
    }

    #[test]
    fn first_urls_bound_the_window() {
        let url = Stream::NonInteractive.first_url(
            "http://h",
            "2026-01-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
        );
        assert!(url.starts_with("http://h/beta/auditLogs/signIns?$top=1000&$filter=createdDateTime%20ge%202026-01-01T00:00:00Z"));
        assert!(url.contains("nonInteractiveUser"));
        assert!(
            Stream::Risk
                .first_url("http://h", "a", "b")
                .contains("$top=500")
        );
    }
}
