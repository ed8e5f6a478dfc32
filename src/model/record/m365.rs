//! Microsoft 365 audit records (the Unified Audit Log) in every shape they
//! are handed over in: the Office 365 Management Activity API's records
//! (PascalCase, also with lower-cased keys as some pipelines rewrite them),
//! Purview audit-search rows (the record in `AuditData`), Sentinel
//! `OfficeActivity` rows and Defender XDR `CloudAppEvents` rows. Each
//! becomes the Graph record of its meaning: an `auditLogRecord` (the
//! original under `auditData`), and for Entra ID's own records in the UAL a
//! `directoryAudit` (`Add member to role.`) or a sign-in (`UserLoggedIn`),
//! so the same detections read them.

use serde_json::{Map, Value, json};

/// O365 field names as the API writes them, for records whose keys were
/// lower-cased on the way (only those the engine or a responder reads).
const CANONICAL: &[&str] = &[
    "CreationTime",
    "Id",
    "Operation",
    "OrganizationId",
    "RecordType",
    "ResultStatus",
    "UserKey",
    "UserType",
    "Version",
    "Workload",
    "ClientIP",
    "ObjectId",
    "UserId",
    "Parameters",
    "OrganizationName",
    "OriginatingServer",
    "ExternalAccess",
    "AppId",
    "ClientAppId",
    "ClientIPAddress",
    "ClientInfoString",
    "MailboxOwnerUPN",
    "MailboxGuid",
    "LogonType",
    "OperationProperties",
    "Folders",
    "Item",
    "ModifiedProperties",
    "ExtendedProperties",
    "Actor",
    "Target",
    "ActorIpAddress",
    "ErrorNumber",
    "LogonError",
    "ApplicationId",
    "SessionId",
    "UserAgent",
    "AzureActiveDirectoryEventType",
    "SiteUrl",
    "SourceFileName",
    "TargetUserOrGroupName",
    "TargetUserOrGroupType",
    "EventSource",
    "ItemType",
    "AppAccessContext",
];

