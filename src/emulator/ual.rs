//! The Unified Audit Log as Graph serves it through the asynchronous
//! `security/auditLog/queries` API: a query is created, runs for a moment,
//! then its records are paged. Records carry `auditData` in the shape the
//! Office 365 Management API uses.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::ids::{Guid, mix};
use super::time::iso;

/// How long a query stays `notStarted`, then `running`, before it succeeds.
pub const QUEUED: Duration = Duration::from_millis(300);
pub const RUNNING: Duration = Duration::from_millis(1200);

#[derive(Clone, Debug)]
pub struct UalRecord {
    pub time_ms: i64,
    pub id: String,
    pub record_type: &'static str,
    pub operation: String,
    pub upn: String,
    pub ip: String,
    pub object_id: String,
    pub service: &'static str,
    /// The record as JSON text: compact, and what keyword search reads.
    pub json: Box<str>,
}

pub struct RecordSpec<'a> {
    pub time_ms: i64,
    pub key: u64,
    pub tenant_id: &'a str,
    pub record_type: &'static str,
    /// The Office 365 Management API's numeric RecordType.
    pub record_type_number: u32,
    pub workload: &'static str,
    pub operation: &'a str,
    pub user_id: &'a str,
    pub upn: &'a str,
    pub user_type: &'a str,
    pub ip: &'a str,
    pub object_id: &'a str,
    /// Operation-specific fields merged into `auditData`.
    pub details: Value,
}

pub fn record(spec: RecordSpec<'_>) -> UalRecord {
    let id = Guid::from_seed(mix(spec.key ^ 0x0a1)).to_string();
    let mut audit_data = json!({
        "CreationTime": iso(spec.time_ms).trim_end_matches('Z'),
        "Id": id,
        "Operation": spec.operation,
        "OrganizationId": spec.tenant_id,
        "RecordType": spec.record_type_number,
        "ResultStatus": "Succeeded",
        "UserKey": spec.user_id,
        "UserType": 0,
        "Version": 1,
        "Workload": spec.workload,
        "UserId": spec.upn,
        "ClientIPAddress": spec.ip,
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut audit_data, spec.details) {
        base.extend(extra);
    }
    audit_data["@odata.type"] = Value::from("#microsoft.graph.security.defaultAuditData");
    let json = json!({
        "@odata.type": "#microsoft.graph.security.auditLogRecord",
        "id": id,
        "createdDateTime": iso(spec.time_ms),
        "auditLogRecordType": spec.record_type,
        "operation": spec.operation,
        "organizationId": spec.tenant_id,
        "userType": spec.user_type,
        "userId": spec.user_id,
        "service": spec.workload,
        "objectId": spec.object_id,
        "userPrincipalName": spec.upn,
        "clientIp": spec.ip,
        "administrativeUnits": [],
        "auditData": audit_data,
    });
    UalRecord {
        time_ms: spec.time_ms,
        id,
        record_type: spec.record_type,
        operation: spec.operation.to_owned(),
        upn: spec.upn.to_owned(),
        ip: spec.ip.to_owned(),
        object_id: spec.object_id.to_owned(),
        service: spec.workload,
        json: json.to_string().into_boxed_str(),
    }
}

/// The body of `POST security/auditLog/queries`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryRequest {
    pub display_name: Option<String>,
    pub filter_start_date_time: Option<String>,
    pub filter_end_date_time: Option<String>,
    pub record_type_filters: Vec<String>,
    pub keyword_filter: Option<String>,
    pub service_filter: Option<String>,
    pub operation_filters: Vec<String>,
    pub user_principal_name_filters: Vec<String>,
    pub ip_address_filters: Vec<String>,
    pub object_id_filters: Vec<String>,
    pub administrative_unit_id_filters: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct AuditQuery {
    pub id: String,
    pub request: QueryRequest,
    pub from_ms: i64,
    pub to_ms: i64,
    pub created: Instant,
}

impl AuditQuery {
    pub fn status(&self, now: Instant) -> &'static str {
        let age = now.duration_since(self.created);
        if age < QUEUED {
            "notStarted"
        } else if age < QUEUED + RUNNING {
            "running"
        } else {
            "succeeded"
        }
    }

    pub fn json(&self, now: Instant) -> Value {
        let r = &self.request;
        json!({
            "@odata.type": "#microsoft.graph.security.auditLogQuery",
            "id": self.id,
            "displayName": r.display_name,
            "filterStartDateTime": r.filter_start_date_time,
            "filterEndDateTime": r.filter_end_date_time,
            "recordTypeFilters": r.record_type_filters,
            "keywordFilter": r.keyword_filter,
            "serviceFilter": r.service_filter,
            "operationFilters": r.operation_filters,
            "userPrincipalNameFilters": r.user_principal_name_filters,
            "ipAddressFilters": r.ip_address_filters,
            "objectIdFilters": r.object_id_filters,
            "administrativeUnitIdFilters": r.administrative_unit_id_filters,
            "status": self.status(now),
        })
    }

    pub fn matches(&self, record: &UalRecord) -> bool {
        let r = &self.request;
        let any = |filters: &[String], value: &str| {
            filters.is_empty() || filters.iter().any(|f| f.eq_ignore_ascii_case(value))
        };
        record.time_ms >= self.from_ms
            && record.time_ms < self.to_ms
            && any(&r.record_type_filters, record.record_type)
            && any(&r.operation_filters, &record.operation)
            && any(&r.user_principal_name_filters, &record.upn)
            && any(&r.ip_address_filters, &record.ip)
            && any(&r.object_id_filters, &record.object_id)
            && r.service_filter
                .as_deref()
                .is_none_or(|s| record.service.eq_ignore_ascii_case(s))
            && r.keyword_filter
                .as_deref()
                .is_none_or(|k| record.json.to_lowercase().contains(&k.to_lowercase()))
    }
}
