//! Detections as data (`assets/detections/*.toml`): which records, which
//! fields, the match, what to group by, how many and within what window.
//! Only operations that KQL has too (`==`, `has`, `startswith`, `in`,
//! `isnotempty`, numeric comparison), so the same files can later be
//! compiled to queries that run where the logs live.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use super::json::Json;

use super::event::{Event, Kind, any_in, text_at};
use crate::model::Severity;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub rule: Vec<Rule>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub techniques: Vec<String>,
    #[serde(default)]
    pub remediation: Vec<String>,
    /// Why this matters, for the responder reading the finding.
    pub rationale: String,
    pub kind: Kind,
    /// Every condition must hold.
    #[serde(default, rename = "where")]
    pub all: Vec<Condition>,
    /// At least one of these must hold (when any are given).
    #[serde(default)]
    pub any: Vec<Condition>,
    /// One finding per distinct value of these fields.
    #[serde(default)]
    pub group_by: Vec<String>,
    /// Fields whose values are named in the finding.
    #[serde(default)]
    pub entities: Vec<String>,
    /// Matches (or distinct values of `distinct`) needed for a finding.
    #[serde(default = "one")]
    pub threshold: usize,
    /// Count distinct values of this field instead of matches.
    pub distinct: Option<String>,
    /// The threshold must be reached within this long (`1h`, `10m`),
    /// measured in twentieths (see `SLOTS_PER_WINDOW`).
    pub window: Option<String>,
    /// How the finding explains itself; `{count}`, `{distinct}`,
    /// `{window}` and `{FIELD}` (first value seen) are filled in.
    pub explain: String,
    /// Judge only groups on hosts in this role (Windows rules grouped by
    /// `Computer`), decided once every record is in (`hosts`).
    pub host: Option<HostRole>,
}

/// What a Windows host was seen doing, for rules whose meaning depends
/// on it (a domain group or a local one).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum HostRole {
    DomainController,
    NotDomainController,
}

fn one() -> usize {
    1
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    #[serde(default)]
    pub value: Option<Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal, ignoring case for text.
    Eq,
    Ne,
    /// Contains the text, ignoring case (KQL `contains`).
    Contains,
    NotContains,
    /// Contains the text as a whole term, ignoring case (KQL `has`):
    /// `Mail.Read` is not in `Mail.ReadBasic`.
    Has,
    StartsWith,
    /// Ends with the text, ignoring case (KQL `endswith`, `!endswith`):
    /// machine accounts end with `$`.
    EndsWith,
    NotEndsWith,
    /// Equal to one of a list.
    In,
    NotIn,
    /// Present, and none of a list (KQL `isnotempty(x) and x !in (…)`).
    OtherThan,
    Exists,
    Missing,
    Gt,
    Lt,
}

