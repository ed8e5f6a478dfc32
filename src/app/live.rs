//! The console's live feed: signs in with the profile, runs the Graph live
//! poller on tasks, and turns what it reports into messages. Parsing Graph
//! JSON into feed rows happens here, off the event loop.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, watch};

use super::action::Msg;
use super::feed::{Connection, SignInRow, StreamStatus};
use super::runtime::Starter;
use crate::config::Settings;
use crate::model::{SafeText, SignIn};
use crate::source::graph::auth::{Announce, DevicePrompt};
use crate::source::graph::live::{self, LiveConfig, LiveEvent};
use crate::source::graph::pull::Stream;

/// What the console polls: the four sign-in streams, directory audits and
/// risk detections (the detections read the last two).
pub const CONSOLE_STREAMS: [Stream; 6] = [
    Stream::Interactive,
    Stream::NonInteractive,
    Stream::ServicePrincipal,
    Stream::ManagedIdentity,
    Stream::Audit,
    Stream::Risk,
];

/// Five report streams polling every 15 s use two thirds of the reports
/// budget (5 requests per 10 s), leaving room for pages of a busy minute.
pub const POLL_INTERVAL: Duration = Duration::from_secs(15);

/// How far back each poll looks again for sign-ins Entra logged late.
pub const OVERLAP: Duration = Duration::from_secs(5 * 60);

/// How often the console takes a directory snapshot again, to judge the
/// tenant's posture and compare it with the case's first snapshot.
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// What the detections thread is fed.
pub enum EngineInput {
    /// A batch of events from a live stream.
    Events(Vec<serde_json::Value>),
    /// The posture review of the latest snapshot (replaces the last one).
    Posture(Vec<crate::detect::Finding>),
}

/// The connected Graph client, once there is one: the detail view reads
/// single records through it.
pub type GraphSlot = Arc<std::sync::OnceLock<GraphHandle>>;

#[derive(Clone)]
pub struct GraphHandle {
    pub client: Arc<crate::source::graph::GraphClient>,
    /// What checklist actions write with (a person's delegated sign-in).
    pub writer: Arc<crate::source::graph::GraphClient>,
    /// Whether actions are sent; off, they are dry runs.
    pub writes: bool,
    /// The Graph root (`https://graph.microsoft.com`).
    pub base: String,
}

pub struct LiveSetup {
    pub settings: Settings,
    /// How far back the feed starts.
    pub backfill: SignedDuration,
    /// Where pulled events are kept (encrypted), when a case is open.
    pub case: Option<Arc<crate::case::Unlocked>>,
    /// Filled with the client once connected.
    pub graph: GraphSlot,
    /// A separate sign-in for writes (the demo reads as the responder app
    /// and writes as its emergency administrator); `None`: the same one.
    pub writer: Option<Settings>,
    /// Threat indicators matched against the feed and the directory.
    pub iocs: Option<Arc<crate::detect::ioc::IocList>>,
    /// Sigma rules run over the feed.
    pub sigma: Option<Arc<crate::detect::sigma::SigmaRules>>,
    /// Evidence files the detections read once, beside the feed.
    pub evidence: Vec<std::path::PathBuf>,
    /// A directory of evidence made for this run, removed once read.
    pub throwaway_evidence: Option<std::path::PathBuf>,
    /// The configured wait between the krbtgt resets, in hours.
    pub krbtgt_wait: Option<f64>,
}

pub fn starter(setup: LiveSetup) -> Starter {
    Box::new(move |tx| {
        tokio::spawn(run(setup, tx));
    })
}

