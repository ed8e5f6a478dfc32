//! The posture review: directory snapshots taken through Graph, judged,
//! and compared with the case's first one.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use tokio::sync::mpsc;

use super::judge::Input;
use super::{Report, SNAPSHOT_INTERVAL};

/// Takes a directory snapshot now and every `SNAPSHOT_INTERVAL`, judges
/// it and compares it with the case's first one (kept in the case, sealed,
/// the first time), and hands the findings to the detections thread. The
/// first snapshot's objects go to the detections as events too, as the
/// directory part of a `pull` does to `scan`. `first` is told once the
/// first attempt is over, whatever its outcome.
pub(super) async fn posture(
    client: Arc<crate::source::graph::GraphClient>,
    graph_url: String,
    case: Option<Arc<crate::case::Unlocked>>,
    iocs: Option<Arc<crate::detect::ioc::IocList>>,
    engine: std::sync::mpsc::Sender<Input>,
    tx: mpsc::Sender<Report>,
    first: tokio::sync::oneshot::Sender<()>,
) {
    let mut first = Some(first);
    use crate::detect::posture::{self, Snapshot, diff};
    let mut baseline: Option<Snapshot> = match &case {
        Some(case) => {
            let case = case.clone();
            tokio::task::spawn_blocking(move || case_baseline(&case))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    let mut said_not_compared = false;
    loop {
        let mut wait = SNAPSHOT_INTERVAL;
        match crate::source::graph::snapshot::take(&client, &graph_url, &|_| {}).await {
            Ok((lines, summary)) => {
                // Judging a large tenant takes a while: off the async workers.
                if baseline.is_none()
                    && let Some(case) = &case
                {
                    keep(case.clone(), lines.clone(), tx.clone());
                }
                if first.is_some() && engine.send(Input::Events(lines.clone())).is_err() {
                    return;
                }
                let earlier = baseline.take();
                let lists = iocs.clone();
                let judged = tokio::task::spawn_blocking(move || {
                    let now = Snapshot::from_lines(lines);
                    let verdicts = posture::judge(&now, Timestamp::now());
                    let changes = earlier.as_ref().map(|b| diff::compare(b, &now));
                    let not_compared = changes
                        .as_ref()
                        .map(|c| c.not_compared.clone())
                        .unwrap_or_default();
                    let mut extra = changes.map(|c| c.findings).unwrap_or_default();
                    if let Some(list) = &lists {
                        extra.extend(list.judge_snapshot(&now));
                    }
                    let findings = posture::findings(&verdicts, &extra, now.taken_at);
                    let emergency = posture::emergency_accounts(&now);
                    (earlier.unwrap_or(now), findings, not_compared, emergency)
                })
                .await;
                let Ok((kept, findings, not_compared, emergency)) = judged else {
                    return;
                };
                baseline = Some(kept);
                // Before the findings, so the plan they make spares them.
                if tx.send(Report::Emergency(emergency)).await.is_err() {
                    return;
                }
                if engine.send(Input::Posture(findings)).is_err() {
                    return;
                }
                if let Some(first) = first.take() {
                    let _ = first.send(());
                }
                if !not_compared.is_empty() && !said_not_compared {
                    said_not_compared = true;
                    let text = format!(
                        "directory changes not compared (the case's first snapshot or this one lacks them): {}",
                        not_compared.join(", ")
                    );
                    let _ = tx.send(Report::Problem(text)).await;
                }
                if !summary.gaps.is_empty() {
                    let text = format!(
                        "directory snapshot: {} part(s) refused, so some posture checks are not judged ({})",
                        summary.gaps.len(),
                        summary.gaps.join("; ")
                    );
                    let _ = tx.send(Report::Problem(text)).await;
                }
            }
            // Not signed in: the feed already says why; try again soon.
            Err(crate::source::graph::pull::PullError::Graph(
                crate::source::graph::client::GraphError::Auth(e),
            )) => {
                tracing::info!("directory snapshot waits for a sign-in: {e}");
                wait = Duration::from_secs(60);
            }
            Err(e) => {
                let text = format!(
                    "directory snapshot failed ({e}); the posture review tries again in {} minutes",
                    SNAPSHOT_INTERVAL.as_secs() / 60
                );
                if tx.send(Report::Problem(text)).await.is_err() {
                    return;
                }
            }
        }
        if let Some(first) = first.take() {
            let _ = first.send(());
        }
        tokio::time::sleep(wait).await;
    }
}

/// Keeps the first snapshot in the case on a blocking task (it fsyncs);
/// a failure is reported, since the later comparisons then lack it.
fn keep(case: Arc<crate::case::Unlocked>, lines: Vec<serde_json::Value>, tx: mpsc::Sender<Report>) {
    tokio::spawn(async move {
        let saved =
            tokio::task::spawn_blocking(move || case.save_events("directory", &lines)).await;
        let problem = match saved {
            Ok(Ok(_)) => return,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        let text = format!("the directory snapshot was not kept in the case: {problem}");
        let _ = tx.send(Report::Problem(text)).await;
    });
}

/// The case's first directory snapshot, if it keeps one.
fn case_baseline(case: &crate::case::Unlocked) -> Option<crate::detect::posture::Snapshot> {
    use crate::case::record::Body;
    let contents = case.read().ok()?;
    let first = contents
        .records
        .iter()
        .find(|r| matches!(&r.body, Body::Events { stream, .. } if stream == "directory"))?;
    let lines = case.load_events(first).ok()?;
    Some(crate::detect::posture::Snapshot::from_lines(lines))
}