fn as_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.to_lowercase()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One automaton for a `contains` test's texts, ignoring ASCII case
/// (texts that are not plain ASCII are compared one by one).
fn finder_for(op: Op, texts: &[String]) -> Option<aho_corasick::AhoCorasick> {
    if !matches!(op, Op::Contains | Op::NotContains)
        || !texts.iter().all(|t| t.is_ascii() && !t.is_empty())
    {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(texts)
        .ok()
}

/// A condition ready to run: texts lower-cased once.
#[derive(Clone, Debug)]
pub(crate) struct Compiled {
    pub(crate) field: String,
    /// `field` cut at its dots.
    pub(crate) path: Vec<String>,
    pub(crate) op: Op,
    pub(crate) texts: Vec<String>,
    /// The texts that are integers as JSON writes them (error codes),
    /// so numbers are compared without writing them out.
    pub(crate) integers: Vec<i64>,
    pub(crate) number: Option<f64>,
    /// `texts` as one automaton ignoring ASCII case, for `contains` on
    /// text values (one pass over the value instead of one per text).
    pub(crate) finder: Option<aho_corasick::AhoCorasick>,
}

impl Compiled {
    fn new(c: &Condition) -> Result<Self, String> {
        let mut texts: Vec<String> = Vec::new();
        // As records are read, so that values compare the same way.
        let value = c.value.clone().map(Json::from);
        let items: Vec<&Json> = match &value {
            Some(Json::Array(items)) => items.iter().collect(),
            Some(v) => vec![v],
            None => Vec::new(),
        };
        for item in items {
            // `@name` stands for a list of the permission catalogue.
            match item.as_str().and_then(|t| t.strip_prefix('@')) {
                Some(list) => {
                    let named = super::catalogue::Catalogue::shared()
                        .list(list)
                        .ok_or_else(|| {
                            format!("condition on {}: no list called @{list}", c.field)
                        })?;
                    texts.extend(named.iter().map(|t| t.to_lowercase()));
                }
                None => texts.extend(as_text(item)),
            }
        }
        let needs_value = !matches!(c.op, Op::Exists | Op::Missing);
        if needs_value && texts.is_empty() {
            return Err(format!("condition on {} needs a value", c.field));
        }
        let number = value.as_ref().and_then(as_number);
        if matches!(c.op, Op::Gt | Op::Lt) && number.is_none() {
            return Err(format!("condition on {} compares with a number", c.field));
        }
        let integers = texts
            .iter()
            .filter_map(|t| t.parse::<i64>().ok().filter(|i| i.to_string() == *t))
            .collect();
        let finder = finder_for(c.op, &texts);
        Ok(Self {
            field: c.field.clone(),
            path: c.field.split('.').map(str::to_owned).collect(),
            op: c.op,
            texts,
            integers,
            number,
            finder,
        })
    }

    /// How soon to test this among conditions that must all hold: a
    /// record most often fails an equality, rarely a negation, so testing
    /// the likely failures first ends most records' work early.
    fn order(&self) -> u8 {
        match self.op {
            Op::Eq | Op::In => 0,
            Op::StartsWith | Op::EndsWith | Op::Has | Op::Contains => 1,
            Op::Gt | Op::Lt => 2,
            Op::Exists | Op::OtherThan => 3,
            Op::Ne | Op::NotIn | Op::NotContains | Op::NotEndsWith | Op::Missing => 4,
        }
    }

    fn holds(&self, event: &Json) -> bool {
        // Whether some value at the field passes `test` (no list built:
        // this runs for every rule on every record).
        let any = |test: &dyn Fn(&Json) -> bool| any_in(event, &self.path, &mut |v| test(v));
        let present = |v: &Json| !v.is_null() && v.as_str() != Some("");
        // Needles are lower-cased once; texts are compared without copies.
        let equal = |v: &Json| match v {
            Json::String(s) => self.texts.iter().any(|n| s.eq_ignore_ascii_case(n)),
            Json::Number(n) if n.as_i64().is_some() => {
                n.as_i64().is_some_and(|i| self.integers.contains(&i))
            }
            other => as_text(other).is_some_and(|t| self.texts.contains(&t)),
        };
        let contains = |v: &Json| match (v, &self.finder) {
            (Json::String(s), Some(finder)) => finder.is_match(s.as_ref()),
            (Json::String(s), None) => self.texts.iter().any(|n| contains_ignore_case(s, n)),
            (other, _) => {
                as_text(other).is_some_and(|t| self.texts.iter().any(|n| t.contains(n.as_str())))
            }
        };
        let starts = |v: &Json| match v {
            Json::String(s) => self.texts.iter().any(|n| {
                s.len() >= n.len() && s.as_bytes()[..n.len()].eq_ignore_ascii_case(n.as_bytes())
            }),
            _ => false,
        };
        let ends = |v: &Json| match v {
            Json::String(s) => self.texts.iter().any(|n| {
                s.len() >= n.len()
                    && s.as_bytes()[s.len() - n.len()..].eq_ignore_ascii_case(n.as_bytes())
            }),
            _ => false,
        };
        let compare = |v: &Json, above: bool| {
            as_number(v).is_some_and(|n| {
                self.number
                    .is_some_and(|limit| if above { n > limit } else { n < limit })
            })
        };
        match self.op {
            Op::Exists => any(&present),
            Op::Missing => !any(&present),
            Op::Eq | Op::In => any(&equal),
            Op::Ne | Op::NotIn => !any(&equal),
            Op::OtherThan => any(&present) && !any(&equal),
            Op::Contains => any(&contains),
            Op::NotContains => !any(&contains),
            Op::Has => {
                any(&|v| as_text(v).is_some_and(|t| self.texts.iter().any(|n| has_term(&t, n))))
            }
            Op::StartsWith => any(&starts),
            Op::EndsWith => any(&ends),
            Op::NotEndsWith => any(&present) && !any(&ends),
            Op::Gt => any(&|v| compare(v, true)),
            Op::Lt => any(&|v| compare(v, false)),
        }
    }
}

/// Whether `hay` contains `needle` (already lower-case), ignoring ASCII case.
/// `needle` in `text` as a whole term (not inside a longer name of
/// letters, digits, dots, dashes and underscores), ignoring case.
pub(crate) fn has_term(text: &str, needle: &str) -> bool {
    let hay = text.to_lowercase();
    let needle = needle.to_lowercase();
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    !needle.is_empty()
        && hay.match_indices(&needle).any(|(at, _)| {
            let before = hay[..at].chars().next_back();
            let after = hay[at + needle.len()..].chars().next();
            !before.is_some_and(word) && !after.is_some_and(word)
        })
}

fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    let (hay, needle) = (hay.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Alternatives on the same field with the same positive test become one
/// condition with all their texts (a user agent is then searched once for
/// a dozen tool names, not a dozen times).
fn merge_alternatives(any: Vec<Compiled>) -> Vec<Compiled> {
    let equality = |c: &Compiled| matches!(c.op, Op::Eq | Op::In);
    let mut merged: Vec<Compiled> = Vec::new();
    for c in any {
        let same = merged.iter_mut().find(|m| {
            m.field == c.field
                && (equality(m) && equality(&c) || m.op == Op::Contains && c.op == Op::Contains)
        });
        match same {
            Some(m) => {
                m.texts.extend(c.texts);
                m.integers.extend(c.integers);
                m.finder = finder_for(m.op, &m.texts);
            }
            None => merged.push(c),
        }
    }
    merged
}

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct Ready {
    /// `rule.kind`, kept beside the conditions: every record is checked
    /// against every rule's kind, and the rule itself is large.
    kind: Kind,
    pub rule: Box<Rule>,
    all: Vec<Compiled>,
    any: Vec<Compiled>,
    window: Option<SignedDuration>,
}

impl Ready {
    pub fn new(rule: Rule) -> Result<Self, String> {
        let compile = |cs: &[Condition]| -> Result<Vec<Compiled>, String> {
            cs.iter()
                .map(|c| Compiled::new(c).map_err(|e| format!("rule {}: {e}", rule.id)))
                .collect()
        };
        let window = match &rule.window {
            None => None,
            Some(w) => Some(SignedDuration::from_secs(
                crate::model::duration::parse_duration(w)
                    .map_err(|e| format!("rule {}: window {e}", rule.id))?,
            )),
        };
        if rule.host.is_some()
            && (rule.kind != Kind::WindowsEvent || !rule.group_by.iter().any(|f| f == "Computer"))
        {
            return Err(format!(
                "rule {}: `host` needs a Windows rule grouped by Computer",
                rule.id
            ));
        }
        if rule.all.is_empty() && rule.any.is_empty() {
            return Err(format!(
                "rule {} matches nothing: give `where` or `any`",
                rule.id
            ));
        }
        // Every `{name}` in the explanation must be something kept.
        let mut rest = rule.explain.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("rule {}: unclosed {{ in explain", rule.id))?;
            let name = &rest[open + 1..open + close];
            let kept = |name: &str| {
                rule.entities
                    .iter()
                    .chain(&rule.group_by)
                    .any(|f| f == name)
            };
            let known = matches!(name, "count" | "distinct" | "window")
                || name
                    .strip_prefix("count:")
                    .is_some_and(|noun| !noun.is_empty())
                || name.split('|').all(kept);
            if !known {
                return Err(format!(
                    "rule {}: explain names {{{name}}}, which is not in entities or group_by",
                    rule.id
                ));
            }
            rest = &rest[open + close + 1..];
        }
        let mut all = compile(&rule.all)?;
        all.sort_by_key(Compiled::order);
        Ok(Self {
            kind: rule.kind,
            all,
            any: merge_alternatives(compile(&rule.any)?),
            window,
            rule: Box::new(rule),
        })
    }

    /// Texts one of which any matching record's JSON must contain (any
    /// case), each with the top-level field whose JSON holds it: lets a
    /// scan pass over records no rule can match without parsing them (and
    /// not look for `high` in a whole sign-in). `None` when the rule has
    /// no such text (every record of its kind must be parsed).
    pub fn field_literals(&self) -> Option<Vec<(String, Vec<String>)>> {
        let positive = |c: &Compiled| {
            matches!(
                c.op,
                Op::Eq | Op::In | Op::Contains | Op::Has | Op::StartsWith
            )
        };
        // JSON may escape these, so the raw text might not contain them.
        let safe = |t: &String| {
            !t.is_empty()
                && t.chars().all(|c| c.is_ascii_graphic() || c == ' ')
                && !t.contains(['"', '\\', '/'])
        };
        let usable = |c: &&Compiled| positive(c) && c.texts.iter().all(safe);
        let top = |c: &Compiled| c.field.split('.').next().unwrap_or(&c.field).to_owned();
        if !self.any.is_empty() && self.any.iter().all(|c| usable(&c)) {
            return Some(self.any.iter().map(|c| (top(c), c.texts.clone())).collect());
        }
        // Otherwise, of the conditions that must all hold, the one whose
        // shortest text is longest: the rarest to find by chance.
        let best = self
            .all
            .iter()
            .filter(usable)
            .max_by_key(|c| c.texts.iter().map(String::len).min().unwrap_or(0))?;
        Some(vec![(top(best), best.texts.clone())])
    }

    /// Every field path the rule reads.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.all
            .iter()
            .chain(&self.any)
            .map(|c| c.field.as_str())
            .chain(self.rule.group_by.iter().map(String::as_str))
            .chain(self.rule.entities.iter().map(String::as_str))
            .chain(self.rule.distinct.iter().map(String::as_str))
    }

    /// How matches are kept beyond their count, when the rule needs more
    /// (windows, distinct counts).
    pub fn points(&self) -> Option<Points> {
        (self.window.is_some() || self.rule.distinct.is_some()).then(|| Points {
            slot_secs: self.window.map(|w| (w.as_secs() / SLOTS_PER_WINDOW).max(1)),
            cap: self.rule.threshold.max(DISTINCT_CAP),
        })
    }

    pub fn window(&self) -> Option<SignedDuration> {
        self.window
    }

    /// The conditions that must all hold, and those one of which must
    /// (texts lower-cased, `@lists` expanded), for compilers to other
    /// languages.
    pub(crate) fn conditions(&self) -> (&[Compiled], &[Compiled]) {
        (&self.all, &self.any)
    }

    /// Seconds per slot of a windowed rule (see `SLOTS_PER_WINDOW`).
    pub fn slot_secs(&self) -> Option<i64> {
        self.window.map(|w| (w.as_secs() / SLOTS_PER_WINDOW).max(1))
    }

    /// Whether one event matches (the stateless part, run on any thread).
    pub fn matches(&self, event: &Event) -> bool {
        event.kind == self.kind
            && self.all.iter().all(|c| c.holds(&event.value))
            && (self.any.is_empty() || self.any.iter().any(|c| c.holds(&event.value)))
    }

    /// What the aggregation keeps of a matching event.
    pub fn hit(&self, event: &Event) -> Hit {
        let key = self
            .rule
            .group_by
            .iter()
            .map(|f| text_at(&event.value, f).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\u{1f}");
        let mut fields = BTreeMap::new();
        let mut wanted: Vec<&String> = self.rule.entities.iter().collect();
        wanted.extend(self.rule.group_by.iter());
        wanted.extend(self.rule.distinct.iter());
        for field in wanted {
            // Windows writes `-` for "none".
            if let Some(v) = text_at(&event.value, field).filter(|v| v != "-") {
                fields.insert(field.clone(), v);
            }
        }
        Hit {
            key,
            time: event.time,
            id: event.id.clone(),
            distinct: self
                .rule
                .distinct
                .as_ref()
                .and_then(|f| text_at(&event.value, f)),
            fields,
        }
    }
}

