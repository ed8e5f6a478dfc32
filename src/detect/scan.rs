//! `warroom scan`: files in, findings out, in one pass. The reading thread
//! cuts files into chunks; worker threads parse, classify and match them
//! against every rule (the stateless part); one collector keeps the
//! groups. Memory holds only matches, whatever the file size.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::rule::Ready;
use super::{Engine, Event, Extra, Kind, Tally};
use crate::source::import::{self, FileSummary, Layout};

/// Bytes of lines per chunk handed to a worker.
const CHUNK_BYTES: usize = 4 << 20;

enum Work {
    Lines {
        file: usize,
        /// The archive member the lines are from.
        entry: Option<String>,
        first_line: u64,
        text: Vec<u8>,
    },
    Values {
        file: usize,
        values: Vec<(Value, String)>,
    },
    /// One 64 KiB chunk of an EVTX log, parsed by the worker.
    EvtxChunk {
        file: usize,
        entry: Option<String>,
        chunk: Box<evtx::EvtxChunkData>,
    },
}

#[derive(Default)]
struct Done {
    file: usize,
    records: u64,
    unknown: u64,
    skips: Vec<(String, String)>,
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
const KIND_KEYS: [&str; 6] = [
    "\"@warroom.source\"",
    "\"activityDisplayName\"",
    "\"riskEventType\"",
    "\"auditLogRecordType\"",
    "\"createdDateTime\"",
    "\"EventID\"",
];

/// What the joins and baselines read records for, beside the rules.
const JOINED_LITERALS: [&[&str]; 6] = [
    super::joins::LITERALS,
    super::baseline::LITERALS,
    super::forged::LITERALS,
    super::acl::LITERALS,
    super::krbtgt::LITERALS,
    super::adfs_sync::LITERALS,
];

impl Prefilter {
    pub fn new(rules: &[Ready], extra: Extra<'_>) -> Self {
        let indicators = match (extra.iocs, extra.sigma) {
            // Sigma rules may read any field: every record is read.
            (_, Some(_)) => None,
            (None, None) => Some(Vec::new()),
            (Some(list), None) => list.literals(),
        };
        let literals: Option<Vec<String>> = rules
            .iter()
            .map(Ready::literals)
            .chain(std::iter::once(indicators))
            .collect::<Option<Vec<_>>>()
            .map(|sets| {
                sets.into_iter()
                    .flatten()
                    .chain(
                        JOINED_LITERALS
                            .iter()
                            .flat_map(|set| set.iter())
                            .map(|t| (*t).to_owned()),
                    )
                    .collect()
            });
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
            Kind::WindowsEvent,
        ];
        self.keys.find(line).map(|m| kinds[m.pattern().as_usize()])
    }
}

