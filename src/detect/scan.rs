//! `warroom scan`: files in, findings out, in one pass. The reading thread
//! cuts files into chunks; worker threads parse, classify and match them
//! against every rule (the stateless part); one collector keeps the
//! groups. Memory holds only matches, whatever the file size.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::rule::{Aggregate, Ready};
use super::{Engine, Event, Kind};
use crate::source::import::{self, FileSummary, Layout};

/// Bytes of lines per chunk handed to a worker.
const CHUNK_BYTES: usize = 4 << 20;

enum Work {
    Lines {
        file: usize,
        first_line: u64,
        text: Vec<u8>,
    },
    Values {
        file: usize,
        values: Vec<(Value, String)>,
    },
}

#[derive(Default)]
struct Done {
    file: usize,
    records: u64,
    unknown: u64,
    skips: Vec<(u64, String)>,
    events: Vec<(Kind, super::Observed)>,
    /// Records no rule could match, counted by kind without parsing them.
    passed: Vec<Kind>,
}

/// Decides from a line's raw text whether any rule could match it, so
/// most lines are never parsed (the rules' texts are found at gigabytes
/// a second; a JSON parser manages a tenth of that).
pub struct Prefilter {
    /// `None` when some rule has no text to look for.
    wanted: Option<aho_corasick::AhoCorasick>,
    keys: aho_corasick::AhoCorasick,
}

/// Keys only one kind of record has, in `event::classify`'s order.
const KIND_KEYS: [&str; 5] = [
    "\"@warroom.source\"",
    "\"activityDisplayName\"",
    "\"riskEventType\"",
    "\"auditLogRecordType\"",
    "\"createdDateTime\"",
];

impl Prefilter {
    pub fn new(rules: &[Ready]) -> Self {
        let literals: Option<Vec<String>> = rules
            .iter()
            .map(Ready::literals)
            .collect::<Option<Vec<_>>>()
            .map(|sets| sets.into_iter().flatten().collect());
        let wanted = literals.and_then(|texts| {
            // A DFA: more memory, and the fastest search there is here.
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(texts)
                .ok()
        });
        let keys = aho_corasick::AhoCorasick::new(KIND_KEYS).expect("fixed patterns build");
        Self { wanted, keys }
    }

    fn wanted(&self, line: &[u8]) -> bool {
        self.wanted.as_ref().is_none_or(|ac| ac.is_match(line))
    }

    /// The kind of a record from the first kind-telling key in its text
    /// (only for counting records that are not parsed).
    fn kind_of(&self, line: &[u8]) -> Option<Kind> {
        let kinds = [
            Kind::Directory,
            Kind::Audit,
            Kind::Risk,
            Kind::MailAudit,
            Kind::SignIn,
        ];
        self.keys.find(line).map(|m| kinds[m.pattern().as_usize()])
    }
}

fn work(rules: &[Ready], prefilter: &Prefilter, needed: &super::lazy::Needed, item: Work) -> Done {
    let mut done = Done::default();
    let take = |done: &mut Done, value: Value, place: &dyn Fn() -> String| {
        done.records += 1;
        match Event::new(value, place) {
            Some(event) => {
                let hits = Engine::hits(rules, &event);
                done.events.push((event.kind, hits));
            }
            None => done.unknown += 1,
        }
    };
    match item {
        Work::Lines {
            file,
            first_line,
            text,
        } => {
            done.file = file;
            // The prefilter pays only when most records are passed over;
            // where most would be parsed anyway (every federated sign-in
            // carries an MFA claim), it is skipped for the chunk.
            let sample: Vec<&[u8]> = text.split(|b| *b == b'\n').take(64).collect();
            let wanted = sample.iter().filter(|l| prefilter.wanted(l)).count();
            let filter = wanted * 2 < sample.len();
            for (i, line) in text.split(|b| *b == b'\n').enumerate() {
                let number = first_line + i as u64;
                let trimmed = line.trim_ascii();
                if trimmed.is_empty() {
                    continue;
                }
                // A line no rule can match is only checked for being whole.
                if filter && !prefilter.wanted(trimmed) {
                    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
                        done.skips.push((number, "not a whole JSON object".into()));
                        continue;
                    }
                    done.records += 1;
                    match prefilter.kind_of(trimmed) {
                        Some(kind) => done.passed.push(kind),
                        None => done.unknown += 1,
                    }
                    continue;
                }
                let parsed = std::str::from_utf8(trimmed)
                    .map_err(|_| "not UTF-8 text".to_owned())
                    .and_then(|text| {
                        super::lazy::parse(text, needed).map_err(|e| format!("not JSON ({e})"))
                    })
                    .and_then(|value| match value.get("value") {
                        // A page: its records, read whole.
                        Some(Value::Array(_)) => import::parse_line(trimmed),
                        _ => Ok(vec![value]),
                    });
                match parsed {
                    Ok(values) => {
                        for value in values {
                            take(&mut done, value, &|| format!("line {number}"));
                        }
                    }
                    Err(reason) => done.skips.push((number, reason)),
                }
            }
        }
        Work::Values { file, values } => {
            done.file = file;
            for (value, place) in values {
                take(&mut done, value, &|| place.clone());
            }
        }
    }
    done
}