/// One matching event, as the aggregation needs it.
#[derive(Clone, Debug)]
pub struct Hit {
    pub key: String,
    pub time: Option<Timestamp>,
    pub id: String,
    pub distinct: Option<String>,
    pub fields: BTreeMap<String, String>,
}

/// How many event ids a finding lists as evidence (the count is exact).
pub const MAX_EVIDENCE: usize = 200;

/// Windows are measured in slots of a twentieth of their width, so a rule
/// keeps counts per slot, not every match: memory follows the time the
/// logs span, not how many records match. A window is read as the slots
/// it touches, so it may reach back up to one slot further (a one-hour
/// window counts up to 63 minutes); it never misses a burst.
const SLOTS_PER_WINDOW: i64 = 20;

/// Distinct values kept per slot: past this many in one slot the threshold
/// is reached anyway, and the count shown is a floor.
const DISTINCT_CAP: usize = 1000;

/// How a rule's matches are kept besides their count.
#[derive(Clone, Copy, Debug)]
pub struct Points {
    /// Seconds per slot, for a windowed rule.
    slot_secs: Option<i64>,
    /// Distinct values kept per slot.
    cap: usize,
}

/// The matches that fell in one slot of time.
#[derive(Clone, Debug, Default)]
pub struct Slot {
    count: usize,
    distinct: BTreeSet<String>,
    /// More distinct values came than were kept.
    full: bool,
}

