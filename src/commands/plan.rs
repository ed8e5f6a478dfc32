//! `warroom plan`: the recovery plan as the findings of files make it,
//! without the console: the same checklist code, for a lead to paste into
//! the incident record.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::Setup;
use super::scan::{ScanSetup, scan_files};
use crate::cli::{Cli, Format, PlanArgs};
use crate::model::SafeText;
use crate::model::finding::FindingRow;
use crate::playbook::{Item, Plan, Template};

pub fn run(cli: &Cli, setup: Setup, args: &PlanArgs) -> anyhow::Result<u8> {
    let config = setup.config.as_ref().ok();
    let gathered = if args.files.is_empty() {
        from_tenant(cli, &setup, args)?
    } else {
        if args.since.is_some() {
            eprintln!("warroom plan: --since reads the tenant; with files it is not used");
        }
        from_files(cli, config, args)?
    };
    let gathered = match gathered {
        Ok(gathered) => gathered,
        Err(code) => return Ok(code),
    };
    let template = match &cli.playbook {
        Some(path) => Arc::new(Template::load(path).map_err(|e| anyhow::anyhow!(e))?),
        None => Template::shared(),
    };
    let mut plan = Plan::new(template);
    if let Some(config) = config {
        for (item, hours) in &config.file.checklist.waits {
            plan.set_wait(item, *hours);
        }
    }
    // The team's triage and item states, when a case is named.
    let case = match gathered.case.clone() {
        Some(case) => Some(case),
        None => super::case::unlocked(cli, &setup, args.case.as_deref())?.map(Arc::new),
    };
    if let Some(case) = case {
        for record in case.read()?.records {
            plan.apply(&record);
        }
    }
    // Emergency accounts: the configuration's, and the directory
    // snapshot's (standing Global Administrators left out of conditional
    // access).
    let mut emergency = gathered.emergency;
    if let Some(config) = config {
        emergency.extend(
            config
                .file
                .checklist
                .emergency_accounts
                .iter()
                .map(|a| a.to_lowercase()),
        );
    }
    plan.set_emergency_accounts(emergency);
    let rows: Vec<FindingRow> = gathered
        .findings
        .iter()
        .map(FindingRow::from_finding)
        .collect();
    plan.set_findings(&rows);
    let inputs = gathered.inputs;
    let now = jiff::Timestamp::now();
    let out = match args.format {
        Format::Json | Format::Ndjson => {
            let mut text = serde_json::to_string_pretty(&to_json(&plan, &rows, &inputs, now))?;
            text.push('\n');
            text
        }
        Format::Markdown => markdown(&plan, &rows, &inputs, now),
        Format::Table => table(&plan, &rows, &inputs, now),
    };
    print!("{out}");
    for line in &inputs {
        eprintln!("warroom plan: {}", SafeText::new(line));
    }
    Ok(gathered.code)
}

/// What the plan is made from: the findings, the emergency accounts a
/// directory snapshot shows, what was read, and the exit code it calls for.
struct Gathered {
    findings: Vec<crate::detect::Finding>,
    emergency: BTreeSet<String>,
    inputs: Vec<String>,
    code: u8,
    /// The case the tenant's history was kept in, already open.
    case: Option<Arc<crate::case::Unlocked>>,
}

/// From the files of a pull (and on-premises exports): the same scan as
/// `warroom scan`; non-zero when an input could not be read.
fn from_files(
    cli: &Cli,
    config: Option<&crate::config::Config>,
    args: &PlanArgs,
) -> anyhow::Result<Result<Gathered, u8>> {
    let krbtgt_wait = config.and_then(|c| c.file.checklist.krbtgt_wait());
    let scan = ScanSetup {
        command: "plan",
        files: &args.files,
        ioc: cli.ioc.as_deref(),
        sigma: cli.sigma.as_deref(),
        threads: None,
        krbtgt_wait,
    };
    let scanned = match scan_files(&scan)? {
        Ok(scanned) => scanned,
        Err(code) => return Ok(Err(code)),
    };
    let (snapshot, _) = crate::pipeline::snapshot::read(&args.files);
    Ok(Ok(Gathered {
        findings: scanned.findings,
        emergency: crate::detect::posture::emergency_accounts(&snapshot),
        inputs: scanned.files.iter().map(|f| f.line()).collect(),
        code: u8::from(scanned.files.iter().any(|f| f.format == "unreadable")),
        case: None,
    }))
}

