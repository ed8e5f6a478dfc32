//! EVTX files copied off AD FS servers and domain controllers, read with
//! the `evtx` crate: each record is rendered to XML and flattened as any
//! other Windows event XML is, so every source gives the same record.

use std::fs::File;
use std::io::{Cursor, Read, Seek};

use evtx::{EvtxParser, ParserSettings};
use serde_json::Value;

use super::FileSummary;

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// An EVTX stream: a file is read in place; one inside an archive or
/// gzip is held in memory (the parser seeks between chunks).
pub enum EvtxInput {
    File(File),
    Bytes(Vec<u8>),
}

/// Reads every record; a record the parser cannot render is skipped with
/// its reason (a damaged chunk loses its records, not the file's).
pub fn read_evtx(input: EvtxInput, summary: &mut FileSummary, each: &mut dyn FnMut(Value, String)) {
    match input {
        EvtxInput::File(file) => read_from(file, summary, each),
        EvtxInput::Bytes(bytes) => read_from(Cursor::new(bytes), summary, each),
    }
}

fn read_from<T: Read + Seek>(
    stream: T,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    let mut parser = match EvtxParser::from_read_seek(stream) {
        Ok(parser) => parser.with_configuration(ParserSettings::new().num_threads(1)),
        Err(e) => {
            summary.skip_unplaced(format!("not a readable EVTX file ({e})"));
            return;
        }
    };
    for record in parser.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                summary.skip_unplaced(format!("a record the EVTX parser could not read ({e})"));
                continue;
            }
        };
        let mut inner = FileSummary::default();
        let mut got = None;
        super::event_xml::read_event_xml(
            Box::new(record.data.as_bytes()),
            &mut inner,
            &mut |value, _| got = Some(value),
        );
        match got {
            Some(mut value) => {
                summary.records += 1;
                // The record header's id and time stand in for missing ones.
                if let Value::Object(map) = &mut value {
                    map.entry("EventRecordID")
                        .or_insert_with(|| Value::from(record.event_record_id.to_string()));
                    map.entry("TimeCreated")
                        .or_insert_with(|| Value::from(record.timestamp.to_string()));
                }
                each(value, format!("#{}", record.event_record_id));
            }
            None => summary.skip_unplaced(format!(
                "record {}: rendered XML holds no event ({})",
                record.event_record_id,
                inner.skips.first().map(String::as_str).unwrap_or("empty")
            )),
        }
    }
}
