//! `warroom posture`: judge a directory snapshot, and what changed since
//! an older one.

use std::io::IsTerminal;
use std::time::Duration;

use super::{Setup, render};
use crate::cli::Cli;

pub fn run(cli: &Cli, setup: Setup, args: &crate::cli::PostureArgs) -> anyhow::Result<u8> {
    if args.checks {
        print!("{}", list_checks(args.format));
        return Ok(0);
    }
    // A snapshot is taken through Graph only when no file is given.
    let settings = if args.files.is_empty() {
        Some(setup.settings(cli)?)
    } else {
        None
    };
    posture(args, settings.as_ref())
}
use super::scan::load_iocs;

/// `warroom posture`: judge a snapshot (the files given, or one taken
/// now through Graph) and compare it with an older one.
fn posture(
    args: &crate::cli::PostureArgs,
    settings: Option<&crate::config::Settings>,
) -> anyhow::Result<u8> {
    use crate::detect::posture::{self, Outcome, Snapshot, diff};
    let iocs = match &args.ioc {
        None => None,
        Some(path) => match load_iocs("posture", path) {
            Some(list) => Some(list),
            None => return Ok(2),
        },
    };
    let (snapshot, files) = match settings {
        None => crate::pipeline::snapshot::read(&args.files),
        Some(settings) => match live_snapshot(settings) {
            Ok(lines) => (Snapshot::from_lines(lines), Vec::new()),
            Err(e) => {
                eprintln!("warroom posture: {e}");
                return Ok(1);
            }
        },
    };
    let mut unreadable = false;
    for file in &files {
        eprintln!("warroom posture: {}", file.line());
        unreadable |= file.format == "unreadable";
    }
    let changes = match &args.against {
        None => None,
        Some(old) => {
            let (before, old_files) = crate::pipeline::snapshot::read(std::slice::from_ref(old));
            for file in &old_files {
                eprintln!("warroom posture: --against {}", file.line());
                if file.format == "unreadable" {
                    return Ok(1);
                }
            }
            Some(diff::compare(&before, &snapshot))
        }
    };
    let verdicts = posture::judge(&snapshot, jiff::Timestamp::now());
    let mut extra: Vec<crate::detect::Finding> = changes
        .as_ref()
        .map(|c| c.findings.clone())
        .unwrap_or_default();
    if let Some(list) = &iocs {
        extra.extend(list.judge_snapshot(&snapshot));
    }
    let findings = posture::findings(&verdicts, &extra, snapshot.taken_at);
    print!("{}", render(args.format, &findings));
    if matches!(args.format, crate::cli::Format::Markdown) {
        print!("{}", posture::verdicts_markdown(&verdicts));
    }
    let count = |o: Outcome| verdicts.iter().filter(|v| v.outcome == o).count();
    let passed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Pass)
        .map(|v| v.check.id.trim_start_matches("posture."))
        .collect();
    eprintln!(
        "warroom posture: {} checks: {} failed, {} not judged, {} passed ({})",
        verdicts.len(),
        count(Outcome::Fail),
        count(Outcome::Unknown),
        passed.len(),
        passed.join(", ")
    );
    if let Some(changes) = &changes {
        eprintln!(
            "warroom posture: {} changes since the older snapshot{}",
            changes.findings.len(),
            if changes.not_compared.is_empty() {
                String::new()
            } else {
                format!(
                    "; not compared (one snapshot lacks them): {}",
                    changes.not_compared.join(", ")
                )
            }
        );
    }
    if snapshot.objects.is_empty() && snapshot.federation.is_empty() {
        eprintln!(
            "warroom posture: no directory object was read; `warroom pull --streams directory --out FILE` writes a snapshot."
        );
        return Ok(1);
    }
    Ok(u8::from(unreadable))
}

/// A directory snapshot taken now through Graph.
fn live_snapshot(settings: &crate::config::Settings) -> anyhow::Result<Vec<serde_json::Value>> {
    use crate::source::graph::{self, snapshot};
    let client = graph::connect(settings, None)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let bar = indicatif::ProgressBar::new_spinner();
    if std::io::stderr().is_terminal() {
        bar.enable_steady_tick(Duration::from_millis(200));
    } else {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let shown = bar.clone();
    let progress = move |line: &str| shown.set_message(line.to_owned());
    let taken = runtime.block_on(snapshot::take(&client, &settings.graph_url, &progress));
    bar.finish_and_clear();
    let (lines, summary) = taken?;
    for gap in &summary.gaps {
        eprintln!("warroom posture: not in the snapshot: {gap}");
    }
    Ok(lines)
}

/// Every check, as `posture --checks` lists it.
fn list_checks(format: crate::cli::Format) -> String {
    use crate::cli::Format;
    use crate::detect::posture::{CHECKS, Check};
    let reads = |c: &Check| -> Vec<&'static str> { c.reads.iter().map(|p| p.name()).collect() };
    let json = |c: &Check| {
        serde_json::json!({
            "id": c.id,
            "title": c.title,
            "area": c.area,
            "severity": c.severity,
            "reads": reads(c),
            "anchors": c.anchors,
            "phase": c.phase,
            "techniques": c.techniques,
            "remediation": c.remediation,
        })
    };
    match format {
        Format::Json => {
            let all: Vec<serde_json::Value> = CHECKS.iter().map(|c| json(c)).collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&all).unwrap_or_default()
            )
        }
        Format::Ndjson => CHECKS.iter().map(|c| format!("{}\n", json(c))).collect(),
        Format::Markdown => {
            let mut md = String::from(
                "| check | area | title | reads | anchors | phase |\n|---|---|---|---|---|---|\n",
            );
            for c in CHECKS {
                md.push_str(&format!(
                    "| `{}` | {} | {} | {} | {} | {} |\n",
                    c.id,
                    c.area.name(),
                    crate::model::markdown_inline(c.title),
                    reads(c).join(", "),
                    crate::model::markdown_inline(&c.anchors.join("; ")),
                    c.phase.name()
                ));
            }
            md
        }
        Format::Table => {
            let mut out = String::new();
            for c in CHECKS {
                out.push_str(&format!(
                    "{:<44} {:<18} {}\n{:<44} reads {}; {}; anchors: {}\n",
                    c.id,
                    c.area.name(),
                    c.title,
                    "",
                    reads(c).join(", "),
                    c.phase.name(),
                    c.anchors.join("; ")
                ));
            }
            out.push_str(&format!("{} checks\n", CHECKS.len()));
            out
        }
    }
}
