//! `warroom hunt --workspace`: the catalogue run in a Log Analytics
//! workspace. Each detection's query sums its matches up there; what comes
//! back goes into the same engine a local scan uses, so the findings carry
//! the same ids, entities, evidence and remediation. A result the service
//! cuts at its row limit is asked again in halves of the time range; what
//! could not be run is said, on stderr and as findings.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};

use super::Setup;
use crate::cli::{Cli, Format, HuntArgs};
use crate::detect::kql::{self, Range, Reads, Row, compile, stateful};
use crate::detect::rule::Ready;
use crate::detect::{Engine, Entity, Finding};
use crate::model::{SafeText, Severity};
use crate::source::workspace::{WorkspaceClient, WorkspaceError};

/// Halvings of a range before a cut result is kept as it is.
const MAX_SPLITS: u32 = 20;

pub fn run(cli: &Cli, setup: Setup, args: &HuntArgs) -> anyhow::Result<u8> {
    let secs = match crate::model::duration::parse_duration(&args.since) {
        Ok(secs) if secs > 0 => secs,
        _ => {
            eprintln!("warroom hunt: --since takes a span like 30d or 12h. Nothing was run.");
            return Ok(2);
        }
    };
    let workspace = args.workspace.trim();
    if !crate::source::workspace::is_guid(workspace) {
        eprintln!(
            "warroom hunt: the workspace id is a GUID (the workspace's overview shows it), not {:?}. Nothing was run.",
            SafeText::new(workspace).as_str()
        );
        return Ok(2);
    }
    let settings = setup.settings(cli)?;
    let client = match WorkspaceClient::connect(&settings, workspace) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!(
                "warroom hunt: {}. Nothing was run.",
                SafeText::new(&e.to_string())
            );
            return Ok(2);
        }
    };
    let now = Timestamp::now();
    let range = Range::Between(now - SignedDuration::from_secs(secs), now);
    let rules =
        crate::detect::rule::built_in().map_err(|e| anyhow::anyhow!("built-in rules: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let outcome = match runtime.block_on(hunt(client.clone(), rules, range)) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!(
                "warroom hunt: {}. Nothing was hunted.",
                SafeText::new(&e.to_string())
            );
            return Ok(2);
        }
    };
    let Hunted {
        mut findings,
        missing,
        failed,
        skipped,
        cut,
        run,
    } = outcome;
    findings.extend(not_run_findings(&missing, &failed));
    let text = match args.format {
        Format::Json => crate::detect::report::json(&findings),
        Format::Ndjson => crate::detect::report::ndjson(&findings),
        Format::Table => crate::detect::report::table(&findings),
        Format::Markdown => crate::detect::report::markdown(&findings),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let stats = &client.stats;
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "warroom hunt: {run} detections run in workspace {workspace} ({} requests, {} rows back, {} throttled, {} retried) in {:.1} s; {} findings",
        load(&stats.queries),
        load(&stats.rows),
        load(&stats.throttled),
        load(&stats.retries),
        started.elapsed().as_secs_f64(),
        findings.len()
    );
    for (table, ids) in &missing {
        eprintln!(
            "warroom hunt: not run: the workspace has no {table} table ({} detections)",
            ids.len()
        );
    }
    for (id, why) in &failed {
        eprintln!("warroom hunt: {id} failed: {}", SafeText::new(why));
    }
    for id in &cut {
        eprintln!(
            "warroom hunt: {id}: the service cut its result even in the smallest part of the range; its counts are floors"
        );
    }
    if skipped > 0 {
        eprintln!(
            "warroom hunt: {skipped} stateful detections are not written in KQL (`warroom kql` lists them and why)"
        );
    }
    Ok(u8::from(!failed.is_empty()))
}

struct Hunted {
    findings: Vec<Finding>,
    /// Tables the workspace does not have, with the detections that read them.
    missing: BTreeMap<String, BTreeSet<String>>,
    failed: Vec<(String, String)>,
    skipped: usize,
    cut: Vec<String>,
    run: usize,
}

/// What one query brought back.
struct Ran {
    rows: Vec<Row>,
    /// Cut by the service even at the smallest part.
    cut: bool,
}

/// Errors that stop every query alike (no access, no such workspace).
fn fatal(e: &WorkspaceError) -> bool {
    matches!(
        e,
        WorkspaceError::Auth(_) | WorkspaceError::Denied { .. } | WorkspaceError::NotFound(_)
    )
}

