//! Running a parsed query: tabular operators over rows, scalar functions
//! over values, aggregates over groups.
//!
//! Scalar functions: `tostring`, `todynamic`/`parse_json`, `tolong`/`toint`,
//! `todouble`/`toreal`, `tobool`, `todatetime`, `tolower`, `toupper`, `trim`,
//! `trim_start`, `trim_end`, `split`, `substring`, `strcat`, `strlen`,
//! `isempty`, `isnotempty`, `isnull`, `isnotnull`, `extract`,
//! `array_length`, `pack_array`, `pack`/`bag_pack`, `set_has_element`,
//! `bin`/`floor`, `ago`, `now`, `iff`/`iif`, `coalesce`, `not`, `abs`.
//! Aggregates: `count`, `countif`, `sum`, `sumif`, `avg`, `min`, `max`,
//! `dcount`, `dcountif`, `make_list(_if)`, `make_set(_if)`, `take_any`,
//! `arg_min`, `arg_max`.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value as J;

use super::parse::{Assign, Expr, InList, JoinKey, Let, Op, Query, Source, Tabular};
use super::{Catalog, KqlError, Table, Value};

const NANOS_PER_SEC: i64 = 1_000_000_000;

struct Env<'a> {
    catalog: &'a dyn Catalog,
    scalars: HashMap<String, Value>,
    tables: HashMap<String, Arc<Table>>,
    now: i64,
}

/// One row as expressions see it.
struct Row<'r> {
    index: &'r HashMap<String, usize>,
    values: &'r [Value],
}

pub fn run(query: &Query, catalog: &dyn Catalog) -> Result<Table, KqlError> {
    let mut env = Env {
        catalog,
        scalars: HashMap::new(),
        tables: HashMap::new(),
        now: jiff::Timestamp::now().as_nanosecond() as i64,
    };
    for (name, value) in &query.lets {
        match value {
            Let::Scalar(e) => {
                let empty = HashMap::new();
                let v = eval(
                    e,
                    &Row {
                        index: &empty,
                        values: &[],
                    },
                    &env,
                )?;
                env.scalars.insert(name.clone(), v);
            }
            Let::Table(t) => {
                let table = tabular(t, &env, None)?;
                env.tables.insert(name.clone(), Arc::new(table));
            }
        }
    }
    tabular(&query.body, &env, None)
}

fn tabular(t: &Tabular, env: &Env, input: Option<Table>) -> Result<Table, KqlError> {
    let mut ops = t.ops.iter().peekable();
    let mut table = match &t.source {
        Source::Table(name) if name.is_empty() => input.unwrap_or_default(),
        Source::Table(name) => {
            let source = env
                .tables
                .get(name)
                .cloned()
                .or_else(|| env.catalog.table(name))
                .ok_or_else(|| {
                    KqlError::semantic(format!(
                        "'{name}': Failed to resolve table or column expression named '{name}'"
                    ))
                })?;
            // Leading filters (and a projection) read the stored rows in
            // place: only what passes is copied.
            let mut filters = Vec::new();
            while let Some(Op::Where(e)) = ops.peek() {
                filters.push(e);
                ops.next();
            }
            let projection = match ops.peek() {
                Some(Op::Project(assigns)) => {
                    ops.next();
                    Some(assigns)
                }
                _ => None,
            };
            scan(&source, &filters, projection, env)?
        }
        Source::Union(parts) => union(parts, env)?,
        Source::Nested(inner) => tabular(inner, env, None)?,
        Source::Print(assigns) => {
            let empty = Table {
                columns: Vec::new(),
                rows: vec![Vec::new()],
            };
            project(&empty, assigns, env)?
        }
    };
    for op in ops {
        table = operator(op, table, env)?;
    }
    Ok(table)
}

fn scan(
    source: &Table,
    filters: &[&Expr],
    projection: Option<&Vec<Assign>>,
    env: &Env,
) -> Result<Table, KqlError> {
    let index = source.index();
    let names = match projection {
        Some(assigns) => names_of(assigns, &source.columns)?,
        None => source.columns.iter().map(|(n, _)| n.clone()).collect(),
    };
    let mut rows = Vec::new();
    'rows: for values in &source.rows {
        let row = Row {
            index: &index,
            values,
        };
        for f in filters {
            if !truthy(&eval(f, &row, env)?) {
                continue 'rows;
            }
        }
        rows.push(match projection {
            Some(assigns) => assigns
                .iter()
                .map(|a| eval(&a.expr, &row, env))
                .collect::<Result<Vec<_>, _>>()?,
            None => values.clone(),
        });
    }
    let columns = match projection {
        None => source.columns.clone(),
        Some(assigns) => typed(names, &rows, Some((assigns, &source.columns))),
    };
    Ok(Table { columns, rows })
}

/// The expressions of a projection and the columns they read.
type Declared<'a> = (&'a Vec<Assign>, &'a Vec<(String, String)>);

/// Column types: a plain column keeps its declared type; others take the
/// type of their first value.
fn typed(
    names: Vec<String>,
    rows: &[Vec<Value>],
    from: Option<Declared<'_>>,
) -> Vec<(String, String)> {
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let declared = from.and_then(|(assigns, columns)| match &assigns.get(i)?.expr {
                Expr::Name(n) => columns.iter().find(|(c, _)| c == n).map(|(_, t)| t.clone()),
                _ => None,
            });
            let t = declared.unwrap_or_else(|| {
                rows.iter()
                    .filter_map(|r| r.get(i))
                    .find(|v| !matches!(v, Value::Null))
                    .map_or("string", Value::type_name)
                    .to_owned()
            });
            (name, t)
        })
        .collect()
}

/// The name each assignment gives its column.
fn names_of(assigns: &[Assign], _columns: &[(String, String)]) -> Result<Vec<String>, KqlError> {
    let mut used: Vec<String> = Vec::new();
    for (n, a) in assigns.iter().enumerate() {
        let name = a.name.clone().unwrap_or_else(|| derived_name(&a.expr, n));
        used.push(name);
    }
    Ok(used)
}

