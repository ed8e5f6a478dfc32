//! `warroom watch`: the console's live pipeline without a screen. History
//! first, then live; findings written as they appear and change, or once
//! when history is in (`--until-caught-up`).

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

use super::Setup;
use crate::cli::{Cli, Format, WatchArgs};
use crate::model::SafeText;
use crate::watch::{self, Phase, Report};

pub fn run(cli: &Cli, setup: Setup, args: &WatchArgs) -> anyhow::Result<u8> {
    if !args.until_caught_up && !matches!(args.format, Format::Ndjson) {
        eprintln!(
            "warroom watch: only ndjson can be written as findings change; add --until-caught-up for the other formats. Nothing was done."
        );
        return Ok(2);
    }
    let source = Source {
        command: "watch",
        case: args.case.as_deref(),
        since: args.since.as_deref(),
        posture: !args.no_posture,
    };
    let (client, pipeline, _verdicts) = match prepare(cli, &setup, &source)? {
        Ok(prepared) => prepared,
        Err(code) => return Ok(code),
    };
    let output = Output {
        command: "watch",
        format: args.format,
        live: !args.until_caught_up,
        print: true,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(follow(client, pipeline, output))?.code)
}

/// Where the pipeline reads from, for `watch` and `plan`.
pub(super) struct Source<'a> {
    pub command: &'static str,
    pub case: Option<&'a str>,
    pub since: Option<&'a str>,
    pub posture: bool,
}

/// The client and the pipeline's set-up (and the sender that keeps the
/// triage channel open); the exit code, said on stderr, when they cannot
/// be made.
type Prepared = (
    Arc<crate::source::graph::GraphClient>,
    watch::Setup,
    tokio::sync::watch::Sender<crate::detect::own::Team>,
);

pub(super) fn prepare(
    cli: &Cli,
    setup: &Setup,
    source: &Source<'_>,
) -> anyhow::Result<Result<Prepared, u8>> {
    let command = source.command;
    let (configured, krbtgt_wait) = match &setup.config {
        Ok(config) => (
            config.file.case.history.clone(),
            config.file.checklist.krbtgt_wait(),
        ),
        Err(_) => (None, None),
    };
    let case = match super::case::unlocked(cli, setup, source.case) {
        Ok(case) => case.map(Arc::new),
        Err(e) => {
            eprintln!("warroom {command}: {e:#}. Nothing was done.");
            return Ok(Err(1));
        }
    };
    let history = match watch::history_window(source.since, configured.as_deref(), case.is_some()) {
        Ok(history) => history,
        Err(e) => {
            eprintln!(
                "warroom {command}: {}. Nothing was done.",
                SafeText::new(&e)
            );
            return Ok(Err(2));
        }
    };
    if case.is_none() {
        eprintln!(
            "warroom {command}: no case: {} of history, kept in memory for this run only (name a case with --case or WARROOM_CASE to keep it and continue from it next time)",
            crate::model::duration::describe(history)
        );
    }
    let iocs = match &cli.ioc {
        Some(path) => match super::scan::load_iocs(command, path) {
            Some(list) => Some(list),
            None => return Ok(Err(2)),
        },
        None => None,
    };
    let sigma = match super::scan::load_sigma(command, cli.sigma.as_deref()) {
        Ok(sigma) => sigma,
        Err(code) => return Ok(Err(code)),
    };
    let verdicts = case.as_deref().map(verdicts).unwrap_or_default();
    let settings = setup.settings(cli)?;
    let client = match crate::source::graph::connect(&settings, None) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("warroom {command}: {e}");
            return Ok(Err(1));
        }
    };
    let (verdicts_tx, verdicts_rx) = tokio::sync::watch::channel(verdicts);
    let pipeline = watch::Setup {
        graph_url: settings.graph_url.clone(),
        history,
        streams: watch::STREAMS.to_vec(),
        case,
        rules: watch::Rules {
            iocs,
            sigma,
            krbtgt_wait,
        },
        evidence: cli.evidence.clone(),
        throwaway_evidence: None,
        posture: source.posture,
        verdicts: Some(verdicts_rx),
        interval: watch::POLL_INTERVAL,
    };
    Ok(Ok((client, pipeline, verdicts_tx)))
}

/// The triage decisions a case holds (finding id to state) and the
/// team's writes to the tenant.
fn verdicts(case: &crate::case::Unlocked) -> crate::detect::own::Team {
    use crate::case::record::Body;
    let mut team = crate::detect::own::Team::default();
    if let Ok(contents) = case.read() {
        for record in contents.records {
            team.writes.extend(crate::watch::own_write(&record));
            if let Body::Triage { finding, state, .. } = record.body {
                team.verdicts.insert(finding, state);
            }
        }
    }
    team
}

