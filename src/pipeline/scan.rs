//! `warroom scan`: files in, findings out, in one pass. The reading thread
//! cuts files into chunks; worker threads parse, classify and match them
//! against every rule (the stateless part); one collector keeps the
//! groups. Memory holds only matches, whatever the file size.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::detect::json::Json;
use crate::detect::prefilter::Prefilter;
use crate::detect::rule::Ready;
use crate::detect::{Engine, Event, Extra, Kind, Tally};
use crate::source::import::{self, FileSummary, Layout};

/// Bytes of lines per chunk handed to a worker.
const CHUNK_BYTES: usize = 4 << 20;

/// Vectors handed back once emptied, to be filled again: a chunk's text
/// (4 MiB) and its events are large enough that fresh ones cost the kernel
/// zeroing their pages, which took a seventh of a one-thread scan.
struct Recycled<T>(Mutex<Vec<Vec<T>>>);

impl<T> Recycled<T> {
    fn new() -> Self {
        Self(Mutex::new(Vec::new()))
    }

    fn take(&self, capacity: usize) -> Vec<T> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner()).pop();
        kept.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    fn give(&self, mut vector: Vec<T>) {
        vector.clear();
        self.keep(vector);
    }

    fn keep(&self, vector: Vec<T>) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // As many as can be in flight; more would only hold memory.
        if kept.len() < 16 {
            kept.push(vector);
        }
    }
}

impl Recycled<u8> {
    /// Takes back a chunk's text at its full capacity (the bytes past what
    /// was read are zeroed, which costs only the slack): a block can then
    /// be read straight into it with `Read::read`, which wants bytes that
    /// are already set.
    fn give_text(&self, mut text: Vec<u8>) {
        text.resize(text.capacity(), 0);
        self.keep(text);
    }
}

/// What the reader and workers pass round again.
struct Pools {
    text: Recycled<u8>,
    events: Recycled<(Kind, crate::detect::Observed)>,
}

