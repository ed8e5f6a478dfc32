//! Reading evidence files a responder was handed: the format is found per
//! file (NDJSON, a Graph page, an array, pages one after another; gzip
//! read directly), every record is handed on as Graph-shaped JSON, and a
//! record that cannot be read is skipped and counted with its file and
//! line, never fatal.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

pub mod csv;
pub mod event_xml;
pub mod evtx_file;
pub mod win_event_text;

/// What reading one file found.
#[derive(Clone, Debug, Default)]
pub struct FileSummary {
    pub path: PathBuf,
    pub format: String,
    pub records: u64,
    /// Records of no kind warroom reads (counted by a scan).
    pub unknown: u64,
    pub skipped: u64,
    /// The first few skipped records: `file:line: reason`.
    pub skips: Vec<String>,
    pub bytes: u64,
}

impl FileSummary {
    pub(crate) fn skip(&mut self, line: u64, reason: impl std::fmt::Display) {
        self.skipped += 1;
        if self.skips.len() < 5 {
            self.skips
                .push(format!("{}:{line}: {reason}", self.path.display()));
        }
    }

    /// A skip in a stream read without line numbers (XML, EVTX).
    pub(crate) fn skip_unplaced(&mut self, reason: impl std::fmt::Display) {
        self.skipped += 1;
        if self.skips.len() < 5 {
            self.skips
                .push(format!("{}: {reason}", self.path.display()));
        }
    }

    /// `signins.ndjson: NDJSON, 120000 records (2 skipped; first: …)`,
    /// or `x.json: NOT READ: No such file or directory`, with control
    /// characters in names (a zip member may carry any) escaped.
    pub fn line(&self) -> String {
        let shown = self.path.display().to_string();
        let text = if self.format == "unreadable" {
            let why = self
                .skips
                .first()
                .map(String::as_str)
                .unwrap_or("unreadable");
            // The reason often starts with the path again.
            let why = why
                .strip_prefix(shown.as_str())
                .and_then(|rest| rest.strip_prefix(": "))
                .unwrap_or(why);
            format!("{shown}: NOT READ: {why}")
        } else {
            let mut text = format!("{shown}: {}, {} records", self.format, self.records);
            if self.records == 0 {
                text.push_str(", nothing warroom reads");
            } else if self.unknown == self.records {
                text.push_str(", none of a kind warroom reads");
            } else if self.unknown > 0 {
                text.push_str(&format!(" ({} of no kind warroom reads)", self.unknown));
            }
            if self.skipped > 0 {
                text.push_str(&format!(
                    " ({} skipped; first: {})",
                    self.skipped,
                    self.skips.first().map(String::as_str).unwrap_or("")
                ));
            }
            text
        };
        crate::model::SafeText::new(&text).as_str().to_owned()
    }

