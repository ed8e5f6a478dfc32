//! Builders for directory audits and risk detections in their Graph shapes.

use serde_json::{Value, json};

use super::directory::{ServicePrincipal, User};
use super::ids::{Guid, mix};
use super::tenant::{Audit, RiskDetection};
use super::time::iso;

/// Who performed an audited operation.
pub enum Initiator<'a> {
    User { user: &'a User, ip: &'a str },
    App { sp: &'a ServicePrincipal },
}

/// What an audited operation touched.
pub struct Target {
    pub id: String,
    pub display: String,
    pub kind: &'static str,
    pub upn: Option<String>,
}

impl Target {
    pub fn user(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            display: u.display.clone(),
            kind: "User",
            upn: Some(u.upn.clone()),
        }
    }

    pub fn other(id: impl Into<String>, display: impl Into<String>, kind: &'static str) -> Self {
        Self {
            id: id.into(),
            display: display.into(),
            kind,
            upn: None,
        }
    }
}

pub struct AuditSpec<'a> {
    pub time_ms: i64,
    pub key: u64,
    pub activity: &'a str,
    pub category: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub initiator: Initiator<'a>,
    pub targets: Vec<Target>,
    /// (property, old value, new value), values already JSON-encoded text.
    pub modified: Vec<(&'a str, String, String)>,
    pub failed: bool,
}

pub fn audit(spec: AuditSpec<'_>) -> Audit {
    let correlation = Guid::from_seed(mix(spec.key ^ 0xa0d1));
    let id = format!(
        "Directory_{}_{:X}_{}",
        correlation,
        mix(spec.key) & 0xff_ffff,
        spec.key % 1_000_000_000
    );
    let initiated_by = match &spec.initiator {
        Initiator::User { user, ip } => json!({
            "app": null,
            "user": {
                "id": user.id.to_string(),
                "displayName": null,
                "userPrincipalName": user.upn,
                "ipAddress": ip,
                "userType": null,
                "homeTenantId": null,
                "homeTenantName": null,
            },
        }),
        Initiator::App { sp } => json!({
            "user": null,
            "app": {
                "appId": sp.app_id,
                "displayName": sp.display,
                "servicePrincipalId": sp.id.to_string(),
                "servicePrincipalName": sp.display,
            },
        }),
    };
    let modified: Vec<Value> = spec
        .modified
        .iter()
        .map(|(name, old, new)| json!({ "displayName": name, "oldValue": old, "newValue": new }))
        .collect();
    let targets: Vec<Value> = spec
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "id": t.id,
                "displayName": t.display,
                "type": t.kind,
                "userPrincipalName": t.upn,
                "groupType": null,
                // Graph lists changed properties on the first target.
                "modifiedProperties": if i == 0 { Value::Array(modified.clone()) } else { json!([]) },
            })
        })
        .collect();
    let json = json!({
        "id": id,
        "category": spec.category,
        "correlationId": correlation.to_string(),
        "result": if spec.failed { "failure" } else { "success" },
        "resultReason": "",
        "activityDisplayName": spec.activity,
        "activityDateTime": iso(spec.time_ms),
        "loggedByService": spec.service,
        "operationType": spec.operation,
        "initiatedBy": initiated_by,
        "targetResources": targets,
        "additionalDetails": [],
    });
    Audit {
        time_ms: spec.time_ms,
        id,
        activity: spec.activity.to_owned(),
        category: spec.category.to_owned(),
        json,
    }
}

pub struct RiskSpec<'a> {
    pub time_ms: i64,
    pub detected_ms: i64,
    pub key: u64,
    pub user: &'a User,
    pub event_type: &'a str,
    pub level: &'a str,
    pub ip: &'a str,
    pub city: &'a str,
    pub country: &'a str,
    pub token_issuer: &'a str,
    pub request_id: String,
}

pub fn risk(spec: RiskSpec<'_>) -> RiskDetection {
    let id = format!(
        "{:064x}",
        u128::from(mix(spec.key)) << 64 | u128::from(mix(spec.key ^ 1))
    );
    let json = json!({
        "@odata.type": "#microsoft.graph.riskDetection",
        "id": id,
        "requestId": spec.request_id,
        "correlationId": Guid::from_seed(mix(spec.key ^ 2)).to_string(),
        "riskEventType": spec.event_type,
        "riskState": "atRisk",
        "riskLevel": spec.level,
        "riskDetail": "none",
        "source": "IdentityProtection",
        "detectionTimingType": "offline",
        "activity": "signin",
        "tokenIssuerType": spec.token_issuer,
        "ipAddress": spec.ip,
        "activityDateTime": iso(spec.time_ms),
        "detectedDateTime": iso(spec.detected_ms),
        "lastUpdatedDateTime": iso(spec.detected_ms),
        "userId": spec.user.id.to_string(),
        "userDisplayName": spec.user.display,
        "userPrincipalName": spec.user.upn,
        "additionalInfo": "[{\"Key\":\"userAgent\",\"Value\":\"\"}]",
        "location": {
            "city": spec.city,
            "state": null,
            "countryOrRegion": spec.country,
            "geoCoordinates": null,
        },
    });
    RiskDetection {
        time_ms: spec.time_ms,
        id,
        json,
    }
}
