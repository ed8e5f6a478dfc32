//! Other shapes of the same records, brought into Graph's: Log Analytics /
//! Sentinel rows (`AuditLogs`, `SigninLogs` and the other sign-in tables:
//! PascalCase columns, JSON columns held as text, `ResultType` for the
//! error code), Azure Monitor diagnostic-settings records (the event
//! under `properties`), Microsoft 365 audit records (`m365`), Defender XDR
//! `IdentityLogonEvents` and Cribl events (the record as text in `_raw`).
//! Graph-shaped records pass through untouched.

use serde_json::{Map, Value};

pub mod m365;
pub mod message;
pub mod windows;

/// Columns whose Log Analytics name is not Graph's name with a capital.
pub const RENAMED: &[(&str, &str)] = &[
    ("RiskEventTypes_V2", "riskEventTypes_v2"),
    ("IPAddress", "ipAddress"),
    ("LocationDetails", "location"),
    (
        "ConditionalAccessPolicies",
        "appliedConditionalAccessPolicies",
    ),
    ("Identity", "userDisplayName"),
    ("AADOperationType", "operationType"),
];

/// The Log Analytics columns the engine may need, besides Graph's own
/// names with a capital first letter (for parsers that read only some).
pub const EXTRA_COLUMNS: &[&str] = &[
    "Type",
    "TimeGenerated",
    "OperationName",
    "ResultType",
    "ResultDescription",
    "IPAddress",
    "LocationDetails",
    "time",
    "category",
    "properties",
    "resultType",
    // What an audit is called when its properties do not say.
    "operationName",
    "Location",
];

/// Top-level keys of shapes that are read whole, not skimmed: their
/// fields move around too much for the skim's list of names. (The skim
/// keeps these keys, so it can tell.)
pub const READ_WHOLE: &[&str] = &[
    "_raw",
    "CreationTime",
    "creationtime",
    "CreationDate",
    "AuditData",
    "OfficeWorkload",
    "Timestamp",
];

/// Whether a skimmed record is of a shape that must be read whole, by
/// whether it has each top-level key.
pub fn read_whole_keys(has: impl Fn(&str) -> bool) -> bool {
    READ_WHOLE.iter().any(|k| has(k))
}

/// Whether a record is Graph's own shape (`to_graph` leaves it as it is),
/// by whether it has each top-level key.
pub fn is_graph_shaped(has: impl Fn(&str) -> bool) -> bool {
    GRAPH_TIMES.iter().any(|k| has(k))
}

/// Top-level fields only Graph-shaped records have.
const GRAPH_TIMES: [&str; 4] = [
    "createdDateTime",
    "activityDateTime",
    "detectedDateTime",
    "@warroom.source",
];

