//! One rule of the catalogue as a KQL query: the records of its kind from
//! every table that holds them, its conditions, and its matches summed up
//! per group (and per twentieth of its window, as the engine keeps them),
//! so the workspace sends back findings' worth of rows, not the records.

use std::fmt::Write;

use super::tables::{self, Place, Table};
use super::{Range, quote};
use crate::detect::event::Kind;
use crate::detect::rule::{Compiled, HostRole, MAX_EVIDENCE, Op, Ready};

/// Distinct values kept per slot: one past the engine's cap, so a full
/// slot is told from one that is exactly full.
pub const DISTINCT_KEPT: usize = 1001;
/// Entity values kept per group and slot (the engine keeps 50).
pub const VALUES_KEPT: usize = 50;

/// How a field is read once every table's rows are one.
#[derive(Clone, Debug)]
struct Field {
    path: String,
    /// Where an array starts, in the field's path: its items are tested
    /// one by one. `None`: a plain value.
    array: Option<ArrayPath>,
}

#[derive(Clone, Debug)]
struct ArrayPath {
    /// The path inside each item, before an inner array.
    nested: Option<Vec<String>>,
    /// The path inside each (inner) item to the value.
    inner: Vec<String>,
    /// Graph path of the array itself (for the projection).
    root: String,
}

/// The query for one rule; `Err` says why it cannot be written. With
/// `part_of`, `range` is a part of a longer range split for the service's
/// limits: every group comes back, to be added up and judged here (and
/// hosts' roles are told from the whole range); without, a rule without a
/// window is judged in the query.
pub fn rule_query(ready: &Ready, range: &Range, part_of: Option<&Range>) -> Result<String, String> {
    build(
        ready,
        range,
        part_of.unwrap_or(range),
        ready.slot_secs(),
        part_of.is_none() && ready.window().is_none(),
    )
}

/// The query for a scheduled analytic rule that runs every `period` over
/// the last `period` (a Sentinel rule): every threshold judged in the
/// query, a window read as the period.
pub fn scheduled_query(ready: &Ready, period: &str) -> Result<String, String> {
    let range = Range::Lookback(period.to_owned());
    build(ready, &range, &range, None, true)
}