/// The name KQL gives an unnamed expression's column.
fn derived_name(e: &Expr, n: usize) -> String {
    match e {
        Expr::Name(name) => name.clone(),
        Expr::Member(base, name) => format!("{}_{name}", derived_name(base, n)),
        Expr::Call(f, args) if f == "bin" || f == "floor" => args
            .first()
            .map_or(format!("Column{}", n + 1), |a| derived_name(a, n)),
        Expr::Call(f, args) => {
            let prefix = match f.as_str() {
                "count" => return "count_".into(),
                "countif" => return "countif_".into(),
                "dcount" => "dcount",
                "make_list" | "make_list_if" => "list",
                "make_set" | "make_set_if" => "set",
                "min" => "min",
                "max" => "max",
                "sum" => "sum",
                "avg" => "avg",
                "take_any" | "any" => "any",
                _ => return format!("Column{}", n + 1),
            };
            match args.first() {
                Some(a @ (Expr::Name(_) | Expr::Member(..))) => {
                    format!("{prefix}_{}", derived_name(a, n))
                }
                _ => format!("{prefix}_"),
            }
        }
        _ => format!("Column{}", n + 1),
    }
}

fn union(parts: &[Tabular], env: &Env) -> Result<Table, KqlError> {
    let tables = parts
        .iter()
        .map(|p| tabular(p, env, None))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(concat(tables))
}

fn concat(tables: Vec<Table>) -> Table {
    let mut columns: Vec<(String, String)> = Vec::new();
    for t in &tables {
        for c in &t.columns {
            if !columns.iter().any(|(n, _)| *n == c.0) {
                columns.push(c.clone());
            }
        }
    }
    let mut rows = Vec::new();
    for t in tables {
        let map: Vec<Option<usize>> = columns.iter().map(|(n, _)| t.column(n)).collect();
        for row in t.rows {
            rows.push(
                map.iter()
                    .map(|at| at.map_or(Value::Null, |i| row[i].clone()))
                    .collect(),
            );
        }
    }
    Table { columns, rows }
}