/// The most matches (or distinct values) seen together, and whether the
/// figure is a floor (distinct values past the cap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Peak {
    pub value: usize,
    pub at_least: bool,
}

/// The matches of one group.
#[derive(Clone, Debug, Default)]
pub struct Group {
    pub count: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// (time, event id): the earliest matches, kept in a stable order.
    pub evidence: Vec<(Option<Timestamp>, String)>,
    /// Entity field → values seen.
    pub entities: BTreeMap<String, BTreeSet<String>>,
    /// Matches by slot of time (windowed rules), or all in slot 0.
    slots: BTreeMap<i64, Slot>,
    /// Matches with no time (a windowed rule cannot place them).
    untimed: Slot,
}

impl Group {
    pub fn add(&mut self, hit: Hit, points: Option<Points>) {
        self.count += 1;
        if let Some(t) = hit.time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.evidence.push((hit.time, hit.id));
        if self.evidence.len() >= 2 * MAX_EVIDENCE {
            self.trim_evidence();
        }
        // The first 50 values in order, whichever order the workers hand
        // matches in: the same input names the same values.
        for (field, value) in hit.fields {
            let values = self.entities.entry(field).or_default();
            if values.len() < 50 || values.last().is_some_and(|last| value < *last) {
                values.insert(value);
                if values.len() > 50 {
                    values.pop_last();
                }
            }
        }
        let Some(points) = points else { return };
        let slot = match (points.slot_secs, hit.time) {
            (Some(width), Some(t)) => self
                .slots
                .entry(t.as_second().div_euclid(width))
                .or_default(),
            (Some(_), None) => &mut self.untimed,
            (None, _) => self.slots.entry(0).or_default(),
        };
        slot.count += 1;
        if let Some(value) = hit.distinct {
            if slot.distinct.len() < points.cap {
                slot.distinct.insert(value);
            } else if !slot.distinct.contains(&value) {
                slot.full = true;
            }
        }
    }

