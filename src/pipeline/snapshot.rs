//! Directory snapshots from files, for `posture`: NDJSON from `pull`,
//! Graph pages, arrays or single objects, gzip and zip as the importers
//! open them; each object filed under its part by `detect::posture`.

use std::path::Path;

use serde_json::Value;

use crate::detect::posture::Snapshot;
use crate::source::import::{self, FileSummary, Layout, Opened};

/// Reads snapshot files: NDJSON lines, Graph pages (their
/// `@odata.context` says what they hold), arrays, single objects;
/// gzip and zip as the importers read them.
pub fn read(paths: &[impl AsRef<Path>]) -> (Snapshot, Vec<FileSummary>) {
    let mut snapshot = Snapshot::default();
    let mut files = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let mut summary = FileSummary {
            path: path.to_path_buf(),
            ..FileSummary::default()
        };
        match import::open(path) {
            Ok(Opened::Stream(layout, name)) => {
                summary.format = name;
                read_layout(&mut snapshot, layout, &mut summary);
            }
            Ok(Opened::Zip(mut archive)) => {
                summary.format = "zip".into();
                import::each_member(&mut archive, &mut |name, member| match member {
                    Ok((layout, _)) => read_layout(&mut snapshot, layout, &mut summary),
                    Err(why) => summary.skip(0, format!("zip member {name}: {why}")),
                });
            }
            Err(e) => {
                summary.format = "unreadable".into();
                summary.skip(0, e);
            }
        }
        files.push(summary);
    }
    snapshot.settle();
    (snapshot, files)
}

fn read_layout(snapshot: &mut Snapshot, layout: Layout<'_>, summary: &mut FileSummary) {
    match layout {
        Layout::Lines(reader) => {
            for (n, line) in std::io::BufRead::split(reader, b'\n').enumerate() {
                let line = match line {
                    Ok(line) => line,
                    Err(e) => {
                        summary.skip(n as u64 + 1, e);
                        break;
                    }
                };
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line);
                match serde_json::from_slice::<Value>(line) {
                    Ok(value) => add_document(snapshot, value, summary),
                    Err(e) => summary.skip(n as u64 + 1, format!("not JSON ({e})")),
                }
            }
        }
        Layout::Json(reader) => {
            let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Value>();
            for value in stream {
                match value {
                    Ok(value) => add_document(snapshot, value, summary),
                    Err(e) => {
                        summary.skip(
                            e.line() as u64,
                            format!("unreadable JSON ({e}); the rest of the file is not read"),
                        );
                        break;
                    }
                }
            }
        }
        Layout::Csv(_) => summary.skip(
            1,
            "a CSV file: a directory snapshot is JSON (`warroom pull --streams directory` writes one)",
        ),
        Layout::Xml(_) | Layout::Evtx(_) | Layout::WinEventText(_) => summary.skip(
            1,
            "Windows events hold no directory snapshot (`warroom scan` reads them)",
        ),
    }
}

/// Files one document's objects, counting them in the file's summary.
fn add_document(snapshot: &mut Snapshot, value: Value, summary: &mut FileSummary) {
    let added = snapshot.add_document(value, &summary.path.display().to_string());
    summary.records += added.records;
    for why in added.refused {
        summary.skip(0, why);
    }
}