/// From the tenant, as `watch` reads it: the history window (resumed from
/// the case when one is named), then a directory snapshot; the plan is
/// made once history is in.
fn from_tenant(cli: &Cli, setup: &Setup, args: &PlanArgs) -> anyhow::Result<Result<Gathered, u8>> {
    use super::watch::{Output, Source, follow, prepare};
    let source = Source {
        command: "plan",
        case: args.case.as_deref(),
        since: args.since.as_deref(),
        posture: true,
    };
    let (client, pipeline, _verdicts) = match prepare(cli, setup, &source)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(Err(code)),
    };
    let window = crate::model::duration::describe(pipeline.history);
    let case = pipeline.case.clone();
    let graph = pipeline.graph_url.clone();
    let output = Output {
        command: "plan",
        format: args.format,
        live: false,
        print: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let followed = runtime.block_on(follow(client, pipeline, output))?;
    let Some(done) = followed.caught_up else {
        eprintln!("warroom plan: the history did not come in whole, so no plan was made.");
        return Ok(Err(followed.code.max(1)));
    };
    let input = format!(
        "the tenant through {graph}: {window} of sign-ins, audits and the unified audit log ({} fetched this run), and a directory snapshot",
        crate::model::counted(done.events, "event")
    );
    Ok(Ok(Gathered {
        findings: followed.findings,
        emergency: followed.emergency,
        inputs: vec![input],
        code: 0,
        case,
    }))
}

/// The findings an item rests on, by id, as `severity title (subject)`.
fn finding_names(item_findings: &[String], rows: &[FindingRow]) -> Vec<String> {
    let by_id: HashMap<&str, &FindingRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    item_findings
        .iter()
        .map(|id| match by_id.get(id.as_str()) {
            Some(row) => match &row.subject {
                Some(subject) => {
                    format!("{} {} ({subject})", row.severity.label().trim(), row.title)
                }
                None => format!("{} {}", row.severity.label().trim(), row.title),
            },
            None => id.clone(),
        })
        .fold(Vec::new(), |mut names, name| {
            if !names.contains(&name) {
                names.push(name);
            }
            names
        })
}

/// Whether warroom can do the item on the tenant (`x` in the console).
fn actionable(plan: &Plan, item: &Item) -> bool {
    item.target.is_some() && plan.spec(item).is_some_and(|s| s.action.is_some())
}

fn to_json(plan: &Plan, rows: &[FindingRow], inputs: &[String], now: jiff::Timestamp) -> Value {
    let phases: Vec<Value> = plan
        .template
        .phases
        .iter()
        .enumerate()
        .map(|(index, phase)| {
            let (done, total) = plan.progress(index);
            let items: Vec<Value> = plan
                .items()
                .iter()
                .filter(|i| i.phase == index)
                .map(|item| {
                    json!({
                        "key": item.key,
                        "parent": item.parent,
                        "title": item.title.as_str(),
                        "target": item.target.as_ref().map(SafeText::as_str),
                        "status": item.status.name(),
                        "actionable": actionable(plan, item),
                        "blocked_by": plan.blockers(item, now),
                        "why": item.why.as_ref().map(SafeText::as_str),
                        "findings": item.findings,
                        "evidence": finding_names(&item.findings, rows),
                    })
                })
                .collect();
            json!({
                "id": phase.id,
                "title": phase.title,
                "done": done,
                "total": total,
                "items": items,
            })
        })
        .collect();
    json!({
        "emergency_accounts": plan.emergency_accounts(),
        "phases": phases,
        "spared": spared(plan),
        "inputs": inputs,
    })
}

