//! `warroom pull`: logs and a directory snapshot to NDJSON.

use std::time::Duration;

use super::Setup;
use crate::cli::{Cli, PullArgs};

pub fn run(cli: &Cli, setup: Setup, args: &PullArgs) -> anyhow::Result<u8> {
    pull(args, &setup.settings(cli)?)
}

fn pull(args: &PullArgs, settings: &crate::config::Settings) -> anyhow::Result<u8> {
    use crate::source::graph::{self, pull};
    let streams = match args.streams.as_deref().map(pull::Stream::parse_list) {
        None => pull::Stream::ALL.to_vec(),
        Some(Ok(streams)) => streams,
        Some(Err(e)) => {
            eprintln!("warroom pull: {e}. Nothing was done.");
            return Ok(2);
        }
    };
    let now = jiff::Timestamp::now();
    let window = match (&args.since, &args.from, &args.to) {
        (Some(since), _, _) => crate::model::duration::parse_duration(since)
            .and_then(|secs| {
                now.checked_sub(jiff::SignedDuration::from_secs(secs))
                    .map_err(|e| e.to_string())
            })
            .map(|from| (from, now)),
        (None, Some(from), Some(to)) => match (
            from.parse::<jiff::Timestamp>(),
            to.parse::<jiff::Timestamp>(),
        ) {
            (Ok(f), Ok(t)) if f < t => Ok((f, t)),
            (Ok(_), Ok(_)) => Err("--from must be before --to".to_owned()),
            _ => Err("--from and --to take times like 2026-11-01T00:00:00Z".to_owned()),
        },
        _ => Ok((now - jiff::SignedDuration::from_hours(24 * 7), now)),
    };
    let (from, to) = match window {
        Ok(w) => w,
        Err(e) => {
            eprintln!("warroom pull: {e}. Nothing was done.");
            return Ok(2);
        }
    };
    let window = match args
        .window
        .as_deref()
        .map(crate::model::duration::parse_duration)
    {
        None => None,
        Some(Ok(secs)) if secs > 0 => Some(jiff::SignedDuration::from_secs(secs)),
        Some(Ok(_)) => {
            eprintln!("warroom pull: --window must be longer than zero. Nothing was done.");
            return Ok(2);
        }
        Some(Err(e)) => {
            eprintln!("warroom pull: --window {e}. Nothing was done.");
            return Ok(2);
        }
    };
    if let Some(workspace) = &args.workspace {
        return from_workspace(args, settings, workspace, &streams, from, to);
    }
    let client = match graph::connect(settings, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warroom pull: {e}");
            return Ok(1);
        }
    };
    let request = pull::PullRequest {
        window,
        graph_url: settings.graph_url.clone(),
        streams,
        from,
        to,
        out: args.out.clone(),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let stats_client = client.clone();
    let final_stats = client.clone();
    let progress_bar = bar.clone();
    let result = runtime.block_on(pull::pull(client, request, move |line| {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &stats_client.stats;
        progress_bar.set_message(format!(
            "{line}; {} requests, {} throttled, {} retries, {:.0} s waiting for the budget",
            s.requests.load(Relaxed),
            s.throttled.load(Relaxed),
            s.retries.load(Relaxed),
            s.budget_wait_ms.load(Relaxed) as f64 / 1000.0
        ));
    }));
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            let total: u64 = summary.per_stream.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = summary
                .per_stream
                .iter()
                .map(|(s, n)| format!("{} {n}", s.name()))
                .collect();
            use std::sync::atomic::Ordering::Relaxed;
            let s = &final_stats.stats;
            eprintln!(
                "warroom pull: {} {total} events to {} in {:.1} s ({:.0}/s): {}{}; {} requests, {} throttled (429), {} retries",
                if summary.resumed {
                    "finished a resumed pull:"
                } else {
                    "pulled"
                },
                args.out.display(),
                summary.seconds,
                total as f64 / summary.seconds.max(0.001),
                parts.join(", "),
                if summary.duplicates_dropped > 0 {
                    format!("; {} repeats dropped", summary.duplicates_dropped)
                } else {
                    String::new()
                },
                s.requests.load(Relaxed),
                s.throttled.load(Relaxed),
                s.retries.load(Relaxed),
            );
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom pull: {e}");
            eprintln!(
                "warroom pull: what was pulled is kept; run the same command again to continue."
            );
            Ok(1)
        }
    }
}

/// `pull --workspace`: the streams' tables from a Log Analytics workspace.
fn from_workspace(
    args: &PullArgs,
    settings: &crate::config::Settings,
    workspace: &str,
    streams: &[crate::source::graph::pull::Stream],
    from: jiff::Timestamp,
    to: jiff::Timestamp,
) -> anyhow::Result<u8> {
    use crate::source::workspace_pull;
    if !crate::source::workspace::is_guid(workspace.trim()) {
        eprintln!(
            "warroom pull: the workspace id is a GUID (the workspace's overview shows it). Nothing was done."
        );
        return Ok(2);
    }
    let mut tables: Vec<&str> = Vec::new();
    for s in streams {
        let found = workspace_pull::tables_for(s.name());
        if found.is_empty() {
            eprintln!(
                "warroom pull: {} is not in a workspace (pull it from Graph); left out",
                s.name()
            );
        }
        tables.extend(found);
    }
    let client =
        match crate::source::workspace::WorkspaceClient::connect(settings, workspace.trim()) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("warroom pull: {e}");
                return Ok(1);
            }
        };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let progress_bar = bar.clone();
    let result = runtime.block_on(workspace_pull::pull(
        &client,
        &tables,
        from,
        to,
        &args.out,
        move |line| progress_bar.set_message(line.to_owned()),
    ));
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            let total: u64 = summary.per_table.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = summary
                .per_table
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect();
            eprintln!(
                "warroom pull: {} {total} rows from workspace {} to {} in {:.1} s ({:.0}/s): {}; {} queries",
                if summary.resumed {
                    "finished a resumed pull:"
                } else {
                    "pulled"
                },
                client.workspace,
                args.out.display(),
                summary.seconds,
                total as f64 / summary.seconds.max(0.001),
                parts.join(", "),
                summary.queries,
            );
            for t in &summary.missing {
                eprintln!("warroom pull: the workspace has no {t} table; nothing pulled from it");
            }
            for (t, seconds) in &summary.short {
                eprintln!(
                    "warroom pull: {t}: {seconds} single seconds held more rows than the service returns at once; their rows are incomplete"
                );
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("warroom pull: {e}");
            eprintln!(
                "warroom pull: what was pulled is kept; run the same command again to continue."
            );
            Ok(1)
        }
    }
}
