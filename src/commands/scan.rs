//! `warroom scan`: every detection over files, without the console; and
//! `scan --records`, what warroom reads of each record.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::{Setup, render};

pub fn run(setup: Setup, args: &crate::cli::ScanArgs) -> anyhow::Result<u8> {
    // The team's krbtgt wait, when its configuration sets one.
    let wait = setup
        .config
        .as_ref()
        .ok()
        .and_then(|c| c.file.checklist.krbtgt_wait());
    scan(args, wait)
}

/// `scan --records`: what warroom reads from each file, record by record.
/// Characters a terminal would act on are written as JSON escapes, so the
/// output is the same JSON and safe to read on screen.
fn print_records(files: &[std::path::PathBuf]) -> anyhow::Result<u8> {
    use crate::detect::event::Event;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = None;
    let mut unreadable = false;
    for path in files {
        if failed.is_some() {
            break;
        }
        let summary = crate::source::import::read_all(path, &mut |value, place| {
            if failed.is_some() {
                return;
            }
            let line = match Event::new(value.clone(), || place.clone()) {
                Some(event) => {
                    serde_json::json!({"kind": event.kind, "place": place, "record": event.value})
                }
                None => serde_json::json!({"kind": null, "place": place, "record": value}),
            };
            if let Err(e) = writeln!(out, "{}", escape_dangerous(&line.to_string())) {
                failed = Some(e);
            }
        });
        eprintln!("warroom scan: {}", summary.line());
        unreadable |= summary.format == "unreadable";
    }
    match failed {
        Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Some(e) => Err(e.into()),
        None => {
            out.flush()?;
            Ok(u8::from(unreadable))
        }
    }
}

/// JSON text with every character a terminal would act on as `\uXXXX`
/// (serde escapes C0 controls only; these can only be inside strings).
fn escape_dangerous(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if crate::model::is_dangerous(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What a scan of files found, and what it made of each file.
pub(super) struct Scanned {
    pub findings: Vec<crate::detect::Finding>,
    pub files: Vec<crate::source::import::FileSummary>,
    /// Records per kind the engine read.
    pub seen: Vec<String>,
    /// Records of no kind warroom reads.
    pub unknown: u64,
}

/// How a scan is set up: the command-line options `scan` and `plan`
/// share.
pub(super) struct ScanSetup<'a> {
    pub command: &'a str,
    pub files: &'a [std::path::PathBuf],
    pub ioc: Option<&'a std::path::Path>,
    pub sigma: Option<&'a std::path::Path>,
    pub threads: Option<usize>,
    pub krbtgt_wait: Option<f64>,
}

/// Every detection over the files, attacker infrastructure included; the
/// exit code when the set-up is refused (said on stderr).
pub(super) fn scan_files(setup: &ScanSetup) -> anyhow::Result<Result<Scanned, u8>> {
    use crate::detect::Engine;
    use crate::pipeline::scan;
    let command = setup.command;
    let mut engine = match Engine::built_in() {
        Ok(engine) => engine,
        Err(e) => anyhow::bail!("the built-in detections do not load: {e}"),
    };
    if let Some(hours) = setup.krbtgt_wait.filter(|h| h.is_finite() && *h > 0.0) {
        engine = engine.with_krbtgt_wait(hours);
    }
    if let Some(path) = setup.ioc {
        match load_iocs(command, path) {
            Some(list) => engine = engine.with_iocs(list),
            None => return Ok(Err(2)),
        }
    }
    match load_sigma(command, setup.sigma) {
        Ok(Some(rules)) => engine = engine.with_sigma(rules),
        Ok(None) => {}
        Err(code) => return Ok(Err(code)),
    }
    let threads = setup
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    });
    let shown = bar.clone();
    let mut scanned = scan::scan(engine, setup.files, threads, &move |bytes| {
        if let Some(bar) = &shown {
            bar.set_message(format!("{:.0} MB read", bytes as f64 / 1e6));
        }
    });
    if let Some(bar) = &bar {
        bar.set_message("reading again for the attacker's infrastructure");
    }
    let passes = scan::look_again(&mut scanned.engine, setup.files);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if passes > 0 {
        eprintln!(
            "warroom {command}: read the files again {} for activity from infrastructure a critical finding names",
            if passes == 1 {
                "once".to_owned()
            } else {
                format!("{passes} times")
            }
        );
    }
    Ok(Ok(Scanned {
        findings: scanned.engine.findings(),
        seen: scanned
            .engine
            .seen()
            .iter()
            .map(|(kind, n)| format!("{n} {kind}s"))
            .collect(),
        files: scanned.files,
        unknown: scanned.unknown,
    }))
}

