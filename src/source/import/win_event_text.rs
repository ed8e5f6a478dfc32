//! Splunk's classic `WinEventLog` text: a time line, `Key=Value` header
//! lines, then the rendered `Message`, whose indented `Label: value` lines
//! carry the event's data. Labels are given the names the event's XML
//! uses (`Subject` / `Account Name` is `SubjectUserName`), so the same
//! detections read it. The time line has no zone; it is read as UTC.

use std::io::BufRead;

use serde_json::{Map, Value};

use super::FileSummary;

/// `07/20/2022 06:33:56 AM`
fn time_line(line: &str) -> Option<String> {
    let line = line.trim_end();
    let (date, rest) = line.split_once(' ')?;
    let (clock, half) = rest.split_once(' ')?;
    let mut d = date.split('/');
    let (m, day, y) = (d.next()?, d.next()?, d.next()?);
    let mut c = clock.split(':');
    let (h, min, s) = (c.next()?, c.next()?, c.next()?);
    let num = |t: &str, len: usize| {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit())).then_some(())
    };
    num(m, 2)?;
    num(day, 2)?;
    num(y, 4)?;
    num(h, 2)?;
    num(min, 2)?;
    num(s, 2)?;
    let mut hour: u32 = h.parse().ok()?;
    match half {
        "AM" if hour == 12 => hour = 0,
        "AM" => {}
        "PM" if hour < 12 => hour += 12,
        "PM" => {}
        _ => return None,
    }
    Some(format!("{y}-{m}-{day}T{hour:02}:{min}:{s}Z"))
}

/// A time line followed by `LogName=`.
pub fn looks_like(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&text[..text.len().min(4096)]);
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    matches!((lines.next(), lines.next()), (Some(first), Some(second))
        if time_line(first).is_some() && second.starts_with("LogName="))
}

/// One record being read.
struct Record {
    map: Map<String, Value>,
    message: String,
    in_message: bool,
}

impl Record {
    fn new(time: String) -> Self {
        let mut map = Map::new();
        map.insert("TimeCreated".into(), Value::from(time));
        Self {
            map,
            message: String::new(),
            in_message: false,
        }
    }

    fn header(&mut self, line: &str) {
        let Some((key, value)) = line.split_once('=') else {
            return;
        };
        let value = value.trim();
        let key = match key {
            "LogName" => "Channel",
            "EventCode" => "EventID",
            "ComputerName" => "Computer",
            "SourceName" => "Provider",
            "RecordNumber" => "EventRecordID",
            "Message" => {
                self.in_message = true;
                self.message.push_str(value);
                self.message.push('\n');
                return;
            }
            "Keywords" => {
                let outcome = match value {
                    "Audit Success" => "AUDIT_SUCCESS",
                    "Audit Failure" => "AUDIT_FAILURE",
                    other => other,
                };
                self.map.insert("EventType".into(), Value::from(outcome));
                return;
            }
            other => other,
        };
        self.map.insert(key.into(), Value::from(value));
    }

    fn finish(mut self) -> Value {
        crate::model::record::windows::mark_whole_log_record(&mut self.map);
        for (name, value) in crate::model::record::message::message_fields(&self.message) {
            self.map.entry(name).or_insert(value);
        }
        self.map
            .insert("Message".into(), Value::from(self.message.trim_end()));
        Value::Object(self.map)
    }
}

pub fn read(
    reader: Box<dyn BufRead + '_>,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    let mut current: Option<Record> = None;
    let mut n = 0u64;
    let mut emit = |record: Record, n: &mut u64, summary: &mut FileSummary| {
        *n += 1;
        summary.records += 1;
        each(record.finish(), format!("#{n}"));
    };
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = match line {
            Ok(line) => String::from_utf8_lossy(&line)
                .trim_end_matches('\r')
                .to_owned(),
            Err(e) => {
                summary.skip(
                    i as u64 + 1,
                    format!("read failed ({e}); the rest is not read"),
                );
                break;
            }
        };
        if let Some(time) = time_line(&line) {
            if let Some(done) = current.take() {
                emit(done, &mut n, summary);
            }
            current = Some(Record::new(time));
            continue;
        }
        match current.as_mut() {
            Some(record) if record.in_message => {
                record.message.push_str(&line);
                record.message.push('\n');
            }
            Some(record) => record.header(&line),
            None if line.trim().is_empty() => {}
            None => summary.skip(i as u64 + 1, "text before the first event's time line"),
        }
    }
    if let Some(done) = current.take() {
        emit(done, &mut n, summary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_message_become_the_events_fields() {
        let text = "07/20/2022 06:33:56 PM\nLogName=Security\nEventCode=4662\nComputerName=dc1.corp\n\
            Keywords=Audit Success\nRecordNumber=7\nMessage=An operation was performed on an object.\n\n\
            Subject :\n\tSecurity ID:\t\tCORP\\Administrator\n\tAccount Name:\t\tAdministrator\n\n\
            Operation:\n\tAccess Mask:\t\t0x100\n\tProperties:\t\tControl Access\n\t\tReplicating Directory Changes All\n\tdomainDNS\n\
            07/20/2022 12:00:01 AM\nLogName=Security\nEventCode=4624\nMessage=x\n";
        assert!(looks_like(text.as_bytes()));
        let mut out = Vec::new();
        let mut summary = FileSummary::default();
        read(Box::new(text.as_bytes()), &mut summary, &mut |v, _| {
            out.push(v)
        });
        assert_eq!(summary.records, 2);
        let e = &out[0];
        assert_eq!(e["TimeCreated"], "2022-07-20T18:33:56Z");
        assert_eq!(e["EventID"], "4662");
        assert_eq!(e["Channel"], "Security");
        assert_eq!(e["SubjectUserName"], "Administrator");
        assert_eq!(e["EventType"], "AUDIT_SUCCESS");
        assert!(
            e["Properties"]
                .as_str()
                .unwrap()
                .contains("Replicating Directory Changes All")
        );
        assert_eq!(out[1]["TimeCreated"], "2022-07-20T00:00:01Z");
    }
}