/// What `follow` writes, and when it stops.
pub(super) struct Output {
    pub command: &'static str,
    pub format: Format,
    /// Go on after history is in (ndjson lines as findings change).
    pub live: bool,
    /// Write the findings to stdout (`plan` keeps them to itself).
    pub print: bool,
}

/// What a run of the pipeline ended with.
pub(super) struct Followed {
    pub code: u8,
    pub findings: Vec<crate::detect::Finding>,
    /// The emergency accounts the directory snapshot showed.
    pub emergency: std::collections::BTreeSet<String>,
    /// How the history went, once it was in.
    pub caught_up: Option<watch::CaughtUp>,
}

pub(super) async fn follow(
    client: Arc<crate::source::graph::GraphClient>,
    pipeline: watch::Setup,
    output: Output,
) -> anyhow::Result<Followed> {
    let command = output.command;
    let ndjson = output.print && matches!(output.format, Format::Ndjson);
    let (tx, mut reports) = tokio::sync::mpsc::channel(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(watch::run(client, pipeline, tx, stop_rx));
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut written: HashMap<String, (u64, String)> = HashMap::new();
    let mut latest = Vec::new();
    let mut emergency = std::collections::BTreeSet::new();
    let mut caught_up = None;
    let mut phases: HashMap<&'static str, (Phase, std::time::Instant)> = HashMap::new();
    let tty = std::io::stderr().is_terminal();
    let code = loop {
        let report = tokio::select! {
            report = reports.recv() => report,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("warroom {command}: stopped; what was kept in the case is picked up next time");
                break 130;
            }
        };
        let Some(report) = report else {
            eprintln!("warroom {command}: the pipeline stopped");
            break 1;
        };
        match report {
            Report::Findings(findings) => {
                if ndjson {
                    for finding in &findings {
                        let now = (finding.count, finding.explanation.clone());
                        if written.get(&finding.id) != Some(&now) {
                            written.insert(finding.id.clone(), now);
                            let line = super::render(Format::Ndjson, std::slice::from_ref(finding));
                            out.write_all(line.as_bytes())?;
                        }
                    }
                    out.flush()?;
                }
                latest = findings;
            }
            Report::Progress(p) => {
                let now = std::time::Instant::now();
                let before = phases.insert(p.stream.name(), (p.phase, now));
                // A terminal sees every step; a log sees phase changes and
                // a line every half minute while history comes in.
                let due = before.is_none_or(|(phase, at)| {
                    phase != p.phase || (p.phase == Phase::History && now - at > LOG_EVERY)
                });
                if tty || due {
                    eprintln!("warroom {command}: {}", progress_line(&p));
                } else if let Some(before) = before {
                    phases.insert(p.stream.name(), before);
                }
            }
            Report::Problem(text) => eprintln!("warroom {command}: {}", SafeText::new(&text)),
            Report::SignIns(_) => {}
            Report::Emergency(accounts) => emergency = accounts,
            Report::CaughtUp(done) => {
                // A handful of requests rides the budget's burst: its share
                // says something only over a long history.
                let budget = if done.reports_requests >= 50 {
                    format!(", {:.0}% of their budget", done.budget_use * 100.0)
                } else {
                    String::new()
                };
                eprintln!(
                    "warroom {command}: history is in and judged: {} ({} fetched this run in {:.0} s; {} sign-in and audit requests{budget})",
                    crate::model::counted(latest.len() as u64, "finding"),
                    crate::model::counted(done.events, "event"),
                    done.seconds,
                    done.reports_requests,
                );
                caught_up = Some(done);
                if !output.live {
                    if output.print && !ndjson {
                        out.write_all(super::render(output.format, &latest).as_bytes())?;
                    }
                    out.flush()?;
                    break 0;
                }
            }
        }
    };
    let _ = stop_tx.send(true);
    drop(reports);
    running.abort();
    Ok(Followed {
        code,
        findings: latest,
        emergency,
        caught_up,
    })
}

/// How often a log (stderr not a terminal) hears of history progress.
const LOG_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// One stream's progress in a line.
fn progress_line(p: &watch::Progress) -> String {
    use crate::model::counted;
    let name = p.stream.name();
    let kept = counted(p.events, "event");
    match p.phase {
        Phase::History => {
            let eta = p
                .eta_secs
                .map(|s| format!(", about {s} s left"))
                .unwrap_or_default();
            let covered = p
                .covered_from
                .map(|t| format!(" back to {}", crate::model::de::graph_time(t)))
                .unwrap_or_default();
            format!("{name}: history {kept}{covered} ({:.0}/s{eta})", p.rate)
        }
        Phase::Live => match &p.last_error {
            Some(e) => format!(
                "{name}: live, {kept}; failing ({}): {}",
                p.failures,
                SafeText::new(e)
            ),
            None => format!("{name}: live, {kept}"),
        },
    }
}
