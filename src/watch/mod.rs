//! The live pipeline the console and `warroom watch` share: history
//! first, then live, for every stream; the same engine `scan` runs, set
//! up the same way; what lands kept in the case with each stream's
//! checkpoint, so a restart continues where it stopped and never fetches
//! an event twice.
//!
//! Stream tasks (`history`, `ual`) fetch pages and hand them, with their
//! new checkpoint, to one collector (`run`), which drops repeats, keeps
//! the rest in the case, feeds the detections (`judge`) and reports to
//! whoever watches: the console's panes or `watch`'s output.

pub mod checkpoint;
mod history;
pub mod judge;
mod posture;
mod ual;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::detect::Finding;
use crate::source::graph::GraphClient;
use crate::source::graph::pull::Stream;
use checkpoint::Checkpoint;

pub use judge::{Input, Rules};

/// What is watched: the four sign-in streams, directory audits, risk
/// detections and the Unified Audit Log (mail access, inbox rules,
/// forwarding, mailbox permissions, consent).
pub const STREAMS: [Stream; 7] = [
    Stream::Interactive,
    Stream::NonInteractive,
    Stream::ServicePrincipal,
    Stream::ManagedIdentity,
    Stream::Audit,
    Stream::Risk,
    Stream::Ual,
];

/// Five report streams polling every 15 s use two thirds of the reports
/// budget (5 requests per 10 s), leaving room for pages of a busy minute.
pub const POLL_INTERVAL: Duration = Duration::from_secs(15);

/// The reports family's budget: 5 requests per 10 seconds.
const REPORTS_PER_SECOND: f64 = 0.5;

/// How far back each poll looks again for sign-ins Entra logged late.
pub const OVERLAP: SignedDuration = SignedDuration::from_mins(5);

/// How often the directory is snapshotted again, to judge the tenant's
/// posture and compare it with the case's first snapshot.
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// The history a case backfills unless told otherwise: the sign-in
/// logs' retention in Entra ID P1/P2.
pub const DEFAULT_HISTORY: SignedDuration = SignedDuration::from_hours(30 * 24);

/// How much history to fetch: `--since`, else the configuration's
/// `[case] history`, else 30 days with a case and 1 day without one
/// (events then live in memory only, for one run).
pub fn history_window(
    since: Option<&str>,
    configured: Option<&str>,
    with_case: bool,
) -> Result<SignedDuration, String> {
    let chosen = since
        .map(|s| (s, "--since"))
        .or(configured.map(|s| (s, "[case] history")));
    let Some((text, whence)) = chosen else {
        return Ok(if with_case {
            DEFAULT_HISTORY
        } else {
            SignedDuration::from_hours(24)
        });
    };
    match crate::model::duration::parse_duration(text) {
        Ok(secs) if secs > 0 => Ok(SignedDuration::from_secs(secs)),
        Ok(_) => Err(format!("{whence} must be longer than zero")),
        Err(e) => Err(format!("{whence} {e}")),
    }
}

pub struct Setup {
    pub graph_url: String,
    /// How far back history starts.
    pub history: SignedDuration,
    pub streams: Vec<Stream>,
    /// Where events and checkpoints are kept; without one they live in
    /// memory for this run only.
    pub case: Option<Arc<crate::case::Unlocked>>,
    pub rules: Rules,
    /// Evidence files read once into the detections.
    pub evidence: Vec<std::path::PathBuf>,
    /// A directory of evidence made for this run, removed once read.
    pub throwaway_evidence: Option<std::path::PathBuf>,
    /// Take directory snapshots and judge the tenant's posture.
    pub posture: bool,
    /// The team's triage decisions and own writes, as they change.
    pub verdicts: Option<watch::Receiver<crate::detect::own::Team>>,
    /// How often live streams poll (`POLL_INTERVAL` but in tests).
    pub interval: Duration,
}

/// Whether a stream is still fetching its history or following live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    History,
    Live,
}

/// How one stream is doing.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub stream: Stream,
    pub phase: Phase,
    /// New events kept, history and live (repeats not counted).
    pub events: u64,
    /// Events read back from the case when it opened.
    pub stored: u64,
    /// The history window, and how far down it the pages have come.
    pub history_from: Timestamp,
    pub history_to: Timestamp,
    pub covered_from: Option<Timestamp>,
    /// History events per second this run, and the time left at that pace.
    pub rate: f64,
    pub eta_secs: Option<u64>,
    pub last_success: Option<Timestamp>,
    /// Seconds between now and the newest event, once live.
    pub lag_secs: Option<i64>,
    /// Polls failed in a row, and the last failure.
    pub failures: u32,
    pub last_error: Option<String>,
    /// Requests in the stream's budget window, and the window's limit.
    pub budget: Option<(usize, usize)>,
    /// Seconds every stream has waited for the request budget, and 429s.
    pub budget_wait_secs: u64,
    pub throttled: u64,
}