fn scan(args: &crate::cli::ScanArgs, krbtgt_wait: Option<f64>) -> anyhow::Result<u8> {
    if args.records {
        return print_records(&args.files);
    }
    let started = Instant::now();
    let setup = ScanSetup {
        command: "scan",
        files: &args.files,
        ioc: args.ioc.as_deref(),
        sigma: args.sigma.as_deref(),
        threads: args.threads,
        krbtgt_wait,
    };
    let scanned = match scan_files(&setup)? {
        Ok(scanned) => scanned,
        Err(code) => return Ok(code),
    };
    let mut findings = input_findings(&scanned.files);
    findings.extend(scanned.findings);
    let findings = &findings;
    print!("{}", render(args.format, findings));
    print!("{}", inputs_section(args.format, &scanned.files));
    let mut unreadable = false;
    for file in &scanned.files {
        eprintln!("warroom scan: {}", file.line());
        unreadable |= file.format == "unreadable";
    }
    let seen = &scanned.seen;
    eprintln!(
        "warroom scan: {} findings from {} in {:.1} s{}",
        findings.len(),
        if seen.is_empty() {
            "no known records".to_owned()
        } else {
            seen.join(", ")
        },
        started.elapsed().as_secs_f64(),
        if scanned.unknown > 0 {
            format!(
                "; {} records of no kind warroom reads were passed over",
                scanned.unknown
            )
        } else {
            String::new()
        }
    );
    Ok(if unreadable { 1 } else { 0 })
}

/// What became of every input, in the report itself (Markdown and the
/// table; in JSON the inputs that were not read ride in the findings
/// array, `input_findings`): read, with how many records, what was
/// skipped and why, or why it could not be read.
pub(super) fn inputs_section(
    format: crate::cli::Format,
    files: &[crate::source::import::FileSummary],
) -> String {
    use crate::cli::Format;
    match format {
        Format::Markdown => {
            let mut md = String::from("\n## Inputs\n\n");
            for f in files {
                md.push_str(&format!("- {}\n", crate::model::markdown_inline(&f.line())));
            }
            md
        }
        Format::Table => {
            let mut out = String::from("\nInputs:\n");
            for f in files {
                out.push_str(&format!("  {}\n", f.line()));
            }
            out
        }
        Format::Json | Format::Ndjson => String::new(),
    }
}

/// A finding for each input the scan could not read, or that held nothing
/// of a kind warroom reads: a report without its findings must not read
/// as a clean bill of health.
pub(super) fn input_findings(
    files: &[crate::source::import::FileSummary],
) -> Vec<crate::detect::Finding> {
    use crate::detect::{Entity, Finding};
    use crate::model::Severity;
    files
        .iter()
        .filter(|f| f.is_unread())
        .map(|f| {
            let path = f.path.display().to_string();
            let not_read = f.format == "unreadable";
            let (detection, severity, title) = if not_read {
                ("scan.input-not-read", Severity::Medium, "Input not read")
            } else {
                (
                    "scan.input-not-understood",
                    Severity::Low,
                    "Input holds no records of a kind warroom reads",
                )
            };
            Finding {
                id: crate::detect::finding_id(detection, &path),
                detection: detection.into(),
                severity,
                title: title.into(),
                techniques: Vec::new(),
                entities: vec![Entity {
                    field: "file".into(),
                    value: path,
                }],
                evidence: f.skips.clone(),
                count: f.records.max(1),
                first_seen: None,
                last_seen: None,
                remediation: Vec::new(),
                explanation: f.line(),
                rationale: if not_read {
                    "Nothing in this file was looked at: its events are not in these findings."
                        .into()
                } else {
                    "This file was read, but none of its records is of a kind warroom reads \
                     (`warroom rules` lists the sources each detection reads): \
                     nothing in it is in these findings."
                        .into()
                },
                verdict: None,
            }
        })
        .collect()
}

/// An indicator list, with what it holds and left out said on stderr;
/// `None` (after saying why) when it cannot be used.
pub fn load_iocs(
    command: &str,
    path: &std::path::Path,
) -> Option<std::sync::Arc<crate::detect::ioc::IocList>> {
    use crate::model::SafeText;
    match crate::detect::ioc::IocList::load(path) {
        Ok((list, notes)) => {
            eprintln!(
                "warroom {command}: --ioc {}: {} indicators",
                SafeText::new(&path.display().to_string()),
                list.indicators.len()
            );
            for note in notes.iter().take(10) {
                eprintln!("warroom {command}: --ioc left out {}", SafeText::new(note));
            }
            if notes.len() > 10 {
                eprintln!(
                    "warroom {command}: --ioc left out {} more",
                    notes.len() - 10
                );
            }
            Some(std::sync::Arc::new(list))
        }
        Err(e) => {
            eprintln!(
                "warroom {command}: --ioc {}. Nothing was done.",
                SafeText::new(&e)
            );
            None
        }
    }
}

/// The Sigma rules of a run (the pack, and `--sigma`'s), with what loaded,
/// what cannot apply and what was refused said on stderr; `Err(exit
/// status)` (after saying why) when `--sigma` cannot be used.
pub fn load_sigma(
    command: &str,
    dir: Option<&std::path::Path>,
) -> Result<Option<std::sync::Arc<crate::detect::sigma::SigmaRules>>, u8> {
    use crate::model::SafeText;
    match crate::detect::sigma::SigmaRules::for_run(dir) {
        Ok((rules, lines)) => {
            for line in lines {
                eprintln!("warroom {command}: {}", SafeText::new(&line));
            }
            for (file, why) in rules.iter().flat_map(|r| &r.refused) {
                eprintln!(
                    "warroom {command}: Sigma refused {}: {}",
                    SafeText::new(&file.display().to_string()),
                    SafeText::new(why)
                );
            }
            Ok(rules.map(std::sync::Arc::new))
        }
        Err(e) => {
            eprintln!(
                "warroom {command}: Sigma rules: {}. Nothing was done.",
                SafeText::new(&e)
            );
            Err(2)
        }
    }
}
