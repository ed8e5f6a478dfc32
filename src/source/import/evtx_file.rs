//! EVTX files copied off AD FS servers and domain controllers, read with
//! the `evtx` crate: each record is rendered to XML and flattened as any
//! other Windows event XML is, so every source gives the same record.

use std::fs::File;
use std::io::{Cursor, Read, Seek};

use evtx::{EvtxChunkData, EvtxParser, ParserSettings};
use serde_json::Value;

use super::FileSummary;

/// The most of an EVTX log held in memory (one inside an archive): the
/// parser seeks, so such a log is read whole first.
pub const MAX_HELD_BYTES: u64 = 4 << 30;

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// An EVTX stream: a file is read in place; one inside an archive or
/// gzip is held in memory (the parser seeks between chunks).
pub enum EvtxInput {
    File(File),
    Bytes(Vec<u8>),
}

/// Reads every record, one chunk after another (see `chunks` and
/// `chunk_records` for reading chunks on many threads).
pub fn read_evtx(input: EvtxInput, summary: &mut FileSummary, each: &mut dyn FnMut(Value, String)) {
    let chunks = match chunks(input) {
        Ok(chunks) => chunks,
        Err(why) => {
            summary.skip_unplaced(why);
            return;
        }
    };
    for chunk in chunks {
        match chunk {
            Ok(chunk) => {
                let mut skips = Vec::new();
                summary.records += chunk_records(chunk, &mut skips, each);
                for why in skips {
                    summary.skip_unplaced(why);
                }
            }
            Err(why) => summary.skip_unplaced(why),
        }
    }
}

/// A log's 64 KiB chunks, each parsed on its own: a damaged chunk loses
/// its records, not the file's.
pub type Chunks = Box<dyn Iterator<Item = Result<EvtxChunkData, String>> + Send>;

pub fn chunks(input: EvtxInput) -> Result<Chunks, String> {
    fn of<T: Read + Seek + Send + 'static>(stream: T) -> Result<Chunks, String> {
        let parser = EvtxParser::from_read_seek(stream)
            .map_err(|e| format!("not a readable EVTX file ({e})"))?;
        Ok(Box::new(parser.into_chunks().map(|chunk| {
            chunk.map_err(|e| format!("an EVTX chunk that could not be read ({e})"))
        })))
    }
    match input {
        EvtxInput::File(file) => of(file),
        EvtxInput::Bytes(bytes) => of(Cursor::new(bytes)),
    }
}

/// Every record of one chunk, flattened; returns how many were read, and
/// says in `skips` why any could not be.
pub fn chunk_records(
    mut chunk: EvtxChunkData,
    skips: &mut Vec<String>,
    each: &mut dyn FnMut(Value, String),
) -> u64 {
    let settings = std::sync::Arc::new(ParserSettings::new().num_threads(1));
    let mut parsed = match chunk.parse(settings) {
        Ok(parsed) => parsed,
        Err(e) => {
            skips.push(format!(
                "an EVTX chunk that could not be parsed ({e}); its records are lost"
            ));
            return 0;
        }
    };
    let mut n = 0;
    for record in parsed.iter() {
        let record = match record.and_then(|r| r.into_xml()) {
            Ok(record) => record,
            Err(e) => {
                skips.push(format!("a record the EVTX parser could not read ({e})"));
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
                n += 1;
                // The record header's id and time stand in for missing ones.
                if let Value::Object(map) = &mut value {
                    map.entry("EventRecordID")
                        .or_insert_with(|| Value::from(record.event_record_id.to_string()));
                    map.entry("TimeCreated")
                        .or_insert_with(|| Value::from(record.timestamp.to_string()));
                    map.insert(
                        crate::model::record::windows::WHOLE_LOG_RECORD.into(),
                        Value::from(record.event_record_id),
                    );
                }
                each(value, format!("#{}", record.event_record_id));
            }
            None => skips.push(format!(
                "record {}: rendered XML holds no event ({})",
                record.event_record_id,
                inner.skips.first().map(String::as_str).unwrap_or("empty")
            )),
        }
    }
    n
}
