//! One report stream (sign-ins, directory audits, risk detections): its
//! history window page by page, newest first as Graph gives it, then the
//! live part, polled again and again. After every page the events and the
//! stream's new checkpoint go to the collector together.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::checkpoint::Checkpoint;
use super::{Landed, Phase};
use crate::model::de::{graph_time as iso, parse_time};
use crate::source::graph::GraphClient;
use crate::source::graph::budget::Family;
use crate::source::graph::client::GraphError;
use crate::source::graph::pull::{MAX_RESTARTS, Stream, rebase};

/// How a stream task is run.
#[derive(Clone)]
pub struct Plan {
    pub client: Arc<GraphClient>,
    pub graph: String,
    pub stream: Stream,
    pub interval: Duration,
    /// How far behind the newest event each live poll looks again
    /// (Entra logs some sign-ins minutes late).
    pub overlap: SignedDuration,
    pub out: mpsc::Sender<Landed>,
    pub stop: watch::Receiver<bool>,
    /// Report streams still fetching history. They share one request
    /// budget with the live polls, so live report streams poll only every
    /// `BACKFILL_INTERVAL` until every history is in.
    pub histories: Arc<AtomicUsize>,
}

/// How often a live report stream polls while others fetch history.
pub const BACKFILL_INTERVAL: Duration = Duration::from_secs(120);

impl Plan {
    /// Hands a page to the collector; `false` once nobody listens.
    pub(super) async fn land(
        &self,
        events: Vec<Value>,
        checkpoint: &Checkpoint,
        phase: Phase,
    ) -> bool {
        let landed = Landed::Page {
            stream: self.stream,
            events,
            checkpoint: checkpoint.clone(),
            phase,
        };
        self.out.send(landed).await.is_ok()
    }

    pub(super) async fn say(&self, landed: Landed) -> bool {
        self.out.send(landed).await.is_ok()
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// The oldest and newest event times of a page.
fn span(events: &[Value], field: &str) -> (Option<Timestamp>, Option<Timestamp>) {
    let times = events
        .iter()
        .filter_map(|e| e[field].as_str().and_then(parse_time));
    times.fold((None, None), |(lo, hi), t| {
        (
            Some(lo.map_or(t, |l: Timestamp| l.min(t))),
            Some(hi.map_or(t, |h: Timestamp| h.max(t))),
        )
    })
}

/// Runs one stream until stopped: what is left of its history, then live.
pub async fn run(plan: Plan, mut checkpoint: Checkpoint) {
    if !checkpoint.done {
        let finished = history(&plan, &mut checkpoint).await;
        if plan.stream.family() == Family::Reports {
            plan.histories.fetch_sub(1, Ordering::Relaxed);
        }
        if !finished {
            return;
        }
    }
    if !plan.say(Landed::HistoryDone(plan.stream)).await {
        return;
    }
    live(&plan, checkpoint).await;
}

/// Pages the history window to its end; `false` when stopped. A page
/// that fails after the client's retries is tried again after a pause;
/// the checkpoint keeps the place meanwhile.
async fn history(plan: &Plan, checkpoint: &mut Checkpoint) -> bool {
    let stream = plan.stream;
    let graph = plan.graph.as_str();
    let (from, to) = (iso(checkpoint.from), iso(checkpoint.to));
    let mut url = match &checkpoint.next {
        Some(next) => rebase(next, graph),
        None => stream.first_url(graph, &from, &to),
    };
    let mut restarts = 0;
    loop {
        if plan.stopped() {
            return false;
        }
        let mut stop = plan.stop.clone();
        let fetched = tokio::select! {
            // Few attempts: a dead network shows as a failing stream
            // soon, and the next try starts from the checkpoint anyway.
            page = plan.client.page_with_attempts(&url, stream.family(), 3) => page,
            _ = stop.changed() => return false,
        };
        let page = match fetched {
            Ok(page) => page,
            Err(GraphError::ExpiredPageToken) if restarts < MAX_RESTARTS => {
                restarts += 1;
                let oldest = checkpoint.oldest.map(iso);
                url = stream.restart_url(graph, &from, &to, oldest.as_deref());
                continue;
            }
            Err(e) => {
                let failed = Landed::Failed {
                    stream,
                    error: e.to_string(),
                };
                if !plan.say(failed).await || !pause(plan).await {
                    return false;
                }
                continue;
            }
        };
        let (oldest, _) = span(&page.value, stream.time_field());
        if let Some(t) = oldest {
            checkpoint.oldest = Some(checkpoint.oldest.map_or(t, |o| o.min(t)));
        }
        let next = page.next_link.as_deref().map(|l| rebase(l, graph));
        checkpoint.done = next.is_none();
        checkpoint.next = next.clone();
        if !plan.land(page.value, checkpoint, Phase::History).await {
            return false;
        }
        match next {
            Some(next) => url = next,
            None => return true,
        }
    }
}

/// Polls `[live − overlap, now]` every interval, for as long as it runs.
async fn live(plan: &Plan, mut checkpoint: Checkpoint) {
    let stream = plan.stream;
    let graph = plan.graph.as_str();
    loop {
        if plan.stopped() {
            return;
        }
        // Never before the history window: what is watched is that window
        // and what follows it.
        let from = checkpoint
            .live
            .checked_sub(plan.overlap)
            .unwrap_or(checkpoint.live)
            .max(checkpoint.from);
        let until = Timestamp::now() + SignedDuration::from_mins(1);
        let mut url = Some(stream.first_url(graph, &iso(from), &iso(until)));
        let mut error = None;
        let mut newest = checkpoint.live;
        while let Some(current) = url.take() {
            let mut stop = plan.stop.clone();
            let fetched = tokio::select! {
                page = plan.client.page_with_attempts(&current, stream.family(), 2) => page,
                _ = stop.changed() => return,
            };
            match fetched {
                Ok(page) => {
                    if let (_, Some(t)) = span(&page.value, stream.time_field()) {
                        newest = newest.max(t);
                    }
                    url = page.next_link.as_deref().map(|l| rebase(l, graph));
                    // The mark moves with the poll's last page only: pages
                    // that arrived whole are kept, and a failure between
                    // them leaves the mark where the next poll asks for
                    // the rest again.
                    if url.is_none() {
                        checkpoint.live = newest;
                    }
                    if !plan.land(page.value, &checkpoint, Phase::Live).await {
                        return;
                    }
                }
                Err(e) => error = Some(e.to_string()),
            }
        }
        let polled = match error {
            None => Landed::Polled(stream),
            Some(error) => Landed::Failed { stream, error },
        };
        if !plan.say(polled).await || !pause_live(plan).await {
            return;
        }
    }
}

/// Waits until the next live poll: up to `BACKFILL_INTERVAL` while
/// history still comes in on the same budget, but no longer than that
/// history takes (checked each interval), so live pace resumes with it.
async fn pause_live(plan: &Plan) -> bool {
    let backfilling =
        || plan.stream.family() == Family::Reports && plan.histories.load(Ordering::Relaxed) > 0;
    if !backfilling() {
        return pause(plan).await;
    }
    let until = tokio::time::Instant::now() + plan.interval.max(BACKFILL_INTERVAL);
    loop {
        if !pause(plan).await {
            return false;
        }
        if !backfilling() || tokio::time::Instant::now() >= until {
            return true;
        }
    }
}

/// Waits one interval; `false` when stopped meanwhile.
async fn pause(plan: &Plan) -> bool {
    let mut stop = plan.stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(plan.interval) => !plan.stopped(),
        changed = stop.changed() => changed.is_ok() && !plan.stopped(),
    }
}
