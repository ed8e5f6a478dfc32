//! `warroom kql`: the catalogue as KQL, for a Log Analytics workspace.

use std::fmt::Write as _;

use crate::cli::{KqlArgs, KqlFormat};
use crate::detect::kql::{self, Range};

pub fn run(args: &KqlArgs) -> anyhow::Result<u8> {
    if crate::model::duration::parse_duration(&args.since).is_err() {
        eprintln!(
            "warroom kql: --since takes a span like 30d or 12h, not {:?}",
            args.since
        );
        return Ok(2);
    }
    let rules =
        crate::detect::rule::built_in().map_err(|e| anyhow::anyhow!("built-in rules: {e}"))?;
    if let KqlFormat::Sentinel = args.format {
        return sentinel(&rules, args.out.as_deref());
    }
    if args.out.is_some() {
        eprintln!("warroom kql: --out is for --format sentinel");
        return Ok(2);
    }
    let (queries, skipped) = kql::catalogue(&rules, &Range::Lookback(args.since.clone()));
    for s in &skipped {
        eprintln!("warroom kql: {} not written: {}", s.id, s.reason);
    }
    eprintln!(
        "warroom kql: {} detections written, {} not",
        queries.len(),
        skipped.len()
    );
    let text = match args.format {
        KqlFormat::Json => {
            let list: Vec<serde_json::Value> = queries
                .iter()
                .map(|q| {
                    serde_json::json!({
                        "id": q.id,
                        "title": q.title,
                        "query": q.query,
                        "tables": q.tables,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        KqlFormat::Sentinel => unreachable!("written above"),
        KqlFormat::Kql => {
            let mut out = String::new();
            for q in &queries {
                let _ = writeln!(out, "// {}: {}\n{}\n", q.id, q.title, q.query);
            }
            out
        }
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        other => other.map(|()| 0).map_err(Into::into),
    }
}

/// Sentinel analytic rules: a YAML stream, or one file a rule in `out`.
fn sentinel(
    rules: &[crate::detect::rule::Ready],
    out: Option<&std::path::Path>,
) -> anyhow::Result<u8> {
    let mut stream = String::new();
    let mut written = 0;
    for ready in rules {
        let rule = match kql::sentinel::rule(ready) {
            Ok(rule) => rule,
            Err(reason) => {
                eprintln!("warroom kql: {} not written: {reason}", ready.rule.id);
                continue;
            }
        };
        let yaml = yaml_serde::to_string(&rule)?;
        match out {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let name = format!("{}.yaml", ready.rule.id.replace(['/', '\\'], "_"));
                std::fs::write(dir.join(name), yaml)?;
            }
            None => {
                stream.push_str("---\n");
                stream.push_str(&yaml);
            }
        }
        written += 1;
    }
    eprintln!(
        "warroom kql: {written} Sentinel analytic rules{}; the stateful detections are judged by warroom's own code and are not among them",
        out.map(|d| format!(" in {}", d.display()))
            .unwrap_or_default()
    );
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(stream.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        other => other.map(|()| 0).map_err(Into::into),
    }
}
