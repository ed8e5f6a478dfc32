//! Where each stream stands, kept in the case with the events it brought
//! (one journal record holds both, so a crash keeps both or neither), and
//! the stored history read back when a case is opened again.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::case::Unlocked;
use crate::case::record::Body;
use crate::source::graph::pull::Stream;

/// One stream's history window and live mark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The history still to fetch, or fetched: every event in `[from, to]`.
    pub from: Timestamp,
    pub to: Timestamp,
    /// The page to ask for next inside the window (absent: its first page).
    pub next: Option<String>,
    /// The oldest event the window has brought: a forgotten page token
    /// restarts below it.
    pub oldest: Option<Timestamp>,
    /// Every page of the window has landed.
    pub done: bool,
    /// How far the live part has come: the newest event it brought (or
    /// the end of the history window, before it brought any).
    pub live: Timestamp,
    /// For the audit log: the query that holds the window's records.
    #[serde(default)]
    pub query: Option<String>,
}

impl Checkpoint {
    /// A fresh stream: history over `[since, now]`, live from `now`.
    pub fn fresh(since: Timestamp, now: Timestamp) -> Self {
        Self {
            from: since,
            to: now,
            next: None,
            oldest: None,
            done: false,
            live: now,
            query: None,
        }
    }

    /// Where a stream starts again, from what the case kept. A longer
    /// history than the one fetched adds the missing span below it; an
    /// unfinished window continues where it stopped.
    pub fn resume(saved: Option<Checkpoint>, since: Timestamp, now: Timestamp) -> Self {
        match saved {
            None => Self::fresh(since, now),
            Some(saved) if saved.done && since < saved.from => Self {
                from: since,
                to: saved.from,
                next: None,
                oldest: None,
                done: false,
                live: saved.live,
                query: None,
            },
            Some(saved) => saved,
        }
    }
}

/// What a case already holds of the live streams.
#[derive(Default)]
pub struct Stored {
    pub checkpoints: HashMap<Stream, Checkpoint>,
    /// Every event kept, in the order it was kept, with its stream.
    pub batches: Vec<(Stream, Vec<Value>)>,
    /// The keys of the events kept (a repeat is never kept twice).
    pub keys: HashSet<String>,
    /// Segments that did not open: their events are not in the history.
    pub problems: Vec<String>,
}

/// Reads the case's kept events and the last checkpoint of every stream.
/// The directory snapshots the console keeps are left to the posture
/// review, which reads them itself.
pub fn stored(case: &Unlocked) -> Stored {
    let mut out = Stored::default();
    let contents = match case.read() {
        Ok(contents) => contents,
        Err(e) => {
            out.problems.push(format!("the case's journal: {e}"));
            return out;
        }
    };
    for record in &contents.records {
        let (stream, state) = match &record.body {
            Body::Events {
                stream, checkpoint, ..
            } => (stream, checkpoint.as_ref()),
            Body::Checkpoint { stream, state } => (stream, Some(state)),
            _ => continue,
        };
        let Some(stream) = Stream::ALL.into_iter().find(|s| s.name() == stream) else {
            continue;
        };
        if let Some(state) = state
            && let Ok(checkpoint) = serde_json::from_value::<Checkpoint>(state.clone())
        {
            out.checkpoints.insert(stream, checkpoint);
        }
        if stream == Stream::Directory || !matches!(record.body, Body::Events { .. }) {
            continue;
        }
        match case.load_events(record) {
            Ok(events) => {
                for event in &events {
                    if let Some(key) = crate::source::graph::snapshot::line_key(event) {
                        out.keys.insert(key);
                    }
                }
                out.batches.push((stream, events));
            }
            Err(e) => out.problems.push(e.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_longer_history_adds_the_span_below() {
        let mut done = Checkpoint::fresh(t("2026-11-20T00:00:00Z"), t("2026-11-27T00:00:00Z"));
        done.done = true;
        done.live = t("2026-11-28T00:00:00Z");
        let now = t("2026-11-29T00:00:00Z");
        let longer = Checkpoint::resume(Some(done.clone()), t("2026-11-01T00:00:00Z"), now);
        assert_eq!(
            (longer.from, longer.to, longer.done, longer.live),
            (
                t("2026-11-01T00:00:00Z"),
                t("2026-11-20T00:00:00Z"),
                false,
                t("2026-11-28T00:00:00Z")
            )
        );
        // The same or a shorter history: nothing more to fetch.
        assert_eq!(
            Checkpoint::resume(Some(done.clone()), t("2026-11-25T00:00:00Z"), now),
            done
        );
        let fresh = Checkpoint::resume(None, t("2026-11-25T00:00:00Z"), now);
        assert_eq!((fresh.to, fresh.live, fresh.done), (now, now, false));
    }

    #[test]
    fn checkpoints_read_back() {
        let mut c = Checkpoint::fresh(t("2026-11-20T00:00:00Z"), t("2026-11-27T00:00:00Z"));
        c.next = Some("https://graph.microsoft.com/beta/x?$skiptoken=a".into());
        let text = serde_json::to_value(&c).unwrap();
        assert_eq!(serde_json::from_value::<Checkpoint>(text).unwrap(), c);
    }
}