fn work(
    rules: &[Ready],
    extra: Extra<'_>,
    prefilter: &Prefilter,
    needed: &super::lazy::Needed,
    item: Work,
) -> Done {
    let mut done = Done::default();
    let take = |done: &mut Done, value: Value, place: &dyn Fn() -> String| {
        done.records += 1;
        match Event::new(value, place) {
            Some(event) => {
                let hits = Engine::hits(rules, extra, &event);
                done.events.push((event.kind, hits));
            }
            None => done.unknown += 1,
        }
    };
    match item {
        Work::Lines {
            file,
            entry,
            first_line,
            text,
        } => {
            done.file = file;
            let at = |number: u64| match &entry {
                Some(name) => format!("{name}:{number}"),
                None => number.to_string(),
            };
            // The prefilter pays only when most records are passed over.
            // Where most would be parsed anyway it is skipped for the
            // chunk: so for sign-ins, which the baselines read nearly all
            // of (every federated and every service principal's sign-in).
            let sample: Vec<&[u8]> = lines(&text).take(64).collect();
            let wanted = sample.iter().filter(|l| prefilter.wanted(l)).count();
            let signins = sample
                .iter()
                .filter(|l| prefilter.kind_of(l) == Some(Kind::SignIn))
                .count();
            let filter = wanted * 2 < sample.len() && signins * 2 < sample.len();
            for (i, line) in lines(&text).enumerate() {
                let number = first_line + i as u64;
                let trimmed = line.trim_ascii();
                let trimmed = trimmed.strip_prefix(b"\xef\xbb\xbf").unwrap_or(trimmed);
                if trimmed.is_empty() {
                    continue;
                }
                // A line no rule can match is only checked for being whole
                // and counted by its kind; a line whose kind its keys do
                // not tell (another shape of record) is read in full.
                if filter && !prefilter.wanted(trimmed) {
                    if !(trimmed.starts_with(b"{") && trimmed.ends_with(b"}")) {
                        done.skips
                            .push((at(number), "not a whole JSON object".into()));
                        continue;
                    }
                    if let Some(kind) = prefilter.kind_of(trimmed) {
                        done.records += 1;
                        done.passed.push(kind);
                        continue;
                    }
                }
                let parsed = std::str::from_utf8(trimmed)
                    .map_err(|_| "not UTF-8 text".to_owned())
                    .and_then(|text| {
                        super::lazy::parse(text, needed).map_err(|e| format!("not JSON ({e})"))
                    })
                    .and_then(|value| match value.get("value") {
                        // A page: its records, read whole; so are shapes
                        // the skim cannot name the fields of.
                        Some(Value::Array(_)) => import::parse_line(trimmed),
                        _ if import::normalize::read_whole(&value) => import::parse_line(trimmed),
                        _ => Ok(vec![value]),
                    });
                match parsed {
                    Ok(values) => {
                        for value in values {
                            take(&mut done, value, &|| format!("line {}", at(number)));
                        }
                    }
                    Err(reason) => done.skips.push((at(number), reason)),
                }
            }
        }
        Work::Values { file, values } => {
            done.file = file;
            for (value, place) in values {
                take(&mut done, value, &|| place.clone());
            }
        }
        Work::EvtxChunk { file, entry, chunk } => {
            done.file = file;
            let mut skips = Vec::new();
            let mut values = Vec::new();
            import::evtx_file::chunk_records(*chunk, &mut skips, &mut |value, place| {
                values.push((value, place));
            });
            let at = |place: &str| match &entry {
                Some(name) => format!("{name}{place}"),
                None => place.to_owned(),
            };
            for (value, place) in values {
                take(&mut done, value, &|| at(&place));
            }
            done.skips
                .extend(skips.into_iter().map(|why| (at("EVTX"), why)));
        }
    }
    done
}

/// The lines of a chunk (the last one need not end in a newline).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text)
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let line = &text[start.min(end)..end];
            start = end + 1;
            line
        })
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
        iocs,
        sigma,
        tally,
    } = engine;
    let extra = Extra {
        iocs: iocs.as_deref(),
        sigma: sigma.as_deref(),
    };
    let (work_tx, work_rx) = sync_channel::<Work>(threads * 2);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);
    let prefilter = Prefilter::new(&rules, extra);
    // Sigma rules may read any field: every record is read whole.
    let needed = match extra.sigma {
        Some(_) => super::lazy::Needed::everything(),
        None => super::lazy::Needed::new(&super::lazy::needed_fields(
            &rules,
            extra.iocs.map(|list| list.fields()).unwrap_or_default(),
        )),
    };
    let (tally, counts) = std::thread::scope(|s| {
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
                    if tx
                        .send(work(rules, extra, prefilter, needed, item))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let n_files = files.len();
        let rules_ref = &rules;
        let collector = s.spawn(move || collect(rules_ref, extra, done_rx, tally, n_files));
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
        iocs,
        sigma,
        tally,
    };
    Scanned {
        engine,
        files,
        unknown: unknown_total,
    }
}

type Counts = Vec<(u64, Vec<(String, String)>, u64)>;

fn collect(
    rules: &[Ready],
    extra: Extra<'_>,
    rx: Receiver<Done>,
    mut tally: Tally,
    n_files: usize,
) -> (Tally, Counts) {
    let mut counts: Counts = vec![(0, Vec::new(), 0); n_files];
    for done in rx {
        let entry = &mut counts[done.file];
        entry.0 += done.records;
        entry.2 += done.unknown;
        entry.1.extend(done.skips);
        for kind in done.passed {
            *tally.seen.entry(kind.name()).or_default() += 1;
        }
        for (kind, observed) in done.events {
            super::absorb(rules, extra, &mut tally, kind, observed);
        }
    }
    (tally, counts)
}