async fn hunt(
    client: Arc<WorkspaceClient>,
    rules: Vec<Ready>,
    range: Range,
) -> Result<Hunted, WorkspaceError> {
    let (queries, skipped) = kql::catalogue(&rules, &range);
    let rules = Arc::new(rules);
    let compiled: BTreeSet<String> = queries.iter().map(|q| q.id.clone()).collect();
    // Record queries several detections share run once; what becomes of
    // one is said of every detection that shares it.
    let mut distinct: Vec<kql::Query> = Vec::new();
    let mut sharing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for q in queries {
        if q.reads == Reads::Records {
            sharing
                .entry(q.query.clone())
                .or_default()
                .push(q.id.clone());
        }
        if !distinct
            .iter()
            .any(|d| d.reads == Reads::Records && d.query == q.query)
        {
            distinct.push(q);
        }
    }
    let ids_of = |q: &kql::Query| match q.reads {
        Reads::Records => sharing.get(&q.query).cloned().unwrap_or_default(),
        Reads::Summary(_) => vec![q.id.clone()],
    };
    // The first query alone: if the workspace cannot be read at all, say
    // so once rather than once a detection.
    let job = |q: kql::Query| {
        let client = client.clone();
        let rules = rules.clone();
        let range = range.clone();
        async move {
            let ran = run_range(&client, &rules, &q, &range, None, 0).await;
            (q, ran)
        }
    };
    let mut distinct = distinct.into_iter();
    let first = distinct.next().map(job);
    let mut firsts = Vec::new();
    if let Some(job) = first {
        let (q, ran) = job.await;
        if let Err(e) = &ran
            && fatal(e)
        {
            return Err(ran.err().expect("an error"));
        }
        firsts.push((q, ran));
    }
    let jobs = distinct.map(job);
    let mut results = futures_util::stream::iter(firsts).chain(
        futures_util::stream::iter(jobs).buffer_unordered(crate::source::workspace::CONCURRENT),
    );
    let mut engine = Engine::new((*rules).clone());
    let mut hunted = Hunted {
        findings: Vec::new(),
        missing: BTreeMap::new(),
        failed: Vec::new(),
        skipped: skipped.len(),
        cut: Vec::new(),
        run: 0,
    };
    while let Some((q, ran)) = results.next().await {
        match ran {
            Ok(ran) => {
                hunted.run += ids_of(&q).len();
                if ran.cut {
                    hunted.cut.push(q.id.clone());
                }
                match q.reads {
                    Reads::Summary(rule) => {
                        if let Err(e) = kql::absorb_summaries(&mut engine, rule, &ran.rows) {
                            hunted.failed.push((q.id.clone(), e));
                        }
                    }
                    Reads::Records => {
                        kql::absorb_records(&mut engine, ran.rows);
                    }
                }
            }
            Err(WorkspaceError::Query { code, message })
                if code == "SemanticError" && message.contains("Failed to resolve table") =>
            {
                let table = q
                    .tables
                    .iter()
                    .find(|t| message.contains(&format!("'{t}'")))
                    .cloned()
                    .unwrap_or_else(|| q.tables.join(", "));
                hunted.missing.entry(table).or_default().extend(ids_of(&q));
            }
            Err(e) => hunted.failed.push((q.id.clone(), e.to_string())),
        }
    }
    hunted.findings = engine
        .findings()
        .into_iter()
        .filter(|f| compiled.contains(&f.detection))
        .collect();
    Ok(hunted)
}

/// Runs a query over `range`, halving the range while the service cuts
/// the result.
fn run_range<'a>(
    client: &'a WorkspaceClient,
    rules: &'a [Ready],
    q: &'a kql::Query,
    range: &'a Range,
    part_of: Option<&'a Range>,
    depth: u32,
) -> futures_util::future::BoxFuture<'a, Result<Ran, WorkspaceError>> {
    Box::pin(async move {
        let text = match (&q.reads, part_of) {
            (_, None) => q.query.clone(),
            (Reads::Summary(rule), Some(whole)) => {
                compile::rule_query(&rules[*rule], range, Some(whole)).map_err(|e| {
                    WorkspaceError::Query {
                        code: "NotWritten".into(),
                        message: e,
                    }
                })?
            }
            (Reads::Records, Some(_)) => stateful::query_for(&q.id, range)
                .map(|(text, _)| text)
                .unwrap_or_else(|| q.query.clone()),
        };
        let answer = client.query(&text).await?;
        let cut = answer.cut.is_some();
        let rows = answer.into_maps();
        if !cut {
            return Ok(Ran { rows, cut: false });
        }
        let Range::Between(from, to) = range else {
            return Ok(Ran { rows, cut: true });
        };
        let span = to.duration_since(*from);
        if depth >= MAX_SPLITS || span < SignedDuration::from_secs(120) {
            return Ok(Ran { rows, cut: true });
        }
        // Halves meet at a whole second; each half is asked on its own.
        let middle = *from + SignedDuration::from_secs(span.as_secs() / 2);
        let whole = part_of.unwrap_or(range);
        let first = Range::Between(*from, middle - SignedDuration::from_nanos(1));
        let second = Range::Between(middle, *to);
        let a = run_range(client, rules, q, &first, Some(whole), depth + 1).await?;
        let b = run_range(client, rules, q, &second, Some(whole), depth + 1).await?;
        let mut rows = a.rows;
        rows.extend(b.rows);
        Ok(Ran {
            rows,
            cut: a.cut || b.cut,
        })
    })
}

/// A finding for detections the workspace could not run: a report
/// without them must not read as a clean bill of health.
fn not_run_findings(
    missing: &BTreeMap<String, BTreeSet<String>>,
    failed: &[(String, String)],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (table, ids) in missing {
        out.push(not_run(
            &format!("table {table}"),
            Severity::Low,
            "Detections not run: the workspace has no such table",
            format!(
                "The workspace has no {table} table, so {} detections that read it were not run: {}",
                ids.len(),
                ids.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            "A workspace holds a table once a connector or diagnostic setting sends it records. These detections need those records: connect the source, or scan exported logs locally.",
        ));
    }
    for (id, why) in failed {
        out.push(not_run(
            id,
            Severity::Medium,
            "Detection failed in the workspace",
            format!("{id} could not be run: {why}"),
            "Its events were not looked at: nothing it would find is in these findings.",
        ));
    }
    out
}

fn not_run(
    key: &str,
    severity: Severity,
    title: &str,
    explanation: String,
    rationale: &str,
) -> Finding {
    let detection = "hunt.not-run";
    Finding {
        id: crate::detect::finding_id(detection, key),
        detection: detection.into(),
        severity,
        title: title.into(),
        techniques: Vec::new(),
        entities: vec![Entity {
            field: "not run".into(),
            value: key.to_owned(),
        }],
        evidence: Vec::new(),
        count: 1,
        first_seen: None,
        last_seen: None,
        remediation: Vec::new(),
        explanation,
        rationale: rationale.into(),
        verdict: None,
    }
}
