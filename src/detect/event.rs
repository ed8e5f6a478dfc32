//! One record of evidence as the engine sees it: Graph's own JSON shape
//! (importers turn other shapes into it), what kind of record it is, when
//! it happened and where it came from.

use jiff::Timestamp;

use super::json::Json;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    SignIn,
    Audit,
    Risk,
    /// Unified Audit Log (mail, SharePoint, Exchange admin).
    MailAudit,
    /// A directory object from a snapshot.
    Directory,
    /// A Windows event from an AD FS server or a domain controller.
    WindowsEvent,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::SignIn => "sign-in",
            Kind::Audit => "directory audit",
            Kind::Risk => "risk detection",
            Kind::MailAudit => "audit log record",
            Kind::Directory => "directory object",
            Kind::WindowsEvent => "Windows event",
        }
    }
}

/// What kind of record a Graph-shaped value is, by the fields only that
/// kind has.
pub fn classify(v: &Json) -> Option<Kind> {
    let map = v.as_object()?;
    classify_keys(|k| map.contains_key(k))
}

/// `classify` by whether the record has each top-level key.
pub fn classify_keys(has: impl Fn(&str) -> bool) -> Option<Kind> {
    if has("@warroom.source") {
        Some(Kind::Directory)
    } else if has("EventID")
        && has("TimeCreated")
        && (has("Channel") || has("Provider") || has("Computer"))
    {
        Some(Kind::WindowsEvent)
    } else if has("activityDisplayName") {
        Some(Kind::Audit)
    } else if has("riskEventType") || (has("riskType") && has("riskLevel")) {
        Some(Kind::Risk)
    } else if has("operation") && (has("auditData") || has("auditLogRecordType")) {
        Some(Kind::MailAudit)
    } else if has("createdDateTime")
        && (has("status") || has("ipAddress") || has("appId"))
        // Graph security alerts have a time and a status too.
        && !(has("serviceSource") || has("alertWebUrl"))
    {
        Some(Kind::SignIn)
    } else {
        None
    }
}

/// The field that says when a record of this kind happened.
pub fn time_field(kind: Kind) -> &'static str {
    match kind {
        Kind::Audit => "activityDateTime",
        Kind::Risk => "detectedDateTime",
        Kind::WindowsEvent => "TimeCreated",
        Kind::SignIn | Kind::MailAudit | Kind::Directory => "createdDateTime",
    }
}

/// `'a`: the text the record was parsed from, which its strings borrow.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    pub kind: Kind,
    pub time: Option<Timestamp>,
    /// The record's own id, or its place in the file when it has none.
    pub id: String,
    pub value: Json<'a>,
}

impl Event<'static> {
    /// An event from a record in any shape the importers know.
    pub fn new(value: serde_json::Value, place: impl FnOnce() -> String) -> Option<Self> {
        let value = crate::model::record::to_graph(value);
        Event::of_graph(Json::from(value), place)
    }
}

impl<'a> Event<'a> {
    /// An event from a parsed record: Graph's own shape as it is, other
    /// shapes once the importers have reshaped them.
    pub fn from_json(value: Json<'a>, place: impl FnOnce() -> String) -> Option<Self> {
        let graph = value
            .as_object()
            .is_some_and(|map| crate::model::record::is_graph_shaped(|k| map.contains_key(k)));
        if graph {
            Event::of_graph(value, place)
        } else {
            Event::new(value.into_value(), place)
        }
    }

    fn of_graph(value: Json<'a>, place: impl FnOnce() -> String) -> Option<Self> {
        let kind = classify(&value)?;
        let time = value[time_field(kind)]
            .as_str()
            // Older risk detections say when in `activityDateTime`.
            .or_else(|| value["activityDateTime"].as_str())
            .and_then(crate::model::de::parse_time);
        let id = match value["id"].as_str() {
            Some(id) => id.to_owned(),
            None => place(),
        };
        Some(Self {
            kind,
            time,
            id,
            value,
        })
    }
}

/// Every value at `path` (dot-separated; arrays are looked into, so
/// `targetResources.modifiedProperties.displayName` reaches every
/// property of every target).
pub fn values_at<'v, 'a>(value: &'v Json<'a>, path: &str, out: &mut Vec<&'v Json<'a>>) {
    any_at(value, path, &mut |v| {
        out.push(v);
        false
    });
}

/// Whether any value at `path` (as `values_at` finds them) passes `test`;
/// stops at the first that does.
pub fn any_at<'v, 'a>(
    value: &'v Json<'a>,
    path: &str,
    test: &mut dyn FnMut(&'v Json<'a>) -> bool,
) -> bool {
    match value {
        Json::Array(items) => items.iter().any(|item| any_at(item, path, test)),
        _ if path.is_empty() => test(value),
        Json::Object(map) => {
            let (head, rest) = path.split_once('.').unwrap_or((path, ""));
            map.get(head).is_some_and(|next| any_at(next, rest, test))
        }
        _ => false,
    }
}

/// `any_at` with the path already cut at its dots (for what runs on every
/// record, such as rule conditions).
pub fn any_in<'v, 'a>(
    value: &'v Json<'a>,
    path: &[String],
    test: &mut dyn FnMut(&'v Json<'a>) -> bool,
) -> bool {
    match (value, path.split_first()) {
        (Json::Array(items), _) => items.iter().any(|item| any_in(item, path, test)),
        (_, None) => test(value),
        (Json::Object(map), Some((head, rest))) => {
            map.get(head).is_some_and(|next| any_in(next, rest, test))
        }
        _ => false,
    }
}

/// The first text at `path` (numbers and booleans as text).
pub fn text_at(value: &Json, path: &str) -> Option<String> {
    let mut text = None;
    any_at(value, path, &mut |v| {
        text = match v {
            Json::String(s) if !s.is_empty() => Some(s.to_string()),
            Json::Number(n) => Some(n.to_string()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        text.is_some()
    });
    text
}
