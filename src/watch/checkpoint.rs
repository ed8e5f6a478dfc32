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

/// What `add_pulled` kept and passed over.
#[derive(Debug, Default)]
pub struct Added {
    /// New events kept, per stream.
    pub kept: Vec<(Stream, u64)>,
    /// Events the case held already.
    pub repeats: u64,
    /// Records of no stream a pull writes.
    pub unknown: u64,
    /// Directory objects: left out, as the console takes its own snapshot
    /// of the directory and judges posture from that.
    pub directory: u64,
    /// Streams whose history the case already had a checkpoint for: their
    /// events are kept, but the console fetches that history as before.
    pub not_marked: Vec<Stream>,
}

/// The stream a pulled record came from, by its shape.
fn stream_of(value: &Value) -> Option<Stream> {
    if value.get("@warroom.source").is_some() {
        return Some(Stream::Directory);
    }
    if value.get("auditLogRecordType").is_some() || value.get("auditData").is_some() {
        return Some(Stream::Ual);
    }
    if value.get("riskEventType").is_some() {
        return Some(Stream::Risk);
    }
    if value.get("activityDisplayName").is_some() {
        return Some(Stream::Audit);
    }
    value.get("createdDateTime")?;
    let types = value["signInEventTypes"].as_array();
    let has = |t: &str| types.is_some_and(|ts| ts.iter().any(|x| x == t));
    Some(if has("servicePrincipal") {
        Stream::ServicePrincipal
    } else if has("managedIdentity") {
        Stream::ManagedIdentity
    } else if has("nonInteractiveUser") || value["isInteractive"] == false {
        Stream::NonInteractive
    } else {
        Stream::Interactive
    })
}

/// Keeps the events of a `warroom pull` file in the case. A pull brings
/// every event of its window, so each stream's span from its oldest to
/// its newest event is marked fetched (when the case has no checkpoint for
/// that stream yet): the console and `watch` then fetch only what lies
/// before and after it.
pub fn add_pulled(case: &Unlocked, path: &std::path::Path) -> Result<Added, String> {
    let held = stored(case);
    let mut keys = held.keys;
    let mut batches: HashMap<Stream, Vec<Value>> = HashMap::new();
    let mut spans: HashMap<Stream, (Timestamp, Timestamp)> = HashMap::new();
    let mut added = Added::default();
    let mut failed = None;
    let summary = crate::source::import::read_all(path, &mut |value, _| {
        if failed.is_some() {
            return;
        }
        let Some(stream) = stream_of(&value) else {
            added.unknown += 1;
            return;
        };
        if stream == Stream::Directory {
            added.directory += 1;
            return;
        }
        let Some(key) = crate::source::graph::snapshot::line_key(&value) else {
            added.unknown += 1;
            return;
        };
        if !keys.insert(key) {
            added.repeats += 1;
            return;
        }
        if let Some(t) = value[stream.time_field()]
            .as_str()
            .and_then(crate::model::de::parse_time)
        {
            let span = spans.entry(stream).or_insert((t, t));
            *span = (span.0.min(t), span.1.max(t));
        }
        let batch = batches.entry(stream).or_default();
        batch.push(value);
        if batch.len() >= 2_000 {
            let full = std::mem::take(batch);
            if let Err(e) = case.save_events(stream.name(), &full) {
                failed = Some(e.to_string());
            }
            *added_count(&mut added, stream) += full.len() as u64;
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if summary.format == "unreadable" {
        return Err(summary.line());
    }
    for stream in Stream::ALL {
        let batch = batches.remove(&stream).unwrap_or_default();
        let mark = match spans.get(&stream) {
            Some(&(from, to)) => {
                if held.checkpoints.contains_key(&stream) {
                    added.not_marked.push(stream);
                    None
                } else {
                    let mut fetched = Checkpoint::fresh(from, to);
                    fetched.done = true;
                    fetched.oldest = Some(from);
                    serde_json::to_value(&fetched).ok()
                }
            }
            _ => None,
        };
        if batch.is_empty() && mark.is_none() {
            continue;
        }
        *added_count(&mut added, stream) += batch.len() as u64;
        case.save_events_at(stream.name(), &batch, mark)
            .map_err(|e| e.to_string())?;
    }
    added.kept.retain(|(_, n)| *n > 0);
    Ok(added)
}

fn added_count(added: &mut Added, stream: Stream) -> &mut u64 {
    let at = match added.kept.iter().position(|(s, _)| *s == stream) {
        Some(at) => at,
        None => {
            added.kept.push((stream, 0));
            added.kept.len() - 1
        }
    };
    &mut added.kept[at].1
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
    fn pulled_records_go_back_to_their_streams() {
        let of = |v: serde_json::Value| stream_of(&v);
        assert_eq!(
            of(
                serde_json::json!({"createdDateTime": "x", "signInEventTypes": ["servicePrincipal"]})
            ),
            Some(Stream::ServicePrincipal)
        );
        assert_eq!(
            of(serde_json::json!({"createdDateTime": "x", "isInteractive": false})),
            Some(Stream::NonInteractive)
        );
        assert_eq!(
            of(serde_json::json!({"activityDisplayName": "Add user", "activityDateTime": "x"})),
            Some(Stream::Audit)
        );
        assert_eq!(
            of(serde_json::json!({"createdDateTime": "x", "auditLogRecordType": "exchangeItem"})),
            Some(Stream::Ual)
        );
        assert_eq!(of(serde_json::json!({"id": "x"})), None);
    }

    #[test]
    fn checkpoints_read_back() {
        let mut c = Checkpoint::fresh(t("2026-11-20T00:00:00Z"), t("2026-11-27T00:00:00Z"));
        c.next = Some("https://graph.microsoft.com/beta/x?$skiptoken=a".into());
        let text = serde_json::to_value(&c).unwrap();
        assert_eq!(serde_json::from_value::<Checkpoint>(text).unwrap(), c);
    }
}