    /// Whether nothing of it could be read, or nothing it holds is of a
    /// kind warroom reads: a report must say so.
    pub fn is_unread(&self) -> bool {
        self.format == "unreadable" || self.records == self.unknown
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

/// How a stream's records are laid out.
pub enum Layout<'a> {
    /// One JSON value per line: read line by line (and in parallel).
    Lines(Box<dyn BufRead + 'a>),
    /// Anything else JSON: read as a stream of values.
    Json(Box<dyn BufRead + 'a>),
    /// A CSV export with a header row.
    Csv(Box<dyn BufRead + 'a>),
    /// Windows events as XML (and AD FS audit payloads).
    Xml(Box<dyn BufRead + 'a>),
    /// A binary Windows event log.
    Evtx(evtx_file::EvtxInput),
    /// Splunk's classic `WinEventLog` text.
    WinEventText(Box<dyn BufRead + 'a>),
}

/// What a file is: one stream of records, or a zip archive of them.
pub enum Opened {
    Stream(Layout<'static>, String),
    Zip(zip::ZipArchive<File>),
}

/// Opens a file and finds what it holds: a zip archive, or a stream of
/// records (gzip unpacked) and how they are laid out.
pub fn open(path: &Path) -> Result<Opened, ImportError> {
    let io = |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(io)?;
    if n == 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06") {
        let archive = zip::ZipArchive::new(file).map_err(|e| {
            ImportError::Unsupported(format!(
                "{}: a damaged zip archive ({e}); unzip it with another tool and scan the files inside",
                path.display()
            ))
        })?;
        return Ok(Opened::Zip(archive));
    }
    use std::io::Seek;
    file.rewind().map_err(io)?;
    let mut head = [0u8; 8];
    if file.read_exact(&mut head).is_ok() && head == evtx_file::MAGIC {
        file.rewind().map_err(io)?;
        let input = evtx_file::EvtxInput::File(file);
        return Ok(Opened::Stream(Layout::Evtx(input), "EVTX".into()));
    }
    file.rewind().map_err(io)?;
    let reader = Box::new(BufReader::with_capacity(1 << 20, file));
    let (layout, name) = sniff(reader)
        .map_err(|why| ImportError::Unsupported(format!("{}: {why}", path.display())))?;
    Ok(Opened::Stream(layout, name))
}

/// A stream's layout and the name of its format, or why it is neither.
pub type Sniffed<'a> = Result<(Layout<'a>, String), String>;

/// Every file in a zip archive, its layout found on its own: `each` gets
/// the member's name and its layout and format, or why it cannot be read.
/// Folders are passed over.
pub fn each_member(archive: &mut zip::ZipArchive<File>, each: &mut dyn FnMut(&str, Sniffed<'_>)) {
    for i in 0..archive.len() {
        let entry = match archive.by_index(i) {
            Ok(entry) => entry,
            Err(e) => {
                each(&format!("entry {i}"), Err(format!("unreadable ({e})")));
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(_) => format!("entry {i}"),
        };
        let stream = Box::new(BufReader::with_capacity(1 << 20, entry));
        each(&name, sniff(stream));
    }
}

/// Finds how a stream's records are laid out from its first bytes (gzip
/// is unpacked first), and names the format for the summary.
pub fn sniff<'a>(mut reader: Box<dyn BufRead + 'a>) -> Sniffed<'a> {
    let head = reader.fill_buf().map_err(|e| e.to_string())?;
    let gz = head.starts_with(&[0x1f, 0x8b]);
    if gz {
        reader = Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(reader),
        ));
    }
    let (mut reader, encoding) = transcoded(reader).map_err(|e| e.to_string())?;
    let head = reader.fill_buf().map_err(|e| e.to_string())?.to_vec();
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head);
    let first = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let (layout, name) = match first {
        None => (Layout::Lines(reader), "empty"),
        Some(b'[') => (Layout::Json(reader), "JSON array"),
        Some(b'{') if lines_are_whole(text) => (Layout::Lines(reader), "NDJSON"),
        Some(b'{') => (Layout::Json(reader), "JSON"),
        Some(_) if head.starts_with(evtx_file::MAGIC) => {
            // Inside an archive or gzip: held whole, as the parser seeks.
            let mut bytes = Vec::new();
            reader
                .take(evtx_file::MAX_HELD_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("an EVTX log that could not be read ({e})"))?;
            if bytes.len() as u64 > evtx_file::MAX_HELD_BYTES {
                return Err(format!(
                    "an EVTX log over {} GB inside an archive or gzip; unpack it and scan the file",
                    evtx_file::MAX_HELD_BYTES >> 30
                ));
            }
            let input = evtx_file::EvtxInput::Bytes(bytes);
            return Ok((
                Layout::Evtx(input),
                if gz { "EVTX (gzip)" } else { "EVTX" }.into(),
            ));
        }
        Some(b'<') => (Layout::Xml(reader), "Windows event XML"),
        Some(_) if win_event_text::looks_like(text) => {
            (Layout::WinEventText(reader), "Windows event text (Splunk)")
        }
        Some(_) if looks_like_csv(text) => (Layout::Csv(reader), "CSV"),
        Some(_) => {
            return Err("not JSON, NDJSON or CSV with a header row".into());
        }
    };
    let mut name = name.to_owned();
    if let Some(encoding) = encoding {
        name.push_str(&format!(" ({encoding})"));
    }
    if gz {
        name.push_str(" (gzip)");
    }
    Ok((layout, name))
}

/// The stream as UTF-8, and the encoding it came in when it was another:
/// UTF-16 with a byte-order mark (Windows PowerShell 5.1's `Out-File` and
/// `>`), UTF-16 without one (told by where the zero bytes fall), or
/// Windows-1252 (Excel's CSV) when the head is not UTF-8. Transcoded as it
/// is read, so a large file stays in bounded memory.
fn transcoded<'a>(
    mut reader: Box<dyn BufRead + 'a>,
) -> std::io::Result<(Box<dyn BufRead + 'a>, Option<&'static str>)> {
    let head = reader.fill_buf()?;
    // A UTF-8 mark needs no decoding: the readers drop it themselves.
    let (encoding, bom) = match encoding_rs::Encoding::for_bom(head) {
        Some((encoding, _)) if encoding != encoding_rs::UTF_8 => (Some(encoding), true),
        _ => (unmarked_encoding(head), false),
    };
    let Some(encoding) = encoding else {
        return Ok((reader, None));
    };
    let mut builder = encoding_rs_io::DecodeReaderBytesBuilder::new();
    // With a mark, the decoder reads (and drops) it itself.
    if !bom {
        builder.encoding(Some(encoding));
    }
    let mut decoded = builder.strip_bom(true).build(reader);
    // The decoder's first reads are a few bytes; the layout is told from a
    // head as long as an undecoded file gives.
    let mut head = Vec::with_capacity(1 << 20);
    (&mut decoded).take(1 << 20).read_to_end(&mut head)?;
    let stream = std::io::Cursor::new(head).chain(decoded);
    Ok((
        Box::new(BufReader::with_capacity(1 << 20, stream)),
        Some(encoding.name()),
    ))
}

/// The encoding of a head without a byte-order mark when it is not UTF-8:
/// UTF-16 where every other byte is zero (ASCII text), else Windows-1252
/// where it is not UTF-8 and holds no zero byte.
fn unmarked_encoding(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let sample = &head[..head.len().min(4096)];
    let pairs = sample.len() / 2;
    let zeros = |at: usize| {
        sample
            .iter()
            .skip(at)
            .step_by(2)
            .filter(|b| **b == 0)
            .count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    if pairs >= 2 && odd * 10 >= pairs * 8 && even * 10 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if pairs >= 2 && even * 10 >= pairs * 8 && odd * 10 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else if !sample.contains(&0) && !is_utf8_head(sample) {
        Some(encoding_rs::WINDOWS_1252)
    } else {
        None
    }
}

/// Whether `head` is UTF-8, allowing a character cut at its end.
fn is_utf8_head(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// A header row: text with a comma in its first line (after the
/// `#TYPE …` line Windows PowerShell's `Export-Csv` writes first).
fn looks_like_csv(text: &[u8]) -> bool {
    let text = csv::after_type_line(text);
    let end = text.iter().position(|b| *b == b'\n').unwrap_or(text.len());
    let line = &text[..end];
    !line.contains(&0) && line.contains(&b',')
}

/// Lines looked at, past the first, to tell NDJSON from one document.
const SAMPLE_LINES: usize = 32;

/// Whether the records are one JSON value a line (NDJSON), not one
/// pretty-printed document: the first line holds a whole value, or most of
/// the lines after it each hold a whole object. A broken first record (two
/// run together, one cut short) then costs that record, not the file.
/// Inside a pretty-printed document a line rarely holds a whole object,
/// and then only the last of a list (the others end with a comma).
fn lines_are_whole(text: &[u8]) -> bool {
    let whole = |line: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok();
    let mut lines = text
        .split(|b| *b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    if whole(first) {
        return true;
    }
    // The head may end inside a line: only lines followed by a newline.
    let complete = match text.iter().rposition(|b| *b == b'\n') {
        Some(end) => &text[..end],
        None => return false,
    };
    let sample: Vec<&[u8]> = complete
        .split(|b| *b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty())
        .skip(1)
        .take(SAMPLE_LINES)
        .collect();
    let objects = sample
        .iter()
        .filter(|l| l.starts_with(b"{") && whole(l))
        .count();
    objects > 0 && objects * 2 > sample.len()
}

/// The records inside one JSON value: a page's `value`, an array's
/// elements, or the value itself.
pub fn records_of(value: Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => {
            for item in items {
                records_of(item, out);
            }
        }
        Value::Object(mut map) if matches!(map.get("value"), Some(Value::Array(_))) => {
            if let Some(Value::Array(items)) = map.remove("value") {
                out.extend(items);
            }
        }
        other => out.push(other),
    }
}

/// Reads a JSON (not line-based) file: values one after another, each a
/// page, an array or a record. `each` gets every record with its place.
pub fn read_json(
    reader: Box<dyn BufRead + '_>,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    let counted = CountingReader {
        inner: reader,
        bytes: 0,
    };
    let mut stream = serde_json::Deserializer::from_reader(counted).into_iter::<Value>();
    let mut n = 0u64;
    loop {
        match stream.next() {
            None => break,
            Some(Ok(value)) => {
                n += 1;
                let mut records = Vec::new();
                records_of(value, &mut records);
                for (i, record) in records.into_iter().enumerate() {
                    summary.records += 1;
                    each(record, format!("{}#{n}.{i}", summary.path.display()));
                }
            }
            Some(Err(e)) => {
                // A broken document cannot be resynchronised safely.
                summary.skip(
                    e.line() as u64,
                    format!("unreadable JSON ({e}); the rest of the file is not read"),
                );
                break;
            }
        }
    }
}

struct CountingReader<'a> {
    inner: Box<dyn BufRead + 'a>,
    bytes: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Parses one NDJSON line into records (a line may hold a page); a line
/// that is not JSON is skipped with its reason.
pub fn parse_line(line: &[u8]) -> Result<Vec<Value>, String> {
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(line);
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON ({e})"))?;
    let mut out = Vec::new();
    records_of(value, &mut out);
    Ok(out)
}

/// Every record of a stream in this layout, one after another, with its
/// place; what cannot be read is counted in the summary.
pub fn read_records(
    layout: Layout<'_>,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    read_records_where(layout, &|_| true, summary, each);
}

/// As `read_records`, but an NDJSON line `wanted` refuses is passed over
/// unparsed (and uncounted); other layouts are read whole.
/// Every record in `bytes`, its layout found as for a file's (zip aside):
/// what the fuzz targets and their corpus smoke test feed hostile bytes.
pub fn read_bytes(bytes: Vec<u8>, each: &mut dyn FnMut(Value, String)) -> FileSummary {
    let mut summary = FileSummary {
        path: PathBuf::from("input"),
        ..FileSummary::default()
    };
    match sniff(Box::new(std::io::Cursor::new(bytes))) {
        Ok((layout, format)) => {
            summary.format = format;
            read_records_where(layout, &|_| true, &mut summary, each);
        }
        Err(why) => {
            summary.format = "unreadable".into();
            summary.skip_unplaced(why);
        }
    }
    summary
}

fn read_records_where(
    layout: Layout<'_>,
    wanted: &dyn Fn(&[u8]) -> bool,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    match layout {
        Layout::Lines(reader) => read_lines(reader, wanted, summary, each),
        Layout::Json(reader) => read_json(reader, summary, each),
        Layout::Csv(reader) => csv::read_csv(reader, summary, each),
        Layout::Xml(reader) => event_xml::read_event_xml(reader, summary, each),
        Layout::Evtx(input) => evtx_file::read_evtx(input, summary, each),
        Layout::WinEventText(reader) => win_event_text::read(reader, summary, each),
    }
}

/// NDJSON line by line (the scan reads lines in parallel instead).
fn read_lines(
    reader: Box<dyn BufRead + '_>,
    wanted: &dyn Fn(&[u8]) -> bool,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                // A stream that failed once fails again.
                summary.skip(
                    i as u64 + 1,
                    format!("read failed ({e}); the rest is not read"),
                );
                break;
            }
        };
        if !wanted(&line) {
            continue;
        }
        match parse_line(&line) {
            Ok(records) => {
                let place = format!("{}:{}", summary.path.display(), i + 1);
                for record in records {
                    summary.records += 1;
                    each(record, place.clone());
                }
            }
            Err(why) => summary.skip(i as u64 + 1, why),
        }
    }
}

