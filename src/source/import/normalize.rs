//! Other shapes of the same records, brought into Graph's: Log Analytics /
//! Sentinel rows (`AuditLogs`, `SigninLogs` and the other sign-in tables:
//! PascalCase columns, JSON columns held as text, `ResultType` for the
//! error code) and Azure Monitor diagnostic-settings records (the event
//! under `properties`). Graph-shaped records pass through untouched.

use serde_json::{Map, Value};

/// Columns whose Log Analytics name is not Graph's name with a capital.
const RENAMED: &[(&str, &str)] = &[
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
];

/// A Graph-shaped record from whatever shape `value` has.
pub fn to_graph(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    // Diagnostic settings: {time, category, properties: {...}}.
    if map.contains_key("category")
        && let Some(Value::Object(props)) = map.get("properties")
        && (map.contains_key("time") || map.contains_key("operationName"))
    {
        let mut props = props.clone();
        if let Some(Value::String(time)) = map.get("time") {
            let field = if props.contains_key("activityDisplayName") {
                "activityDateTime"
            } else {
                "createdDateTime"
            };
            props
                .entry(field)
                .or_insert_with(|| Value::String(time.clone()));
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

fn log_analytics(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut time_generated = None;
    let mut result_type = None;
    let mut result_description = None;
    for (key, value) in map {
        match key.as_str() {
            "TimeGenerated" => time_generated = Some(value),
            "ResultType" => result_type = Some(value),
            "ResultDescription" => result_description = Some(value),
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
    if let Some(t) = time_generated {
        let field = if is_audit {
            "activityDateTime"
        } else {
            "createdDateTime"
        };
        out.entry(field).or_insert(t);
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
fn unpack(value: Value) -> Value {
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
