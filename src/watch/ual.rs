//! The Unified Audit Log, live: its records come from audit log queries
//! (search jobs that take minutes), not from a window that can be polled.
//! One query covers the history window; then a query every few minutes
//! covers what came since, reaching back far enough for the records the
//! service files late. A query's id is kept in the checkpoint, so a
//! restart reads the same query's records rather than starting another.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use super::checkpoint::Checkpoint;
use super::history::Plan;
use super::{Landed, Phase};
use crate::model::de::graph_time as iso;
use crate::source::graph::client::GraphError;
use crate::source::graph::pull::{rebase, start_ual_query, ual_records_url, wait_for_query};

/// How often a new query starts: the audit log files most records within
/// minutes to an hour, so polling faster would only repeat work.
pub const EVERY: Duration = Duration::from_secs(10 * 60);

/// How far behind the last query's end the next one starts (records the
/// service files late).
pub const LAG: SignedDuration = SignedDuration::from_hours(1);

/// Runs the audit log until stopped.
pub async fn run(plan: Plan, mut checkpoint: Checkpoint) {
    if !checkpoint.done {
        loop {
            let window = (checkpoint.from, checkpoint.to);
            match query(&plan, &mut checkpoint, window, Phase::History).await {
                Ok(true) => break,
                Ok(false) => return,
                Err(error) => {
                    let failed = Landed::Failed {
                        stream: plan.stream,
                        error,
                    };
                    if plan.out.send(failed).await.is_err() || !sleep(&plan, plan.interval).await {
                        return;
                    }
                }
            }
        }
    }
    if plan
        .out
        .send(Landed::HistoryDone(plan.stream))
        .await
        .is_err()
    {
        return;
    }
    loop {
        if !sleep(&plan, EVERY).await {
            return;
        }
        // A new window: from a little before the last one ended to now.
        let from = checkpoint.live.checked_sub(LAG).unwrap_or(checkpoint.live);
        checkpoint.next = None;
        checkpoint.query = None;
        let window = (from, Timestamp::now());
        let outcome = match query(&plan, &mut checkpoint, window, Phase::Live).await {
            Ok(true) => Landed::Polled(plan.stream),
            Ok(false) => return,
            Err(error) => Landed::Failed {
                stream: plan.stream,
                error,
            },
        };
        if plan.out.send(outcome).await.is_err() {
            return;
        }
    }
}

/// Runs (or picks up) the query for `[from, to]` and lands its records;
/// `Ok(false)` when stopped. The checkpoint keeps the query and the page.
async fn query(
    plan: &Plan,
    checkpoint: &mut Checkpoint,
    (from, to): (Timestamp, Timestamp),
    phase: Phase,
) -> Result<bool, String> {
    let graph = plan.graph.as_str();
    let client = &*plan.client;
    let mut stop = plan.stop.clone();
    let id = match checkpoint.query.clone() {
        Some(id) => id,
        None => {
            let (from, to) = (iso(from), iso(to));
            let started = tokio::select! {
                id = start_ual_query(client, graph, &from, &to) => id,
                _ = stop.changed() => return Ok(false),
            };
            let id = started.map_err(|e| e.to_string())?;
            checkpoint.query = Some(id.clone());
            // Kept at once: a restart reads this query, not a new one.
            if !plan.land(Vec::new(), checkpoint, phase).await {
                return Ok(false);
            }
            id
        }
    };
    let quiet = |_: &str| {};
    let finished = tokio::select! {
        done = wait_for_query(client, graph, &id, &quiet) => done,
        _ = stop.changed() => return Ok(false),
    };
    finished.map_err(|e| e.to_string())?;
    let mut url = match &checkpoint.next {
        Some(next) => rebase(next, graph),
        None => ual_records_url(graph, &id),
    };
    loop {
        let fetched = tokio::select! {
            page = client.page(&url, plan.stream.family()) => page,
            _ = stop.changed() => return Ok(false),
        };
        let page = match fetched {
            Ok(page) => page,
            // Read the query's records again; repeats are dropped by id.
            Err(GraphError::ExpiredPageToken) => {
                url = ual_records_url(graph, &id);
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let next = page.next_link.as_deref().map(|l| rebase(l, graph));
        checkpoint.next = next.clone();
        if next.is_none() {
            checkpoint.done = true;
            checkpoint.live = checkpoint.live.max(to);
            checkpoint.query = None;
        }
        if !plan.land(page.value, checkpoint, phase).await {
            return Ok(false);
        }
        match next {
            Some(next) => url = next,
            None => return Ok(true),
        }
    }
}

async fn sleep(plan: &Plan, wait: Duration) -> bool {
    let mut stop: watch::Receiver<bool> = plan.stop.clone();
    tokio::select! {
        _ = tokio::time::sleep(wait) => !*plan.stop.borrow(),
        changed = stop.changed() => changed.is_ok() && !*plan.stop.borrow(),
    }
}
