//! The console's detections: the engine `warroom scan` runs, on a thread
//! of its own, fed each batch the poller brings and the evidence files
//! given beside the feed.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::EngineInput;
use crate::app::action::Msg;
use crate::model::SafeText;

/// Runs the detections over every batch on a thread of their own (the
/// engine `warroom scan` runs, fed one batch at a time) and reports the
/// findings whenever they change. `None` when the rules do not load,
/// which the console is told.
pub(super) fn detections(
    tx: mpsc::Sender<Msg>,
    iocs: Option<Arc<crate::detect::ioc::IocList>>,
    sigma: Option<Arc<crate::detect::sigma::SigmaRules>>,
    krbtgt_wait: Option<f64>,
) -> Option<std::sync::mpsc::Sender<EngineInput>> {
    let mut engine = match crate::detect::Engine::built_in() {
        Ok(mut engine) => {
            if let Some(hours) = krbtgt_wait {
                engine = engine.with_krbtgt_wait(hours);
            }
            if let Some(list) = iocs {
                engine = engine.with_iocs(list);
            }
            if let Some(rules) = sigma {
                engine = engine.with_sigma(rules);
            }
            engine
        }
        Err(e) => {
            let text = format!("the detections do not run: {e}");
            let _ = tx.try_send(Msg::Problem(SafeText::new(&text)));
            return None;
        }
    };
    let (batch_tx, batch_rx) = std::sync::mpsc::channel::<EngineInput>();
    std::thread::spawn(move || {
        let mut shown: Vec<(String, u64, String)> = Vec::new();
        let mut posture: Vec<crate::detect::Finding> = Vec::new();
        let mut n = 0u64;
        while let Ok(first) = batch_rx.recv() {
            // Everything queued meanwhile, then one look at the findings.
            for input in std::iter::once(first).chain(batch_rx.try_iter()) {
                let batch = match input {
                    EngineInput::Events(batch) => batch,
                    EngineInput::Posture(findings) => {
                        posture = findings;
                        continue;
                    }
                };
                for value in batch {
                    n += 1;
                    if let Some(event) = crate::detect::Event::new(value, || format!("live #{n}")) {
                        engine.observe(&event);
                    }
                }
            }
            // Within a severity, what the events show comes before what
            // the snapshot shows.
            let mut findings = engine.findings();
            findings.extend(posture.iter().cloned());
            findings.sort_by_key(|f| f.severity);
            // A finding whose words changed (a posture finding on a new
            // snapshot keeps its id and count) is shown again too.
            let now: Vec<(String, u64, String)> = findings
                .iter()
                .map(|f| (f.id.clone(), f.count, f.explanation.clone()))
                .collect();
            if now == shown {
                continue;
            }
            shown = now;
            let rows = findings
                .iter()
                .map(crate::model::finding::FindingRow::from_finding)
                .collect();
            if tx.blocking_send(Msg::Findings(rows)).is_err() {
                return;
            }
        }
    });
    Some(batch_tx)
}

/// Reads evidence files into the detections, a batch at a time; what a
/// file could not give is said in the status line.
pub(super) fn read_evidence(
    files: &[std::path::PathBuf],
    engine: &std::sync::mpsc::Sender<EngineInput>,
    tx: &mpsc::Sender<Msg>,
) {
    for path in files {
        let mut batch = Vec::new();
        let summary = crate::source::import::read_all(path, &mut |value, _| {
            batch.push(value);
            if batch.len() >= 2048 {
                let _ = engine.send(EngineInput::Events(std::mem::take(&mut batch)));
            }
        });
        if !batch.is_empty() {
            let _ = engine.send(EngineInput::Events(batch));
        }
        tracing::info!(file = %path.display(), records = summary.records, skipped = summary.skipped, "evidence read");
        if summary.skipped > 0 || summary.format == "unreadable" {
            let _ = tx.blocking_send(Msg::Problem(SafeText::new(&format!(
                "evidence {}",
                summary.line()
            ))));
        }
    }
}