/// A Graph-shaped record from whatever shape `value` has.
pub fn to_graph(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    // Graph's own records, the common case, pass at once: only they carry
    // these camelCase times at the top (other shapes nest or capitalise them).
    if is_graph_shaped(|k| map.contains_key(k)) {
        return Value::Object(map);
    }
    // A Cribl event: the record is the text of `_raw`.
    if let Some(Value::String(raw)) = map.get("_raw")
        && let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(raw)
    {
        return to_graph(inner);
    }
    // A shipper's envelope whose only record is the JSON text of
    // `message` (Logstash, NXLog forwarders, parser test cases).
    if let Some(Value::String(raw)) = map
        .get("message")
        .or_else(|| map.get("input").and_then(|i| i.get("message")))
        && raw.trim_start().starts_with('{')
        && let Ok(inner @ Value::Object(_)) = serde_json::from_str::<Value>(raw)
    {
        return to_graph(inner);
    }
    if m365::is_o365(&map) {
        return m365::from_o365(map);
    }
    if m365::is_purview_row(&map) {
        return m365::from_purview_row(map);
    }
    if m365::is_office_activity(&map) {
        return m365::from_office_activity(map);
    }
    if m365::is_cloud_app_event(&map) {
        return m365::from_cloud_app_event(map);
    }
    if is_identity_logon(&map) {
        return identity_logon(map);
    }
    if windows::is_windows_event(&map) {
        return windows::normalize(map);
    }
    // Diagnostic settings: {time, category, properties: {...}}.
    // (Graph activity logs are requests, not sign-ins: left as they are.)
    if map.contains_key("category")
        && !map["category"]
            .as_str()
            .is_some_and(|c| c.contains("GraphActivity"))
        && let Some(Value::Object(props)) = map.get("properties")
        && (map.contains_key("time") || map.contains_key("operationName"))
    {
        let mut props = props.clone();
        // Defender's streaming API wraps its tables the same way.
        if map["category"]
            .as_str()
            .is_some_and(|c| c.starts_with("AdvancedHunting-"))
        {
            return to_graph(Value::Object(props));
        }
        // An audit whose properties do not name the activity (some Azure
        // RBAC records): the envelope's operation name is its name.
        if map["category"].as_str() == Some("AuditLogs")
            && !props.contains_key("activityDisplayName")
            && let Some(name) = props
                .get("operationName")
                .or_else(|| map.get("operationName"))
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
        {
            props.insert("activityDisplayName".into(), Value::from(name));
            if !props.contains_key("result")
                && let Some(Value::String(result)) = map.get("result")
            {
                props.insert("result".into(), Value::from(result.to_lowercase()));
            }
        }
        if let Some(Value::String(time)) = map.get("time") {
            let field = if props.contains_key("activityDisplayName") {
                "activityDateTime"
            } else if props.contains_key("riskEventType") {
                "detectedDateTime"
            } else {
                "createdDateTime"
            };
            // `8/22/2022 6:07:16 PM` in some categories.
            let time = crate::model::de::iso_from(time).unwrap_or_else(|| time.clone());
            props.entry(field).or_insert(Value::String(time));
        }
        // A sign-in without its own status: the envelope's `resultType`.
        if props.contains_key("createdDateTime")
            && !props.contains_key("status")
            && let Some(code) = map.get("resultType").and_then(number)
        {
            props.insert("status".into(), serde_json::json!({ "errorCode": code }));
        }
        return Value::Object(props);
    }
    let pascal = map.contains_key("TimeGenerated")
        || map.contains_key("Type")
        || map
            .keys()
            .next()
            .is_some_and(|k| k.starts_with(char::is_uppercase));
    if !pascal {
        return Value::Object(map);
    }
    Value::Object(log_analytics(map))
}

/// Defender XDR `IdentityLogonEvents` of cloud sign-ins (on-premises
/// logons are another matter).
fn is_identity_logon(map: &Map<String, Value>) -> bool {
    map.contains_key("Timestamp")
        && matches!(
            map.get("ActionType").and_then(Value::as_str),
            Some("LogonSuccess" | "LogonFailed")
        )
        && map
            .get("Application")
            .and_then(Value::as_str)
            .is_some_and(|a| a != "Active Directory")
}

fn identity_logon(map: Map<String, Value>) -> Value {
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut status = Map::new();
    if text("ActionType").as_deref() == Some("LogonSuccess") {
        status.insert("errorCode".into(), Value::from(0));
    }
    if let Some(reason) = text("FailureReason") {
        status.insert("failureReason".into(), Value::from(reason));
    }
    serde_json::json!({
        "id": text("ReportId"),
        "createdDateTime": text("Timestamp"),
        "userPrincipalName": text("AccountUpn"),
        "userDisplayName": text("AccountDisplayName"),
        "ipAddress": text("IPAddress"),
        "appDisplayName": text("Application"),
        "clientAppUsed": text("LogonType"),
        "location": {"countryOrRegion": text("Location")},
        "status": status,
        "@warroom.from": "IdentityLogonEvents",
    })
}

