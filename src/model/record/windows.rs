//! Windows events from AD FS servers and domain controllers, as they are
//! handed over in JSON: Log Analytics / Sentinel `SecurityEvent` rows, the
//! flat JSON of the OTRF datasets, and NXLog (`im_msvistalog`) records.
//! Each becomes one flat record with the same names whatever its source:
//! `EventID` (a number), `TimeCreated` (UTC, as Graph writes times),
//! `Computer`, `Channel`, `Provider`, and the event's own data fields as
//! the source names them (`SubjectUserName`, `Properties`, …).

use serde_json::{Map, Value};

/// A Windows event in one of the JSON shapes this reads.
pub fn is_windows_event(map: &Map<String, Value>) -> bool {
    map.contains_key("EventID")
        && [
            "Channel",
            "EventSourceName",
            "SourceName",
            "EventLog",
            "Computer",
            "Hostname",
        ]
        .iter()
        .any(|k| map.contains_key(*k))
}

/// Where importers that read a log whole (EVTX, event XML, Splunk text)
/// put the event's record number, so breaks in the numbers can be trusted.
pub const WHOLE_LOG_RECORD: &str = "@warroom.record";

/// Marks a record from a log read whole with its record number (from
/// `EventRecordID`), for the forged-token join's gap finding.
pub fn mark_whole_log_record(map: &mut Map<String, Value>) {
    let number = map
        .get("EventRecordID")
        .and_then(Value::as_str)
        .and_then(|n| n.trim().parse::<u64>().ok());
    if let Some(number) = number {
        map.insert(WHOLE_LOG_RECORD.into(), Value::from(number));
    }
}

/// An AD FS audit event (its provider is `AD FS Auditing`, or `AD FS`
/// for the Admin log), in the common shape.
pub fn is_adfs(v: &crate::model::json::Json) -> bool {
    v.get("Provider")
        .and_then(|p| p.as_str())
        .is_some_and(|p| p.starts_with("AD FS"))
}

/// The record in the common shape.
pub fn normalize(mut map: Map<String, Value>) -> Value {
    let text = |map: &Map<String, Value>, k: &str| {
        map.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // When: Log Analytics' `TimeGenerated` (UTC); NXLog's `@timestamp`
    // (UTC, when it was received) before its `EventTime` (local, no zone);
    // the OTRF files' `TimeCreated` as written.
    let time = [
        "TimeGenerated",
        "@timestamp",
        "TimeCreated",
        "EventTime",
        "UtcTime",
    ]
    .iter()
    .find_map(|k| text(&map, k))
    .and_then(|t| crate::model::de::iso_from(&t));
    if let Some(time) = time {
        map.insert("TimeCreated".into(), Value::from(time));
    }
    let id = match map.get("EventID") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    if let Some(id) = id {
        map.insert("EventID".into(), Value::from(id));
    }
    if !map.contains_key("Computer")
        && let Some(host) = text(&map, "Hostname")
    {
        map.insert("Computer".into(), Value::from(host));
    }
    if let Some(provider) = ["EventSourceName", "SourceName", "Source", "ProviderName"]
        .iter()
        .find_map(|k| text(&map, k))
    {
        map.insert("Provider".into(), Value::from(provider));
    }
    if !map.contains_key("Channel")
        && let Some(log) = text(&map, "EventLog")
    {
        map.insert("Channel".into(), Value::from(log));
    }
    // The Azure Monitor Agent's `WindowsEvent` table keeps the data as an
    // object (a JSON text in a CSV download): its fields join the record's.
    let data = match map.get("EventData") {
        Some(Value::Object(data)) => Some(data.clone()),
        Some(Value::String(text)) if text.trim_start().starts_with('{') => {
            serde_json::from_str::<Map<String, Value>>(text).ok()
        }
        _ => None,
    };
    if let Some(data) = data {
        for (key, value) in data {
            let value = match value {
                Value::String(_) => value,
                Value::Null => continue,
                other => Value::from(other.to_string()),
            };
            map.entry(key).or_insert(value);
        }
        map.remove("EventData");
    }
    // The event's data as one text where the source split it otherwise
    // (Log Analytics keeps classic events' data in these).
    if !map.get("EventData").is_some_and(Value::is_string)
        && let Some(text) = ["EventData_string", "ParameterXml"]
            .iter()
            .find_map(|k| text(&map, k))
    {
        map.insert("EventData".into(), Value::from(text));
    }
    trust_the_message_subject(&mut map);
    // An id for evidence: the record's own where it has one.
    if !map.contains_key("id") {
        let own = ["EventOriginId", "RecordNumber", "EventRecordID"]
            .iter()
            .find_map(|k| match map.get(*k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
        if let Some(own) = own {
            let computer = text(&map, "Computer").unwrap_or_default();
            map.insert("id".into(), Value::from(format!("{computer}#{own}")));
        }
    }
    Value::Object(map)
}

/// Windows renders `Message` from the event's own data, so the two agree
/// unless one was edited after the fact (anonymised exports edit fields
/// and leave the text). When the subject account differs, the rendered
/// one is used and the field's value kept beside it, so no detection
/// judges an account the event does not name.
fn trust_the_message_subject(map: &mut Map<String, Value>) {
    let Some(Value::String(message)) = map.get("Message") else {
        return;
    };
    let rendered = super::message::message_fields(message);
    let Some(Value::String(said)) = rendered.get("SubjectUserName") else {
        return;
    };
    let Some(Value::String(field)) = map.get("SubjectUserName") else {
        return;
    };
    if said.is_empty() || said.eq_ignore_ascii_case(field) {
        return;
    }
    let field = field.clone();
    map.insert("SubjectUserNameField".into(), Value::from(field));
    map.insert("SubjectUserName".into(), Value::from(said.clone()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_three_json_shapes_become_one() {
        let la = json!({"TimeGenerated": "2021-08-02T13:11:39.77Z", "Computer": "DC01", "EventID": 4662,
            "Type": "SecurityEvent", "Channel": "Security", "EventSourceName": "Microsoft-Windows-Security-Auditing",
            "EventOriginId": "abc", "SubjectUserName": "wardog"});
        let nx = json!({"EventID": 4662, "Hostname": "MORDORDC", "EventTime": "2020-08-05 02:10:02",
            "@timestamp": "2020-08-05T06:10:03.798Z", "SourceName": "Microsoft-Windows-Security-Auditing",
            "Channel": "Security", "RecordNumber": 42});
        let otrf = json!({"SourceName": "Microsoft-Windows-Sysmon", "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Hostname": "ADFS01", "TimeCreated": "2021-04-27T04:07:56.325Z", "EventID": "18"});
        for (v, when, computer) in [
            (la, "2021-08-02T13:11:39", "DC01"),
            (nx, "2020-08-05T06:10:03", "MORDORDC"),
            (otrf, "2021-04-27T04:07:56", "ADFS01"),
        ] {
            let Value::Object(map) = v else {
                unreachable!()
            };
            assert!(is_windows_event(&map));
            let n = normalize(map);
            assert!(n["TimeCreated"].as_str().unwrap().starts_with(when), "{n}");
            assert_eq!(n["Computer"], computer);
            assert!(n["EventID"].is_u64());
            assert!(n["Provider"].is_string());
        }
    }
}