enum Work {
    Lines {
        file: usize,
        /// The archive member the lines are from.
        entry: Option<String>,
        text: ChunkText,
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
    events: Vec<(Kind, crate::detect::Observed)>,
    /// Records no rule could match, counted by kind without parsing them.
    passed: Vec<Kind>,
}

fn work(
    names: &[String],
    rules: &[Ready],
    extra: Extra<'_>,
    prefilter: &Prefilter,
    needed: &crate::detect::lazy::Needed,
    pools: &Pools,
    item: Work,
) -> Done {
    let mut done = Done {
        events: pools.events.take(4096),
        ..Done::default()
    };
    let take = |done: &mut Done, value: Json<'_>, place: &dyn Fn() -> String| {
        done.records += 1;
        match Event::from_json(value, place) {
            Some(event) => {
                // A Sigma rule none of whose texts the event holds cannot
                // match it.
                let sigma = extra.sigma.is_some() && prefilter.sigma_may_match(&event);
                let extra = if sigma {
                    extra
                } else {
                    Extra {
                        sigma: None,
                        ..extra
                    }
                };
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
            text: mut chunk,
        } => {
            done.file = file;
            let (starts, index) = (chunk.starts.clone(), chunk.index);
            let text = &chunk.text;
            let first_line = std::cell::OnceCell::new();
            let at = |i: usize| {
                let number = *first_line.get_or_init(|| starts.first_line(index)) + i as u64;
                match &entry {
                    Some(name) => format!("{name}:{number}"),
                    None => number.to_string(),
                }
            };
            // How to pass over what nothing reads is chosen per chunk,
            // from a sample: Graph's own records by the texts of the fields
            // their readers look at (`Prefilter::record`), other shapes by
            // their whole text (`Prefilter::line`); and not at all where
            // nearly every record is read anyway (each check costs time).
            let sample: Vec<&[u8]> = lines(text).take(32).collect();
            let mode = Mode::of(&sample, prefilter, needed);
            let mut n_lines = 0;
            for (i, line) in lines(text).enumerate() {
                n_lines = i as u64 + 1;
                let trimmed = line.trim_ascii();
                let trimmed = trimmed.strip_prefix(b"\xef\xbb\xbf").unwrap_or(trimmed);
                if trimmed.is_empty() {
                    continue;
                }
                let text = || std::str::from_utf8(trimmed).map_err(|_| "not UTF-8 text".to_owned());
                // A page: its records, read whole; so are shapes the skim
                // cannot name the fields of.
                let whole = || {
                    import::parse_line(trimmed)
                        .map(|values| Outcome::Values(values.into_iter().map(Json::from).collect()))
                };
                let parsed = if mode == Mode::ByLine
                    && let Err(kind) = prefilter.line(trimmed)
                {
                    // A line nothing reads is only checked for being whole.
                    if trimmed.starts_with(b"{") && trimmed.ends_with(b"}") {
                        Ok(Outcome::Passed(kind))
                    } else {
                        Err("not a whole JSON object".into())
                    }
                } else if mode == Mode::ByRecord {
                    text()
                        .and_then(|text| {
                            crate::detect::lazy::skim(text, needed)
                                .map_err(|e| format!("not JSON ({e})"))
                        })
                        .and_then(|record| {
                            let has = |key: &str| record.has(key);
                            let page = record.raw("value").is_some_and(|v| v.starts_with('['));
                            if page
                                || crate::model::record::read_whole_keys(has)
                                || needed.reads_whole(has)
                            {
                                return whole();
                            }
                            if crate::model::record::is_graph_shaped(has)
                                && let Some(kind) = crate::detect::event::classify_keys(has)
                                && !prefilter.record(kind, &record, trimmed)
                            {
                                return Ok(Outcome::Passed(kind));
                            }
                            record
                                .into_json()
                                .map(|value| Outcome::Values(vec![value]))
                                .map_err(|e| format!("not JSON ({e})"))
                        })
                } else {
                    text()
                        .and_then(|text| {
                            crate::detect::lazy::parse(text, needed)
                                .map_err(|e| format!("not JSON ({e})"))
                        })
                        .and_then(|value| {
                            let page = matches!(value.get("value"), Some(Json::Array(_)));
                            let has = |key: &str| value.get(key).is_some();
                            if page
                                || crate::model::record::read_whole_keys(has)
                                || needed.reads_whole(has)
                            {
                                return whole();
                            }
                            Ok(Outcome::Values(vec![value]))
                        })
                };
                match parsed {
                    Ok(Outcome::Values(values)) => {
                        for value in values {
                            // Cited as `file:line` (`archive!member:line`).
                            let sep = if entry.is_some() { '!' } else { ':' };
                            take(&mut done, value, &|| {
                                format!("{}{sep}{}", names[file], at(i))
                            });
                        }
                    }
                    Ok(Outcome::Passed(kind)) => {
                        done.records += 1;
                        done.passed.push(kind);
                    }
                    Err(reason) => done.skips.push((at(i), reason)),
                }
            }
            chunk.lines = Some(n_lines);
            pools.text.give_text(std::mem::take(&mut chunk.text));
        }
        Work::Values { file, values } => {
            done.file = file;
            for (value, place) in values {
                take(&mut done, Json::from(value), &|| place.clone());
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
            let cite = |place: &str| match &entry {
                Some(name) => format!("{}!{name}{place}", names[file]),
                None => format!("{}{place}", names[file]),
            };
            for (value, place) in values {
                take(&mut done, Json::from(value), &|| cite(&place));
            }
            done.skips
                .extend(skips.into_iter().map(|why| (at("EVTX"), why)));
        }
    }
    done
}

/// Where each chunk of one stream starts, in lines. Workers count their
/// chunk's lines as they go through them (counting them again in the
/// reader was a thirtieth of a one-core scan). A line's number is wanted
/// only for a record that is skipped or has no id, and then waits for the
/// chunks before it to be counted: they were handed out earlier, so they
/// are counted or being counted, never waiting on a later one.
#[derive(Default)]
struct LineStarts {
    /// Each chunk's lines, once counted.
    counts: Mutex<Vec<Option<u64>>>,
    counted: std::sync::Condvar,
}

impl LineStarts {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<u64>>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new chunk's index.
    fn add_chunk(&self) -> usize {
        let mut counts = self.lock();
        counts.push(None);
        counts.len() - 1
    }

    fn chunks(&self) -> usize {
        self.lock().len()
    }

    /// The number (from 1) of the first line of `chunk`.
    fn first_line(&self, chunk: usize) -> u64 {
        let mut counts = self.lock();
        loop {
            if let Some(before) = counts[..chunk]
                .iter()
                .try_fold(0, |sum, n| Some(sum + (*n)?))
            {
                return before + 1;
            }
            counts = self.counted.wait(counts).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A chunk's text, which says how many lines it has when dropped: as the
/// worker counted them going through, or (dropped unread, or the worker
/// stopped early) counted then, so no one waits for it forever.
struct ChunkText {
    starts: Arc<LineStarts>,
    index: usize,
    text: Vec<u8>,
    lines: Option<u64>,
}

impl Drop for ChunkText {
    fn drop(&mut self) {
        let lines = self
            .lines
            .unwrap_or_else(|| lines(&self.text).count() as u64);
        self.starts.lock()[self.index] = Some(lines);
        self.starts.counted.notify_all();
    }
}

/// What became of one line.
enum Outcome<'a> {
    Values(Vec<Json<'a>>),
    /// Nothing reads it: counted as this kind, not parsed further.
    Passed(Kind),
}

/// How a chunk's records nothing reads are passed over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Every record is parsed.
    Parse,
    /// Graph's own records, by their fields' texts once skimmed.
    ByRecord,
    /// By each line's whole text.
    ByLine,
}

impl Mode {
    fn of(sample: &[&[u8]], prefilter: &Prefilter, needed: &crate::detect::lazy::Needed) -> Self {
        // Of the Graph-shaped records, how many would be read.
        let (mut graph, mut read) = (0, 0);
        for line in sample {
            let record = std::str::from_utf8(line.trim_ascii())
                .ok()
                .and_then(|text| crate::detect::lazy::skim(text, needed).ok());
            let Some(record) = record else { continue };
            let has = |key: &str| record.has(key);
            if !crate::model::record::is_graph_shaped(has) {
                continue;
            }
            graph += 1;
            let kind = crate::detect::event::classify_keys(has);
            if kind.is_none_or(|kind| prefilter.record(kind, &record, line)) {
                read += 1;
            }
        }
        let n = sample.len();
        if graph * 2 >= n {
            if read * 4 < graph * 3 {
                Mode::ByRecord
            } else {
                Mode::Parse
            }
        } else {
            let wanted = sample.iter().filter(|l| prefilter.line(l).is_ok()).count();
            if wanted * 4 < n * 3 {
                Mode::ByLine
            } else {
                Mode::Parse
            }
        }
    }
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

/// A second look at the files for the attacker-infrastructure findings:
/// the records that carry an address, network, user agent or credential a
/// critical (or confirmed) finding named are read again and kept as rows,
/// until no new text is named (a network brings its addresses). The
/// console keeps every record's row as it goes; this gives `scan` the
/// same rows. Returns the passes made.
pub fn look_again(engine: &mut Engine, paths: &[PathBuf]) -> u32 {
    let mut searched = std::collections::BTreeSet::new();
    let mut passes = 0;
    // Each pass can only add a network's addresses: three suffice.
    while passes < 3 {
        let texts = engine.infrastructure_texts();
        if texts.is_subset(&searched) {
            break;
        }
        searched.extend(texts);
        passes += 1;
        let raw = raw_line_test(&searched);
        let wanted = |line: &[u8]| raw.as_ref().is_none_or(|finder| finder.is_match(line));
        for path in paths {
            import::read_all_where(path, &wanted, &mut |value, place| {
                let Some(event) = Event::new(value, || place) else {
                    return;
                };
                let carries = crate::detect::infra::row(&event).is_some_and(|row| {
                    let ip = row.ip.map(|ip| ip.to_string());
                    let asn = row.asn.map(|n| n.to_string());
                    [ip, asn, row.agent, row.key]
                        .into_iter()
                        .flatten()
                        .any(|text| searched.contains(&text))
                });
                if carries {
                    engine.note_activity(&event);
                }
            });
        }
    }
    passes
}

/// A test that a raw NDJSON line may hold one of `texts`, as JSON writes
/// them: any case (ids are written either way). None when a line could
/// hold one without its text showing as such (an IPv6 address has many
/// spellings; quotes, backslashes and other characters may be escaped),
/// and every line must be parsed.
fn raw_line_test(texts: &std::collections::BTreeSet<String>) -> Option<aho_corasick::AhoCorasick> {
    let literal = |text: &String| {
        text.parse::<std::net::Ipv6Addr>().is_err()
            && text
                .bytes()
                .all(|b| (b.is_ascii_graphic() && !b"\\\"<>&'".contains(&b)) || b == b' ')
    };
    if texts.is_empty() || !texts.iter().all(literal) {
        return None;
    }
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(texts)
        .ok()
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
    // A scan of files has no case: no team writes to set aside.
    let Engine {
        rules,
        iocs,
        sigma,
        verdicts,
        tally,
        ..
    } = engine;
    let extra = Extra {
        iocs: iocs.as_deref(),
        sigma: sigma.as_deref(),
    };
    let (work_tx, work_rx) = sync_channel::<Work>(threads * 2);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Done>(threads * 2);
    let prefilter = Prefilter::new(&rules, extra);
    let pools = Pools {
        text: Recycled::new(),
        events: Recycled::new(),
    };
    // The fields the rules, indicators and Sigma rules read; a Sigma rule
    // that searches keywords may read any field, and then all are built.
    let mut also = extra.iocs.map(|list| list.fields()).unwrap_or_default();
    let needed = match extra.sigma.map(|set| set.fields()) {
        Some(None) => crate::detect::lazy::Needed::everything(),
        sigma => {
            let (fields, windows_whole) = sigma.flatten().unwrap_or_default();
            also.extend(fields);
            let needed =
                crate::detect::lazy::Needed::new(&crate::detect::lazy::needed_fields(&rules, also));
            if windows_whole {
                needed.whole_with("EventID")
            } else {
                needed
            }
        }
    };
    // Records without an id of their own are cited by file and place.
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let names = &names;
    let (tally, counts) = std::thread::scope(|s| {
        for _ in 0..threads {
            let (rx, tx, rules, prefilter, needed, pools) = (
                work_rx.clone(),
                done_tx.clone(),
                &rules,
                &prefilter,
                &needed,
                &pools,
            );
            s.spawn(move || {
                loop {
                    let item = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(item) = item else { return };
                    if tx
                        .send(work(names, rules, extra, prefilter, needed, pools, item))
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
        let events = &pools.events;
        let collector = s.spawn(move || collect(rules_ref, extra, done_rx, tally, n_files, events));
        for (index, summary) in files.iter_mut().enumerate() {
            read_file(index, summary, &work_tx, &pools.text, progress);
        }
        drop(work_tx);
        collector.join().expect("the collector does not panic")
    });
    let mut unknown_total = 0;
    for (summary, counts) in files.iter_mut().zip(counts) {
        summary.records += counts.records;
        summary.unknown += counts.unknown;
        unknown_total += counts.unknown;
        summary.skipped += counts.skipped;
        for (_, line, reason) in counts.first_skips {
            if summary.skips.len() < SKIPS_SHOWN {
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
        verdicts,
        own: Vec::new(),
        own_seen: 0,
        tally,
    };
    Scanned {
        engine,
        files,
        unknown: unknown_total,
    }
}

/// Skipped records named per file (all are counted).
const SKIPS_SHOWN: usize = 5;

/// What the workers counted of one file.
#[derive(Clone, Default)]
struct Counts {
    records: u64,
    unknown: u64,
    skipped: u64,
    /// The first skipped records in the file, whichever worker found
    /// them first: (where, as a sortable key; where; why).
    first_skips: Vec<((String, u64), String, String)>,
}

impl Counts {
    fn skip(&mut self, place: String, reason: String) {
        self.skipped += 1;
        // "12" or "member.json:12": by member, then by line.
        let (prefix, number) = match place.rsplit_once(':') {
            Some((prefix, n)) => (prefix, n),
            None => ("", place.as_str()),
        };
        let key = (prefix.to_owned(), number.parse().unwrap_or(u64::MAX));
        self.first_skips.push((key, place, reason));
        self.first_skips.sort();
        self.first_skips.truncate(SKIPS_SHOWN);
    }
}

fn collect(
    rules: &[Ready],
    extra: Extra<'_>,
    rx: Receiver<Done>,
    mut tally: Tally,
    n_files: usize,
    recycled: &Recycled<(Kind, crate::detect::Observed)>,
) -> (Tally, Vec<Counts>) {
    let mut counts = vec![Counts::default(); n_files];
    for done in rx {
        let entry = &mut counts[done.file];
        entry.records += done.records;
        entry.unknown += done.unknown;
        for (place, reason) in done.skips {
            entry.skip(place, reason);
        }
        for kind in done.passed {
            tally.passed_over(kind);
        }
        let mut events = done.events;
        for (kind, observed) in events.drain(..) {
            crate::detect::absorb(rules, extra, &mut tally, kind, observed);
        }
        recycled.give(events);
    }
    (tally, counts)
}

fn read_file(
    index: usize,
    summary: &mut FileSummary,
    work: &std::sync::mpsc::SyncSender<Work>,
    buffers: &Recycled<u8>,
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
        buffers,
        progress,
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
                    reader.read(layout, Some(name));
                }
                Err(why) => reader.summary.skip(0, format!("{name}: {why}")),
            });
            let n = archive.len();
            reader.summary.format = if formats.is_empty() {
                format!("zip of {n}, none readable")
            } else {
                format!("zip of {n} ({})", formats.join(", "))
            };
        }
    }
}

/// Cuts one stream into work for the workers.
struct Reader<'s, 'w> {
    index: usize,
    summary: &'s mut FileSummary,
    work: &'w std::sync::mpsc::SyncSender<Work>,
    buffers: &'w Recycled<u8>,
    progress: &'w (dyn Fn(u64) + Sync),
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

    /// Reads whole blocks and cuts them after their last newline, so a
    /// line is looked at once here (to count it) and parsed by a worker.
    fn lines(&mut self, mut reader: Box<dyn BufRead + '_>, entry: Option<&str>) {
        let at = |line: u64| match entry {
            Some(name) => format!("{name}:{line}"),
            None => line.to_string(),
        };
        let starts = Arc::new(LineStarts::default());
        // The part of a line the last block cut off.
        let mut carry: Vec<u8> = Vec::new();
        let mut ended = false;
        while !ended {
            // A line longer than a chunk stays in `carry`, read on into.
            let (mut text, before) = if carry.len() >= CHUNK_BYTES / 2 {
                let before = carry.len();
                (std::mem::take(&mut carry), before)
            } else {
                let mut text = self.buffers.take(CHUNK_BYTES + (64 << 10));
                text.resize(text.len().max(carry.len()), 0);
                text[..carry.len()].copy_from_slice(&carry);
                let before = carry.len();
                carry.clear();
                (text, before)
            };
            // Doubling what a long line has so far keeps reading it linear.
            let enough = CHUNK_BYTES.max(before * 2);
            // Reads of a whole block go straight into the chunk, past the
            // reader's own buffer (smaller reads would be copied through it).
            text.resize(text.len().max(enough), 0);
            let mut filled = before;
            let read = loop {
                if filled == enough {
                    break Ok(());
                }
                match std::io::Read::read(&mut *reader, &mut text[filled..enough]) {
                    Ok(0) => {
                        // The stream has ended.
                        ended = true;
                        break Ok(());
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            text.truncate(filled);
            self.summary.bytes += (filled - before) as u64;
            if let Err(e) = read {
                let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
                let before = starts.first_line(starts.chunks());
                self.summary.skipped += 1;
                self.summary.skips.push(format!(
                    "{}:{}: read failed ({e}); the rest of the file is not read",
                    self.summary.path.display(),
                    at(before + lines)
                ));
                ended = true;
            }
            // Whole lines go now; the cut one waits for the next block.
            // (What came before this read holds no newline.)
            if !ended {
                match memchr::memrchr(b'\n', &text[before..]).map(|at| before + at) {
                    Some(last) => {
                        carry.extend_from_slice(&text[last + 1..]);
                        text.truncate(last + 1);
                    }
                    // One line longer than a chunk: read on.
                    None => {
                        carry = text;
                        continue;
                    }
                }
            }
            if text.is_empty() {
                break;
            }
            // Lines are counted by the worker, as it goes through them.
            if text.last() == Some(&b'\n') {
                text.pop();
            }
            (self.progress)(self.summary.bytes);
            let item = Work::Lines {
                file: self.index,
                entry: entry.map(str::to_owned),
                text: ChunkText {
                    index: starts.add_chunk(),
                    starts: starts.clone(),
                    text,
                    lines: None,
                },
            };
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
        let cited = shown.display().to_string();
        let mut local = FileSummary {
            path: shown,
            ..FileSummary::default()
        };
        let (work, index) = (self.work, self.index);
        read(&mut local, &mut |value, place| {
            // `#12` (a record number) is cited with its file.
            let place = if place.starts_with('#') {
                format!("{cited}{place}")
            } else {
                place
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_look_parses_only_lines_that_may_name_the_infrastructure() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect();
        let test = raw_line_test(&texts(&[
            "203.0.113.9",
            "ABCDEF12-0000-4000-8000-000000000001",
        ]))
        .unwrap();
        assert!(test.is_match(br#"{"ipAddress":"203.0.113.9"}"#));
        assert!(test.is_match(br#"{"keyId":"abcdef12-0000-4000-8000-000000000001"}"#));
        assert!(!test.is_match(br#"{"ipAddress":"198.51.100.1"}"#));
        // Texts JSON may write another way: every line is parsed.
        assert!(raw_line_test(&texts(&["2001:db8::1"])).is_none());
        assert!(raw_line_test(&texts(&["agent \"quoted\""])).is_none());
        assert!(raw_line_test(&texts(&[])).is_none());
    }

    /// Lines are counted by the workers, chunk by chunk: a broken line in
    /// a later chunk is still named by its number in the whole file, with
    /// several workers taking chunks in any order.
    #[test]
    fn a_broken_line_deep_in_a_file_is_named_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.ndjson");
        let mut text = String::new();
        let broken = [3, 70_001, 100_000, 100_001, 104_000, 109_999, 110_000];
        for n in 1..=110_000u32 {
            if broken.contains(&n) {
                text.push_str("{\"id\": broken\n");
            } else {
                text.push_str(&format!(
                    "{{\"id\":\"{n}\",\"createdDateTime\":\"2026-10-01T00:00:00Z\",\"status\":{{\"errorCode\":0}},\"ipAddress\":\"192.0.2.1\"}}\n"
                ));
            }
        }
        assert!(text.len() > 2 * CHUNK_BYTES, "spans several chunks");
        std::fs::write(&path, text).unwrap();
        let scanned = scan(Engine::new(Vec::new()), &[path], 3, &|_| {});
        let file = &scanned.files[0];
        assert_eq!(file.records, 110_000 - broken.len() as u64);
        assert_eq!(file.skipped, broken.len() as u64);
        // The first five in the file, in its order.
        let named: Vec<&str> = file
            .skips
            .iter()
            .map(|s| s.split(':').nth(1).unwrap())
            .collect();
        assert_eq!(
            named,
            ["3", "70001", "100000", "100001", "104000"],
            "{:?}",
            file.skips
        );
    }
}