fn get<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    match get(map, name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether `map` is a Management Activity API record (any key case).
pub fn is_o365(map: &Map<String, Value>) -> bool {
    let has = |a: &str, b: &str| map.contains_key(a) || map.contains_key(b);
    has("CreationTime", "creationtime")
        && has("Operation", "operation")
        && (has("RecordType", "recordtype") || has("Workload", "workload"))
}

/// A Purview audit-search row: the record itself is in `AuditData`.
pub fn is_purview_row(map: &Map<String, Value>) -> bool {
    map.contains_key("AuditData")
        && (map.contains_key("RecordId") || map.contains_key("CreationDate"))
}

/// A Sentinel `OfficeActivity` row.
pub fn is_office_activity(map: &Map<String, Value>) -> bool {
    map.get("Type").and_then(Value::as_str) == Some("OfficeActivity")
        || (map.contains_key("OfficeWorkload") && map.contains_key("Operation"))
}

/// A Defender XDR `CloudAppEvents` row.
pub fn is_cloud_app_event(map: &Map<String, Value>) -> bool {
    let filled = |k: &str| text(map, k).is_some();
    filled("Timestamp")
        && filled("ActionType")
        && filled("Application")
        && (get(map, "RawEventData").is_some_and(|v| v != "") || filled("ActivityType"))
}

pub fn from_purview_row(mut row: Map<String, Value>) -> Value {
    let mut record = match row.remove("AuditData") {
        Some(Value::Object(record)) => record,
        Some(Value::String(text)) => match serde_json::from_str(&text) {
            Ok(Value::Object(record)) => record,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    // The row's own columns fill what the record lacks.
    for (from, to) in [
        ("RecordId", "Id"),
        ("CreationDate", "CreationTime"),
        ("Operation", "Operation"),
        ("Operations", "Operation"),
        ("UserId", "UserId"),
        ("UserIds", "UserId"),
        ("RecordType", "RecordType"),
    ] {
        if let Some(v) = row.remove(from) {
            record.entry(to).or_insert(v);
        }
    }
    from_o365(record)
}

pub fn from_office_activity(row: Map<String, Value>) -> Value {
    let mut record = Map::new();
    let mut time = None;
    for (key, value) in row {
        let value = super::unpack(value);
        match key.as_str() {
            // Log Analytics' own columns, and the `_` duplicates it adds.
            "Type" | "TenantId" | "SourceSystem" | "SourceRecordId" | "MG" => {}
            k if k.ends_with('_') => {}
            "TimeGenerated" => time = Some(value),
            "OfficeWorkload" => {
                record.insert("Workload".into(), value);
            }
            "OfficeId" => {
                record.insert("Id".into(), value);
            }
            "OfficeObjectId" => {
                record.insert("ObjectId".into(), value);
            }
            "Client_IPAddress" => {
                record.insert("ClientIPAddress".into(), value);
            }
            "Logon_Type" => {
                record.insert("LogonType".into(), value);
            }
            "Site_Url" => {
                record.insert("SiteUrl".into(), value);
            }
            _ => {
                record.insert(key, value);
            }
        }
    }
    if let Some(time) = time.or_else(|| record.get("Start_Time").cloned()) {
        record.entry("CreationTime").or_insert(time);
    }
    from_o365(record)
}

pub fn from_cloud_app_event(mut row: Map<String, Value>) -> Value {
    let raw = match row.get("RawEventData") {
        Some(Value::Object(raw)) => Some(raw.clone()),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(raw)) => Some(raw),
            _ => None,
        },
        _ => None,
    };
    if let Some(mut raw) = raw.filter(is_o365) {
        if let Some(t) = row.remove("Timestamp") {
            raw.entry("CreationTime").or_insert(t);
        }
        return from_o365(raw);
    }
    // The row's columns say the same in other words.
    let action = text(&row, "ActionType").unwrap_or_default();
    let application = text(&row, "Application").unwrap_or_default();
    let workload = if application.contains("Exchange") {
        "Exchange"
    } else if application.contains("SharePoint") || application.contains("OneDrive") {
        "SharePoint"
    } else if action.ends_with('.') {
        // Entra ID operations end in a full stop (`Add user.`).
        "AzureActiveDirectory"
    } else {
        "Unknown"
    };
    let mut record = Map::new();
    let mut put = |to: &str, from: &str| {
        if let Some(v) = get(&row, from) {
            record.entry(to).or_insert_with(|| v.clone());
        }
    };
    put("CreationTime", "Timestamp");
    put("Id", "ReportId");
    put("Operation", "ActionType");
    put("ClientIP", "IPAddress");
    put("ClientIPAddress", "IPAddress");
    put("AppId", "AppId");
    put("ClientAppId", "OAuthAppId");
    put("UserAgent", "UserAgent");
    put("ObjectId", "PermissionsAddedTo");
    put("ObjectId", "ObjectName");
    put("UserId", "UserId");
    put("UserId", "AccountUpn");
    put("UserId", "AccountDisplayName");
    if let Some(permissions) = text(&row, "Permissions") {
        record.insert(
            "ModifiedProperties".into(),
            json!([{"Name": "DelegatedPermissionGrant.Scope", "NewValue": permissions, "OldValue": ""}]),
        );
    }
    record.insert("Workload".into(), Value::from(workload));
    from_o365(record)
}

/// A Management Activity API record as the Graph record of its meaning.
pub fn from_o365(record: Map<String, Value>) -> Value {
    let record = canonical(record);
    let operation = text(&record, "Operation").unwrap_or_default();
    let workload = text(&record, "Workload").unwrap_or_default();
    let time = text(&record, "CreationTime").and_then(|t| crate::model::de::iso_from(&t));
    if workload == "AzureActiveDirectory"
        && matches!(operation.as_str(), "UserLoggedIn" | "UserLoginFailed")
    {
        return sign_in(&record, &operation, time);
    }
    if workload == "AzureActiveDirectory" {
        return directory_audit(&record, &operation, time);
    }
    let mut out = Map::new();
    out.insert(
        "id".into(),
        get(&record, "Id").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "createdDateTime".into(),
        time.map_or(Value::Null, Value::from),
    );
    out.insert("operation".into(), Value::from(operation));
    out.insert(
        "auditLogRecordType".into(),
        get(&record, "RecordType").cloned().unwrap_or(Value::Null),
    );
    out.insert("service".into(), Value::from(workload));
    for (to, from) in [
        ("userPrincipalName", "UserId"),
        ("userId", "UserKey"),
        ("objectId", "ObjectId"),
        ("organizationId", "OrganizationId"),
    ] {
        if let Some(v) = get(&record, from) {
            out.insert(to.into(), v.clone());
        }
    }
    if let Some(ip) = text(&record, "ClientIP").or_else(|| text(&record, "ClientIPAddress")) {
        out.insert("clientIp".into(), Value::from(without_port(&ip)));
    }
    out.insert("auditData".into(), Value::Object(record));
    Value::Object(out)
}

/// An address as Exchange writes it (`203.0.113.5:51234`,
/// `[2001:db8::1]:443`) without its port.
fn without_port(ip: &str) -> String {
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_owned();
    }
    match ip.rsplit_once(':') {
        // One colon: IPv4 with a port. More: a bare IPv6 address.
        Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host.to_owned()
        }
        _ => ip.to_owned(),
    }
}

