//! The sign-in feed with a million sign-ins: ingest while drawing, frame
//! render time at 200×60, filter apply time over every row, and resident
//! memory. For reference, the same filter over the same sign-ins as NDJSON
//! with jq and with Python (what a responder without the console runs),
//! when they are installed.
//!
//! `cargo bench --bench feed [ROWS]` (default 1000000).

#[path = "machine.rs"]
mod machine;

use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use warroom::app::feed::{Access, Filter, Kind, Mfa, Risk, SignInRow};
use warroom::app::state::{PaneId, Session};
use warroom::app::{AppState, Keymap, Msg, Theme, ui, update};
use warroom::config::ThemeName;
use warroom::model::SafeText;

const BATCH: usize = 5_000;
const START_SECS: i64 = 1_795_000_000;

/// A tenant's worth of names: 5,000 users, 120 apps, 40,000 addresses.
struct Pools {
    users: Vec<SafeText>,
    apps: Vec<SafeText>,
    resources: Vec<SafeText>,
    ips: Vec<SafeText>,
    places: Vec<(SafeText, SafeText)>,
    clients: Vec<SafeText>,
}

impl Pools {
    fn new() -> Self {
        let users = (0..5_000)
            .map(|i| SafeText::new(&format!("user{i:04}@contoso.com")))
            .chain([SafeText::new("adele.vance@contoso.com")])
            .collect();
        let apps = (0..120)
            .map(|i| SafeText::new(&format!("Line-of-business app {i}")))
            .chain(
                [
                    "Microsoft Teams",
                    "Office 365 Exchange Online",
                    "Outlook\x1b[31m",
                ]
                .map(SafeText::new),
            )
            .collect();
        let resources = [
            "Microsoft Graph",
            "Office 365 SharePoint Online",
            "Windows Azure Service Management API",
        ]
        .map(SafeText::new)
        .to_vec();
        let ips = (0..40_000u32)
            .map(|i| {
                let text = if i % 10 == 0 {
                    format!("2001:db8:{:x}::{:x}", i >> 8, i & 0xff)
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        10 + i % 200,
                        (i >> 8) & 0xff,
                        i & 0xff,
                        1 + i % 250
                    )
                };
                SafeText::new(&text)
            })
            .collect();
        let places = [
            ("US", "Seattle"),
            ("US", "Redmond"),
            ("NL", "Amsterdam"),
            ("DE", "Berlin"),
            ("RU", "Moscow"),
            ("GB", "London"),
        ]
        .map(|(c, city)| (SafeText::new(c), SafeText::new(city)))
        .to_vec();
        let clients = [
            "Browser",
            "Mobile Apps and Desktop clients",
            "IMAP4",
            "Exchange ActiveSync",
        ]
        .map(SafeText::new)
        .to_vec();
        Self {
            users,
            apps,
            resources,
            ips,
            places,
            clients,
        }
    }

    fn row(&self, rng: &mut fastrand::Rng, n: usize) -> SignInRow {
        let pick = |rng: &mut fastrand::Rng, v: &[SafeText]| v[rng.usize(..v.len())].clone();
        let (country, city) = self.places[rng.usize(..self.places.len())].clone();
        let client = pick(rng, &self.clients);
        let legacy = matches!(client.as_str(), "IMAP4" | "Exchange ActiveSync");
        let failed = rng.u8(..100) < 7;
        SignInRow {
            id: SafeText::new(&format!("{:08x}-0000-4000-8000-{n:012x}", rng.u32(..))),
            // About a sign-in a second over eleven days, a little out of order.
            time: jiff::Timestamp::from_second(START_SECS + n as i64 - rng.i64(0..30)).unwrap(),
            kind: [
                Kind::Interactive,
                Kind::NonInteractive,
                Kind::NonInteractive,
                Kind::ServicePrincipal,
                Kind::ManagedIdentity,
            ][rng.usize(..5)],
            principal: pick(rng, &self.users),
            app: pick(rng, &self.apps),
            resource: pick(rng, &self.resources),
            ip: pick(rng, &self.ips),
            country,
            city,
            asn: 64_496 + rng.u32(..20),
            client,
            legacy,
            mfa: [Mfa::Claim, Mfa::MultiFactor, Mfa::SingleFactor][rng.usize(..3)],
            mfa_method: SafeText::new("Mobile app notification"),
            access: [Access::Success, Access::NotApplied, Access::Failure][rng.usize(..3)],
            error_code: if failed {
                [50126, 50074, 5000811][rng.usize(..3)]
            } else {
                0
            },
            risk: if rng.u8(..100) < 2 {
                Risk::High
            } else {
                Risk::None
            },
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn console(width: u16, height: u16) -> AppState {
    let mut state = AppState::new(
        Arc::new(Keymap::default()),
        Session::default(),
        jiff::Timestamp::from_second(START_SECS + 1_000_000).unwrap(),
    );
    update(&mut state, Msg::Resize(width, height));
    state.focus = PaneId::SignIns;
    state
}

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    println!("{}", machine::describe());
    let pools = Pools::new();
    let mut rng = fastrand::Rng::with_seed(7);
    let theme = Theme::for_terminal(ThemeName::Dark, false, false);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    let mut state = console(200, 60);
    let rss_before = machine::rss_mib();

    // Ingest in batches as the live task sends them, drawing a frame after
    // each, as the console does (a burst is applied, then drawn once).
    let mut ingest = Duration::ZERO;
    let mut draw = Duration::ZERO;
    let mut made = 0;
    while made < rows {
        let batch: Vec<SignInRow> = (made..(made + BATCH).min(rows))
            .map(|n| pools.row(&mut rng, n))
            .collect();
        made += batch.len();
        let t = Instant::now();
        update(&mut state, Msg::SignIns(batch));
        ingest += t.elapsed();
        let t = Instant::now();
        terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
        draw += t.elapsed();
    }
    println!(
        "ingest {rows} sign-ins in batches of {BATCH}, drawing after each: {:.0} sign-ins/s with drawing ({:.0}/s table only; {:.2} s in update, {:.2} s drawing)",
        rows as f64 / (ingest + draw).as_secs_f64(),
        rows as f64 / ingest.as_secs_f64(),
        ingest.as_secs_f64(),
        draw.as_secs_f64(),
    );
    println!(
        "memory: resident {:.0} MiB with {rows} sign-ins ({:.0} MiB before); the table holds {:.0} MiB ({} distinct strings)",
        machine::rss_mib(),
        rss_before,
        state.feed.heap_bytes() as f64 / 1_048_576.0,
        state.feed.strings.len()
    );

    // Frames at 200×60: the zoomed feed, following, then paused deep in
    // the table, then filtered; the grid of four panes.
    for (label, zoomed) in [("sign-ins zoomed", true), ("four panes", false)] {
        state.zoomed = zoomed;
        let mut times = Vec::new();
        for i in 0..600 {
            let selected = if i < 200 {
                0
            } else {
                rng.usize(..state.feed.shown_count())
            };
            state.pane_mut(PaneId::SignIns).selected = selected;
            let t = Instant::now();
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "frame at 200x60, {label}, {} rows held: median {:.2} ms, p99 {:.2} ms",
            state.feed.total(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }

    // Filters over every row.
    let now = jiff::Timestamp::from_second(START_SECS + rows as i64).unwrap();
    let filters = [
        "user:adele",
        "ip:12.0.0.0/8",
        "status:fail country:RU",
        "legacy:yes -type:sp since:2d",
        "contoso mfa:claim risk:high",
    ];
    for text in filters {
        let mut times = Vec::new();
        let mut shown = 0;
        for _ in 0..5 {
            let filter = Filter::parse(text, now).unwrap();
            let t = Instant::now();
            state.feed.set_filter(Some(filter));
            times.push(t.elapsed());
            shown = state.feed.shown_count();
        }
        times.sort();
        println!(
            "filter \"{text}\" over {} rows: median {:.1} ms, worst {:.1} ms ({shown} shown)",
            state.feed.total(),
            ms(percentile(&times, 0.5)),
            ms(*times.last().unwrap())
        );
    }
    drop(state);

    compare_with_tools(rows, &pools);
}

/// The same sign-ins as NDJSON (the fields the table shows), filtered on
/// the user by jq and by a Python loop.
fn compare_with_tools(rows: usize, pools: &Pools) {
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let (jq, python) = (have("jq"), have("python3"));
    if !jq && !python {
        println!("jq and python3 not installed: no comparison");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signins.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut rng = fastrand::Rng::with_seed(7);
    for n in 0..rows {
        let r = pools.row(&mut rng, n);
        let line = serde_json::json!({
            "id": r.id.as_str(), "createdDateTime": r.time.to_string(),
            "userPrincipalName": r.principal.as_str(), "appDisplayName": r.app.as_str(),
            "resourceDisplayName": r.resource.as_str(), "ipAddress": r.ip.as_str(),
            "location": {"countryOrRegion": r.country.as_str(), "city": r.city.as_str()},
            "clientAppUsed": r.client.as_str(), "status": {"errorCode": r.error_code},
        });
        writeln!(out, "{line}").unwrap();
    }
    out.flush().unwrap();
    drop(out);
    let size = std::fs::metadata(&path).unwrap().len() as f64 / 1_048_576.0;
    println!(
        "reference: the same {rows} sign-ins as NDJSON ({size:.0} MiB), filtered on the user (\"adele\")"
    );
    let run = |label: &str, mut cmd: Command| {
        let t = Instant::now();
        let output = cmd.output().unwrap();
        let elapsed = t.elapsed();
        let lines = output.stdout.iter().filter(|&&b| b == b'\n').count();
        println!("  {label}: {:.0} ms ({lines} lines)", ms(elapsed));
    };
    if jq {
        let mut cmd = Command::new("jq");
        cmd.args([
            "-c",
            r#"select(.userPrincipalName | ascii_downcase | contains("adele"))"#,
        ])
        .arg(&path);
        run("jq", cmd);
    }
    if python {
        let script = r#"
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "adele" in e.get("userPrincipalName", "").lower():
        print(line, end="")
"#;
        let mut cmd = Command::new("python3");
        cmd.args(["-c", script]).arg(&path);
        run("python3 json loop", cmd);
    }
}