    /// Takes the matches of one slot as a query engine summed them up
    /// elsewhere (`slot`: the slot's number, as `add` counts them; the
    /// evidence and values are the ones it kept).
    pub fn add_summary(&mut self, summary: SlotSummary, points: Option<Points>) {
        self.count += summary.count;
        for t in [summary.first, summary.last].into_iter().flatten() {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.evidence.extend(summary.evidence);
        self.trim_evidence();
        for (field, values) in summary.entities {
            let kept = self.entities.entry(field).or_default();
            kept.extend(values);
            while kept.len() > 50 {
                kept.pop_last();
            }
        }
        let Some(points) = points else { return };
        let slot = self.slots.entry(summary.slot.unwrap_or(0)).or_default();
        slot.count += summary.count as usize;
        for value in summary.distinct {
            if slot.distinct.len() < points.cap {
                slot.distinct.insert(value);
            } else if !slot.distinct.contains(&value) {
                slot.full = true;
            }
        }
    }

    /// Keeps the earliest evidence (the same whatever order events came in).
    pub fn trim_evidence(&mut self) {
        self.evidence.sort();
        self.evidence.dedup();
        self.evidence.truncate(MAX_EVIDENCE);
    }

    /// The earliest evidence ids.
    pub fn evidence_ids(&self) -> Vec<String> {
        let mut evidence = self.evidence.clone();
        evidence.sort();
        evidence.dedup();
        evidence
            .into_iter()
            .take(MAX_EVIDENCE)
            .map(|(_, id)| id)
            .collect()
    }

    /// The most matches (or distinct values) inside any window of `window`;
    /// all of them when there is no window.
    pub fn peak(&self, window: Option<SignedDuration>, distinct: bool) -> Peak {
        let measure = |slots: &mut dyn Iterator<Item = &Slot>| -> Peak {
            if !distinct {
                let value = slots.map(|s| s.count).sum();
                return Peak {
                    value,
                    at_least: false,
                };
            }
            let mut values: BTreeSet<&str> = BTreeSet::new();
            let mut at_least = false;
            for slot in slots {
                values.extend(slot.distinct.iter().map(String::as_str));
                at_least |= slot.full;
            }
            Peak {
                value: values.len(),
                at_least,
            }
        };
        let Some(window) = window else {
            if !distinct {
                return Peak {
                    value: self.count as usize,
                    at_least: false,
                };
            }
            return measure(&mut self.slots.values().chain([&self.untimed]));
        };
        let width = (window.as_secs() / SLOTS_PER_WINDOW).max(1);
        // Every slot an exact window ending in slot `end` can touch.
        let reach = (window.as_secs() + width - 1) / width;
        let mut best = Peak {
            value: 0,
            at_least: false,
        };
        for end in self.slots.keys() {
            best = best.max(measure(
                &mut self.slots.range(end - reach..=*end).map(|(_, s)| s),
            ));
        }
        best
    }
}

/// What a query engine elsewhere made of one group's matches in one slot
/// of time (or all of them, for a rule without a window).
#[derive(Clone, Debug, Default)]
pub struct SlotSummary {
    pub slot: Option<i64>,
    pub count: u64,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub evidence: Vec<(Option<Timestamp>, String)>,
    pub entities: BTreeMap<String, BTreeSet<String>>,
    pub distinct: Vec<String>,
}

/// The state of every rule over the events seen so far.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub groups: HashMap<(usize, String), Group>,
}