/// Keys in the API's case, JSON held as text unpacked.
fn canonical(record: Map<String, Value>) -> Map<String, Value> {
    record
        .into_iter()
        .map(|(key, value)| {
            let key = match CANONICAL.iter().find(|c| c.eq_ignore_ascii_case(&key)) {
                Some(name) => (*name).to_owned(),
                None => key,
            };
            (key, super::unpack(value))
        })
        .collect()
}

fn sign_in(record: &Map<String, Value>, operation: &str, time: Option<String>) -> Value {
    let error = text(record, "ErrorNumber")
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(if operation == "UserLoggedIn" { 0 } else { -1 });
    let extended = |name: &str| {
        record
            .get("ExtendedProperties")
            .and_then(Value::as_array)
            .and_then(|list| list.iter().find(|p| p["Name"] == name))
            .and_then(|p| p["Value"].as_str())
            .map(str::to_owned)
    };
    let mut status = Map::new();
    if error >= 0 {
        status.insert("errorCode".into(), Value::from(error));
    }
    if let Some(reason) = text(record, "LogonError") {
        status.insert("failureReason".into(), Value::from(reason));
    }
    json!({
        "id": get(record, "Id"),
        "createdDateTime": time,
        "userPrincipalName": text(record, "UserId"),
        "ipAddress": text(record, "ActorIpAddress").or_else(|| text(record, "ClientIP")),
        "appId": text(record, "ApplicationId"),
        "userAgent": extended("UserAgent"),
        "status": status,
        "@warroom.from": "unified audit log",
    })
}