fn log_analytics(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut time_generated = None;
    let mut result_type = None;
    let mut result_description = None;
    let has_location_details = map.contains_key("LocationDetails");
    for (key, value) in map {
        match key.as_str() {
            "TimeGenerated" => time_generated = Some(value),
            "ResultType" => result_type = Some(value),
            "ResultDescription" => result_description = Some(value),
            // The country alone, when `LocationDetails` is not there.
            "Location" if has_location_details => {}
            "Location" => {
                out.insert(
                    "location".into(),
                    serde_json::json!({ "countryOrRegion": value }),
                );
            }
            _ => {
                let name = RENAMED
                    .iter()
                    .find(|(from, _)| *from == key)
                    .map(|(_, to)| (*to).to_owned())
                    .unwrap_or_else(|| lower_first(&key));
                out.insert(name, unpack(value));
            }
        }
    }
    // AuditLogs rows name the activity twice; Graph's name wins.
    if !out.contains_key("activityDisplayName")
        && let Some(op) = out.get("operationName").cloned()
        && out.contains_key("targetResources")
    {
        out.insert("activityDisplayName".into(), op);
    }
    let is_audit = out.contains_key("activityDisplayName");
    let field = if is_audit {
        "activityDateTime"
    } else {
        "createdDateTime"
    };
    if let Some(t) = time_generated {
        out.entry(field).or_insert(t);
    }
    let is_sign_in = !is_audit
        && (result_type.is_some() || out.contains_key("status"))
        && (out.contains_key("userPrincipalName") || out.contains_key("appId"));
    if is_sign_in && !out.contains_key(field) {
        // Exports with no time column: the first authentication step's
        // time, else the sign-in is kept with no time.
        let step = out
            .get("authenticationDetails")
            .and_then(|d| d.get(0))
            .and_then(|d| d.get("authenticationStepDateTime"))
            .cloned()
            .unwrap_or(Value::Null);
        out.insert(field.into(), step);
    }
    // Sign-in tables: the error code is `ResultType` (text), and `Status`
    // may or may not be there.
    if !is_audit && (result_type.is_some() || result_description.is_some()) {
        let status = out
            .entry("status")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(status) = status {
            if let Some(code) = result_type.and_then(|v| number(&v)) {
                status.entry("errorCode").or_insert(Value::from(code));
            }
            if let Some(Value::String(text)) = result_description {
                status.entry("failureReason").or_insert(Value::String(text));
            }
        }
    }
    out
}

fn number(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// JSON columns exported as text (`"[{...}]"`) become JSON again.
pub(crate) fn unpack(value: Value) -> Value {
    match &value {
        Value::String(s) => {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('['))
                && let Ok(inner) = serde_json::from_str::<Value>(s)
            {
                return inner;
            }
            value
        }
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sentinel_rows_become_graph_records() {
        let audit = to_graph(json!({
            "TimeGenerated": "2021-08-02T13:29:25.983Z",
            "OperationName": "Update application – Certificates and secrets management ",
            "TargetResources": "[{\"displayName\":\"SimuLandApp\"}]",
            "InitiatedBy": "{\"user\":{\"userPrincipalName\":\"p@x\"}}",
            "Type": "AuditLogs",
        }));
        assert_eq!(audit["targetResources"][0]["displayName"], "SimuLandApp");
        assert_eq!(audit["initiatedBy"]["user"]["userPrincipalName"], "p@x");
        assert_eq!(audit["activityDateTime"], "2021-08-02T13:29:25.983Z");
        assert!(
            audit["activityDisplayName"]
                .as_str()
                .unwrap()
                .contains("Certificates")
        );
        let signin = to_graph(json!({
            "TimeGenerated": "2026-10-02T03:52:10Z", "ResultType": "50126",
            "UserPrincipalName": "a@x", "IPAddress": "203.0.113.1", "Type": "SigninLogs",
        }));
        assert_eq!(signin["status"]["errorCode"], 50126);
        assert_eq!(signin["ipAddress"], "203.0.113.1");
        assert_eq!(signin["userPrincipalName"], "a@x");
        let diag = to_graph(json!({
            "time": "2026-10-02T03:52:10Z", "category": "SignInLogs",
            "properties": {"id": "1", "userPrincipalName": "a@x", "status": {"errorCode": 0}},
        }));
        assert_eq!(diag["createdDateTime"], "2026-10-02T03:52:10Z");
        assert_eq!(diag["userPrincipalName"], "a@x");
        // Graph records pass through.
        let graph = json!({"id": "x", "createdDateTime": "t", "status": {}});
        assert_eq!(to_graph(graph.clone()), graph);
    }
}