impl Aggregate {
    /// Takes one slot's summary for a rule's group.
    pub fn add_summary(
        &mut self,
        rule: usize,
        key: String,
        summary: SlotSummary,
        points: Option<Points>,
    ) {
        self.groups
            .entry((rule, key))
            .or_default()
            .add_summary(summary, points);
    }

    /// `points`: how the rule keeps its matches besides counting them
    /// (`Ready::points`).
    pub fn add(&mut self, rule: usize, hit: Hit, points: Option<Points>) {
        self.groups
            .entry((rule, hit.key.clone()))
            .or_default()
            .add(hit, points);
    }
}

/// Fills `{count}`, `{count:noun}` (the count with its noun in the right
/// number), `{distinct}`, `{window}`, `{field}` and `{field|other}` (the
/// first of them an event gave) in a rule's explanation.
pub fn explain(rule: &Ready, group: &Group, peak: Peak) -> String {
    let mut text = choose_alternatives(&rule.rule.explain, group);
    text = text.replace("{count}", &group.count.to_string());
    while let Some(start) = text.find("{count:") {
        let Some(len) = text[start..].find('}') else {
            break;
        };
        let noun = text[start + 7..start + len].to_owned();
        let counted = crate::model::counted(group.count, &noun);
        text.replace_range(start..=start + len, &counted);
    }
    let distinct = if peak.at_least {
        format!("{} or more", peak.value)
    } else {
        peak.value.to_string()
    };
    text = text.replace("{distinct}", &distinct);
    text = text.replace(
        "{window}",
        rule.rule.window.as_deref().unwrap_or("the data"),
    );
    for (field, values) in &group.entities {
        let shown: Vec<&str> = values.iter().take(3).map(String::as_str).collect();
        let mut joined = shown.join(", ");
        if values.len() > 3 {
            joined.push_str(&format!(" and {} more", values.len() - 3));
        }
        text = text.replace(&format!("{{{field}}}"), &joined);
    }
    // Fields no matching event had say nothing.
    for field in rule.rule.entities.iter().chain(&rule.rule.group_by) {
        text = text.replace(&format!("{{{field}}}"), "");
    }
    text
}

