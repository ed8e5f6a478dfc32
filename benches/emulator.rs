//! Emulator throughput: how long the generator takes for 2,000,000
//! sign-ins, how much memory they take, and how many sign-ins per second
//! the server serves unthrottled to HTTP clients on loopback.
//!
//! Run: `cargo bench --bench emulator` (WARROOM_BENCH_SIGNINS overrides the
//! size). Figures go to BENCHMARKS.md.

use std::time::{Duration, Instant};

use warroom::emulator::{self, Scenario, Spec};

fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn main() {
    warroom::install_crypto_provider();
    let signins: u64 = std::env::var("WARROOM_BENCH_SIGNINS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let spec = Spec {
        scenario: Scenario::GoldenSaml,
        seed: 1,
        signins,
        days: 30,
        end_ms: jiff::Timestamp::now().as_millisecond(),
    };
    let before = rss_mib();
    let started = Instant::now();
    let tenant = emulator::generate::build(&spec);
    let generated = started.elapsed();
    let after = rss_mib();
    println!(
        "generator: {} sign-ins in {:.2} s ({:.0}/s), resident memory +{:.0} MiB",
        tenant.signins.len(),
        generated.as_secs_f64(),
        tenant.signins.len() as f64 / generated.as_secs_f64(),
        after - before
    );

    // Serialisation alone, no HTTP: the ceiling for the server.
    let log = &tenant.signins;
    let selection = emulator::signins::Selection {
        kinds: 0b1111,
        ..Default::default()
    };
    let started = Instant::now();
    let (mut served, mut bytes, mut cursor) = (0usize, 0usize, None);
    while started.elapsed() < Duration::from_secs(3) {
        let (page, next) = log.page(&selection, 1000, cursor);
        let body = serde_json::to_vec(&emulator::signins::WirePage {
            log,
            records: &page,
            beta: true,
        })
        .unwrap_or_default();
        served += page.len();
        bytes += body.len();
        cursor = next;
        if cursor.is_none() {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "serialise: {:.0} sign-ins/s ({:.0} MB/s of JSON), one core",
        served as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    drop(tenant);

    // Over HTTP: two clients, each paging one kind, for a few seconds.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let running = emulator::start(&spec, "127.0.0.1:0", emulator::Options { throttle: false, ..Default::default() }).await.expect("start");
        let (tenant_id, id, secret) = {
            let t = running.emulator.tenant.read().unwrap();
            (t.id.to_string(), t.responder.app_id.to_string(), t.responder.secret.clone())
        };
        let client = reqwest::Client::new();
        let form = [("grant_type", "client_credentials"), ("client_id", id.as_str()), ("client_secret", secret.as_str()), ("scope", "https://graph.microsoft.com/.default")];
        let token: serde_json::Value = client.post(format!("{}/{tenant_id}/oauth2/v2.0/token", running.url)).form(&form).send().await.unwrap().json().await.unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for kind in ["nonInteractiveUser", "interactiveUser"] {
            let (client, token, base) = (client.clone(), token.clone(), running.url.clone());
            tasks.push(tokio::spawn(async move {
                let mut url = Some(format!("{base}/beta/auditLogs/signIns?$top=1000&$filter=signInEventTypes/any(t:%20t%20eq%20'{kind}')"));
                let (mut n, mut bytes) = (0usize, 0usize);
                while let Some(u) = url {
                    if started.elapsed() > Duration::from_secs(5) {
                        break;
                    }
                    let body = client.get(&u).bearer_auth(&token).send().await.unwrap().bytes().await.unwrap();
                    bytes += body.len();
                    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    n += page["value"].as_array().map_or(0, Vec::len);
                    url = page["@odata.nextLink"].as_str().map(str::to_owned);
                }
                (n, bytes)
            }));
        }
        let (mut n, mut bytes) = (0, 0);
        for t in tasks {
            let (a, b) = t.await.unwrap();
            n += a;
            bytes += b;
        }
        let secs = started.elapsed().as_secs_f64();
        println!("http: {:.0} sign-ins/s ({:.0} MB/s) to 2 clients that also parse every page, loopback", n as f64 / secs, bytes as f64 / secs / 1e6);
    });
}
