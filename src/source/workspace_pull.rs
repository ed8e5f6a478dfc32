//! `pull --workspace`: raw events from a Log Analytics workspace to NDJSON,
//! one row a line as the workspace holds it (the importers read these rows
//! as they read a Sentinel export). Each table is read in windows of time
//! that grow while results come back small and halve when the service
//! cuts one at its row or size limit; a window is written whole and then
//! checkpointed (`OUT.state.json`), so a killed pull reruns from the last
//! window written, with nothing lost or repeated.

use std::io::Write;

use futures_util::StreamExt;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::workspace::{WorkspaceClient, WorkspaceError};

/// The first window asked for; it doubles while answers are small.
const FIRST_WINDOW: SignedDuration = SignedDuration::from_hours(24);
const SHORTEST_WINDOW: SignedDuration = SignedDuration::from_secs(1);
/// Rows past which a window is not widened (the service cuts at 500,000).
const COMFORTABLE_ROWS: usize = 100_000;

/// The tables each of `pull`'s streams reads from a workspace.
pub fn tables_for(stream: &str) -> &'static [&'static str] {
    match stream {
        "interactive" => &["SigninLogs"],
        "noninteractive" => &["AADNonInteractiveUserSignInLogs"],
        "serviceprincipal" => &["AADServicePrincipalSignInLogs"],
        "managedidentity" => &["AADManagedIdentitySignInLogs"],
        "audit" => &["AuditLogs"],
        "risk" => &["AADUserRiskEvents", "AADServicePrincipalRiskEvents"],
        "ual" => &["OfficeActivity"],
        _ => &[],
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkspacePullError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Refused(String),
}

/// Where every table stands.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    workspace: String,
    from: Timestamp,
    to: Timestamp,
    /// Bytes of the output written and checkpointed.
    bytes: u64,
    tables: Vec<TableState>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct TableState {
    table: String,
    /// Rows up to (not including) this time are written.
    done_until: Timestamp,
    rows: u64,
    /// The table is not in the workspace.
    missing: bool,
    /// Seconds whose rows the service would not return whole.
    #[serde(default)]
    short: u64,
}

pub struct Summary {
    pub per_table: Vec<(String, u64)>,
    /// Tables with seconds the service would not return whole.
    pub short: Vec<(String, u64)>,
    pub missing: Vec<String>,
    pub seconds: f64,
    pub resumed: bool,
    pub queries: u64,
}

fn file_error(path: &Path) -> impl Fn(std::io::Error) -> WorkspacePullError + '_ {
    move |e| WorkspacePullError::File {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Pulls `tables` between `from` and `to` into `out`, resuming a pull of
/// the same workspace and range.
pub async fn pull(
    client: &WorkspaceClient,
    tables: &[&str],
    from: Timestamp,
    to: Timestamp,
    out: &Path,
    progress: impl Fn(&str),
) -> Result<Summary, WorkspacePullError> {
    let started = std::time::Instant::now();
    let state_path = crate::source::graph::pull::state_path(out);
    let (checkpoint, resumed) = match std::fs::read_to_string(&state_path) {
        Ok(text) => {
            let c: Checkpoint = serde_json::from_str(&text).map_err(|e| {
                WorkspacePullError::Refused(format!(
                    "{}: unreadable checkpoint ({e}); remove it to start over",
                    state_path.display()
                ))
            })?;
            if !c.workspace.eq_ignore_ascii_case(&client.workspace) {
                return Err(WorkspacePullError::Refused(format!(
                    "{} holds a pull from workspace {}, not {}: choose another --out",
                    out.display(),
                    c.workspace,
                    client.workspace
                )));
            }
            (c, true)
        }
        Err(_) => (
            Checkpoint {
                workspace: client.workspace.clone(),
                from,
                to,
                bytes: 0,
                tables: tables
                    .iter()
                    .map(|t| TableState {
                        table: (*t).to_owned(),
                        done_until: from,
                        rows: 0,
                        missing: false,
                        short: 0,
                    })
                    .collect(),
            },
            false,
        ),
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(out)
        .map_err(file_error(out))?;
    // Anything after the checkpoint is asked for again.
    file.set_len(checkpoint.bytes).map_err(file_error(out))?;
    let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
    std::io::Seek::seek(&mut file, std::io::SeekFrom::End(0)).map_err(file_error(out))?;
    let queries_before = client
        .stats
        .queries
        .load(std::sync::atomic::Ordering::Relaxed);
    // Tables are read side by side (the service runs 5 queries at once);
    // each window is appended whole, then checkpointed.
    let shared = std::sync::Mutex::new(Shared { file, checkpoint });
    let count = shared
        .lock()
        .map(|s| s.checkpoint.tables.len())
        .unwrap_or(0);
    let jobs =
        (0..count).map(|index| pull_table(client, &shared, index, out, &state_path, &progress));
    let results: Vec<Result<(), WorkspacePullError>> = futures_util::stream::iter(jobs)
        .buffer_unordered(super::workspace::CONCURRENT)
        .collect()
        .await;
    results.into_iter().collect::<Result<Vec<()>, _>>()?;
    let Shared { checkpoint, .. } = shared
        .into_inner()
        .map_err(|_| WorkspacePullError::Refused("a writer failed part-way".into()))?;
    let _ = std::fs::remove_file(&state_path);
    Ok(Summary {
        per_table: checkpoint
            .tables
            .iter()
            .filter(|t| !t.missing)
            .map(|t| (t.table.clone(), t.rows))
            .collect(),
        short: checkpoint
            .tables
            .iter()
            .filter(|t| t.short > 0)
            .map(|t| (t.table.clone(), t.short))
            .collect(),
        missing: checkpoint
            .tables
            .iter()
            .filter(|t| t.missing)
            .map(|t| t.table.clone())
            .collect(),
        seconds: started.elapsed().as_secs_f64(),
        resumed,
        queries: client
            .stats
            .queries
            .load(std::sync::atomic::Ordering::Relaxed)
            - queries_before,
    })
}

/// The output and its checkpoint, shared by the tables' readers.
struct Shared {
    file: std::io::BufWriter<std::fs::File>,
    checkpoint: Checkpoint,
}

/// Reads one table to the end of the range, window by window.
async fn pull_table(
    client: &WorkspaceClient,
    shared: &std::sync::Mutex<Shared>,
    index: usize,
    out: &Path,
    state_path: &Path,
    progress: &impl Fn(&str),
) -> Result<(), WorkspacePullError> {
    let lock = || {
        shared
            .lock()
            .map_err(|_| WorkspacePullError::Refused("a writer failed part-way".into()))
    };
    let mut window = FIRST_WINDOW;
    // Rows the service returned when it last cut a result: windows grow
    // only while answers stay well below it.
    let mut capacity = COMFORTABLE_ROWS;
    loop {
        let (state, to) = {
            let s = lock()?;
            (s.checkpoint.tables[index].clone(), s.checkpoint.to)
        };
        if state.missing || state.done_until >= to {
            return Ok(());
        }
        let end = (state.done_until + window).min(to);
        // Oldest first, so a result cut at the service's limit is a whole
        // prefix of the window: it is kept, and the next window starts
        // where it ends.
        let query = format!(
            "{} | where TimeGenerated >= datetime({}) and TimeGenerated < datetime({}) | sort by TimeGenerated asc",
            state.table,
            crate::model::de::graph_time(state.done_until),
            crate::model::de::graph_time(end)
        );
        let mut answer = match client.query_raw(&query).await {
            Ok(a) => a,
            Err(WorkspaceError::Query { message, .. })
                if message.contains("Failed to resolve table") =>
            {
                let mut s = lock()?;
                s.checkpoint.tables[index].missing = true;
                save(state_path, &s.checkpoint)?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut end = end;
        let mut short = false;
        if answer.cut.is_some() {
            let at = answer.columns.iter().position(|c| c == "TimeGenerated");
            let time_of = |row: &Vec<Box<serde_json::value::RawValue>>| {
                let text: String = serde_json::from_str(at.and_then(|i| row.get(i))?.get()).ok()?;
                crate::model::de::parse_time(&text)
            };
            match answer.rows.last().and_then(time_of) {
                // Rows before the last instant that came are whole.
                Some(last) if last > state.done_until => {
                    capacity = capacity.min(answer.rows.len());
                    answer.rows.retain(|r| time_of(r).is_some_and(|t| t < last));
                    window = last.duration_since(state.done_until);
                    end = last;
                }
                _ if window > SHORTEST_WINDOW => {
                    window = (window / 2).max(SHORTEST_WINDOW);
                    continue;
                }
                // One second holds more than the service returns at once.
                _ => short = true,
            }
        }
        let text = lines(&answer, &state.table);
        let written = answer.rows.len() as u64;
        let mut s = lock()?;
        s.file.write_all(text.as_bytes()).map_err(file_error(out))?;
        s.file.flush().map_err(file_error(out))?;
        s.file.get_ref().sync_data().map_err(file_error(out))?;
        s.checkpoint.bytes += text.len() as u64;
        let t = &mut s.checkpoint.tables[index];
        t.done_until = end;
        t.rows += written;
        t.short += u64::from(short);
        let line = format!(
            "{}: {} rows to {}",
            t.table,
            t.rows,
            crate::model::de::graph_time(end)
        );
        save(state_path, &s.checkpoint)?;
        drop(s);
        progress(&line);
        if (written as usize) < capacity / 2 {
            window *= 2;
        }
    }
}

/// The rows as NDJSON objects of their non-empty columns, each naming
/// its table (`Type`) as an export's rows do.
fn lines(answer: &super::workspace::RawAnswer, table: &str) -> String {
    let mut text = String::new();
    let has_type = answer.columns.iter().any(|c| c == "Type");
    let names: Vec<String> = answer
        .columns
        .iter()
        .map(|c| serde_json::Value::from(c.as_str()).to_string())
        .collect();
    for row in &answer.rows {
        text.push('{');
        let mut first = true;
        for (column, value) in names.iter().zip(row) {
            let value = value.get();
            if value == "null" || value == "\"\"" {
                continue;
            }
            if !first {
                text.push(',');
            }
            first = false;
            text.push_str(column);
            text.push(':');
            text.push_str(value);
        }
        if !has_type {
            if !first {
                text.push(',');
            }
            text.push_str("\"Type\":");
            text.push_str(&serde_json::Value::from(table).to_string());
        }
        text.push_str("}\n");
    }
    text
}

fn save(path: &Path, checkpoint: &Checkpoint) -> Result<(), WorkspacePullError> {
    let text = serde_json::to_vec_pretty(checkpoint).unwrap_or_default();
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(file_error(&tmp))?;
    std::fs::rename(&tmp, path).map_err(file_error(path))
}
