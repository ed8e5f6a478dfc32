//! A warroom record as a Sigma rule sees it. Rules name fields as the
//! export their author had (Log Analytics columns, diagnostic settings,
//! the portal); warroom keeps Graph's shape. This view answers a Sigma
//! field name from the field map (`assets/sigma/fields.toml`), or failing
//! that from the record itself: names compared without regard to case,
//! arrays walked, Name/Value and displayName/newValue lists read as maps,
//! and objects offered as their JSON text (as KQL matches a dynamic
//! column).

use std::borrow::Cow;
use std::collections::HashMap;

use rsigma_eval::event::{Event, EventValue};
use serde_json::Value;

use crate::model::json::Json;

use super::Service;

const TEXT: &str = include_str!("../../../assets/sigma/fields.toml");

/// Sigma name → paths, per service (a few dozen names: a scan compares
/// them without allocating, where a lower-cased key would allocate per
/// lookup).
pub struct FieldMap {
    by_service: HashMap<String, Vec<(String, Vec<String>)>>,
}

static SHARED: std::sync::LazyLock<FieldMap> = std::sync::LazyLock::new(|| {
    FieldMap::parse(TEXT).expect("the shipped field map parses (a unit test checks it)")
});

impl FieldMap {
    pub fn shared() -> &'static Self {
        &SHARED
    }

    fn parse(text: &str) -> Result<Self, String> {
        let raw: HashMap<String, HashMap<String, Vec<String>>> =
            toml::from_str(text).map_err(|e| e.to_string())?;
        let by_service = raw
            .into_iter()
            .map(|(service, fields)| (service, fields.into_iter().collect()))
            .collect();
        Ok(Self { by_service })
    }

    /// Where a Sigma field is kept, when the map says.
    pub fn paths(&self, service: Service, field: &str) -> Option<&[String]> {
        // Every Windows channel shares one section: the event data's names.
        let section = match service {
            Service::Windows(_) => "windows",
            other => other.name(),
        };
        self.by_service
            .get(section)?
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(field))
            .map(|(_, paths)| paths.as_slice())
    }
}

/// One record offered to the Sigma engine.
pub struct View<'a> {
    pub value: &'a Json<'a>,
    pub service: Service,
}

impl<'a> View<'a> {
    pub fn new(value: &'a Json<'a>, service: Service) -> Self {
        Self { value, service }
    }

    fn resolve(&self, path: &str) -> Vec<Cow<'a, Json<'a>>> {
        match path {
            "@outcome" => outcome(self.value).into_iter().collect(),
            "@protocol" => protocol(self.value),
            _ => {
                let mut out = Vec::new();
                let segments: Vec<&str> = path.split('.').collect();
                walk(self.value, &segments, &mut out);
                out
            }
        }
    }
}

/// "Success" or "Failure" from a sign-in's error code.
fn outcome<'a>(v: &Json) -> Option<Cow<'a, Json<'a>>> {
    let code = v.pointer("/status/errorCode")?;
    let ok = code.as_i64() == Some(0) || code.as_str() == Some("0");
    let text = if ok { "Success" } else { "Failure" };
    Some(Cow::Owned(Json::String(Cow::Borrowed(text))))
}

/// The fields `@protocol` is made from.
pub const PROTOCOL_FIELDS: [&str; 2] = ["authenticationProtocol", "originalTransferMethod"];

/// Graph's names of authentication protocols, and the portal's.
pub const PROTOCOLS: [(&str, &str); 6] = [
    ("deviceCode", "Device Code"),
    ("deviceCodeFlow", "Device Code"),
    ("ropc", "ROPC"),
    ("saml20", "SAML 2.0"),
    ("wsFederation", "WS-Federation"),
    ("oAuth2", "OAuth 2.0"),
];

/// The authentication protocol as the portal names it, and as Graph does.
fn protocol<'a>(v: &'a Json<'a>) -> Vec<Cow<'a, Json<'a>>> {
    let mut out = Vec::new();
    for field in PROTOCOL_FIELDS {
        if let Some(raw) = v.get(field).and_then(Json::as_str) {
            let shown = PROTOCOLS
                .iter()
                .find(|(graph, _)| *graph == raw)
                .map(|(_, shown)| *shown);
            out.extend(shown.map(|s| Cow::Owned(Json::String(Cow::Borrowed(s)))));
            out.push(Cow::Borrowed(&v[field]));
        }
    }
    out
}

/// Keys that name an entry of a list read as a map, and the keys that
/// hold its value.
const NAME_KEYS: [&str; 4] = ["Name", "key", "displayName", "name"];
const VALUE_KEYS: [&str; 4] = ["Value", "value", "newValue", "NewValue"];