/// `slot_secs`: sum matches per slot of this many seconds; `judge`: keep
/// only groups past the rule's threshold.
fn build(
    ready: &Ready,
    range: &Range,
    hosts_over: &Range,
    slot_secs: Option<i64>,
    judge: bool,
) -> Result<String, String> {
    let rule = &ready.rule;
    let kind = rule.kind;
    let (all, any) = ready.conditions();
    let mut fields: Vec<Field> = Vec::new();
    let mut index = |path: &str| -> usize {
        if let Some(i) = fields.iter().position(|f| f.path == path) {
            return i;
        }
        fields.push(Field {
            path: path.to_owned(),
            array: array_path(kind, path),
        });
        fields.len() - 1
    };
    let all_at: Vec<usize> = all.iter().map(|c| index(&c.field)).collect();
    let any_at: Vec<usize> = any.iter().map(|c| index(&c.field)).collect();
    let group_at: Vec<usize> = rule.group_by.iter().map(|f| index(f)).collect();
    let values = value_fields(ready);
    let value_at: Vec<usize> = values.iter().map(|f| index(f)).collect();
    let distinct_at = rule.distinct.as_deref().map(&mut index);

    let chosen = choose_tables(ready);
    if chosen.is_empty() {
        return Err(format!(
            "no Log Analytics table holds {} records with the fields it needs",
            kind.name()
        ));
    }
    let mut q = String::new();
    if rule.host.is_some() {
        writeln!(
            q,
            "let DomainControllers = {};",
            domain_controllers(hosts_over)
        )
        .ok();
    }
    // Every table's rows, cut to the fields the rule reads.
    let parts: Vec<String> = chosen
        .iter()
        .map(|t| projection(kind, t, &fields, range))
        .collect();
    if parts.len() == 1 {
        q.push_str(&parts[0]);
    } else {
        q.push_str("union ");
        q.push_str(
            &parts
                .iter()
                .map(|p| format!("({p})"))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    let plain = |i: usize| fields[i].array.is_none();
    // Plain conditions that must hold first: they cut the most rows.
    let first: Vec<String> = all
        .iter()
        .zip(&all_at)
        .filter(|(_, i)| plain(**i))
        .map(|(c, i)| predicate(c, &format!("f_{i}")))
        .collect();
    if !first.is_empty() {
        write!(q, "\n| where {}", first.join(" and ")).ok();
    }
    // Arrays: one pass over the items of each, counting the items each
    // condition holds for and keeping the first value.
    let mut later: Vec<String> = Vec::new();
    let mut anys: Vec<String> = Vec::new();
    let mut counters: Vec<Vec<String>> = vec![Vec::new(); fields.len()];
    let mut tested: Vec<(usize, bool, String)> = Vec::new();
    for (n, (c, i)) in all
        .iter()
        .zip(&all_at)
        .map(|x| (true, x))
        .chain(any.iter().zip(&any_at).map(|x| (false, x)))
        .enumerate()
        .map(|(n, (must, x))| ((n, must), x))
    {
        let (n, must) = n;
        let text = if plain(*i) {
            if must {
                continue;
            }
            predicate(c, &format!("f_{i}"))
        } else {
            let item = item_value(&fields[*i], *i);
            let (test, agg) = array_test(c, n, &item);
            counters[*i].extend(agg);
            test
        };
        tested.push((n, must, text));
    }
    for (_, must, text) in tested {
        if must {
            later.push(text);
        } else {
            anys.push(text);
        }
    }
    let wanted_value =
        |i: usize| value_at.contains(&i) || group_at.contains(&i) || distinct_at == Some(i);
    for (i, field) in fields.iter().enumerate() {
        let Some(array) = &field.array else { continue };
        let item = item_value(field, i);
        let mut aggs = counters[i].clone();
        if wanted_value(i) {
            aggs.push(format!(
                "l_{i} = make_list_if({item}, isnotempty({item}), 1)"
            ));
        }
        if aggs.is_empty() {
            continue;
        }
        let expand = match &array.nested {
            Some(path) => format!("mv-expand y_{i} = x_{i}{} | ", access(path)),
            None => String::new(),
        };
        write!(
            q,
            "\n| mv-apply x_{i} = f_{i} on ({expand}summarize {})",
            aggs.join(", ")
        )
        .ok();
        if wanted_value(i) {
            write!(q, "\n| extend v_{i} = tostring(l_{i}[0])").ok();
        }
    }
    if !anys.is_empty() {
        later.push(format!("({})", anys.join(" or ")));
    }
    if !later.is_empty() {
        write!(q, "\n| where {}", later.join(" and ")).ok();
    }
    let value = |i: usize| {
        if plain(i) {
            format!("f_{i}")
        } else {
            format!("v_{i}")
        }
    };
    // The summary the engine would keep.
    let mut aggs = vec![
        "Count = count()".to_owned(),
        "FirstSeen = min(Time)".to_owned(),
        "LastSeen = max(Time)".to_owned(),
        format!("Evidence = make_list(pack_array(Time, RecordId), {MAX_EVIDENCE})"),
    ];
    for (j, i) in value_at.iter().enumerate() {
        let v = value(*i);
        aggs.push(format!(
            "Values_{j} = make_set_if({v}, isnotempty({v}) and {v} != \"-\", {VALUES_KEPT})"
        ));
    }
    if let Some(i) = distinct_at {
        let v = value(i);
        aggs.push(format!(
            "Distinct = make_set_if({v}, isnotempty({v}), {DISTINCT_KEPT})"
        ));
    }
    let mut by: Vec<String> = group_at
        .iter()
        .enumerate()
        .map(|(j, i)| format!("Group_{j} = {}", value(*i)))
        .collect();
    if let Some(secs) = slot_secs {
        by.push(format!("Slot = bin(Time, {secs}s)"));
    }
    write!(q, "\n| summarize {}", aggs.join(", ")).ok();
    if !by.is_empty() {
        write!(q, " by {}", by.join(", ")).ok();
    }
    // Judged here when the query sees all the rule is judged on; else
    // after the parts or slots come back (a window may straddle them).
    let threshold = rule.threshold.max(1);
    match (judge, rule.distinct.is_some()) {
        (false, _) => write!(q, "\n| where Count > 0").ok(),
        (true, false) => write!(q, "\n| where Count >= {threshold}").ok(),
        (true, true) => write!(q, "\n| where array_length(Distinct) >= {threshold}").ok(),
    };
    if let Some(role) = rule.host {
        let computer = rule
            .group_by
            .iter()
            .position(|f| f == "Computer")
            .ok_or("a host role needs Computer among group_by")?;
        let op = if role == HostRole::DomainController {
            "in"
        } else {
            "!in"
        };
        write!(
            q,
            "\n| where tolower(trim(@\"\\s\", Group_{computer})) {op} (DomainControllers)"
        )
        .ok();
    }
    Ok(q)
}

/// Fields whose values a finding names: entities, group and distinct
/// fields (as the engine's `Hit::fields`), in that order, each once.
pub fn value_fields(ready: &Ready) -> Vec<String> {
    let rule = &ready.rule;
    let mut out: Vec<String> = Vec::new();
    for f in rule
        .entities
        .iter()
        .chain(&rule.group_by)
        .chain(rule.distinct.iter())
    {
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// The tables a rule reads: those of its kind that can hold a match (a
/// table without a column a condition needs present cannot).
pub fn choose_tables(ready: &Ready) -> Vec<Table> {
    let kind = ready.rule.kind;
    let (all, _) = ready.conditions();
    // Conditions that hold only where the field has a value.
    let needs_value =
        |c: &&Compiled| !matches!(c.op, Op::Ne | Op::NotIn | Op::NotContains | Op::Missing);
    let mut chosen: Vec<Table> = tables::tables(kind)
        .iter()
        .copied()
        .filter(|t| {
            all.iter()
                .filter(needs_value)
                .all(|c| tables::locate(kind, t.name, &c.field).is_some())
        })
        .collect();
    if kind == Kind::WindowsEvent {
        chosen.retain(|t| windows_table_fits(ready, t));
    }
    chosen
}

/// Security-log events are in `SecurityEvent`; other channels' (AD FS,
/// Sysmon, System, CAPI2) in `Event`.
fn windows_table_fits(ready: &Ready, table: &Table) -> bool {
    let (all, _) = ready.conditions();
    let ids: Vec<u64> = all
        .iter()
        .filter(|c| c.field == "EventID" && matches!(c.op, Op::Eq | Op::In))
        .flat_map(|c| c.texts.iter().filter_map(|t| t.parse().ok()))
        .collect();
    if ids.is_empty() {
        return true;
    }
    let security = |id: &u64| matches!(id, 1100..=1108 | 4608..=6424);
    if *table == tables::SECURITY_EVENT {
        ids.iter().any(security)
    } else {
        ids.iter().any(|id| !security(id))
    }
}

/// Where an array begins in a field's path, if one does.
fn array_path(kind: Kind, path: &str) -> Option<ArrayPath> {
    let parts: Vec<&str> = path.split('.').collect();
    let prefix = |n: usize| parts[..n].join(".");
    let outer = (1..=parts.len()).find(|n| tables::is_array(kind, &prefix(*n)))?;
    let inner_start = (outer + 1..=parts.len()).find(|n| tables::is_array(kind, &prefix(*n)));
    let owned = |s: &[&str]| s.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    Some(match inner_start {
        Some(n) => ArrayPath {
            nested: Some(owned(&parts[outer..n])),
            inner: owned(&parts[n..]),
            root: prefix(outer),
        },
        None => ArrayPath {
            nested: None,
            inner: owned(&parts[outer..]),
            root: prefix(outer),
        },
    })
}

/// `["a"]["b"]`: a path inside a dynamic value.
fn access(path: &[String]) -> String {
    path.iter().map(|p| format!("[{}]", quote(p))).collect()
}

/// One table's rows in the window, with the rule's fields as `f_N`.
fn projection(kind: Kind, table: &Table, fields: &[Field], range: &Range) -> String {
    let mut cols = vec![
        format!("Time = {}", table.time),
        format!("RecordId = {}", record_id(kind, table)),
    ];
    for (i, field) in fields.iter().enumerate() {
        let expr = match &field.array {
            Some(array) => match tables::locate(kind, table.name, &array.root) {
                Some(Place::Column { column, path }) => {
                    format!("todynamic({column}){}", access(&path))
                }
                _ => "dynamic(null)".to_owned(),
            },
            None => match tables::locate(kind, table.name, &field.path) {
                Some(Place::Column { column, path }) if path.is_empty() => {
                    format!("tostring({column})")
                }
                Some(Place::Column { column, path }) => {
                    format!("tostring(todynamic({column}){})", access(&path))
                }
                Some(Place::EventData(name)) => event_data(&name),
                None => "\"\"".to_owned(),
            },
        };
        cols.push(format!("f_{i} = {expr}"));
    }
    format!(
        "{} | where {} | project {}",
        table.name,
        range.filter(),
        cols.join(", ")
    )
}

/// A named value of a Windows event's XML (`<Data Name="X">value</Data>`).
fn event_data(name: &str) -> String {
    let pattern = format!("<Data Name=\"{}\">([^<]*)</Data>", regex_escape(name));
    format!("extract({}, 1, EventData)", quote(&pattern))
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// How a record's own id is written in each table (as the importers
/// name the records, so evidence ids match a local scan's).
fn record_id(kind: Kind, table: &Table) -> String {
    match (kind, table.name) {
        (Kind::MailAudit, _) => "OfficeId".into(),
        (Kind::WindowsEvent, "SecurityEvent") => "strcat(Computer, \"#\", EventRecordId)".into(),
        (Kind::WindowsEvent, _) => "_ItemId".into(),
        _ => "Id".into(),
    }
}

/// An array item's value: the item itself, or a path inside it.
fn item_value(field: &Field, i: usize) -> String {
    let array = field.array.as_ref().expect("an array field");
    let var = if array.nested.is_some() {
        format!("y_{i}")
    } else {
        format!("x_{i}")
    };
    format!("tostring({var}{})", access(&array.inner))
}

/// A condition over an array's items: the test on the counts (after the
/// pass over the items) and the counts to take.
fn array_test(c: &Compiled, n: usize, item: &str) -> (String, Vec<String>) {
    let positive = |op: Op| {
        let c = Compiled { op, ..c.clone() };
        predicate(&c, item)
    };
    let count = |name: &str, test: String| format!("{name}_{n} = countif({test})");
    let present = format!("isnotempty({item})");
    match c.op {
        Op::Ne | Op::NotIn => (format!("m_{n} == 0"), vec![count("m", positive(Op::In))]),
        Op::NotContains => (
            format!("m_{n} == 0"),
            vec![count("m", positive(Op::Contains))],
        ),
        Op::Missing => (format!("m_{n} == 0"), vec![count("m", present)]),
        Op::NotEndsWith => (
            format!("(p_{n} > 0 and m_{n} == 0)"),
            vec![count("p", present), count("m", positive(Op::EndsWith))],
        ),
        Op::OtherThan => (
            format!("(p_{n} > 0 and m_{n} == 0)"),
            vec![count("p", present), count("m", positive(Op::In))],
        ),
        _ => (format!("m_{n} > 0"), vec![count("m", predicate(c, item))]),
    }
}

/// A condition on one value (text), in KQL: the engine's operators are
/// KQL's, case ignored.
pub(crate) fn predicate(c: &Compiled, v: &str) -> String {
    let list = || {
        c.texts
            .iter()
            .map(|t| quote(t))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let each = |op: &str, join: &str| {
        let parts: Vec<String> = c
            .texts
            .iter()
            .map(|t| format!("{v} {op} {}", quote(t)))
            .collect();
        if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("({})", parts.join(join))
        }
    };
    let number = c.number.unwrap_or_default();
    match c.op {
        Op::Eq | Op::In if c.texts.len() == 1 => format!("{v} =~ {}", quote(&c.texts[0])),
        Op::Eq | Op::In => format!("{v} in~ ({})", list()),
        Op::Ne | Op::NotIn if c.texts.len() == 1 => format!("{v} !~ {}", quote(&c.texts[0])),
        Op::Ne | Op::NotIn => format!("{v} !in~ ({})", list()),
        Op::OtherThan => format!("(isnotempty({v}) and {v} !in~ ({}))", list()),
        Op::Contains => each("contains", " or "),
        Op::NotContains => each("!contains", " and "),
        Op::Has if c.texts.len() == 1 => format!("{v} has {}", quote(&c.texts[0])),
        Op::Has => format!("{v} has_any ({})", list()),
        Op::StartsWith => each("startswith", " or "),
        Op::EndsWith => each("endswith", " or "),
        Op::NotEndsWith => format!("(isnotempty({v}) and {})", each("!endswith", " and ")),
        Op::Exists => format!("isnotempty({v})"),
        Op::Missing => format!("isempty({v})"),
        Op::Gt => format!("todouble({v}) > {}", kql_number(number)),
        Op::Lt => format!("todouble({v}) < {}", kql_number(number)),
    }
}

fn kql_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// The hosts seen acting as domain controllers (as `detect::hosts` tells
/// them), as a KQL table of lower-case names.
fn domain_controllers(range: &Range) -> String {
    let ids = |keep: fn(u64) -> bool| {
        (1000..6000u64)
            .filter(|id| keep(*id))
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dc_only = ids(crate::detect::hosts::dc_only);
    let managed = ids(crate::detect::hosts::account_management);
    format!(
        "SecurityEvent | where {} \
         | extend Host = tostring(split(trim(@\"\\s\", Computer), \".\")[0]), Domain = trim(@\"\\s\", TargetDomainName) \
         | where EventID in ({dc_only}) or (EventID in ({managed}) and isnotempty(Domain) and Domain != \"-\" \
         and Domain !~ \"Builtin\" and Domain !~ \"NT AUTHORITY\" and Domain !~ Host and Domain !~ substring(Host, 0, 15)) \
         | distinct Name = tolower(trim(@\"\\s\", Computer))",
        range.filter()
    )
}