fn directory_audit(record: &Map<String, Value>, operation: &str, time: Option<String>) -> Value {
    let activity = operation.trim_end_matches('.').trim();
    let modified: Vec<Value> = record
        .get("ModifiedProperties")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|p| json!({"displayName": p["Name"], "oldValue": p["OldValue"], "newValue": p["NewValue"]}))
                .collect()
        })
        .unwrap_or_default();
    let object = text(record, "ObjectId").unwrap_or_default();
    let mut target = json!({"displayName": object, "modifiedProperties": modified});
    if object.contains('@') {
        target["userPrincipalName"] = Value::from(object.clone());
    }
    let result = match text(record, "ResultStatus").as_deref() {
        Some(s) if s.eq_ignore_ascii_case("failed") || s.eq_ignore_ascii_case("failure") => {
            "failure"
        }
        _ => "success",
    };
    let actor = text(record, "UserId").unwrap_or_default();
    json!({
        "id": get(record, "Id"),
        "activityDateTime": time,
        "activityDisplayName": activity,
        "result": result,
        "initiatedBy": {"user": {
            "userPrincipalName": actor,
            "ipAddress": text(record, "ActorIpAddress").or_else(|| text(record, "ClientIP")),
        }},
        "targetResources": [target],
        "additionalDetails": record.get("ExtendedProperties").cloned().unwrap_or(Value::Null),
        "@warroom.from": "unified audit log",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn exchange_records_become_audit_log_records() {
        let v = from_o365(obj(json!({
            "creationtime": "2022-12-12 22:19:00", "operation": "Set-Mailbox",
            "parameters": [{"Name": "ForwardingSmtpAddress", "Value": "smtp:x@y"}],
            "recordtype": 1, "userid": "homer@x", "workload": "Exchange", "clientip": "1.2.3.4",
        })));
        assert_eq!(v["operation"], "Set-Mailbox");
        assert_eq!(v["createdDateTime"], "2022-12-12T22:19:00Z");
        assert_eq!(
            v["auditData"]["Parameters"][0]["Name"],
            "ForwardingSmtpAddress"
        );
        assert_eq!(v["userPrincipalName"], "homer@x");
        assert_eq!(v["clientIp"], "1.2.3.4");
    }

    #[test]
    fn entra_records_in_the_ual_become_directory_audits_and_sign_ins() {
        let role = from_o365(obj(json!({
            "CreationTime": "2023-01-01T00:00:00", "Operation": "Add member to role.",
            "Workload": "AzureActiveDirectory", "RecordType": 8, "ObjectId": "john@x",
            "UserId": "admin@x", "ResultStatus": "Success",
            "ModifiedProperties": [{"Name": "Role.DisplayName", "NewValue": "Global Administrator", "OldValue": ""}],
        })));
        assert_eq!(role["activityDisplayName"], "Add member to role");
        assert_eq!(role["targetResources"][0]["userPrincipalName"], "john@x");
        assert_eq!(
            role["targetResources"][0]["modifiedProperties"][0]["newValue"],
            "Global Administrator"
        );
        let failed = from_o365(obj(json!({
            "CreationTime": "2023-01-01T00:00:00", "Operation": "UserLoginFailed",
            "Workload": "AzureActiveDirectory", "RecordType": 15, "UserId": "a@x",
            "ErrorNumber": "50126", "ActorIpAddress": "203.0.113.9",
        })));
        assert_eq!(failed["status"]["errorCode"], 50126);
        assert_eq!(failed["ipAddress"], "203.0.113.9");
    }

    #[test]
    fn client_addresses_lose_their_ports() {
        assert_eq!(without_port("185.73.124.135:12287"), "185.73.124.135");
        assert_eq!(
            without_port("[2a01:110:8068:7::1]:36185"),
            "2a01:110:8068:7::1"
        );
        assert_eq!(without_port("2603:10b6:5:345::11"), "2603:10b6:5:345::11");
        assert_eq!(without_port("1.2.3.4"), "1.2.3.4");
    }

    #[test]
    fn office_activity_rows_keep_their_record() {
        let v = from_office_activity(obj(json!({
            "TimeGenerated": "2021-08-02T13:32:07Z", "Operation": "MailItemsAccessed",
            "OfficeWorkload": "Exchange", "AppId": "00000003-0000-0000-c000-000000000000",
            "Client_IPAddress": "1.2.3.4", "UserId_": "dup", "Type": "OfficeActivity",
            "OperationProperties": "[{\"Name\":\"MailAccessType\",\"Value\":\"Bind\"}]",
        })));
        assert_eq!(
            v["auditData"]["AppId"],
            "00000003-0000-0000-c000-000000000000"
        );
        assert_eq!(v["auditData"]["ClientIPAddress"], "1.2.3.4");
        assert_eq!(v["auditData"]["OperationProperties"][0]["Value"], "Bind");
        assert!(v["auditData"].get("UserId_").is_none());
        assert_eq!(v["createdDateTime"], "2021-08-02T13:32:07Z");
    }
}