/// What the pipeline tells whoever watches it.
#[derive(Debug)]
pub enum Report {
    /// Sign-in events for the feed: kept ones read back, then new ones.
    SignIns(Vec<Value>),
    Progress(Progress),
    /// Every finding, whenever one appears or changes.
    Findings(Vec<Finding>),
    /// Something the user should know (a segment that did not open, a
    /// failed save); the pipeline goes on.
    Problem(String),
    /// Every stream's history is in and judged.
    CaughtUp(CaughtUp),
    /// The emergency accounts the latest directory snapshot shows
    /// (standing Global Administrators left out of conditional access):
    /// the plan never locks them out on its own.
    Emergency(std::collections::BTreeSet<String>),
}

/// How the history went, once it is in.
#[derive(Clone, Debug, PartialEq)]
pub struct CaughtUp {
    pub seconds: f64,
    /// Events kept this run (repeats not counted).
    pub events: u64,
    /// Requests of the reports family, and the share of its budget (5 per
    /// 10 s) they used over the history's time.
    pub reports_requests: u64,
    pub budget_use: f64,
}

/// The team's write a journal record holds, when Graph accepted it (or
/// its outcome is unknown: it may have happened); dry runs and refusals
/// wrote nothing.
pub fn own_write(record: &crate::case::record::Record) -> Option<crate::detect::own::OwnWrite> {
    let crate::case::record::Body::Action {
        action,
        object_id,
        object_name,
        outcome,
        ..
    } = &record.body
    else {
        return None;
    };
    if !matches!(outcome.as_str(), "done" | "unknown") {
        return None;
    }
    Some(crate::detect::own::OwnWrite {
        action: action.clone(),
        object_id: object_id.clone(),
        object_name: object_name.clone(),
        at: record.time.parse().ok()?,
    })
}

/// What stream tasks hand the collector.
pub(crate) enum Landed {
    /// A page, and where its stream stands once it is kept.
    Page {
        stream: Stream,
        events: Vec<Value>,
        checkpoint: Checkpoint,
        phase: Phase,
    },
    /// A stream's history is all in.
    HistoryDone(Stream),
    /// A live poll (or query) finished whole.
    Polled(Stream),
    /// A request failed after its retries; the stream tries again.
    Failed { stream: Stream, error: String },
}