/// `{a|b}` as `{a}` when events gave `a`, else as `{b}`.
fn choose_alternatives(template: &str, group: &Group) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &rest[open + 1..close];
        let chosen = if inner.contains('|') {
            let given = |field: &&str| group.entities.get(*field).is_some_and(|v| !v.is_empty());
            let mut fields = inner.split('|');
            let first = fields.clone().next().unwrap_or_default();
            fields.find(given).unwrap_or(first)
        } else {
            inner
        };
        out.push('{');
        out.push_str(chosen);
        out.push('}');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// The shipped rule files.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "signins.toml",
        include_str!("../../assets/detections/signins.toml"),
    ),
    (
        "audits.toml",
        include_str!("../../assets/detections/audits.toml"),
    ),
    (
        "mail.toml",
        include_str!("../../assets/detections/mail.toml"),
    ),
    (
        "risk.toml",
        include_str!("../../assets/detections/risk.toml"),
    ),
    (
        "windows.toml",
        include_str!("../../assets/detections/windows.toml"),
    ),
];

/// The rules of one rule file (as `assets/detections/*.toml`), ready to
/// run; the error names what is wrong.
pub fn parse_file(text: &str) -> Result<Vec<Ready>, String> {
    let file: RuleFile = toml::from_str(text).map_err(|e| e.to_string())?;
    file.rule.into_iter().map(Ready::new).collect()
}

