//! The catalogue in KQL, for workspaces that already hold the logs (Log
//! Analytics, Microsoft Sentinel): each rule becomes a query that sums its
//! matches up the way the engine keeps them, and what comes back is taken
//! into the same engine, so findings are the ones a local scan makes
//! (same ids, entities, evidence and remediation). Stateful detections the
//! workspace cannot judge alone send back the few records they read,
//! judged here. What cannot be written is listed with the reason.

pub mod compile;
pub mod sentinel;
pub mod stateful;
pub mod tables;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde_json::Value;

use super::Engine;
use super::rule::{Ready, SlotSummary};

/// The time a query covers.
#[derive(Clone, Debug)]
pub enum Range {
    /// The last so long, as KQL writes it (`30d`), from when it runs.
    Lookback(String),
    /// Between two instants.
    Between(Timestamp, Timestamp),
}

impl Range {
    /// The filter on `TimeGenerated` (the column workspaces index on).
    pub fn filter(&self) -> String {
        match self {
            Range::Lookback(span) => format!("TimeGenerated > ago({span})"),
            Range::Between(from, to) => format!(
                "TimeGenerated between (datetime({}) .. datetime({}))",
                crate::model::de::graph_time(*from),
                crate::model::de::graph_time(*to)
            ),
        }
    }
}

/// A KQL string literal.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What a query's rows are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reads {
    /// One rule's matches summed up (the rule's place in the rule list).
    Summary(usize),
    /// Records for stateful detections judged here (`stateful`).
    Records,
}

/// One detection as a query.
#[derive(Clone, Debug)]
pub struct Query {
    pub id: String,
    pub title: String,
    pub query: String,
    pub tables: Vec<String>,
    pub reads: Reads,
}

/// A detection that is not written in KQL, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub id: String,
    pub reason: String,
}

/// Every rule of `rules` and every stateful detection that can be, as
/// queries over `range`; the others with the reason.
pub fn catalogue(rules: &[Ready], range: &Range) -> (Vec<Query>, Vec<Skipped>) {
    let mut queries = Vec::new();
    let mut skipped = Vec::new();
    for (index, ready) in rules.iter().enumerate() {
        let id = ready.rule.id.clone();
        match compile::rule_query(ready, range, None) {
            Ok(query) => queries.push(Query {
                id,
                title: ready.rule.title.clone(),
                query,
                tables: compile::choose_tables(ready)
                    .iter()
                    .map(|t| t.name.to_owned())
                    .collect(),
                reads: Reads::Summary(index),
            }),
            Err(reason) => skipped.push(Skipped { id, reason }),
        }
    }
    let (more, not) = stateful::queries(range);
    queries.extend(more);
    skipped.extend(not);
    (queries, skipped)
}

/// A table of results as rows of named values.
pub type Row = serde_json::Map<String, Value>;

/// Takes one rule's summary rows into the engine.
pub fn absorb_summaries(engine: &mut Engine, rule: usize, rows: &[Row]) -> Result<(), String> {
    let ready = &engine.rules[rule];
    let values = compile::value_fields(ready);
    let groups = ready.rule.group_by.len();
    let slot_secs = ready.slot_secs();
    let mut taken = Vec::new();
    for row in rows {
        let text = |name: &str| match row.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let key = (0..groups)
            .map(|j| text(&format!("Group_{j}")))
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let time = |name: &str| crate::model::de::parse_time(&text(name));
        let slot = match (slot_secs, time("Slot")) {
            (Some(width), Some(t)) => Some(t.as_second().div_euclid(width)),
            _ => None,
        };
        let count = match row.get("Count") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            Some(Value::String(s)) => s.parse().unwrap_or(0),
            _ => return Err("a summary row without its Count".into()),
        };
        let evidence = list(row.get("Evidence"))
            .into_iter()
            .filter_map(|pair| {
                let pair = pair.as_array()?;
                let id = pair.get(1)?.as_str()?.to_owned();
                let t = pair
                    .first()
                    .and_then(Value::as_str)
                    .and_then(crate::model::de::parse_time);
                Some((t, id))
            })
            .collect();
        let mut entities: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (j, field) in values.iter().enumerate() {
            let found: BTreeSet<String> = list(row.get(&format!("Values_{j}")))
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if !found.is_empty() {
                entities.entry(field.clone()).or_default().extend(found);
            }
        }
        let distinct = list(row.get("Distinct"))
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        taken.push((
            key,
            SlotSummary {
                slot,
                count,
                first: time("FirstSeen"),
                last: time("LastSeen"),
                evidence,
                entities,
                distinct,
            },
        ));
    }
    for (key, summary) in taken {
        engine.absorb_summary(rule, key, summary);
    }
    Ok(())
}

/// A dynamic value as an array: the workspace API sends dynamic columns
/// as JSON text.
fn list(value: Option<&Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Takes records a stateful query brought back into the engine's
/// stateful detections (not its rules: their matches came summed up).
pub fn absorb_records(engine: &mut Engine, rows: Vec<Row>) -> usize {
    let mut taken = 0;
    for (n, row) in rows.into_iter().enumerate() {
        let Some(event) = super::Event::new(Value::Object(row), || format!("row {}", n + 1)) else {
            continue;
        };
        let observed = Engine::hits(&[], super::Extra::default(), &event);
        engine.absorb(event.kind, observed);
        taken += 1;
    }
    taken
}