async fn run(setup: LiveSetup, tx: mpsc::Sender<Msg>) {
    let _ = tx.send(Msg::Connection(Connection::Connecting)).await;
    let prompt_tx = tx.clone();
    let announce: Announce = Arc::new(move |prompt: &DevicePrompt| {
        let secs = i64::try_from(prompt.expires_in_secs).unwrap_or(900);
        let expires = Timestamp::now()
            .checked_add(SignedDuration::from_secs(secs))
            .unwrap_or(Timestamp::MAX);
        // A full channel only delays the prompt until the next one.
        let _ = prompt_tx.try_send(Msg::Connection(Connection::SignIn {
            url: SafeText::new(&prompt.verification_uri),
            code: SafeText::new(&prompt.user_code),
            expires,
        }));
    });
    let client = match crate::source::graph::connect(&setup.settings, Some(announce)) {
        Ok(client) => client,
        Err(e) => {
            let reason = SafeText::new(&e.to_string());
            let _ = tx.send(Msg::Connection(Connection::Failed(reason))).await;
            return;
        }
    };
    let writer = match &setup.writer {
        Some(settings) => {
            // Signed in at once, so the first action does not wait for it.
            let quiet: crate::source::graph::auth::Announce = Arc::new(|_| {});
            match crate::source::graph::connect(settings, Some(quiet)) {
                Ok(writer) => {
                    let signing_in = writer.clone();
                    tokio::spawn(async move {
                        if let Err(e) = signing_in.sign_in().await {
                            tracing::warn!("the writer did not sign in: {e}");
                        }
                    });
                    Some(writer)
                }
                Err(e) => {
                    let text =
                        format!("checklist actions cannot sign in, so they are dry runs: {e}");
                    let _ = tx.send(Msg::Problem(SafeText::new(&text))).await;
                    None
                }
            }
        }
        None => Some(client.clone()),
    };
    // Without its own sign-in the writer is the reader: dry runs only.
    let writes = writer.is_some() && setup.writer.as_ref().unwrap_or(&setup.settings).writes;
    let _ = setup.graph.set(GraphHandle {
        client: client.clone(),
        writer: writer.unwrap_or_else(|| client.clone()),
        writes,
        base: setup.settings.graph_url.clone(),
    });
    let config = LiveConfig {
        graph_url: setup.settings.graph_url.clone(),
        streams: CONSOLE_STREAMS.to_vec(),
        interval: POLL_INTERVAL,
        overlap: OVERLAP,
        since: Timestamp::now()
            .checked_sub(setup.backfill)
            .unwrap_or(Timestamp::UNIX_EPOCH),
        attempts: 2,
    };
    // Every stream is listed from the start, in a fixed order.
    for stream in &config.streams {
        let waiting = StreamStatus {
            name: stream.name(),
            last_success: None,
            lag_secs: None,
            failures: 0,
            last_error: None,
            delivered: 0,
            budget: None,
        };
        if tx.send(Msg::Stream(waiting)).await.is_err() {
            return;
        }
    }
    let detections = detections(
        tx.clone(),
        setup.iocs.clone(),
        setup.sigma.clone(),
        setup.krbtgt_wait,
    );
    if let Some(engine) = &detections
        && !setup.evidence.is_empty()
    {
        let (files, engine, tx) = (setup.evidence.clone(), engine.clone(), tx.clone());
        let throwaway = setup.throwaway_evidence.clone();
        std::thread::spawn(move || {
            read_evidence(&files, &engine, &tx);
            if let Some(dir) = throwaway {
                let _ = std::fs::remove_dir_all(dir);
            }
        });
    }
    if let Some(engine) = &detections {
        tokio::spawn(posture(
            client.clone(),
            setup.settings.graph_url.clone(),
            setup.case.clone(),
            setup.iocs.clone(),
            engine.clone(),
            tx.clone(),
        ));
    }
    let (live_tx, mut live_rx) = mpsc::channel(64);
    // Dropped when this task ends (the console is gone): the poller stops.
    let (_stop, stop_rx) = watch::channel(false);
    tokio::spawn(live::run(client.clone(), config, live_tx, stop_rx));
    while let Some(event) = live_rx.recv().await {
        if let (Some(case), LiveEvent::Batch { stream, events }) = (&setup.case, &event) {
            keep(case.clone(), stream.name(), events.clone(), tx.clone());
        }
        if let (Some(detections), LiveEvent::Batch { events, .. }) = (&detections, &event) {
            // Gone only if the engine's thread ended, which it says itself.
            let _ = detections.send(EngineInput::Events(events.clone()));
        }
        let msg = match event {
            LiveEvent::Batch { stream, events } if is_signin(stream) => {
                let rows: Vec<SignInRow> = events
                    .into_iter()
                    .filter_map(|v| serde_json::from_value::<SignIn>(v).ok())
                    .filter_map(|s| SignInRow::from_signin(&s))
                    .collect();
                Msg::SignIns(rows)
            }
            // Audits and risk detections feed the detections only.
            LiveEvent::Batch { .. } => continue,
            LiveEvent::Health(h) => Msg::Stream(StreamStatus {
                name: h.stream.name(),
                last_success: h.last_success,
                lag_secs: h.lag_secs,
                failures: h.failures,
                last_error: h.last_error.as_deref().map(SafeText::new),
                delivered: h.delivered,
                budget: client.budget_use(h.stream.family()),
            }),
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

/// Runs the detections over every batch on a thread of their own (the
/// engine `warroom scan` runs, fed one batch at a time) and reports the
/// findings whenever they change. `None` when the rules do not load,
/// which the console is told.
fn detections(
    tx: mpsc::Sender<Msg>,
    iocs: Option<Arc<crate::detect::ioc::IocList>>,
    sigma: Option<Arc<crate::detect::sigma::SigmaRules>>,
    krbtgt_wait: Option<f64>,
) -> Option<std::sync::mpsc::Sender<EngineInput>> {
    let mut engine = match crate::detect::Engine::built_in() {
        Ok(mut engine) => {
            if let Some(hours) = krbtgt_wait {
                engine = engine.with_krbtgt_wait(hours);
            }
            if let Some(list) = iocs {
                engine = engine.with_iocs(list);
            }
            if let Some(rules) = sigma {
                engine = engine.with_sigma(rules);
            }
            engine
        }
        Err(e) => {
            let text = format!("the detections do not run: {e}");
            let _ = tx.try_send(Msg::Problem(SafeText::new(&text)));
            return None;
        }
    };
    let (batch_tx, batch_rx) = std::sync::mpsc::channel::<EngineInput>();
    std::thread::spawn(move || {
        let mut shown: Vec<(String, u64, String)> = Vec::new();
        let mut posture: Vec<crate::detect::Finding> = Vec::new();
        let mut n = 0u64;
        while let Ok(first) = batch_rx.recv() {
            // Everything queued meanwhile, then one look at the findings.
            for input in std::iter::once(first).chain(batch_rx.try_iter()) {
                let batch = match input {
                    EngineInput::Events(batch) => batch,
                    EngineInput::Posture(findings) => {
                        posture = findings;
                        continue;
                    }
                };
                for value in batch {
                    n += 1;
                    if let Some(event) = crate::detect::Event::new(value, || format!("live #{n}")) {
                        engine.observe(&event);
                    }
                }
            }
            // Within a severity, what the events show comes before what
            // the snapshot shows.
            let mut findings = engine.findings();
            findings.extend(posture.iter().cloned());
            findings.sort_by_key(|f| f.severity);
            // A finding whose words changed (a posture finding on a new
            // snapshot keeps its id and count) is shown again too.
            let now: Vec<(String, u64, String)> = findings
                .iter()
                .map(|f| (f.id.clone(), f.count, f.explanation.clone()))
                .collect();
            if now == shown {
                continue;
            }
            shown = now;
            let rows = findings
                .iter()
                .map(super::findings::FindingRow::from_finding)
                .collect();
            if tx.blocking_send(Msg::Findings(rows)).is_err() {
                return;
            }
        }
    });
    Some(batch_tx)
}

/// Reads evidence files into the detections, a batch at a time; what a
/// file could not give is said in the status line.
fn read_evidence(
    files: &[std::path::PathBuf],
    engine: &std::sync::mpsc::Sender<EngineInput>,
    tx: &mpsc::Sender<Msg>,
) {
    for path in files {
        let mut batch = Vec::new();
        let summary = crate::source::import::read_all(path, &mut |value, _| {
            batch.push(value);
            if batch.len() >= 2048 {
                let _ = engine.send(EngineInput::Events(std::mem::take(&mut batch)));
            }
        });
        if !batch.is_empty() {
            let _ = engine.send(EngineInput::Events(batch));
        }
        tracing::info!(file = %path.display(), records = summary.records, skipped = summary.skipped, "evidence read");
        if summary.skipped > 0 || summary.format == "unreadable" {
            let _ = tx.blocking_send(Msg::Problem(SafeText::new(&format!(
                "evidence {}",
                summary.line()
            ))));
        }
    }
}

/// Takes a directory snapshot now and every `SNAPSHOT_INTERVAL`, judges
/// it and compares it with the case's first one (kept in the case, sealed,
/// the first time), and hands the findings to the detections thread.
async fn posture(
    client: Arc<crate::source::graph::GraphClient>,
    graph_url: String,
    case: Option<Arc<crate::case::Unlocked>>,
    iocs: Option<Arc<crate::detect::ioc::IocList>>,
    engine: std::sync::mpsc::Sender<EngineInput>,
    tx: mpsc::Sender<Msg>,
) {
    use crate::detect::posture::{self, Snapshot, diff};
    let mut baseline: Option<Snapshot> = match &case {
        Some(case) => {
            let case = case.clone();
            tokio::task::spawn_blocking(move || case_baseline(&case))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    let mut said_not_compared = false;
    loop {
        let mut wait = SNAPSHOT_INTERVAL;
        match crate::source::graph::snapshot::take(&client, &graph_url, &|_| {}).await {
            Ok((lines, summary)) => {
                // Judging a large tenant takes a while: off the async workers.
                let first = baseline.is_none();
                if first && let Some(case) = &case {
                    keep(case.clone(), "directory", lines.clone(), tx.clone());
                }
                let earlier = baseline.take();
                let lists = iocs.clone();
                let judged = tokio::task::spawn_blocking(move || {
                    let now = Snapshot::from_lines(lines);
                    let verdicts = posture::judge(&now, Timestamp::now());
                    let changes = earlier.as_ref().map(|b| diff::compare(b, &now));
                    let not_compared = changes
                        .as_ref()
                        .map(|c| c.not_compared.clone())
                        .unwrap_or_default();
                    let mut extra = changes.map(|c| c.findings).unwrap_or_default();
                    if let Some(list) = &lists {
                        extra.extend(list.judge_snapshot(&now));
                    }
                    let findings = posture::findings(&verdicts, &extra, now.taken_at);
                    (earlier.unwrap_or(now), findings, not_compared)
                })
                .await;
                let Ok((kept, findings, not_compared)) = judged else {
                    return;
                };
                baseline = Some(kept);
                if engine.send(EngineInput::Posture(findings)).is_err() {
                    return;
                }
                if !not_compared.is_empty() && !said_not_compared {
                    said_not_compared = true;
                    let text = format!(
                        "directory changes not compared (the case's first snapshot or this one lacks them): {}",
                        not_compared.join(", ")
                    );
                    let _ = tx.send(Msg::Problem(SafeText::new(&text))).await;
                }
                if !summary.gaps.is_empty() {
                    let text = format!(
                        "directory snapshot: {} part(s) refused, so some posture checks are not judged ({})",
                        summary.gaps.len(),
                        summary.gaps.join("; ")
                    );
                    let _ = tx.send(Msg::Problem(SafeText::new(&text))).await;
                }
            }
            // Not signed in: the feed already says why; try again soon.
            Err(crate::source::graph::pull::PullError::Graph(
                crate::source::graph::client::GraphError::Auth(e),
            )) => {
                tracing::info!("directory snapshot waits for a sign-in: {e}");
                wait = Duration::from_secs(60);
            }
            Err(e) => {
                let text = format!(
                    "directory snapshot failed ({e}); the posture review tries again in {} minutes",
                    SNAPSHOT_INTERVAL.as_secs() / 60
                );
                if tx.send(Msg::Problem(SafeText::new(&text))).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(wait).await;
    }
}

/// The case's first directory snapshot, if it keeps one.
fn case_baseline(case: &crate::case::Unlocked) -> Option<crate::detect::posture::Snapshot> {
    use crate::case::record::Body;
    let contents = case.read().ok()?;
    let first = contents
        .records
        .iter()
        .find(|r| matches!(&r.body, Body::Events { stream, .. } if stream == "directory"))?;
    let lines = case.load_events(first).ok()?;
    Some(crate::detect::posture::Snapshot::from_lines(lines))
}

/// Keeps a batch in the case on a blocking task (it fsyncs); a failure is
/// shown, since those events then live only in memory.
fn keep(
    case: Arc<crate::case::Unlocked>,
    stream: &'static str,
    events: Vec<serde_json::Value>,
    tx: mpsc::Sender<Msg>,
) {
    tokio::spawn(async move {
        let saved = tokio::task::spawn_blocking(move || case.save_events(stream, &events)).await;
        let problem = match saved {
            Ok(Ok(_)) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        let text = format!("{stream} events not kept in the case: {problem}");
        let _ = tx.send(Msg::Problem(SafeText::new(&text))).await;
    });
}

fn is_signin(stream: Stream) -> bool {
    matches!(
        stream,
        Stream::Interactive
            | Stream::NonInteractive
            | Stream::ServicePrincipal
            | Stream::ManagedIdentity
    )
}