/// The items withheld from emergency accounts, one entry per account: how
/// many template items were left out, the findings, and why.
fn spared(plan: &Plan) -> Vec<Value> {
    plan.spared()
        .into_iter()
        .map(|s| {
            json!({
                "account": s.account.as_str(),
                "items_not_proposed": s.items.len(),
                "findings": s.findings,
                "reason": s.reason,
            })
        })
        .collect()
}

fn markdown(plan: &Plan, rows: &[FindingRow], inputs: &[String], now: jiff::Timestamp) -> String {
    let cell = crate::model::markdown_inline;
    let (done, total) = plan.overall();
    let mut md = format!("# Recovery plan\n\n{done} of {total} items done.\n");
    for (index, phase) in plan.template.phases.iter().enumerate() {
        let (done, total) = plan.progress(index);
        md.push_str(&format!("\n## {} ({done}/{total})\n\n", cell(&phase.title)));
        for item in plan.items().iter().filter(|i| i.phase == index) {
            let indent = if item.parent.is_some() { "  " } else { "" };
            let mut line = format!(
                "{indent}- {} {}",
                item.status.mark().replace('[', "\\["),
                cell(item.title.as_str())
            );
            if actionable(plan, item) {
                line.push_str(" *(warroom can do this)*");
            }
            let blockers = plan.blockers(item, now);
            if !item.status.finished() && !blockers.is_empty() {
                line.push_str(&format!(" — not yet: {}", cell(&blockers.join("; "))));
            }
            md.push_str(&line);
            md.push('\n');
            if let Some(why) = &item.why {
                md.push_str(&format!("{indent}  - why: {}\n", cell(why.as_str())));
            }
            if item.parent.is_some() {
                for name in finding_names(&item.findings, rows) {
                    md.push_str(&format!("{indent}  - evidence: {}\n", cell(&name)));
                }
            }
        }
    }
    let spared = plan.spared();
    if !spared.is_empty() {
        md.push_str("\n## Emergency access accounts spared\n\n");
        for s in spared {
            md.push_str(&format!(
                "- {} ({} items not proposed): {}\n",
                cell(s.account.as_str()),
                s.items.len(),
                cell(&s.reason)
            ));
        }
    }
    md.push_str("\n## Inputs\n\n");
    for line in inputs {
        md.push_str(&format!("- {}\n", cell(line)));
    }
    md
}

fn table(plan: &Plan, rows: &[FindingRow], inputs: &[String], now: jiff::Timestamp) -> String {
    let (done, total) = plan.overall();
    let mut out = format!("Recovery plan: {done} of {total} items done\n");
    for (index, phase) in plan.template.phases.iter().enumerate() {
        let (done, total) = plan.progress(index);
        out.push_str(&format!("\n{} ({done}/{total})\n", phase.title));
        for item in plan.items().iter().filter(|i| i.phase == index) {
            let indent = if item.parent.is_some() { "    " } else { "  " };
            let mark = if actionable(plan, item) {
                " [x: warroom can do this]"
            } else {
                ""
            };
            out.push_str(&format!(
                "{indent}{} {}{mark}\n",
                item.status.mark(),
                item.title
            ));
            let blockers = plan.blockers(item, now);
            if !item.status.finished() && !blockers.is_empty() {
                out.push_str(&format!(
                    "{indent}    not yet: {}\n",
                    SafeText::new(&blockers.join("; "))
                ));
            }
            if let Some(why) = &item.why {
                out.push_str(&format!("{indent}    why: {why}\n"));
            }
            if item.parent.is_some() {
                for name in finding_names(&item.findings, rows).into_iter().take(3) {
                    out.push_str(&format!("{indent}    evidence: {}\n", SafeText::new(&name)));
                }
            }
        }
    }
    for s in plan.spared() {
        out.push_str(&format!("\nSpared: {}\n", SafeText::new(&s.reason)));
    }
    out.push_str("\nInputs:\n");
    for line in inputs {
        out.push_str(&format!("  {}\n", SafeText::new(line)));
    }
    out
}