/// Runs the pipeline until `stop` turns true or `tx` is dropped.
pub async fn run(
    client: Arc<GraphClient>,
    setup: Setup,
    tx: mpsc::Sender<Report>,
    stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let now = Timestamp::now();
    let since = now
        .checked_sub(setup.history)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let judge = judge::start(&setup.rules, tx.clone());
    if let (Some(judge), Some(mut verdicts)) = (&judge, setup.verdicts.clone()) {
        let judge = judge.clone();
        let _ = judge.send(Input::Team(verdicts.borrow().clone()));
        tokio::spawn(async move {
            while verdicts.changed().await.is_ok() {
                let now = verdicts.borrow().clone();
                if judge.send(Input::Team(now)).is_err() {
                    return;
                }
            }
        });
    }
    // What the case holds: read back at once, fetched never again.
    let stored = match &setup.case {
        Some(case) => {
            let case = case.clone();
            tokio::task::spawn_blocking(move || checkpoint::stored(&case))
                .await
                .unwrap_or_default()
        }
        None => checkpoint::Stored::default(),
    };
    let mut collector = Collector {
        case: setup.case.clone(),
        judge: judge.clone(),
        tx: tx.clone(),
        client: client.clone(),
        keys: stored.keys,
        progress: HashMap::new(),
        started,
    };
    for problem in stored.problems {
        collector
            .report(Report::Problem(format!("kept events not read: {problem}")))
            .await;
    }
    let mut stored_counts: HashMap<Stream, u64> = HashMap::new();
    for (stream, events) in stored.batches {
        *stored_counts.entry(stream).or_default() += events.len() as u64;
        if !collector.deliver(stream, events).await {
            return;
        }
    }
    let mut waiting: HashSet<Stream> = setup.streams.iter().copied().collect();
    let (landed_tx, mut landed_rx) = mpsc::channel::<Landed>(16);
    let histories = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for stream in setup.streams.iter().copied() {
        let checkpoint = Checkpoint::resume(stored.checkpoints.get(&stream).cloned(), since, now);
        let progress = Progress {
            stream,
            phase: if checkpoint.done {
                Phase::Live
            } else {
                Phase::History
            },
            events: 0,
            stored: stored_counts.get(&stream).copied().unwrap_or(0),
            history_from: checkpoint.from,
            history_to: checkpoint.to,
            covered_from: checkpoint.oldest,
            rate: 0.0,
            eta_secs: None,
            last_success: None,
            lag_secs: None,
            failures: 0,
            last_error: None,
            budget: None,
            budget_wait_secs: 0,
            throttled: 0,
        };
        collector.progress.insert(stream, progress);
        collector.show(stream).await;
        let plan = history::Plan {
            client: client.clone(),
            graph: setup.graph_url.clone(),
            stream,
            interval: setup.interval,
            overlap: OVERLAP,
            out: landed_tx.clone(),
            stop: stop.clone(),
            histories: histories.clone(),
        };
        if stream.family() == crate::source::graph::budget::Family::Reports && !checkpoint.done {
            histories.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if stream == Stream::Ual {
            tokio::spawn(ual::run(plan, checkpoint));
        } else if stream.is_windowed() {
            tokio::spawn(history::run(plan, checkpoint));
        } else {
            waiting.remove(&stream);
        }
    }
    drop(landed_tx);
    // Evidence files and the first snapshot are part of catching up too.
    let mut extras: Vec<oneshot::Receiver<()>> = Vec::new();
    if let Some(judge) = &judge {
        if !setup.evidence.is_empty() {
            let (files, judge, tx) = (setup.evidence.clone(), judge.clone(), tx.clone());
            let throwaway = setup.throwaway_evidence.clone();
            let (done_tx, done_rx) = oneshot::channel();
            extras.push(done_rx);
            std::thread::spawn(move || {
                judge::read_evidence(&files, &judge, &tx);
                if let Some(dir) = throwaway {
                    let _ = std::fs::remove_dir_all(dir);
                }
                let _ = done_tx.send(());
            });
        }
        if setup.posture {
            let (done_tx, done_rx) = oneshot::channel();
            extras.push(done_rx);
            tokio::spawn(posture::posture(
                client.clone(),
                setup.graph_url.clone(),
                setup.case.clone(),
                setup.rules.iocs.clone(),
                judge.clone(),
                tx.clone(),
                done_tx,
            ));
        }
    }
    // History done; caught up once a live poll after it finished whole.
    let mut history_done: HashSet<Stream> = HashSet::new();
    let mut said_caught_up = false;
    while let Some(landed) = landed_rx.recv().await {
        match landed {
            Landed::Page {
                stream,
                events,
                checkpoint,
                phase,
            } => {
                if !collector.page(stream, events, checkpoint, phase).await {
                    return;
                }
            }
            Landed::HistoryDone(stream) => {
                history_done.insert(stream);
                if let Some(p) = collector.progress.get_mut(&stream) {
                    p.phase = Phase::Live;
                    p.eta_secs = None;
                }
                // The audit log's history is one query: in is caught up.
                if stream == Stream::Ual {
                    waiting.remove(&stream);
                }
                collector.show(stream).await;
            }
            Landed::Polled(stream) => {
                if history_done.contains(&stream) {
                    waiting.remove(&stream);
                }
                if let Some(p) = collector.progress.get_mut(&stream) {
                    p.failures = 0;
                    p.last_error = None;
                    p.last_success = Some(Timestamp::now());
                }
                collector.show(stream).await;
            }
            Landed::Failed { stream, error } => {
                if let Some(p) = collector.progress.get_mut(&stream) {
                    p.failures += 1;
                    p.last_error = Some(error);
                }
                collector.show(stream).await;
            }
        }
        if !said_caught_up && waiting.is_empty() {
            for extra in extras.drain(..) {
                let _ = extra.await;
            }
            if let Some(judge) = &judge {
                let (done_tx, done_rx) = oneshot::channel();
                if judge.send(Input::Flush(done_tx)).is_ok() {
                    let _ = done_rx.await;
                }
            }
            said_caught_up = true;
            let seconds = started.elapsed().as_secs_f64();
            let reports_requests = client
                .stats
                .reports
                .load(std::sync::atomic::Ordering::Relaxed);
            let summary = CaughtUp {
                seconds,
                events: collector.progress.values().map(|p| p.events).sum(),
                reports_requests,
                budget_use: reports_requests as f64 / (seconds.max(0.001) * REPORTS_PER_SECOND),
            };
            tracing::info!(
                seconds = summary.seconds,
                events = summary.events,
                reports_requests,
                budget_use = summary.budget_use,
                "history caught up"
            );
            if tx.send(Report::CaughtUp(summary)).await.is_err() {
                return;
            }
        }
    }
}

/// Takes pages from every stream, one at a time.
struct Collector {
    case: Option<Arc<crate::case::Unlocked>>,
    judge: Option<std::sync::mpsc::Sender<Input>>,
    tx: mpsc::Sender<Report>,
    client: Arc<GraphClient>,
    /// Every event key kept so far (repeats are dropped here, once).
    keys: HashSet<String>,
    progress: HashMap<Stream, Progress>,
    started: Instant,
}

impl Collector {
    async fn report(&self, report: Report) -> bool {
        self.tx.send(report).await.is_ok()
    }

    /// Drops the repeats of a page, keeps the rest in the case with the
    /// stream's checkpoint, then feeds and reports them.
    async fn page(
        &mut self,
        stream: Stream,
        events: Vec<Value>,
        checkpoint: Checkpoint,
        phase: Phase,
    ) -> bool {
        let fresh: Vec<Value> = events
            .into_iter()
            .filter(|e| {
                crate::source::graph::snapshot::line_key(e).is_some_and(|k| self.keys.insert(k))
            })
            .collect();
        // A live page with nothing new moves no mark worth a record.
        let keep = !fresh.is_empty() || phase == Phase::History || checkpoint.query.is_some();
        if let (Some(case), true) = (&self.case, keep) {
            let (case, batch, name) = (case.clone(), fresh.clone(), stream.name());
            let state = serde_json::to_value(&checkpoint).ok();
            let saved =
                tokio::task::spawn_blocking(move || case.save_events_at(name, &batch, state)).await;
            let problem = match saved {
                Ok(Ok(_)) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(problem) = problem {
                let text = format!(
                    "{} events not kept in the case ({problem}); they are judged, but a restart fetches them again",
                    stream.name()
                );
                if !self.report(Report::Problem(text)).await {
                    return false;
                }
            }
        }
        let count = fresh.len() as u64;
        if let Some(p) = self.progress.get_mut(&stream) {
            p.events += count;
            p.last_success = Some(Timestamp::now());
            p.failures = 0;
            p.last_error = None;
            p.covered_from = checkpoint.oldest.or(p.covered_from);
            p.history_from = checkpoint.from;
            p.history_to = checkpoint.to;
            if phase == Phase::History {
                let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
                p.rate = p.events as f64 / elapsed;
                p.eta_secs = eta(p, elapsed);
            } else {
                p.lag_secs = Some(Timestamp::now().as_second() - checkpoint.live.as_second());
            }
        }
        if !self.deliver(stream, fresh).await {
            return false;
        }
        self.show(stream).await
    }

    /// Feeds events to the detections and sign-ins to the feed.
    async fn deliver(&self, stream: Stream, events: Vec<Value>) -> bool {
        if events.is_empty() {
            return true;
        }
        if let Some(judge) = &self.judge {
            // Gone only if the engine's thread ended, which it says itself.
            let _ = judge.send(Input::Events(events.clone()));
        }
        if is_signin(stream) {
            return self.report(Report::SignIns(events)).await;
        }
        true
    }

    /// Reports a stream's progress, with the client's budget and waits.
    async fn show(&mut self, stream: Stream) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let Some(p) = self.progress.get_mut(&stream) else {
            return true;
        };
        p.budget = self.client.budget_use(stream.family());
        p.budget_wait_secs = self.client.stats.budget_wait_ms.load(Relaxed) / 1000;
        p.throttled = self.client.stats.throttled.load(Relaxed);
        let report = Report::Progress(p.clone());
        self.report(report).await
    }
}

/// Seconds left of a stream's history at the pace of this run: the span
/// still to cover over the span covered per second.
fn eta(p: &Progress, elapsed: f64) -> Option<u64> {
    let covered_from = p.covered_from?;
    let done = (p.history_to.as_second() - covered_from.as_second()) as f64;
    let left = (covered_from.as_second() - p.history_from.as_second()).max(0) as f64;
    (done > 0.0).then(|| (left / (done / elapsed)).round() as u64)
}

pub fn is_signin(stream: Stream) -> bool {
    matches!(
        stream,
        Stream::Interactive
            | Stream::NonInteractive
            | Stream::ServicePrincipal
            | Stream::ManagedIdentity
    )
}