/// What a scan read, besides the findings.
pub struct Scanned {
    pub engine: Engine,
    pub files: Vec<FileSummary>,
    /// Records of no kind the engine knows (counted per file too).
    pub unknown: u64,
}

/// Scans `paths` with `threads` workers; `progress` is told the bytes read.
pub fn scan(
    mut engine: Engine,
    paths: &[PathBuf],
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Scanned {
    let threads = threads.max(1);
    let mut files: Vec<FileSummary> = paths
        .iter()
        .map(|p| FileSummary {
            path: p.clone(),
            ..FileSummary::default()
        })
        .collect();
    let Engine {
        rules,
        state,
        claims,
        seen,
    } = engine;
    let (work_tx, work_rx) = sync_channel::<Work>(threads * 2);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);
    let prefilter = Prefilter::new(&rules);
    let needed = super::lazy::Needed::new(&super::lazy::needed_fields(&rules));
    let (state, claims, seen, counts) = std::thread::scope(|s| {
        for _ in 0..threads {
            let (rx, tx, rules, prefilter, needed) = (
                work_rx.clone(),
                done_tx.clone(),
                &rules,
                &prefilter,
                &needed,
            );
            s.spawn(move || {
                loop {
                    let item = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(item) = item else { return };
                    if tx.send(work(rules, prefilter, needed, item)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let n_files = files.len();
        let rules_ref = &rules;
        let collector = s.spawn(move || collect(rules_ref, done_rx, state, claims, seen, n_files));
        for (index, summary) in files.iter_mut().enumerate() {
            read_file(index, summary, &work_tx, progress);
        }
        drop(work_tx);
        collector.join().expect("the collector does not panic")
    });
    let mut unknown_total = 0;
    for (summary, (records, skips, unknown)) in files.iter_mut().zip(counts) {
        summary.records += records;
        unknown_total += unknown;
        for (line, reason) in skips {
            summary.skipped += 1;
            if summary.skips.len() < 5 {
                summary
                    .skips
                    .push(format!("{}:{line}: {reason}", summary.path.display()));
            }
        }
    }
    engine = Engine {
        rules,
        state,
        claims,
        seen,
    };
    Scanned {
        engine,
        files,
        unknown: unknown_total,
    }
}

type Counts = Vec<(u64, Vec<(u64, String)>, u64)>;

fn collect(
    rules: &[Ready],
    rx: Receiver<Done>,
    mut state: Aggregate,
    mut claims: super::baseline::ClaimBaseline,
    mut seen: BTreeMap<&'static str, u64>,
    n_files: usize,
) -> (
    Aggregate,
    super::baseline::ClaimBaseline,
    BTreeMap<&'static str, u64>,
    Counts,
) {
    let mut counts: Counts = vec![(0, Vec::new(), 0); n_files];
    for done in rx {
        let entry = &mut counts[done.file];
        entry.0 += done.records;
        entry.2 += done.unknown;
        entry.1.extend(done.skips);
        for kind in done.passed {
            *seen.entry(kind.name()).or_default() += 1;
        }
        for (kind, observed) in done.events {
            super::absorb(rules, &mut state, &mut claims, &mut seen, kind, observed);
        }
    }
    (state, claims, seen, counts)
}

fn read_file(
    index: usize,
    summary: &mut FileSummary,
    work: &std::sync::mpsc::SyncSender<Work>,
    progress: &(dyn Fn(u64) + Sync),
) {
    let (layout, format) = match import::open(&summary.path) {
        Ok(opened) => opened,
        Err(e) => {
            summary.format = "unreadable";
            summary.skipped += 1;
            summary.skips.push(e.to_string());
            return;
        }
    };
    summary.format = format;
    match layout {
        Layout::Lines(mut reader) => {
            let mut line_no = 1u64;
            loop {
                let mut text = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
                let mut lines = 0u64;
                while text.len() < CHUNK_BYTES {
                    match reader.read_until(b'\n', &mut text) {
                        Ok(0) => break,
                        Ok(n) => {
                            lines += 1;
                            summary.bytes += n as u64;
                        }
                        Err(e) => {
                            summary.skipped += 1;
                            summary.skips.push(format!(
                                "{}:{}: read failed ({e}); the rest of the file is not read",
                                summary.path.display(),
                                line_no + lines
                            ));
                            break;
                        }
                    }
                }
                if lines == 0 {
                    break;
                }
                if text.last() == Some(&b'\n') {
                    text.pop();
                }
                progress(summary.bytes);
                let item = Work::Lines {
                    file: index,
                    first_line: line_no,
                    text,
                };
                line_no += lines;
                if work.send(item).is_err() {
                    break;
                }
            }
        }
        Layout::Json(reader) => {
            let mut batch = Vec::new();
            let mut local = FileSummary {
                path: summary.path.clone(),
                ..FileSummary::default()
            };
            import::read_json(reader, &mut local, &mut |value, place| {
                batch.push((value, place));
                if batch.len() >= 2048 {
                    let _ = work.send(Work::Values {
                        file: index,
                        values: std::mem::take(&mut batch),
                    });
                }
            });
            if !batch.is_empty() {
                let _ = work.send(Work::Values {
                    file: index,
                    values: batch,
                });
            }
            // Records are counted by the workers; skips of the reader here.
            summary.skipped += local.skipped;
            summary.skips.extend(local.skips);
        }
    }
}
