//! Windows events written as XML: `wevtutil qe /f:xml` and `Get-WinEvent`
//! output (events one after another, or inside `<Events>`), Splunk's
//! `XmlWinEventLog`, and each record of an EVTX file (rendered to XML by
//! the `evtx` crate). An event becomes the flat record the other Windows
//! sources give: `EventID`, `TimeCreated`, `Computer`, `Channel`,
//! `Provider`, `EventRecordID`, and its data fields by name.
//!
//! An AD FS audit payload saved on its own (`<AuditBase>`, the XML event
//! 1200–1203 carries) is read as one record of its event.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event as Xml};
use serde_json::{Map, Value};

use super::FileSummary;

/// Where the parser is inside an event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Outside,
    System,
    EventData,
    UserData,
    Rendering,
    Other,
    /// A saved `<AuditBase>` payload (not inside an event).
    Audit,
}

/// One event being read.
#[derive(Default)]
struct Building {
    map: Map<String, Value>,
    unnamed: Vec<String>,
    /// The `Name` of the `<Data>` element open now.
    data_name: Option<String>,
    text: String,
    /// Raw XML of a saved audit payload, kept as its `EventData`.
    audit_xml: String,
}

/// Reads every event in an XML stream. A document broken part-way cannot
/// be resynchronised safely: the rest is skipped, and said.
pub fn read_event_xml(
    reader: Box<dyn BufRead + '_>,
    summary: &mut FileSummary,
    each: &mut dyn FnMut(Value, String),
) {
    let mut xml = Reader::from_reader(reader);
    xml.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut depth_path: Vec<String> = Vec::new();
    let mut part = Part::Outside;
    let mut event_depth = usize::MAX;
    let mut current: Option<Building> = None;
    let mut n = 0u64;
    loop {
        buf.clear();
        let position = xml.buffer_position();
        let got = xml.read_event_into(&mut buf);
        let event = match got {
            Ok(event) => event,
            Err(e) => {
                summary.skip_unplaced(format!(
                    "malformed XML at byte {position} ({e}); the rest of the file is not read"
                ));
                return;
            }
        };
        match event {
            Xml::Eof => break,
            Xml::Start(start) => {
                let name = local(&start);
                depth_path.push(name.clone());
                let depth = depth_path.len();
                if current.is_none() && (name == "Event" || name == "AuditBase") {
                    event_depth = depth;
                    current = Some(Building::default());
                    part = if name == "AuditBase" {
                        Part::Audit
                    } else {
                        Part::Outside
                    };
                    if part == Part::Audit
                        && let Some(b) = current.as_mut()
                    {
                        b.audit_xml.push('<');
                        b.audit_xml.push_str(&String::from_utf8_lossy(&start));
                        b.audit_xml.push('>');
                    }
                    continue;
                }
                if let Some(b) = current.as_mut() {
                    if part == Part::Audit {
                        b.audit_xml.push('<');
                        b.audit_xml.push_str(&String::from_utf8_lossy(&start));
                        b.audit_xml.push('>');
                    }
                    opened(b, &mut part, depth - event_depth, &name, &start);
                }
            }
            Xml::Empty(start) => {
                let name = local(&start);
                if let Some(b) = current.as_mut() {
                    if part == Part::Audit {
                        b.audit_xml.push('<');
                        b.audit_xml.push_str(&String::from_utf8_lossy(&start));
                        b.audit_xml.push_str("/>");
                    }
                    let depth = depth_path.len() + 1;
                    opened(b, &mut part, depth - event_depth, &name, &start);
                    closed(b, &mut part, depth - event_depth, &name);
                }
            }
            Xml::End(end) => {
                let name = String::from_utf8_lossy(end.local_name().as_ref()).into_owned();
                let depth = depth_path.len();
                depth_path.pop();
                let Some(b) = current.as_mut() else {
                    continue;
                };
                if part == Part::Audit {
                    b.audit_xml.push_str("</");
                    b.audit_xml.push_str(&String::from_utf8_lossy(&end));
                    b.audit_xml.push('>');
                }
                if depth == event_depth {
                    let done = current.take().unwrap_or_default();
                    n += 1;
                    summary.records += 1;
                    each(finish(done, part == Part::Audit), format!("#{n}"));
                    part = Part::Outside;
                    event_depth = usize::MAX;
                } else if depth > event_depth {
                    closed(b, &mut part, depth - event_depth, &name);
                }
            }
            Xml::Text(text) => {
                if let Some(b) = current.as_mut() {
                    let text = text
                        .xml_content(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or(Cow::Borrowed(""));
                    b.text.push_str(&text);
                    if part == Part::Audit {
                        b.audit_xml.push_str(&text);
                    }
                }
            }
            Xml::CData(data) => {
                if let Some(b) = current.as_mut() {
                    let text = String::from_utf8_lossy(&data);
                    b.text.push_str(&text);
                    if part == Part::Audit {
                        b.audit_xml.push_str(&xml_escaped(&text));
                    }
                }
            }
            Xml::GeneralRef(reference) => {
                if let Some(b) = current.as_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match &*reference {
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"amp" => Some('&'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                    };
                    if let Some(c) = resolved {
                        b.text.push(c);
                        // The payload keeps its markup as written.
                        if part == Part::Audit {
                            b.audit_xml.push('&');
                            b.audit_xml.push_str(&String::from_utf8_lossy(&reference));
                            b.audit_xml.push(';');
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Text as XML content (for the CDATA of a payload kept as markup).
fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn local(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == name.as_bytes())
            .then(|| {
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned())
            })
            .flatten()
    })
}

/// An element opened `level` below the event element.
fn opened(b: &mut Building, part: &mut Part, level: usize, name: &str, start: &BytesStart<'_>) {
    b.text.clear();
    if *part == Part::Audit {
        return;
    }
    if level == 1 {
        *part = match name {
            "System" => Part::System,
            "EventData" => Part::EventData,
            "UserData" => Part::UserData,
            "RenderingInfo" => Part::Rendering,
            _ => Part::Other,
        };
        return;
    }
    match (*part, name) {
        (Part::System, "Provider") => {
            if let Some(v) = attribute(start, "Name") {
                b.map.insert("Provider".into(), Value::from(v));
            }
        }
        (Part::System, "TimeCreated") => {
            if let Some(v) = attribute(start, "SystemTime") {
                b.map.insert("TimeCreated".into(), Value::from(v));
            }
        }
        (Part::System, "Security") => {
            if let Some(v) = attribute(start, "UserID") {
                b.map.insert("UserID".into(), Value::from(v));
            }
        }
        (Part::System, "Correlation") => {
            if let Some(v) = attribute(start, "ActivityID") {
                b.map.insert("ActivityID".into(), Value::from(v));
            }
        }
        (Part::EventData, "Data") => b.data_name = attribute(start, "Name"),
        // Some providers keep their data in attributes (CAPI2's
        // `<EventAuxInfo ProcessName="…"/>`); a bare `value` is named
        // after its element.
        (Part::UserData, _) if level >= 3 => {
            for a in start.attributes().flatten() {
                let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
                if key == "xmlns" || a.key.as_ref().starts_with(b"xmlns") {
                    continue;
                }
                let key = if key == "value" { name.to_owned() } else { key };
                if let Ok(value) = a.normalized_value(quick_xml::XmlVersion::Implicit1_0) {
                    b.map.entry(key).or_insert(Value::from(value.into_owned()));
                }
            }
        }
        _ => {}
    }
}

/// An element closed `level` below the event element: its text is kept
/// under the name the part gives it.
fn closed(b: &mut Building, part: &mut Part, level: usize, name: &str) {
    let text = std::mem::take(&mut b.text);
    let value = text.trim();
    if *part == Part::Audit {
        if !value.is_empty() {
            b.map.entry(name).or_insert(Value::from(value));
        }
        return;
    }
    if level == 1 {
        *part = Part::Outside;
        return;
    }
    match *part {
        Part::System
            if matches!(
                name,
                "EventID" | "EventRecordID" | "Channel" | "Computer" | "Keywords" | "Level"
            ) && !value.is_empty() =>
        {
            b.map.insert(name.into(), Value::from(value));
        }
        // The event's own System values win over data items of the same
        // name.
        Part::EventData if name == "Data" => match b.data_name.take() {
            Some(key) => {
                b.map.entry(key).or_insert(Value::from(value));
            }
            None => b.unnamed.push(value.to_owned()),
        },
        // The data element's children (any depth) by their own names.
        Part::UserData if level >= 3 && !value.is_empty() => {
            b.map.entry(name).or_insert(Value::from(value));
        }
        Part::Rendering if name == "Message" && level == 2 => {
            b.map.insert("Message".into(), Value::from(value));
        }
        _ => {}
    }
}

/// The record: audit outcome from the keywords, unnamed data items (an
/// AD FS audit's instance id and XML) kept together as `EventData`.
fn finish(mut b: Building, audit: bool) -> Value {
    if audit {
        let event = match (
            b.map.get("AuditType").and_then(Value::as_str),
            b.map.get("AuditResult").and_then(Value::as_str),
        ) {
            (Some("AppToken"), Some("Success")) => Some(1200),
            (Some("AppToken"), _) => Some(1201),
            (Some("FreshCredential"), Some("Success")) => Some(1202),
            (Some("FreshCredential"), _) => Some(1203),
            _ => None,
        };
        if let Some(id) = event {
            b.map.insert("EventID".into(), Value::from(id));
        }
        b.map
            .insert("Provider".into(), Value::from("AD FS Auditing"));
        b.map.insert("EventData".into(), Value::from(b.audit_xml));
        return Value::Object(b.map);
    }
    if let Some(Value::String(k)) = b.map.get("Keywords") {
        let outcome = match k.to_ascii_lowercase().as_str() {
            "0x8020000000000000" => Some("AUDIT_SUCCESS"),
            "0x8010000000000000" => Some("AUDIT_FAILURE"),
            _ => None,
        };
        if let Some(outcome) = outcome {
            b.map.insert("EventType".into(), Value::from(outcome));
        }
    }
    crate::model::record::windows::mark_whole_log_record(&mut b.map);
    if !b.unnamed.is_empty() {
        b.map
            .entry("EventData")
            .or_insert(Value::from(b.unnamed.join("\n")));
    }
    Value::Object(b.map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> (Vec<Value>, FileSummary) {
        let mut out = Vec::new();
        let mut summary = FileSummary::default();
        read_event_xml(
            Box::new(std::io::Cursor::new(xml.as_bytes().to_vec())),
            &mut summary,
            &mut |v, _| out.push(v),
        );
        (out, summary)
    }

    #[test]
    fn system_fields_named_data_and_outcome_are_flattened() {
        let xml = "<Events><Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
            <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4662</EventID>\
            <Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2022-08-23T04:15:39.665175600Z'/>\
            <EventRecordID>820657</EventRecordID><Channel>Security</Channel><Computer>dc1.corp</Computer></System>\
            <EventData><Data Name='SubjectUserName'>WIN-HOST$</Data><Data Name='Properties'>%%7688\n\t\t{1131f6aa-9c07-11d1-f79f-00c04fc2dcd2}\n</Data>\
            <Data Name='Empty'></Data><Data Name='Amp'>a&amp;b &#x41;</Data></EventData></Event>\
            <Event><System><EventID>1</EventID></System></Event></Events>";
        let (events, summary) = read(xml);
        assert_eq!(summary.records, 2);
        assert_eq!(summary.skipped, 0);
        let e = &events[0];
        assert_eq!(e["EventID"], "4662");
        assert_eq!(e["Provider"], "Microsoft-Windows-Security-Auditing");
        assert_eq!(e["TimeCreated"], "2022-08-23T04:15:39.665175600Z");
        assert_eq!(e["Computer"], "dc1.corp");
        assert_eq!(e["EventType"], "AUDIT_SUCCESS");
        assert_eq!(e["SubjectUserName"], "WIN-HOST$");
        assert!(e["Properties"].as_str().unwrap().contains("1131f6aa"));
        assert_eq!(e["Empty"], "");
        assert_eq!(e["Amp"], "a&b A");
    }

    #[test]
    fn user_data_and_adfs_audit_payloads_are_read() {
        let xml = "<Event><System><EventID>1200</EventID><Channel>Security</Channel></System>\
            <EventData><Data>abc-instance</Data><Data>&lt;?xml version=\"1.0\"?&gt;&lt;AuditBase&gt;&lt;UserId&gt;CORP\\megan&lt;/UserId&gt;&lt;/AuditBase&gt;</Data></EventData></Event>\
            <Event><System><EventID>70</EventID></System><UserData><CertificateEvent xmlns='x'><Certificate><Subject>CN=sts</Subject></Certificate><ProcessName>mimikatz.exe</ProcessName><Result value=\"0\"/><EventAuxInfo ProcessName=\"other.exe\"/>\
            <Certificate subjectName=\"sts.corp\"/></CertificateEvent></UserData></Event>";
        let (events, _) = read(xml);
        assert!(
            events[0]["EventData"]
                .as_str()
                .unwrap()
                .contains("<UserId>CORP\\megan</UserId>")
        );
        assert_eq!(events[1]["ProcessName"], "mimikatz.exe");
        assert_eq!(events[1]["Subject"], "CN=sts");
        assert_eq!(events[1]["Result"], "0");
        assert_eq!(events[1]["subjectName"], "sts.corp");
        let payload = "<?xml version=\"1.0\" encoding=\"utf-16\"?><AuditBase xmlns:xsi=\"x\"><AuditType>AppToken</AuditType>\
            <AuditResult>Success</AuditResult><ContextComponents><Component><UserId>CORP\\t&amp;st</UserId><ForwardedIpAddress />\
            </Component></ContextComponents></AuditBase>";
        let (events, summary) = read(payload);
        assert_eq!(summary.records, 1);
        assert_eq!(events[0]["EventID"], 1200);
        assert_eq!(events[0]["UserId"], "CORP\\t&st");
        let payload = events[0]["EventData"].as_str().unwrap();
        assert!(
            payload.contains("<UserId>CORP\\t&amp;st</UserId>"),
            "{payload}"
        );
        assert!(payload.contains("<ForwardedIpAddress />"), "{payload}");
    }

    #[test]
    fn a_broken_document_is_skipped_and_said() {
        let (events, summary) =
            read("<Event><System><EventID>1</EventID></System></Event><Event><System></Oops>");
        assert_eq!(events.len(), 1);
        assert_eq!(summary.skipped, 1);
        assert!(summary.skips[0].contains("malformed XML"));
    }
}
