//! The live pipeline (`watch`, as the console runs it) against the
//! emulated tenant over HTTP: events that keep arriving (some of them
//! minutes late) are delivered exactly once, and a dead endpoint shows as
//! a failing stream, not as silence.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use warroom::config::{AuthMethod, Config, ConfigFile, SecretSource, env};
use warroom::emulator::{self, Scenario, Spec, live, signins::Kind};
use warroom::source::graph::{self, pull::Stream};
use warroom::watch::{self as pipeline, Report};

/// The pipeline over `streams`, without a case, posture or evidence.
fn setup(url: &str, streams: Vec<Stream>, history: jiff::SignedDuration) -> pipeline::Setup {
    pipeline::Setup {
        graph_url: url.to_owned(),
        history,
        streams,
        case: None,
        rules: pipeline::Rules::default(),
        evidence: Vec::new(),
        throwaway_evidence: None,
        posture: false,
        verdicts: None,
        interval: Duration::from_millis(400),
    }
}

/// Settings for the emulator at `url`, the secret in a private file (the
/// tests run in parallel, so not in the process environment).
fn settings(
    url: &str,
    tenant: &str,
    id: &str,
    secret: &str,
    dir: &std::path::Path,
) -> warroom::config::Settings {
    let config = Config {
        path: PathBuf::from("/none"),
        exists: false,
        file: ConfigFile::default(),
        text: String::new(),
    };
    let pairs = [
        (env::GRAPH_URL, url),
        (env::AUTHORITY_URL, url),
        (env::TENANT, tenant),
        (env::CLIENT_ID, id),
    ];
    let mut s = config
        .settings_with_env(None, |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
    let file = dir.join("secret");
    std::fs::write(&file, secret).unwrap();
    s.auth = AuthMethod::ClientSecret;
    s.secret = SecretSource::File(file);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arriving_events_are_delivered_once_including_late_ones() {
    warroom::install_crypto_provider();
    let now = jiff::Timestamp::now().as_millisecond();
    let spec = Spec {
        scenario: Scenario::GoldenSaml,
        seed: 31,
        signins: 3_000,
        days: 1,
        end_ms: now,
    };
    let running = emulator::start(
        &spec,
        "127.0.0.1:0",
        emulator::Options {
            throttle: false,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (tenant, id, secret) = {
        let t = running.emulator.tenant.read().unwrap();
        (
            t.id.to_string(),
            t.responder.app_id.to_string(),
            t.responder.secret.clone(),
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let client = graph::connect(
        &settings(&running.url, &tenant, &id, &secret, dir.path()),
        None,
    )
    .unwrap();
    let history = jiff::SignedDuration::from_mins(2);
    let since = jiff::Timestamp::now() - history;
    // What the tenant held before the feed started: of these only the
    // history window is due. Whatever arrives later is due however old
    // its time (a late event is new to the feed).
    let before: HashSet<String> = {
        let t = running.emulator.tenant.read().unwrap();
        t.signins
            .records()
            .iter()
            .map(|r| r.id().to_string())
            .collect()
    };
    let streams = vec![
        Stream::Interactive,
        Stream::NonInteractive,
        Stream::ServicePrincipal,
    ];
    let (tx, mut rx) = mpsc::channel(64);
    let (stop_tx, stop_rx) = watch::channel(false);
    let feed = tokio::spawn(pipeline::run(
        client,
        setup(&running.url, streams, history),
        tx,
        stop_rx,
    ));
    // New events arrive while the feed runs; some carry times minutes old.
    for _ in 0..6 {
        {
            let mut t = running.emulator.tenant.write().unwrap();
            live::advance(&mut t, jiff::Timestamp::now().as_millisecond(), 1800);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let last_added = jiff::Timestamp::now();
    // Drain the feed as the console does, until history is in and every
    // stream has polled whole after the last event was added. Polls share
    // the reports budget (5 requests per 10 s), so this takes a while.
    let mut delivered = Vec::new();
    let mut caught_up = HashSet::new();
    let mut history_in = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !history_in || caught_up.len() < 3 {
        let report = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the feed fell silent")
            .expect("the feed ended");
        match report {
            Report::SignIns(events) => {
                delivered.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_owned()))
            }
            Report::Progress(p) => {
                assert_eq!(p.failures, 0, "{p:?}");
                if p.phase == pipeline::Phase::Live
                    && p.last_success.is_some_and(|t| t > last_added)
                {
                    caught_up.insert(p.stream);
                }
            }
            Report::CaughtUp(_) => history_in = true,
            Report::Findings(_) | Report::Emergency(_) => {}
            Report::Problem(text) => panic!("{text}"),
        }
    }
    stop_tx.send(true).unwrap();
    drop(rx);
    feed.await.unwrap();
    let unique: HashSet<_> = delivered.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "an event was delivered twice"
    );
    let expected: HashSet<String> = {
        let t = running.emulator.tenant.read().unwrap();
        t.signins
            .records()
            .iter()
            .filter(|r| {
                (r.time_ms >= since.as_millisecond() || !before.contains(&r.id().to_string()))
                    && matches!(
                        r.kind,
                        Kind::Interactive | Kind::NonInteractive | Kind::ServicePrincipal
                    )
            })
            .map(|r| r.id().to_string())
            .collect()
    };
    assert!(expected.len() > 100, "the test added too few events");
    let missed: Vec<_> = expected.difference(&unique).collect();
    let invented: Vec<_> = unique.difference(&expected).collect();
    // The history window starts a moment after `since` was taken: an event
    // in between may be left out, never one after. A late arrival older
    // than the window may fall outside the live polls' look-back.
    let missed: Vec<_> = missed
        .into_iter()
        .filter(|id| {
            let t = running.emulator.tenant.read().unwrap();
            t.signins
                .records()
                .iter()
                .find(|r| r.id().to_string() == **id)
                .is_some_and(|r| r.time_ms > since.as_millisecond() + 5_000)
        })
        .collect();
    assert!(
        missed.is_empty() && invented.is_empty(),
        "missed {} (e.g. {:?}), invented {} (e.g. {:?})",
        missed.len(),
        missed.first(),
        invented.len(),
        invented.first()
    );
}

#[tokio::test]
async fn an_unreachable_tenant_shows_as_a_failing_stream() {
    warroom::install_crypto_provider();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{closed}");
    let dir = tempfile::tempdir().unwrap();
    let client = graph::connect(
        &settings(
            &url,
            "contoso.onmicrosoft.com",
            "00000000-0000-0000-0000-000000000001",
            "s",
            dir.path(),
        ),
        None,
    )
    .unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let (stop_tx, stop_rx) = watch::channel(false);
    let streams = vec![Stream::Interactive];
    let feed = tokio::spawn(pipeline::run(
        client,
        setup(&url, streams, jiff::SignedDuration::from_hours(1)),
        tx,
        stop_rx,
    ));
    let mut failures = 0;
    while let Some(report) = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .ok()
        .flatten()
    {
        if let Report::Progress(p) = report
            && p.failures > 0
        {
            assert!(
                p.last_error
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains("refused"),
                "{p:?}"
            );
            failures = p.failures;
            if failures >= 2 {
                break;
            }
        }
    }
    assert!(failures >= 2, "the failing stream did not report twice");
    stop_tx.send(true).unwrap();
    drop(rx);
    feed.await.unwrap();
}
