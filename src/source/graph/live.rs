//! The live feed: each stream polls on its own schedule inside the shared
//! budgets, asks again for an overlap window behind the newest event it has
//! seen (Entra ingests some sign-ins minutes late), drops what it has
//! already delivered, and reports its health after every poll. Events and
//! health go to the console as messages; nothing here blocks it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::client::GraphClient;
use super::pull::Stream;
use crate::model::de::graph_time as iso;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    pub graph_url: String,
    pub streams: Vec<Stream>,
    /// How often each stream polls.
    pub interval: Duration,
    /// How far behind the newest event each poll looks again.
    pub overlap: Duration,
    /// Where the feed starts.
    pub since: Timestamp,
    /// Attempts per poll before it counts as failed (then the next poll
    /// tries again): a dead network shows as degraded within a poll or two.
    pub attempts: u32,
}

/// How a stream is doing, for the status bar.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamHealth {
    pub stream: Stream,
    pub last_success: Option<Timestamp>,
    /// Seconds between now and the newest event seen.
    pub lag_secs: Option<i64>,
    /// Polls failed in a row.
    pub failures: u32,
    pub last_error: Option<String>,
    pub delivered: u64,
}

#[derive(Debug)]
pub enum LiveEvent {
    /// New events of one stream, newest first, each delivered once.
    Batch {
        stream: Stream,
        events: Vec<Value>,
    },
    Health(StreamHealth),
}

/// Runs every stream until `stop` turns true or the receiver is gone.
pub async fn run(
    client: Arc<GraphClient>,
    config: LiveConfig,
    tx: mpsc::Sender<LiveEvent>,
    stop: watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    // Audit log records come from search jobs and the directory from
    // snapshots, not from a window to poll.
    for stream in config.streams.iter().copied().filter(|s| s.is_windowed()) {
        let (client, config, tx, stop) = (client.clone(), config.clone(), tx.clone(), stop.clone());
        tasks.spawn(poll_stream(client, config, stream, tx, stop));
    }
    while tasks.join_next().await.is_some() {}
}

async fn poll_stream(
    client: Arc<GraphClient>,
    config: LiveConfig,
    stream: Stream,
    tx: mpsc::Sender<LiveEvent>,
    mut stop: watch::Receiver<bool>,
) {
    // At least a second: windows are written to the second.
    let overlap = jiff::SignedDuration::try_from(config.overlap.max(Duration::from_secs(1)))
        .unwrap_or(jiff::SignedDuration::from_mins(10));
    let mut newest = config.since;
    // Ids delivered, with their times, kept for the overlap window only.
    let mut seen: HashMap<String, Timestamp> = HashMap::new();
    let mut health = StreamHealth {
        stream,
        last_success: None,
        lag_secs: None,
        failures: 0,
        last_error: None,
        delivered: 0,
    };
    loop {
        if *stop.borrow() {
            return;
        }
        let from = newest
            .checked_sub(overlap)
            .unwrap_or(newest)
            .max(config.since);
        let mut url = Some(stream.window_url(
            &config.graph_url,
            &iso(from),
            &iso(Timestamp::now() + jiff::SignedDuration::from_mins(1)),
        ));
        let mut fresh = Vec::new();
        let mut failed = None;
        while let Some(current) = url.take() {
            // A stop ends a poll that is still waiting (for the budget, a
            // retry, or a person signing in).
            let fetched = tokio::select! {
                page = client.page_with_attempts(&current, stream.family(), config.attempts) => page,
                _ = stop.changed() => return,
            };
            match fetched {
                Ok(page) => {
                    for event in page.value {
                        let Some(id) = event["id"].as_str() else {
                            continue;
                        };
                        let when = event[stream.time_field()]
                            .as_str()
                            .and_then(crate::model::de::parse_time)
                            .unwrap_or(newest);
                        if seen.insert(id.to_owned(), when).is_none() {
                            fresh.push((when, event));
                        }
                    }
                    url = page
                        .next_link
                        .map(|l| super::pull::rebase(&l, &config.graph_url));
                }
                Err(e) => failed = Some(e.to_string()),
            }
        }
        match failed {
            None => {
                if let Some(max) = fresh.iter().map(|(t, _)| *t).max() {
                    newest = newest.max(max);
                }
                health.failures = 0;
                health.last_error = None;
                health.last_success = Some(Timestamp::now());
                // Until the stream has brought an event there is no lag
                // to speak of (the start of the window is not an event).
                if health.delivered > 0 || !fresh.is_empty() {
                    health.lag_secs = Some(Timestamp::now().as_second() - newest.as_second());
                }
                health.delivered += fresh.len() as u64;
                let horizon = newest
                    .checked_sub(overlap)
                    .unwrap_or(newest)
                    .checked_sub(overlap)
                    .unwrap_or(newest);
                seen.retain(|_, t| *t >= horizon);
                if !fresh.is_empty() {
                    fresh.sort_by_key(|e| std::cmp::Reverse(e.0));
                    let events = fresh.into_iter().map(|(_, e)| e).collect();
                    if tx.send(LiveEvent::Batch { stream, events }).await.is_err() {
                        return;
                    }
                }
            }
            Some(error) => {
                // Pages that arrived whole are delivered; the window does
                // not move, so the next poll asks for the rest again.
                if !fresh.is_empty() {
                    fresh.sort_by_key(|e| std::cmp::Reverse(e.0));
                    health.delivered += fresh.len() as u64;
                    let events = fresh.into_iter().map(|(_, e)| e).collect();
                    if tx.send(LiveEvent::Batch { stream, events }).await.is_err() {
                        return;
                    }
                }
                health.failures += 1;
                health.last_error = Some(error);
            }
        }
        if tx.send(LiveEvent::Health(health.clone())).await.is_err() {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            // A dropped sender means stop too.
            changed = stop.changed() => if changed.is_err() { return; },
        }
        if *stop.borrow() {
            return;
        }
    }
}