/// Every built-in rule, ready to run.
pub fn built_in() -> Result<Vec<Ready>, String> {
    let mut rules = Vec::new();
    for (name, text) in BUILT_IN {
        rules.extend(parse_file(text).map_err(|e| format!("{name}: {e}"))?);
    }
    let mut ids = BTreeSet::new();
    for r in &rules {
        if !ids.insert(r.rule.id.clone()) {
            return Err(format!("two rules are called {}", r.rule.id));
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule with no literal text to look for makes the scan build every
    /// record of its kind: only rules whose very point is a value no text
    /// shows (a type no rule knows yet) may.
    #[test]
    fn every_built_in_rule_gives_the_prefilter_a_text() {
        let without: Vec<String> = built_in()
            .unwrap()
            .iter()
            .filter(|r| r.field_literals().is_none())
            .map(|r| r.rule.id.clone())
            .collect();
        assert_eq!(
            without,
            ["risk.user.unknown-type", "risk.workload.unknown-type"]
        );
    }

    fn ready(conditions: &str) -> Ready {
        let text = format!(
            "[[rule]]\nid = \"t\"\ntitle = \"t\"\nseverity = \"low\"\ntechniques = []\nrationale = \"r\"\nkind = \"sign-in\"\nexplain = \"e\"\n{conditions}"
        );
        let file: RuleFile = toml::from_str(&text).expect("rule parses");
        Ready::new(file.rule[0].clone()).expect("rule is valid")
    }

    fn spray() -> Ready {
        ready(
            "where = [{ field = \"status.errorCode\", op = \"eq\", value = 50126 }]\ngroup_by = [\"ipAddress\"]\ndistinct = \"userPrincipalName\"\nthreshold = 10\nwindow = \"1h\"",
        )
    }

    fn hit(minute: i64, user: &str) -> Hit {
        Hit {
            key: "k".into(),
            time: Some(Timestamp::from_second(1_790_000_000 + minute * 60).unwrap()),
            id: format!("{minute}-{user}"),
            distinct: Some(user.into()),
            fields: BTreeMap::new(),
        }
    }

    #[test]
    fn a_window_is_measured_in_slots_and_never_misses_a_burst() {
        let rule = spray();
        let peak = |hits: Vec<Hit>| {
            let mut group = Group::default();
            for h in hits {
                group.add(h, rule.points());
            }
            group.peak(rule.window(), true)
        };
        // Ten accounts inside the hour, in any order.
        let burst: Vec<Hit> = (0..10)
            .rev()
            .map(|i| hit(i * 6, &format!("u{i}")))
            .collect();
        assert_eq!(peak(burst).value, 10);
        // The same ten spread over five hours: at most three in any hour.
        let spread: Vec<Hit> = (0..10).map(|i| hit(i * 30, &format!("u{i}"))).collect();
        assert!(peak(spread).value <= 3);
        // One account failing over and over is one account.
        let one: Vec<Hit> = (0..500).map(|i| hit(i % 50, "same")).collect();
        assert_eq!(peak(one).value, 1);
    }

    #[test]
    fn matches_are_kept_per_slot_not_one_by_one() {
        let rule = spray();
        let mut group = Group::default();
        // A day of failures every few seconds from twenty accounts.
        for i in 0..100_000i64 {
            let mut h = hit(0, &format!("u{}", i % 20));
            h.time = Some(Timestamp::from_second(1_790_000_000 + i * 86_400 / 100_000).unwrap());
            group.add(h, rule.points());
        }
        assert_eq!(group.count, 100_000);
        // Three-minute slots: 480 in a day, each with its twenty names.
        assert!(group.slots.len() <= 481, "{}", group.slots.len());
        assert_eq!(group.peak(rule.window(), true).value, 20);
        // Past the cap, the figure shown is a floor.
        let mut wide = Group::default();
        for i in 0..(DISTINCT_CAP + 5) {
            wide.add(hit(1, &format!("u{i}")), rule.points());
        }
        let peak = wide.peak(rule.window(), true);
        assert_eq!(
            peak,
            Peak {
                value: DISTINCT_CAP,
                at_least: true
            }
        );
    }

    #[test]
    fn the_prefilter_texts_are_the_rarest_a_match_must_hold() {
        // Every `any` condition has a text: one of them must be there.
        let any = ready(
            r#"any = [{ field = "status.errorCode", op = "eq", value = 50126 }, { field = "clientAppUsed", op = "in", value = ["IMAP4", "POP3"] }]"#,
        );
        assert_eq!(
            any.field_literals(),
            Some(vec![
                ("status".into(), vec!["50126".into()]),
                ("clientAppUsed".into(), vec!["imap4".into(), "pop3".into()]),
            ])
        );
        // Of conditions that must all hold, the longest shortest text.
        let all = ready(
            r#"where = [{ field = "riskLevelDuringSignIn", op = "eq", value = "high" }, { field = "appDisplayName", op = "contains", value = "PowerShell" }, { field = "ipAddress", op = "ne", value = "10.0.0.1" }]"#,
        );
        assert_eq!(
            all.field_literals(),
            Some(vec![("appDisplayName".into(), vec!["powershell".into()])])
        );
        // An `any` with a condition no text shows falls back on `where`.
        let mixed = ready(
            r#"where = [{ field = "tokenIssuerType", op = "eq", value = "ADFederationServices" }]
any = [{ field = "ipAddress", op = "ne", value = "10.0.0.1" }, { field = "userAgent", op = "contains", value = "python" }]"#,
        );
        assert_eq!(
            mixed.field_literals(),
            Some(vec![(
                "tokenIssuerType".into(),
                vec!["adfederationservices".into()]
            )])
        );
        // Nothing that must be there: every record is read.
        let none = ready(r#"where = [{ field = "ipAddress", op = "exists" }]"#);
        assert_eq!(none.field_literals(), None);
    }
}