fn project(table: &Table, assigns: &[Assign], env: &Env) -> Result<Table, KqlError> {
    let index = table.index();
    let names = names_of(assigns, &table.columns)?;
    let rows = table
        .rows
        .iter()
        .map(|values| {
            let row = Row {
                index: &index,
                values,
            };
            assigns
                .iter()
                .map(|a| eval(&a.expr, &row, env))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let columns = typed(names, &rows, Some((&assigns.to_vec(), &table.columns)));
    Ok(Table { columns, rows })
}

fn operator(op: &Op, mut table: Table, env: &Env) -> Result<Table, KqlError> {
    match op {
        Op::Where(e) => {
            let index = table.index();
            let mut kept = Vec::with_capacity(table.rows.len());
            for values in table.rows {
                let row = Row {
                    index: &index,
                    values: &values,
                };
                if truthy(&eval(e, &row, env)?) {
                    kept.push(values);
                }
            }
            table.rows = kept;
            Ok(table)
        }
        Op::Project(assigns) => project(&table, assigns, env),
        Op::Extend(assigns) => {
            let mut index = table.index();
            for (n, a) in assigns.iter().enumerate() {
                let name = a.name.clone().unwrap_or_else(|| derived_name(&a.expr, n));
                let values = table
                    .rows
                    .iter()
                    .map(|values| {
                        eval(
                            &a.expr,
                            &Row {
                                index: &index,
                                values,
                            },
                            env,
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let t = values
                    .iter()
                    .find(|v| !matches!(v, Value::Null))
                    .map_or("string", Value::type_name)
                    .to_owned();
                match index.get(&name) {
                    Some(&at) => {
                        table.columns[at].1 = t;
                        for (row, v) in table.rows.iter_mut().zip(values) {
                            row[at] = v;
                        }
                    }
                    None => {
                        index.insert(name.clone(), table.columns.len());
                        table.columns.push((name, t));
                        for (row, v) in table.rows.iter_mut().zip(values) {
                            row.push(v);
                        }
                    }
                }
            }
            Ok(table)
        }
        Op::ProjectAway(names) => {
            let drop = |c: &str| {
                names.iter().any(|n| match n.strip_suffix('*') {
                    Some(prefix) => c.starts_with(prefix),
                    None => c == n,
                })
            };
            let keep: Vec<usize> = (0..table.columns.len())
                .filter(|i| !drop(&table.columns[*i].0))
                .collect();
            Ok(Table {
                columns: keep.iter().map(|i| table.columns[*i].clone()).collect(),
                rows: table
                    .rows
                    .into_iter()
                    .map(|r| keep.iter().map(|i| r[*i].clone()).collect())
                    .collect(),
            })
        }
        Op::ProjectRename(pairs) => {
            for (new, old) in pairs {
                let at = table.column(old).ok_or_else(|| unknown(old))?;
                table.columns[at].0 = new.clone();
            }
            Ok(table)
        }
        Op::Summarize { aggs, by } => summarize(&table, aggs, by, env),
        Op::Take(n) => {
            table.rows.truncate(row_count(n, env)?);
            Ok(table)
        }
        Op::Top { n, by, desc } => {
            let n = row_count(n, env)?;
            let mut sorted = sort(table, &[(by.clone(), *desc)], env)?;
            sorted.rows.truncate(n);
            Ok(sorted)
        }
        Op::Sort(keys) => sort(table, keys, env),
        Op::Count => Ok(Table {
            columns: vec![("Count".into(), "long".into())],
            rows: vec![vec![Value::Long(table.rows.len() as i64)]],
        }),
        Op::Distinct(assigns) => {
            let star = matches!(
                assigns.as_slice(),
                [Assign {
                    expr: Expr::Star,
                    ..
                }]
            );
            let projected = if star {
                table
            } else {
                project(&table, assigns, env)?
            };
            let mut seen = HashSet::new();
            let rows = projected
                .rows
                .into_iter()
                .filter(|r| seen.insert(key_text(r)))
                .collect();
            Ok(Table {
                columns: projected.columns,
                rows,
            })
        }
        Op::MvExpand { name, expr, limit } => {
            let index = table.index();
            let target = name.clone().unwrap_or_else(|| derived_name(expr, 0));
            let at = index.get(&target).copied();
            let mut columns = table.columns.clone();
            if at.is_none() {
                columns.push((target.clone(), "dynamic".into()));
            }
            let mut rows = Vec::new();
            for values in &table.rows {
                let v = eval(
                    expr,
                    &Row {
                        index: &index,
                        values,
                    },
                    env,
                )?;
                let items = expand(v);
                let take = limit.map_or(items.len(), |l| items.len().min(l.max(0) as usize));
                for item in items.into_iter().take(take) {
                    let mut row = values.clone();
                    match at {
                        Some(i) => row[i] = item,
                        None => row.push(item),
                    }
                    rows.push(row);
                }
            }
            if let Some(i) = at {
                columns[i].1 = "dynamic".into();
            }
            Ok(Table { columns, rows })
        }
        Op::MvApply { name, expr, body } => mv_apply(table, name, expr, body, env),
        Op::Join { kind, right, on } => {
            let right = tabular(right, env, None)?;
            join(table, right, kind, on)
        }
        Op::Union(parts) => {
            let mut tables = vec![table];
            for p in parts {
                tables.push(tabular(p, env, None)?);
            }
            Ok(concat(tables))
        }
    }
}

/// The number of `take N` / `top N`: a constant expression.
fn row_count(n: &Expr, env: &Env) -> Result<usize, KqlError> {
    let empty = HashMap::new();
    let v = eval(
        n,
        &Row {
            index: &empty,
            values: &[],
        },
        env,
    )?;
    match scalar(v) {
        Value::Long(n) => Ok(n.max(0) as usize),
        _ => Err(KqlError::semantic(
            "take and top need a whole number of rows",
        )),
    }
}

/// The items `mv-expand` makes of a value: an array's items, a property
/// bag's properties (each as a bag of one), anything else as itself.
fn expand(v: Value) -> Vec<Value> {
    match dynamic(v) {
        Value::Dyn(J::Array(items)) => items.into_iter().map(Value::Dyn).collect(),
        Value::Dyn(J::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                let mut one = serde_json::Map::new();
                one.insert(k, v);
                Value::Dyn(J::Object(one))
            })
            .collect(),
        Value::Dyn(J::Null) | Value::Null => vec![Value::Null],
        other => vec![other],
    }
}

fn mv_apply(
    table: Table,
    name: &str,
    expr: &Expr,
    body: &Tabular,
    env: &Env,
) -> Result<Table, KqlError> {
    let index = table.index();
    let mut parts = Vec::new();
    for values in &table.rows {
        let v = eval(
            expr,
            &Row {
                index: &index,
                values,
            },
            env,
        )?;
        // The row's own columns beside each item, as the subquery's input.
        let mut columns = table.columns.clone();
        let at = table.column(name);
        if at.is_none() {
            columns.push((name.to_owned(), "dynamic".into()));
        }
        let rows = match dynamic(v) {
            Value::Dyn(J::Array(items)) => items.into_iter().map(Value::Dyn).collect(),
            Value::Null | Value::Dyn(J::Null) => Vec::new(),
            other => vec![other],
        }
        .into_iter()
        .map(|item| {
            let mut row = values.clone();
            match at {
                Some(i) => row[i] = item,
                None => row.push(item),
            }
            row
        })
        .collect();
        let result = tabular(body, env, Some(Table { columns, rows }))?;
        // Each result row joined with the row it came from.
        let mut out_columns = table.columns.clone();
        let places: Vec<usize> = result
            .columns
            .iter()
            .map(|c| match out_columns.iter().position(|(n, _)| *n == c.0) {
                Some(i) => i,
                None => {
                    out_columns.push(c.clone());
                    out_columns.len() - 1
                }
            })
            .collect();
        let rows: Vec<Vec<Value>> = result
            .rows
            .into_iter()
            .map(|r| {
                let mut row = values.clone();
                row.resize(out_columns.len(), Value::Null);
                for (v, at) in r.into_iter().zip(&places) {
                    row[*at] = v;
                }
                row
            })
            .collect();
        parts.push(Table {
            columns: out_columns,
            rows,
        });
    }
    if parts.is_empty() {
        return Ok(table);
    }
    Ok(concat(parts))
}

fn join(left: Table, right: Table, kind: &str, on: &[JoinKey]) -> Result<Table, KqlError> {
    let keys: Vec<(usize, usize)> = on
        .iter()
        .map(|k| {
            let (l, r) = match k {
                JoinKey::Same(n) => (n.as_str(), n.as_str()),
                JoinKey::Pair(l, r) => (l.as_str(), r.as_str()),
            };
            Ok((
                left.column(l).ok_or_else(|| unknown(l))?,
                right.column(r).ok_or_else(|| unknown(r))?,
            ))
        })
        .collect::<Result<_, KqlError>>()?;
    let left_key = |row: &Vec<Value>| {
        key_text(
            &keys
                .iter()
                .map(|(l, _)| row[*l].clone())
                .collect::<Vec<_>>(),
        )
    };
    let right_key = |row: &Vec<Value>| {
        key_text(
            &keys
                .iter()
                .map(|(_, r)| row[*r].clone())
                .collect::<Vec<_>>(),
        )
    };
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, row) in right.rows.iter().enumerate() {
        by_key.entry(right_key(row)).or_default().push(i);
    }
    let mut left_rows = left.rows.clone();
    if kind == "innerunique" {
        let mut seen = HashSet::new();
        left_rows.retain(|r| seen.insert(left_key(r)));
    }
    // Right columns that clash with the left's get a `1`.
    let mut columns = left.columns.clone();
    for (name, t) in &right.columns {
        let mut name = name.clone();
        while columns.iter().any(|(n, _)| *n == name) {
            name.push('1');
        }
        columns.push((name, t.clone()));
    }
    let nulls_left = vec![Value::Null; left.columns.len()];
    let nulls_right = vec![Value::Null; right.columns.len()];
    let mut rows = Vec::new();
    let mut right_matched = vec![false; right.rows.len()];
    for l in &left_rows {
        let matches = by_key.get(&left_key(l)).cloned().unwrap_or_default();
        for m in &matches {
            right_matched[*m] = true;
        }
        match kind {
            "inner" | "innerunique" | "leftouter" | "fullouter" | "rightouter" => {
                for m in &matches {
                    rows.push([l.clone(), right.rows[*m].clone()].concat());
                }
                if matches.is_empty() && matches!(kind, "leftouter" | "fullouter") {
                    rows.push([l.clone(), nulls_right.clone()].concat());
                }
            }
            "leftanti" | "anti" | "leftantisemi" if matches.is_empty() => rows.push(l.clone()),
            "leftsemi" if !matches.is_empty() => rows.push(l.clone()),
            "leftanti" | "anti" | "leftantisemi" | "leftsemi" | "rightanti" | "rightsemi"
            | "rightantisemi" => {}
            other => {
                return Err(KqlError::semantic(format!(
                    "join kind '{other}' is not known"
                )));
            }
        }
    }
    match kind {
        "leftanti" | "anti" | "leftantisemi" | "leftsemi" => {
            return Ok(Table {
                columns: left.columns,
                rows,
            });
        }
        "rightanti" | "rightantisemi" | "rightsemi" => {
            let want = kind == "rightsemi";
            let rows = right
                .rows
                .iter()
                .zip(&right_matched)
                .filter(|(_, m)| **m == want)
                .map(|(r, _)| r.clone())
                .collect();
            return Ok(Table {
                columns: right.columns,
                rows,
            });
        }
        "fullouter" | "rightouter" => {
            for (r, m) in right.rows.iter().zip(&right_matched) {
                if !m {
                    rows.push([nulls_left.clone(), r.clone()].concat());
                }
            }
            if kind == "rightouter" {
                // Left rows with no match are not kept.
                rows.retain(|row| {
                    !row[left.columns.len()..]
                        .iter()
                        .all(|v| matches!(v, Value::Null))
                });
            }
        }
        _ => {}
    }
    Ok(Table { columns, rows })
}

fn sort(mut table: Table, keys: &[(Expr, bool)], env: &Env) -> Result<Table, KqlError> {
    let index = table.index();
    let mut keyed = Vec::with_capacity(table.rows.len());
    for values in table.rows {
        let k = keys
            .iter()
            .map(|(e, _)| {
                eval(
                    e,
                    &Row {
                        index: &index,
                        values: &values,
                    },
                    env,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        keyed.push((k, values));
    }
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (_, desc)) in keys.iter().enumerate() {
            // Nulls last in either direction.
            let o = match (&a[i], &b[i]) {
                (Value::Null, Value::Null) => Ordering::Equal,
                (Value::Null, _) => return Ordering::Greater,
                (_, Value::Null) => return Ordering::Less,
                (x, y) => compare(x, y).unwrap_or(Ordering::Equal),
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    table.rows = keyed.into_iter().map(|(_, v)| v).collect();
    Ok(table)
}

fn summarize(table: &Table, aggs: &[Assign], by: &[Assign], env: &Env) -> Result<Table, KqlError> {
    let index = table.index();
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, (Vec<Value>, Vec<usize>)> = HashMap::new();
    for (i, values) in table.rows.iter().enumerate() {
        let row = Row {
            index: &index,
            values,
        };
        let key = by
            .iter()
            .map(|a| eval(&a.expr, &row, env))
            .collect::<Result<Vec<_>, _>>()?;
        let text = key_text(&key);
        let entry = groups.entry(text.clone()).or_insert_with(|| {
            order.push(text);
            (key, Vec::new())
        });
        entry.1.push(i);
    }
    // With no `by`, an empty input is one group of nothing.
    if by.is_empty() && groups.is_empty() {
        order.push(String::new());
        groups.insert(String::new(), (Vec::new(), Vec::new()));
    }
    let mut columns: Vec<(String, String)> = by
        .iter()
        .enumerate()
        .map(|(n, a)| {
            (
                a.name.clone().unwrap_or_else(|| derived_name(&a.expr, n)),
                String::new(),
            )
        })
        .collect();
    let mut rows = Vec::new();
    for (g, text) in order.iter().enumerate() {
        let (key, members) = &groups[text];
        let member_rows: Vec<&[Value]> =
            members.iter().map(|i| table.rows[*i].as_slice()).collect();
        let mut row = key.clone();
        for (n, a) in aggs.iter().enumerate() {
            let Expr::Call(f, args) = &a.expr else {
                return Err(KqlError::semantic(
                    "summarize takes aggregation functions (count(), make_set(x), …)",
                ));
            };
            let out = aggregate(f, args, &member_rows, &index, env, &table.columns)?;
            for (k, (name, v)) in out.into_iter().enumerate() {
                if g == 0 {
                    let name = match (&a.name, k) {
                        (Some(given), 0) => given.clone(),
                        _ => name.unwrap_or_else(|| derived_name(&a.expr, n)),
                    };
                    columns.push((name, String::new()));
                }
                row.push(v);
            }
        }
        rows.push(row);
    }
    for (i, c) in columns.iter_mut().enumerate() {
        c.1 = rows
            .iter()
            .filter_map(|r: &Vec<Value>| r.get(i))
            .find(|v| !matches!(v, Value::Null))
            .map_or("string", Value::type_name)
            .to_owned();
    }
    Ok(Table { columns, rows })
}

/// One aggregate over a group's rows: its columns (a name when it names
/// them itself, as `arg_max(t, *)` does) and values.
fn aggregate(
    f: &str,
    args: &[Expr],
    rows: &[&[Value]],
    index: &HashMap<String, usize>,
    env: &Env,
    columns: &[(String, String)],
) -> Result<Vec<(Option<String>, Value)>, KqlError> {
    let each = |e: &Expr| -> Result<Vec<Value>, KqlError> {
        rows.iter()
            .map(|values| eval(e, &Row { index, values }, env))
            .collect()
    };
    let arg = |n: usize| {
        args.get(n)
            .ok_or_else(|| KqlError::semantic(format!("{f}() needs argument {}", n + 1)))
    };
    // `_if` aggregates: keep the rows whose predicate holds.
    let picked = |values: Vec<Value>, predicate: &Expr| -> Result<Vec<Value>, KqlError> {
        let keep = each(predicate)?;
        Ok(values
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| truthy(k))
            .map(|(v, _)| v)
            .collect())
    };
    let cap = |n: usize| -> Result<usize, KqlError> {
        match args.get(n) {
            Some(e) => match eval(e, &Row { index, values: &[] }, env)? {
                Value::Long(n) if n > 0 => Ok(n as usize),
                _ => Err(KqlError::semantic(format!(
                    "{f}(): the size limit must be a positive number"
                ))),
            },
            None => Ok(1_048_576),
        }
    };
    let one = |v: Value| Ok(vec![(None, v)]);
    match f {
        "count" => one(Value::Long(rows.len() as i64)),
        "countif" => {
            let n = each(arg(0)?)?.iter().filter(|v| truthy(v)).count();
            one(Value::Long(n as i64))
        }
        "sum" | "sumif" => {
            let mut values = each(arg(0)?)?;
            if f == "sumif" {
                values = picked(values, arg(1)?)?;
            }
            one(sum(&values))
        }
        "avg" => {
            let values: Vec<f64> = each(arg(0)?)?.iter().filter_map(number).collect();
            one(if values.is_empty() {
                Value::Null
            } else {
                Value::Real(values.iter().sum::<f64>() / values.len() as f64)
            })
        }
        "min" | "max" => {
            let values = each(arg(0)?)?;
            let best = values
                .into_iter()
                .filter(|v| !matches!(v, Value::Null))
                .reduce(|a, b| match compare(&a, &b) {
                    Some(Ordering::Greater) if f == "min" => b,
                    Some(Ordering::Less) if f == "max" => b,
                    _ => a,
                });
            one(best.unwrap_or(Value::Null))
        }
        "dcount" | "dcountif" => {
            let mut values = each(arg(0)?)?;
            if f == "dcountif" {
                values = picked(values, arg(1)?)?;
            }
            let set: HashSet<String> = values
                .iter()
                .filter(|v| !matches!(v, Value::Null))
                .map(|v| key_text(std::slice::from_ref(v)))
                .collect();
            one(Value::Long(set.len() as i64))
        }
        "make_list" | "make_list_if" | "make_set" | "make_set_if" => {
            let conditional = f.ends_with("_if");
            let mut values = each(arg(0)?)?;
            let limit = if conditional {
                values = picked(values, arg(1)?)?;
                cap(2)?
            } else {
                cap(1)?
            };
            let mut out: Vec<J> = Vec::new();
            let mut seen = HashSet::new();
            for v in values {
                // Nulls and empty dynamic values are not collected.
                if matches!(v, Value::Null | Value::Dyn(J::Null)) {
                    continue;
                }
                let j = to_json(&v);
                if f.starts_with("make_set") && !seen.insert(j.to_string()) {
                    continue;
                }
                if out.len() == limit {
                    break;
                }
                out.push(j);
            }
            one(Value::Dyn(J::Array(out)))
        }
        "take_any" | "any" => one(each(arg(0)?)?
            .into_iter()
            .find(|v| !matches!(v, Value::Null))
            .unwrap_or(Value::Null)),
        "arg_min" | "arg_max" => {
            let measured = each(arg(0)?)?;
            let best = measured
                .iter()
                .enumerate()
                .filter(|(_, v)| !matches!(v, Value::Null))
                .reduce(|a, b| match compare(a.1, b.1) {
                    Some(Ordering::Greater) if f == "arg_min" => b,
                    Some(Ordering::Less) if f == "arg_max" => b,
                    _ => a,
                })
                .map(|(i, _)| i);
            let mut out = vec![(
                Some(match arg(0)? {
                    Expr::Name(n) => n.clone(),
                    _ => format!("{}_", &f[4..]),
                }),
                best.map_or(Value::Null, |i| measured[i].clone()),
            )];
            for e in &args[1..] {
                let wanted: Vec<(String, Expr)> = match e {
                    Expr::Star => columns
                        .iter()
                        .filter(|(n, _)| Some(n) != out[0].0.as_ref())
                        .map(|(n, _)| (n.clone(), Expr::Name(n.clone())))
                        .collect(),
                    other => vec![(derived_name(other, 0), other.clone())],
                };
                for (name, e) in wanted {
                    let v = match best {
                        Some(i) => eval(
                            &e,
                            &Row {
                                index,
                                values: rows[i],
                            },
                            env,
                        )?,
                        None => Value::Null,
                    };
                    out.push((Some(name), v));
                }
            }
            Ok(out)
        }
        other => Err(KqlError::semantic(format!(
            "'{other}' is not an aggregation function the emulator knows"
        ))),
    }
}

fn sum(values: &[Value]) -> Value {
    let mut long: i64 = 0;
    let mut real: Option<f64> = None;
    for v in values {
        match scalar(v.clone()) {
            Value::Long(n) => long = long.saturating_add(n),
            Value::Real(x) => *real.get_or_insert(0.0) += x,
            _ => {}
        }
    }
    match real {
        Some(x) => Value::Real(x + long as f64),
        None => Value::Long(long),
    }
}

fn unknown(name: &str) -> KqlError {
    KqlError::semantic(format!(
        "Failed to resolve scalar expression named '{name}'"
    ))
}

/// A canonical text of values, for grouping and distinct.
fn key_text(values: &[Value]) -> String {
    let mut out = String::new();
    for v in values {
        out.push_str(&format!("{}\u{1}", to_json(&scalar(v.clone()))));
        out.push_str(match v {
            Value::Time(_) => "t",
            Value::Span(_) => "s",
            _ => "",
        });
    }
    out
}

/// A dynamic value's scalar as a plain value (`"a"` as text, `1` as long).
pub fn scalar(v: Value) -> Value {
    match v {
        Value::Dyn(J::String(s)) => Value::Str(s),
        Value::Dyn(J::Bool(b)) => Value::Bool(b),
        Value::Dyn(J::Null) => Value::Null,
        Value::Dyn(J::Number(n)) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Real(n.as_f64().unwrap_or(0.0)),
        },
        other => other,
    }
}

/// A value as dynamic (text that holds JSON is parsed, as `todynamic`).
fn dynamic(v: Value) -> Value {
    match v {
        Value::Str(s) => match serde_json::from_str::<J>(&s) {
            Ok(j @ (J::Array(_) | J::Object(_))) => Value::Dyn(j),
            _ => Value::Dyn(J::String(s)),
        },
        Value::Dyn(_) | Value::Null => v,
        other => Value::Dyn(to_json(&other)),
    }
}

/// A value as JSON (times as ISO 8601 text, as the service writes them).
pub fn to_json(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Long(n) => J::from(*n),
        Value::Real(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
        Value::Str(s) => J::String(s.clone()),
        Value::Time(t) => J::String(time_text(*t)),
        Value::Span(s) => J::String(span_text(*s)),
        Value::Dyn(j) => j.clone(),
    }
}

pub fn time_text(nanos: i64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(nanos)) {
        Ok(t) => {
            let mut text = t.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = nanos.rem_euclid(NANOS_PER_SEC) / 100;
            if frac != 0 {
                text.push_str(&format!(".{frac:07}"));
            }
            text.push('Z');
            text
        }
        Err(_) => String::new(),
    }
}

fn span_text(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let secs = n / NANOS_PER_SEC as u64;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let frac = n % NANOS_PER_SEC as u64 / 100;
    let mut text = sign.to_owned();
    if d > 0 {
        text.push_str(&format!("{d}."));
    }
    text.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if frac > 0 {
        text.push_str(&format!(".{frac:07}"));
    }
    text
}

/// `datetime(…)` text: ISO 8601, with or without a zone (UTC assumed).
pub fn parse_datetime(text: &str) -> Option<Value> {
    let text = text.trim();
    let t = text
        .parse::<jiff::Timestamp>()
        .ok()
        .or_else(|| format!("{text}Z").parse().ok())
        .or_else(|| format!("{text}T00:00:00Z").parse().ok())
        .or_else(|| {
            text.replace(' ', "T")
                .parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
        })?;
    Some(Value::Time(t.as_nanosecond() as i64))
}

/// What KQL's `tostring` makes of a value.
pub fn text(v: &Value) -> String {
    match v {
        Value::Null | Value::Dyn(J::Null) => String::new(),
        Value::Str(s) | Value::Dyn(J::String(s)) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Long(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Time(t) => time_text(*t),
        Value::Span(s) => span_text(*s),
        Value::Dyn(j) => j.to_string(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match scalar(v.clone()) {
        Value::Long(n) => Some(n as f64),
        Value::Real(x) => Some(x),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    matches!(scalar(v.clone()), Value::Bool(true))
}

/// Ordering of two values of comparable types.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (scalar(a.clone()), scalar(b.clone())) {
        (Value::Long(x), Value::Long(y)) => Some(x.cmp(&y)),
        (Value::Long(x), Value::Real(y)) => (x as f64).partial_cmp(&y),
        (Value::Real(x), Value::Long(y)) => x.partial_cmp(&(y as f64)),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(&y),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(&y)),
        (Value::Time(x), Value::Time(y)) | (Value::Span(x), Value::Span(y)) => Some(x.cmp(&y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(&y)),
        (Value::Time(x), Value::Str(y)) => match parse_datetime(&y) {
            Some(Value::Time(y)) => Some(x.cmp(&y)),
            _ => None,
        },
        _ => None,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (scalar(a.clone()), scalar(b.clone())) {
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Dyn(x), Value::Dyn(y)) => x == y,
        (x, y) => compare(&x, &y) == Some(Ordering::Equal),
    }
}

/// Whether `needle` is in `hay` as whole terms (KQL `has`): terms are runs
/// of letters and digits.
pub fn has_term(hay: &str, needle: &str, case_sensitive: bool) -> bool {
    let (hay, needle) = if case_sensitive {
        (hay.to_owned(), needle.to_owned())
    } else {
        (hay.to_lowercase(), needle.to_lowercase())
    };
    if needle.is_empty() {
        return true;
    }
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let starts_term = alnum(needle.chars().next());
    let ends_term = alnum(needle.chars().next_back());
    hay.match_indices(&needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !(starts_term && alnum(before) || ends_term && alnum(after))
    })
}

fn string_op(op: &str, a: &str, b: &str) -> Option<bool> {
    let lower = |s: &str| s.to_lowercase();
    let (negated, base) = match op.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, op),
    };
    let result = match base {
        "contains" => lower(a).contains(&lower(b)),
        "contains_cs" => a.contains(b),
        "has" => has_term(a, b, false),
        "has_cs" => has_term(a, b, true),
        "startswith" => lower(a).starts_with(&lower(b)),
        "startswith_cs" => a.starts_with(b),
        "endswith" => lower(a).ends_with(&lower(b)),
        "endswith_cs" => a.ends_with(b),
        _ => return None,
    };
    Some(result != negated)
}

fn eval(e: &Expr, row: &Row, env: &Env) -> Result<Value, KqlError> {
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Star => Value::Null,
        Expr::Name(n) => match row.index.get(n) {
            Some(i) => row.values[*i].clone(),
            None => env.scalars.get(n).cloned().ok_or_else(|| unknown(n))?,
        },
        Expr::Member(base, name) => member(eval(base, row, env)?, &J::String(name.clone())),
        Expr::Index(base, index) => {
            let key = to_json(&scalar(eval(index, row, env)?));
            member(eval(base, row, env)?, &key)
        }
        Expr::Neg(inner) => match scalar(eval(inner, row, env)?) {
            Value::Long(n) => Value::Long(n.wrapping_neg()),
            Value::Real(x) => Value::Real(-x),
            Value::Span(s) => Value::Span(s.saturating_neg()),
            _ => Value::Null,
        },
        Expr::Binary(op, a, b) => binary(op, a, b, row, env)?,
        Expr::In { op, value, list } => {
            let v = eval(value, row, env)?;
            let items: Vec<Value> = match list {
                InList::Values(items) => {
                    let mut out = Vec::new();
                    for item in items {
                        // A dynamic array in the list counts as its items.
                        match eval(item, row, env)? {
                            Value::Dyn(J::Array(xs)) => out.extend(xs.into_iter().map(Value::Dyn)),
                            other => out.push(other),
                        }
                    }
                    out
                }
                InList::Table(t) => {
                    let table = tabular(t, env, None)?;
                    table
                        .rows
                        .into_iter()
                        .filter_map(|r| r.into_iter().next())
                        .collect()
                }
            };
            let text = self::text(&v);
            match op.as_str() {
                "has_any" => items.iter().any(|i| has_term(&text, &self::text(i), false)),
                "has_all" => items.iter().all(|i| has_term(&text, &self::text(i), false)),
                _ => {
                    let insensitive = op.ends_with('~');
                    let found = items.iter().any(|i| {
                        if insensitive {
                            !matches!(v, Value::Null)
                                && text.to_lowercase() == self::text(i).to_lowercase()
                        } else {
                            equal(&v, i)
                        }
                    });
                    found != op.starts_with('!')
                }
            }
            .into()
        }
        Expr::Between {
            negated,
            value,
            low,
            high,
        } => {
            let v = eval(value, row, env)?;
            let (lo, hi) = (eval(low, row, env)?, eval(high, row, env)?);
            let inside = matches!(compare(&v, &lo), Some(Ordering::Greater | Ordering::Equal))
                && matches!(compare(&v, &hi), Some(Ordering::Less | Ordering::Equal));
            Value::Bool(inside != *negated)
        }
        Expr::Call(f, args) => call(f, args, row, env)?,
    })
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

fn member(base: Value, key: &J) -> Value {
    let base = match base {
        Value::Str(s) => dynamic(Value::Str(s)),
        other => other,
    };
    let Value::Dyn(j) = base else {
        return Value::Null;
    };
    let found = match (j, key) {
        (J::Object(mut map), J::String(k)) => map.remove(k),
        (J::Array(mut items), J::Number(n)) => {
            let len = items.len() as i64;
            let i = n.as_i64().unwrap_or(0);
            let i = if i < 0 { len + i } else { i };
            (0..len).contains(&i).then(|| items.swap_remove(i as usize))
        }
        _ => None,
    };
    match found {
        Some(J::Null) | None => Value::Null,
        Some(v) => Value::Dyn(v),
    }
}

fn binary(op: &str, a: &Expr, b: &Expr, row: &Row, env: &Env) -> Result<Value, KqlError> {
    if op == "and" {
        return Ok(Value::Bool(
            truthy(&eval(a, row, env)?) && truthy(&eval(b, row, env)?),
        ));
    }
    if op == "or" {
        return Ok(Value::Bool(
            truthy(&eval(a, row, env)?) || truthy(&eval(b, row, env)?),
        ));
    }
    let (x, y) = (eval(a, row, env)?, eval(b, row, env)?);
    if let Some(result) = string_op(op, &text(&x), &text(&y)) {
        return Ok(Value::Bool(result));
    }
    Ok(match op {
        "==" => Value::Bool(equal(&x, &y)),
        "!=" | "<>" => Value::Bool(
            !matches!(scalar(x.clone()), Value::Null)
                && !matches!(scalar(y.clone()), Value::Null)
                && !equal(&x, &y),
        ),
        "=~" => Value::Bool(text(&x).to_lowercase() == text(&y).to_lowercase()),
        "!~" => Value::Bool(text(&x).to_lowercase() != text(&y).to_lowercase()),
        "<" => Value::Bool(compare(&x, &y) == Some(Ordering::Less)),
        "<=" => Value::Bool(matches!(
            compare(&x, &y),
            Some(Ordering::Less | Ordering::Equal)
        )),
        ">" => Value::Bool(compare(&x, &y) == Some(Ordering::Greater)),
        ">=" => Value::Bool(matches!(
            compare(&x, &y),
            Some(Ordering::Greater | Ordering::Equal)
        )),
        "+" | "-" | "*" | "/" | "%" => arithmetic(op, scalar(x), scalar(y)),
        other => return Err(KqlError::syntax(format!("unknown operator '{other}'"))),
    })
}

fn arithmetic(op: &str, x: Value, y: Value) -> Value {
    use Value::*;
    match (op, x, y) {
        ("+", Time(t), Span(s)) | ("+", Span(s), Time(t)) => Time(t.saturating_add(s)),
        ("-", Time(t), Span(s)) => Time(t.saturating_sub(s)),
        ("-", Time(a), Time(b)) => Span(a.saturating_sub(b)),
        ("+", Span(a), Span(b)) => Span(a.saturating_add(b)),
        ("-", Span(a), Span(b)) => Span(a.saturating_sub(b)),
        ("*", Span(s), Long(n)) | ("*", Long(n), Span(s)) => Span(s.saturating_mul(n)),
        ("/", Span(a), Span(b)) if b != 0 => Real(a as f64 / b as f64),
        ("/", Span(s), Long(n)) => s.checked_div(n).map_or(Null, Span),
        (op, Long(a), Long(b)) => match op {
            "+" => Long(a.wrapping_add(b)),
            "-" => Long(a.wrapping_sub(b)),
            "*" => Long(a.wrapping_mul(b)),
            "/" => a.checked_div(b).map_or(Null, Long),
            "%" => a.checked_rem(b).map_or(Null, Long),
            _ => Null,
        },
        (op, a, b) => match (number(&a), number(&b)) {
            (Some(a), Some(b)) => match op {
                "+" => Real(a + b),
                "-" => Real(a - b),
                "*" => Real(a * b),
                "/" if b != 0.0 => Real(a / b),
                "%" if b != 0.0 => Real(a % b),
                _ => Null,
            },
            _ => Null,
        },
    }
}

fn call(f: &str, args: &[Expr], row: &Row, env: &Env) -> Result<Value, KqlError> {
    let values = args
        .iter()
        .map(|a| eval(a, row, env))
        .collect::<Result<Vec<_>, _>>()?;
    let arg = |n: usize| {
        values
            .get(n)
            .cloned()
            .ok_or_else(|| KqlError::semantic(format!("{f}() needs argument {}", n + 1)))
    };
    let long = |n: usize| -> Result<i64, KqlError> { Ok(number(&arg(n)?).map_or(0, |x| x as i64)) };
    Ok(match f {
        "tostring" => Value::Str(text(&arg(0)?)),
        "todynamic" | "parse_json" | "todynamic_" => dynamic(arg(0)?),
        "tolong" | "toint" => number(&arg(0)?).map_or(Value::Null, |x| Value::Long(x as i64)),
        "todouble" | "toreal" => number(&arg(0)?).map_or(Value::Null, Value::Real),
        "tobool" | "toboolean" => match text(&arg(0)?).to_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::Null,
        },
        "todatetime" => match scalar(arg(0)?) {
            t @ Value::Time(_) => t,
            other => parse_datetime(&text(&other)).unwrap_or(Value::Null),
        },
        "tolower" => Value::Str(text(&arg(0)?).to_lowercase()),
        "toupper" => Value::Str(text(&arg(0)?).to_uppercase()),
        "strlen" => Value::Long(text(&arg(0)?).chars().count() as i64),
        "strcat" => Value::Str(values.iter().map(text).collect()),
        "isempty" => Value::Bool(text(&arg(0)?).is_empty()),
        "isnotempty" => Value::Bool(!text(&arg(0)?).is_empty()),
        "isnull" => Value::Bool(matches!(scalar(arg(0)?), Value::Null)),
        "isnotnull" => Value::Bool(!matches!(scalar(arg(0)?), Value::Null)),
        "not" => Value::Bool(!truthy(&arg(0)?)),
        "iff" | "iif" => {
            if truthy(&arg(0)?) {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        "coalesce" => values
            .iter()
            .find(|v| !text(v).is_empty())
            .cloned()
            .unwrap_or(Value::Null),
        "abs" => match scalar(arg(0)?) {
            Value::Long(n) => Value::Long(n.abs()),
            other => number(&other).map_or(Value::Null, |x| Value::Real(x.abs())),
        },
        "trim" | "trim_start" | "trim_end" => {
            let pattern = text(&arg(0)?);
            let s = text(&arg(1)?);
            let re = |anchor: &str| {
                regex::Regex::new(&anchor.replace("P", &format!("(?:{pattern})")))
                    .map_err(|e| KqlError::semantic(format!("{f}(): bad regular expression: {e}")))
            };
            let mut out = s;
            if f != "trim_end" {
                out = re("^(P)+")?.replace(&out, "").into_owned();
            }
            if f != "trim_start" {
                out = re("(P)+$")?.replace(&out, "").into_owned();
            }
            Value::Str(out)
        }
        "split" => {
            let s = text(&arg(0)?);
            let by = text(&arg(1)?);
            let parts: Vec<J> = if by.is_empty() {
                vec![J::String(s)]
            } else {
                s.split(by.as_str())
                    .map(|p| J::String(p.to_owned()))
                    .collect()
            };
            match values.get(2) {
                Some(i) => {
                    let i = number(i).unwrap_or(0.0) as usize;
                    parts
                        .get(i)
                        .map_or(Value::Null, |p| Value::Dyn(J::Array(vec![p.clone()])))
                }
                None => Value::Dyn(J::Array(parts)),
            }
        }
        "substring" => {
            let s: Vec<char> = text(&arg(0)?).chars().collect();
            let start = long(1)?.clamp(0, s.len() as i64) as usize;
            let len = match values.get(2) {
                Some(_) => long(2)?.max(0) as usize,
                None => s.len(),
            };
            Value::Str(s[start..(start + len).min(s.len())].iter().collect())
        }
        "extract" => {
            let re = regex::Regex::new(&text(&arg(0)?)).map_err(|e| {
                KqlError::semantic(format!("extract(): bad regular expression: {e}"))
            })?;
            let group = long(1)?.max(0) as usize;
            let s = text(&arg(2)?);
            re.captures(&s)
                .and_then(|c| c.get(group))
                .map_or(Value::Null, |m| Value::Str(m.as_str().to_owned()))
        }
        "array_length" => match dynamic(arg(0)?) {
            Value::Dyn(J::Array(items)) => Value::Long(items.len() as i64),
            _ => Value::Null,
        },
        "pack_array" => Value::Dyn(J::Array(values.iter().map(to_json).collect())),
        "pack" | "bag_pack" => {
            let mut map = serde_json::Map::new();
            for pair in values.chunks(2) {
                if let [k, v] = pair {
                    map.insert(text(k), to_json(v));
                }
            }
            Value::Dyn(J::Object(map))
        }
        "set_has_element" => match dynamic(arg(0)?) {
            Value::Dyn(J::Array(items)) => {
                let wanted = arg(1)?;
                Value::Bool(items.into_iter().any(|i| equal(&Value::Dyn(i), &wanted)))
            }
            _ => Value::Bool(false),
        },
        "bin" | "floor" => {
            let (v, width) = (scalar(arg(0)?), scalar(arg(1)?));
            match (v, width) {
                (Value::Time(t), Value::Span(w)) if w > 0 => {
                    Value::Time(t.div_euclid(w).saturating_mul(w))
                }
                (Value::Span(t), Value::Span(w)) if w > 0 => {
                    Value::Span(t.div_euclid(w).saturating_mul(w))
                }
                (Value::Long(n), Value::Long(w)) if w > 0 => {
                    Value::Long(n.div_euclid(w).saturating_mul(w))
                }
                (v, w) => match (number(&v), number(&w)) {
                    (Some(x), Some(w)) if w > 0.0 => Value::Real((x / w).floor() * w),
                    _ => Value::Null,
                },
            }
        }
        "ago" => match scalar(arg(0)?) {
            Value::Span(s) => Value::Time(env.now.saturating_sub(s)),
            _ => return Err(KqlError::semantic("ago() takes a timespan")),
        },
        "now" => Value::Time(env.now),
        "datetime" => parse_datetime(&text(&arg(0)?)).unwrap_or(Value::Null),
        other => {
            return Err(KqlError::semantic(format!(
                "Failed to resolve scalar expression named '{other}' (a function the emulator does not run)"
            )));
        }
    })
}
