//! The console's live feed: signs in with the profile, runs the live
//! pipeline `warroom watch` runs (`crate::watch`) on tasks, and turns what
//! it reports into messages. Parsing Graph JSON into feed rows happens
//! here, off the event loop.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::mpsc;

use super::action::Msg;
use super::feed::{Connection, HistoryStatus, SignInRow, StreamStatus};
use super::runtime::Starter;
use crate::config::Settings;
use crate::model::{SafeText, SignIn};
use crate::source::graph::auth::{Announce, DevicePrompt};
use crate::watch::{self, Report};

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
    /// How far back history starts.
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
    /// The team's triage decisions as they change.
    pub verdicts: Option<tokio::sync::watch::Receiver<crate::detect::own::Team>>,
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
    let pipeline = watch::Setup {
        graph_url: setup.settings.graph_url.clone(),
        history: setup.backfill,
        streams: watch::STREAMS.to_vec(),
        case: setup.case.clone(),
        rules: watch::Rules {
            iocs: setup.iocs.clone(),
            sigma: setup.sigma.clone(),
            krbtgt_wait: setup.krbtgt_wait,
        },
        evidence: setup.evidence.clone(),
        throwaway_evidence: setup.throwaway_evidence.clone(),
        posture: true,
        verdicts: setup.verdicts.clone(),
        interval: watch::POLL_INTERVAL,
    };
    let (report_tx, mut reports) = mpsc::channel(64);
    // Dropped when this task ends (the console is gone): the pipeline stops.
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(watch::run(client.clone(), pipeline, report_tx, stop_rx));
    while let Some(report) = reports.recv().await {
        let msg = match report {
            Report::SignIns(events) => {
                // Parsing is the heavy part: off the async workers.
                let rows = tokio::task::spawn_blocking(move || rows(events))
                    .await
                    .unwrap_or_default();
                Msg::SignIns(rows)
            }
            Report::Progress(p) => Msg::Stream(status(&p)),
            Report::Findings(findings) => Msg::Findings(
                findings
                    .iter()
                    .map(crate::model::finding::FindingRow::from_finding)
                    .collect(),
            ),
            Report::Problem(text) => Msg::Problem(SafeText::new(&text)),
            Report::CaughtUp(_) => Msg::CaughtUp,
            Report::Emergency(accounts) => Msg::Emergency(accounts),
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

fn rows(events: Vec<serde_json::Value>) -> Vec<SignInRow> {
    events
        .into_iter()
        .filter_map(|v| serde_json::from_value::<SignIn>(v).ok())
        .filter_map(|s| SignInRow::from_signin(&s))
        .collect()
}

/// A stream's progress in the console's words.
fn status(p: &watch::Progress) -> StreamStatus {
    StreamStatus {
        name: p.stream.name(),
        last_success: p.last_success,
        lag_secs: p.lag_secs,
        failures: p.failures,
        last_error: p.last_error.as_deref().map(SafeText::new),
        delivered: p.events + p.stored,
        budget: p.budget,
        history: Some(HistoryStatus {
            done: p.phase == watch::Phase::Live,
            from: p.history_from,
            to: p.history_to,
            covered_from: p.covered_from,
            events: p.events,
            stored: p.stored,
            rate: p.rate,
            eta_secs: p.eta_secs,
            budget_wait_secs: p.budget_wait_secs,
            throttled: p.throttled,
        }),
    }
}