/// Every value at `segments` under `value`. A key or an entry's name
/// may itself hold dots (`ConsentContext.IsAdminConsent`), so the longest
/// run of segments that names one is taken first.
fn walk<'a>(value: &'a Json<'a>, segments: &[&str], out: &mut Vec<Cow<'a, Json<'a>>>) {
    if segments.is_empty() {
        match value {
            // A list of objects is offered one object at a time.
            Json::Array(items) if items.iter().any(|i| i.as_object().is_some()) => {
                out.extend(items.iter().map(Cow::Borrowed));
            }
            _ => out.push(Cow::Borrowed(value)),
        }
        return;
    }
    match value {
        Json::Array(items) => {
            for item in items {
                walk(item, segments, out);
            }
        }
        Json::Object(map) => {
            // The name as written, or as Graph spells it (camelCase): direct
            // lookups, where a scan of a sign-in's sixty keys per field was
            // most of a Sigma scan's time.
            let first = segments[0];
            let direct = map.get(first).or_else(|| {
                let mut chars = first.chars();
                let head = chars.next()?;
                head.is_ascii_uppercase()
                    .then(|| map.get(&format!("{}{}", head.to_ascii_lowercase(), chars.as_str())))
                    .flatten()
            });
            if let Some(next) = direct {
                walk(next, &segments[1..], out);
                return;
            }
            // One pass for any other case, and for keys holding dots.
            let mut found: Option<(&Json, usize)> = None;
            for (key, next) in map.iter() {
                if key.eq_ignore_ascii_case(first) {
                    found = Some((next, 1));
                    break;
                }
                if key.contains('.')
                    && let Some(take) = (2..=segments.len())
                        .rev()
                        .find(|take| joined_eq(key, &segments[..*take]))
                {
                    found = Some((next, take));
                    break;
                }
            }
            if let Some((next, take)) = found {
                walk(next, &segments[take..], out);
                return;
            }
            // A Name/Value entry whose name is these segments.
            let entry_name = NAME_KEYS
                .iter()
                .filter_map(|k| map.get(k))
                .find_map(Json::as_str);
            if let Some(name) = entry_name
                && let Some(take) = (1..=segments.len())
                    .rev()
                    .find(|take| joined_eq(name, &segments[..*take]))
                && let Some(v) = VALUE_KEYS.iter().find_map(|k| map.get(k))
            {
                walk(v, &segments[take..], out);
            }
        }
        // A JSON document kept as text (UAL fields, modifiedProperties).
        Json::String(text) if text.starts_with(['{', '[']) => {
            if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                let parsed = Json::from(parsed);
                let mut found = Vec::new();
                walk(&parsed, segments, &mut found);
                out.extend(
                    found
                        .into_iter()
                        .map(|v| Cow::Owned(v.into_owned().into_static())),
                );
            }
        }
        _ => {}
    }
}