fn read_file(
    index: usize,
    summary: &mut FileSummary,
    work: &std::sync::mpsc::SyncSender<Work>,
    progress: &(dyn Fn(u64) + Sync),
) {
    let opened = match import::open(&summary.path) {
        Ok(opened) => opened,
        Err(e) => {
            summary.format = "unreadable".into();
            summary.skipped += 1;
            summary.skips.push(e.to_string());
            return;
        }
    };
    let mut reader = Reader {
        index,
        summary,
        work,
        progress,
        line_no: 1,
    };
    match opened {
        import::Opened::Stream(layout, format) => {
            reader.summary.format = format;
            reader.read(layout, None);
        }
        import::Opened::Zip(mut archive) => {
            let mut formats: Vec<String> = Vec::new();
            import::each_member(&mut archive, &mut |name, member| match member {
                Ok((layout, format)) => {
                    if !formats.contains(&format) {
                        formats.push(format);
                    }
                    reader.line_no = 1;
                    reader.read(layout, Some(name));
                }
                Err(why) => reader.summary.skip(0, format!("{name}: {why}")),
            });
            let n = archive.len();
            reader.summary.format = format!("zip of {n} ({})", formats.join(", "));
        }
    }
}

/// Cuts one stream into work for the workers.
struct Reader<'s, 'w> {
    index: usize,
    summary: &'s mut FileSummary,
    work: &'w std::sync::mpsc::SyncSender<Work>,
    progress: &'w (dyn Fn(u64) + Sync),
    line_no: u64,
}

impl Reader<'_, '_> {
    /// `entry` names the member of an archive the stream is.
    fn read(&mut self, layout: import::Layout<'_>, entry: Option<&str>) {
        // Lines and EVTX chunks are parsed by the workers; the other
        // layouts are read here and their values handed on.
        match layout {
            Layout::Lines(reader) => self.lines(reader, entry),
            Layout::Evtx(input) => self.evtx_chunks(input, entry),
            other => self.values(entry, |summary, each| {
                import::read_records(other, summary, each)
            }),
        }
    }

    fn lines(&mut self, mut reader: Box<dyn BufRead + '_>, entry: Option<&str>) {
        let at = |line: u64| match entry {
            Some(name) => format!("{name}:{line}"),
            None => line.to_string(),
        };
        loop {
            let mut text = Vec::with_capacity(CHUNK_BYTES + (64 << 10));
            let mut lines = 0u64;
            while text.len() < CHUNK_BYTES {
                match reader.read_until(b'\n', &mut text) {
                    Ok(0) => break,
                    Ok(n) => {
                        lines += 1;
                        self.summary.bytes += n as u64;
                    }
                    Err(e) => {
                        self.summary.skipped += 1;
                        self.summary.skips.push(format!(
                            "{}:{}: read failed ({e}); the rest of the file is not read",
                            self.summary.path.display(),
                            at(self.line_no + lines)
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
            (self.progress)(self.summary.bytes);
            let item = Work::Lines {
                file: self.index,
                entry: entry.map(str::to_owned),
                first_line: self.line_no,
                text,
            };
            self.line_no += lines;
            if self.work.send(item).is_err() {
                break;
            }
        }
    }

    /// An EVTX log's chunks, handed to the workers to parse.
    fn evtx_chunks(&mut self, input: import::evtx_file::EvtxInput, entry: Option<&str>) {
        let chunks = match import::evtx_file::chunks(input) {
            Ok(chunks) => chunks,
            Err(why) => {
                self.summary.skip_unplaced(why);
                return;
            }
        };
        for chunk in chunks {
            match chunk {
                Ok(chunk) => {
                    self.summary.bytes += 65_536;
                    (self.progress)(self.summary.bytes);
                    let item = Work::EvtxChunk {
                        file: self.index,
                        entry: entry.map(str::to_owned),
                        chunk: Box::new(chunk),
                    };
                    if self.work.send(item).is_err() {
                        return;
                    }
                }
                Err(why) => self.summary.skip_unplaced(why),
            }
        }
    }

    /// Streams whose records are read here and parsed values handed on.
    fn values(
        &mut self,
        entry: Option<&str>,
        read: impl FnOnce(&mut FileSummary, &mut dyn FnMut(Value, String)),
    ) {
        let mut batch = Vec::new();
        let shown = match entry {
            Some(name) => PathBuf::from(format!("{}!{name}", self.summary.path.display())),
            None => self.summary.path.clone(),
        };
        let mut local = FileSummary {
            path: shown,
            ..FileSummary::default()
        };
        let (work, index) = (self.work, self.index);
        read(&mut local, &mut |value, place| {
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
        self.summary.skipped += local.skipped;
        self.summary.skips.extend(local.skips);
    }
}
