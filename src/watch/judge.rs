//! The detections, on a thread of their own: the engine `warroom scan`
//! runs, set up the same way, fed each batch as it lands. After each run
//! of batches it looks at the findings once and reports them if they
//! changed.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::Report;
use crate::detect::{Engine, Finding};

/// What the engine's thread is fed.
pub enum Input {
    /// Events of any stream, or read from evidence files.
    Events(Vec<serde_json::Value>),
    /// The posture review of the latest snapshot (replaces the last one).
    Posture(Vec<Finding>),
    /// The team's triage decisions and its own writes.
    Team(crate::detect::own::Team),
    /// Answered once everything sent before has been judged and reported.
    Flush(oneshot::Sender<()>),
}

/// What the engine runs beside its built-in rules.
#[derive(Clone, Default)]
pub struct Rules {
    pub iocs: Option<Arc<crate::detect::ioc::IocList>>,
    pub sigma: Option<Arc<crate::detect::sigma::SigmaRules>>,
    /// The team's krbtgt wait, in hours.
    pub krbtgt_wait: Option<f64>,
}

/// The engine every headless and live path uses: built-in rules, then the
/// team's krbtgt wait, indicators and Sigma rules.
pub fn engine(rules: &Rules) -> Result<Engine, String> {
    let mut engine = Engine::built_in()?;
    if let Some(hours) = rules.krbtgt_wait.filter(|h| h.is_finite() && *h > 0.0) {
        engine = engine.with_krbtgt_wait(hours);
    }
    if let Some(list) = &rules.iocs {
        engine = engine.with_iocs(list.clone());
    }
    if let Some(set) = &rules.sigma {
        engine = engine.with_sigma(set.clone());
    }
    Ok(engine)
}

/// Starts the engine's thread; `None` (after saying why) when the rules
/// do not load.
pub fn start(rules: &Rules, tx: mpsc::Sender<Report>) -> Option<std::sync::mpsc::Sender<Input>> {
    let mut engine = match engine(rules) {
        Ok(engine) => engine,
        Err(e) => {
            let _ = tx.try_send(Report::Problem(format!("the detections do not run: {e}")));
            return None;
        }
    };
    let (input_tx, input_rx) = std::sync::mpsc::channel::<Input>();
    std::thread::spawn(move || {
        let mut shown: Vec<(String, u64, String)> = Vec::new();
        let mut posture: Vec<Finding> = Vec::new();
        let mut n = 0u64;
        while let Ok(first) = input_rx.recv() {
            let mut flushes = Vec::new();
            // Everything queued meanwhile, then one look at the findings.
            for input in std::iter::once(first).chain(input_rx.try_iter()) {
                match input {
                    Input::Events(batch) => {
                        for value in batch {
                            n += 1;
                            let place = || format!("live #{n}");
                            if let Some(event) = crate::detect::Event::new(value, place) {
                                engine.observe(&event);
                            }
                        }
                    }
                    Input::Posture(findings) => posture = findings,
                    Input::Team(team) => engine.set_team(team),
                    Input::Flush(done) => flushes.push(done),
                }
            }
            let mut findings = engine.findings();
            // Within a severity, what the events show comes before what
            // the snapshot shows.
            findings.extend(posture.iter().cloned());
            findings.sort_by_key(|f| f.severity);
            // A finding whose words changed (a posture finding on a new
            // snapshot keeps its id and count) is reported again too.
            let now: Vec<(String, u64, String)> = findings
                .iter()
                .map(|f| (f.id.clone(), f.count, f.explanation.clone()))
                .collect();
            if now != shown {
                shown = now;
                if tx.blocking_send(Report::Findings(findings)).is_err() {
                    return;
                }
            }
            for done in flushes {
                let _ = done.send(());
            }
        }
    });
    Some(input_tx)
}

/// Reads evidence files into the detections, a batch at a time; what a
/// file could not give is reported.
pub fn read_evidence(
    files: &[std::path::PathBuf],
    engine: &std::sync::mpsc::Sender<Input>,
    tx: &mpsc::Sender<Report>,
) {
    for path in files {
        let mut batch = Vec::new();
        let summary = crate::source::import::read_all(path, &mut |value, _| {
            batch.push(value);
            if batch.len() >= 2048 {
                let _ = engine.send(Input::Events(std::mem::take(&mut batch)));
            }
        });
        if !batch.is_empty() {
            let _ = engine.send(Input::Events(batch));
        }
        tracing::info!(file = %path.display(), records = summary.records, skipped = summary.skipped, "evidence read");
        if summary.skipped > 0 || summary.format == "unreadable" {
            let _ = tx.blocking_send(Report::Problem(format!("evidence {}", summary.line())));
        }
    }
}
