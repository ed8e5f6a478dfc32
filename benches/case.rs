//! The encrypted case: append latency (each append is durable, with fsync),
//! opening a case of 10,000 records, and searching them. For reference, the
//! `age` tool decrypting the same notes kept as one age file (what a team
//! without warroom would do), when `age` is installed.
//!
//! `cargo bench --bench case [RECORDS]` (default 10000).

#[path = "machine.rs"]
mod machine;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use warroom::case::keys::{Identity, Recipient};
use warroom::case::record::Body;
use warroom::case::{Case, Unlocked};

fn note(i: usize) -> Body {
    Body::Note {
        text: format!(
            "Note {i}: sign-in from 185.220.101.{} for adele.vance@contoso.com with MFA satisfied by claim; token-signing certificate thumbprint 3F2A9C{i:06} seen on ADFS01",
            i % 250
        ),
        tags: vec!["adfs".into(), format!("host-{}", i % 17)],
        links: Vec::new(),
        supersedes: None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    println!("{}", machine::describe());
    let dir = tempfile::tempdir().unwrap();
    let secret = age::x25519::Identity::generate();
    let public = secret.to_public().to_string();
    let case = Case::create(
        dir.path(),
        "bench",
        vec![Recipient::parse(&public).unwrap()],
    )
    .unwrap();
    let identity = Identity {
        path: dir.path().join("(memory)"),
        keys: vec![Box::new(secret.clone())],
        public: vec![public.clone()],
    };
    let case = case.unlock(&identity).unwrap();

    // Fill in batches (one fsync each), then time single durable appends
    // at the full size, as a responder saving a note would see them.
    let fill = records.saturating_sub(200);
    let started = Instant::now();
    for chunk in (0..fill).collect::<Vec<_>>().chunks(500) {
        case.append_all(chunk.iter().map(|&i| note(i)).collect())
            .unwrap();
    }
    let fill_time = started.elapsed();
    let mut latencies = Vec::new();
    for i in fill..records {
        let t = Instant::now();
        case.append(note(i)).unwrap();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "append (durable, fsync) at {} records: median {:.2} ms, p99 {:.2} ms ({} appends); bulk fill {:.0} records/s",
        records,
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.len(),
        fill as f64 / fill_time.as_secs_f64()
    );

    // Open: find the case, unwrap its key with the identity, read and
    // check every record.
    let mut opens = Vec::new();
    let mut notes = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let found = Case::find(dir.path(), "bench").unwrap();
        let unlocked: Unlocked = found.unlock(&identity).unwrap();
        let contents = unlocked.read().unwrap();
        opens.push(t.elapsed());
        assert!(contents.damage.is_none());
        notes = contents.records;
    }
    opens.sort();
    println!(
        "open a case of {} records (unlock, read, check the chain): median {:.0} ms",
        notes.len(),
        percentile(&opens, 0.5).as_secs_f64() * 1000.0
    );

    let rows: Vec<warroom::app::notes::NoteRow> = notes
        .iter()
        .filter_map(warroom::app::notes::NoteRow::from_record)
        .collect();
    let t = Instant::now();
    let hits =
        warroom::app::notes::visible(&rows, Some(&warroom::model::SafeText::new("3f2a9c004242")))
            .len();
    println!(
        "search {} notes for a thumbprint: {:.2} ms ({hits} hit)",
        rows.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Reference: the same notes as one age file, decrypted by the age tool.
    if Command::new("age").arg("--version").output().is_ok() {
        let plain: String = notes
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        let key_file = dir.path().join("id.txt");
        let mut f = std::fs::File::create(&key_file).unwrap();
        writeln!(
            f,
            "{}",
            age::secrecy::ExposeSecret::expose_secret(&secret.to_string())
        )
        .unwrap();
        let sealed = dir.path().join("notes.age");
        let mut child = Command::new("age")
            .args(["-r", &public, "-o"])
            .arg(&sealed)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(plain.as_bytes())
            .unwrap();
        child.wait().unwrap();
        let mut runs = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let out = Command::new("age")
                .args(["-d", "-i"])
                .arg(&key_file)
                .arg(&sealed)
                .output()
                .unwrap();
            runs.push(t.elapsed());
            assert!(out.status.success());
        }
        runs.sort();
        println!(
            "reference: age -d of the same {} notes as one file: median {:.0} ms (no per-record integrity, no append without re-encrypting)",
            notes.len(),
            percentile(&runs, 0.5).as_secs_f64() * 1000.0
        );
    }
}