/// Every record of a file, one after another (no worker threads), for
/// `warroom scan --records`: `each` gets the record as the file holds it
/// and its place. Unreadable records are counted in the summary.
pub fn read_all(path: &Path, each: &mut dyn FnMut(Value, String)) -> FileSummary {
    read_all_where(path, &|_| true, each)
}

/// As `read_all`, passing over the NDJSON lines `wanted` refuses without
/// parsing them: a second look for a few strings reads fast.
pub fn read_all_where(
    path: &Path,
    wanted: &dyn Fn(&[u8]) -> bool,
    each: &mut dyn FnMut(Value, String),
) -> FileSummary {
    let mut summary = FileSummary {
        path: path.to_path_buf(),
        ..FileSummary::default()
    };
    match open(path) {
        Ok(Opened::Stream(layout, format)) => {
            summary.format = format;
            read_records_where(layout, wanted, &mut summary, each);
        }
        Ok(Opened::Zip(mut archive)) => {
            summary.format = "zip".into();
            each_member(&mut archive, &mut |name, member| match member {
                Ok((layout, _)) => read_records_where(layout, wanted, &mut summary, each),
                Err(why) => summary.skip(0, format!("{name}: {why}")),
            });
        }
        Err(e) => {
            summary.format = "unreadable".into();
            summary.skip_unplaced(e);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::{is_utf8_head, lines_are_whole, transcoded};
    use std::io::Read;

    #[test]
    fn ndjson_is_told_from_a_document_by_its_lines() {
        assert!(lines_are_whole(b"{\"a\":1}\n{\"a\":2}\n"));
        // The first record broken: the lines after it decide.
        assert!(lines_are_whole(
            b"{\"a\":1}{\"a\":2}\n{\"a\":3}\n{\"a\":4}\n"
        ));
        assert!(lines_are_whole(b"{\"a\":\n{\"a\":3}\n{\"a\":4}\n"));
        // Pretty-printed, even with compact records inside.
        assert!(!lines_are_whole(
            b"{\n  \"value\": [\n    {\"id\": 1},\n    {\"id\": 2},\n    {\"id\": 3}\n  ]\n}\n"
        ));
        assert!(!lines_are_whole(
            b"{\n  \"id\": \"x\",\n  \"status\": {\"errorCode\": 0}\n}\n"
        ));
        // One line cut short by the end of what was read: not judged on it.
        assert!(!lines_are_whole(b"{\n  \"id\": \"x\", {\"a\":"));
    }

    fn decoded(bytes: Vec<u8>) -> (String, Option<&'static str>) {
        let (mut reader, encoding) = transcoded(Box::new(std::io::Cursor::new(bytes))).unwrap();
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        (text, encoding)
    }

    #[test]
    fn windows_encodings_are_told_and_decoded() {
        let text = "a,b\nJosé,1\n";
        let utf16 = |big: bool| -> Vec<u8> {
            text.encode_utf16()
                .flat_map(|u| {
                    if big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect()
        };
        let mut with_bom = b"\xff\xfe".to_vec();
        with_bom.extend(utf16(false));
        assert_eq!(decoded(with_bom), (text.to_owned(), Some("UTF-16LE")));
        assert_eq!(decoded(utf16(true)), (text.to_owned(), Some("UTF-16BE")));
        assert_eq!(decoded(utf16(false)), (text.to_owned(), Some("UTF-16LE")));
        let cp1252 = b"a,b\nJos\xe9,1\n".to_vec();
        assert_eq!(decoded(cp1252), (text.to_owned(), Some("windows-1252")));
        // UTF-8, and UTF-8 cut inside a character at the end of the head.
        assert_eq!(decoded(text.as_bytes().to_vec()), (text.to_owned(), None));
        assert!(is_utf8_head(&"é".as_bytes()[..1]));
    }
}