/// `text` equals `segments` joined with dots, in any case.
fn joined_eq(text: &str, segments: &[&str]) -> bool {
    let mut rest = text;
    for (i, segment) in segments.iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix('.') {
                Some(r) => rest = r,
                None => return false,
            }
        }
        // `get`: a name with multi-byte letters is cut only at a letter.
        match (rest.get(..segment.len()), rest.get(segment.len()..)) {
            (Some(head), Some(tail)) if head.eq_ignore_ascii_case(segment) => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

fn to_event_value<'a>(v: &'a Json<'a>) -> EventValue<'a> {
    match v {
        Json::Array(items) if items.is_empty() => EventValue::Str(Cow::Borrowed("[]")),
        Json::Array(items)
            if items
                .iter()
                .all(|i| !matches!(i, Json::Object(_) | Json::Array(_))) =>
        {
            EventValue::Array(items.iter().map(to_event_value).collect())
        }
        Json::Array(_) => EventValue::Str(Cow::Owned(json_text(v))),
        // As text, and as its members' text (what rules written against a
        // JSON column quote, without the braces).
        Json::Object(_) => {
            let text = json_text(v);
            let members = text[1..text.len() - 1].to_owned();
            EventValue::Array(vec![
                EventValue::Str(Cow::Owned(text)),
                EventValue::Str(Cow::Owned(members)),
            ])
        }
        // Entra ends some activity names with a space: offer both.
        Json::String(s) if s.trim() != s => EventValue::Array(vec![
            EventValue::Str(Cow::Borrowed(s)),
            EventValue::Str(Cow::Borrowed(s.trim())),
        ]),
        Json::String(s) => EventValue::Str(Cow::Borrowed(s)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => EventValue::Int(i),
            None => n.as_f64().map_or(EventValue::Null, EventValue::Float),
        },
        Json::Bool(b) => EventValue::Bool(*b),
        Json::Null => EventValue::Null,
    }
}

/// Keys in the order Graph writes them, so a rule matching a fragment of
/// Graph's JSON text finds it (the record's own map is sorted).
const GRAPH_ORDER: [&str; 6] = [
    "id",
    "displayName",
    "type",
    "userPrincipalName",
    "oldValue",
    "newValue",
];

/// An object or array as JSON text, keys in Graph's order.
fn json_text(v: &Json) -> String {
    match v {
        Json::Object(map) => {
            let mut keys: Vec<&str> = map.keys().collect();
            keys.sort_by_key(|k| {
                GRAPH_ORDER
                    .iter()
                    .position(|g| g == k)
                    .unwrap_or(GRAPH_ORDER.len())
            });
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::from(*k), json_text(&v[*k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Json::Array(items) => {
            let parts: Vec<String> = items.iter().map(json_text).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

fn owned(v: EventValue<'_>) -> EventValue<'static> {
    match v {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(i) => EventValue::Int(i),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(a) => EventValue::Array(a.into_iter().map(owned).collect()),
        EventValue::Map(m) => EventValue::Map(
            m.into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), owned(v)))
                .collect(),
        ),
    }
}

fn strings(v: &Json, visit: &mut dyn FnMut(&str)) {
    match v {
        Json::String(s) => visit(s),
        Json::Array(items) => items.iter().for_each(|i| strings(i, visit)),
        Json::Object(map) => map.values().for_each(|i| strings(i, visit)),
        _ => {}
    }
}

impl Event for View<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let found: Vec<Cow<'_, Json<'_>>> = match FieldMap::shared().paths(self.service, path) {
            Some(paths) => paths.iter().flat_map(|p| self.resolve(p)).collect(),
            None => self.resolve(path),
        };
        // One flat list: a rule compares with each value.
        let many = found.len() > 1;
        let mut values: Vec<EventValue<'_>> = Vec::new();
        for v in found {
            // Values read from the record are lent; made ones are copied.
            let value = match v {
                Cow::Borrowed(v) => to_event_value(v),
                Cow::Owned(v) => owned(to_event_value(&v)),
            };
            match value {
                EventValue::Array(inner) if many => values.extend(inner),
                other => values.push(other),
            }
        }
        match values.len() {
            0 => None,
            1 => values.pop(),
            _ => Some(EventValue::Array(values)),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        let mut hit = false;
        strings(self.value, &mut |s| hit = hit || pred(s));
        hit
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        strings(self.value, &mut |s| out.push(Cow::Owned(s.to_owned())));
        out
    }

    fn to_json(&self) -> Value {
        self.value.to_value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sigma_names_find_graph_fields() {
        let signin = json!({"status": {"errorCode": 0, "additionalDetails": "MFA completed"},
            "deviceDetail": {"trustType": "", "isCompliant": false},
            "networkLocationDetails": [], "authenticationProtocol": "deviceCode"});
        let signin = Json::from(signin);
        let view = View::new(&signin, Service::SignIns);
        assert_eq!(view.get_field("ResultType").unwrap().as_i64(), Some(0));
        let status = view.get_field("Status").unwrap();
        assert!(
            matches!(status, EventValue::Array(ref v) if v.len() == 2),
            "{status:?}"
        );
        assert_eq!(
            view.get_field("DeviceDetail.trusttype")
                .unwrap()
                .as_str()
                .unwrap(),
            ""
        );
        assert_eq!(
            view.get_field("DeviceDetail.isCompliant")
                .unwrap()
                .as_str()
                .unwrap(),
            "false"
        );
        assert_eq!(
            view.get_field("NetworkLocationDetails")
                .unwrap()
                .as_str()
                .unwrap(),
            "[]"
        );
        assert!(matches!(
            view.get_field("properties.message"),
            Some(EventValue::Array(_))
        ));
        assert!(view.get_field("Nothing.here").is_none());

        let audit = json!({"activityDisplayName": "Consent to application",
            "targetResources": [{"id": "62e90394-69f5-4237-9190-012177145e10",
                "modifiedProperties": [{"displayName": "ConsentContext.IsAdminConsent", "newValue": "\"True\""}]}]});
        let audit = Json::from(audit);
        let view = View::new(&audit, Service::Audits);
        let message = view.get_field("properties.message").unwrap();
        let EventValue::Array(values) = message else {
            panic!("{message:?}")
        };
        assert_eq!(values[0].as_str().unwrap(), "Consent to application");
        // Each target offered as its JSON text, for `contains`.
        let EventValue::Array(targets) = view.get_field("TargetResources").unwrap() else {
            panic!("a target is offered as text and as its members")
        };
        assert!(targets[0].as_str().unwrap().contains("62e90394"));
        assert_eq!(
            view.get_field("ConsentContext.IsAdminConsent")
                .unwrap()
                .as_str()
                .unwrap(),
            "\"True\""
        );

        let ual = json!({"operation": "MailItemsAccessed",
            "auditData": {"ExtendedProperties": [{"Name": "RequestType", "Value": "OAuth2:Authorize"}]}});
        let ual = Json::from(ual);
        let view = View::new(&ual, Service::M365Audit);
        assert_eq!(
            view.get_field("RequestType").unwrap().as_str().unwrap(),
            "OAuth2:Authorize"
        );
    }

    #[test]
    fn dotted_names_are_compared_whole_and_never_cut_inside_a_letter() {
        assert!(joined_eq(
            "ConsentContext.IsAdminConsent",
            &["consentcontext", "isadminconsent"]
        ));
        assert!(!joined_eq(
            "ConsentContext.IsAdminConsentX",
            &["consentcontext", "isadminconsent"]
        ));
        assert!(!joined_eq("é.x", &["e", "x"]));
        assert!(!joined_eq("ab", &["a"]));
    }

    #[test]
    fn the_shipped_map_parses() {
        let map = FieldMap::parse(TEXT).unwrap();
        assert!(map.paths(Service::SignIns, "resulttype").is_some());
    }
}
