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

mod detections;
mod posture;

use detections::{detections, read_evidence};
use posture::posture;

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
