//! Everything the emulated tenant holds: the directory, the logs, the
//! responder app this run's credentials belong to, and the answer key.

use serde::Serialize;
use serde_json::Value;

use super::directory::{
    AppRoleAssignment, Application, Domain, Federation, Group, PermissionGrant, RoleAssignment,
    RoleEligibility, ServicePrincipal, User,
};
use super::ids::Guid;
use super::signins::SignInLog;

/// A directory audit, kept as its Graph JSON with the fields filters need.
#[derive(Clone, Debug)]
pub struct Audit {
    pub time_ms: i64,
    pub id: String,
    pub activity: String,
    pub category: String,
    pub json: Value,
}

/// A risk detection, kept as its Graph JSON.
#[derive(Clone, Debug)]
pub struct RiskDetection {
    pub time_ms: i64,
    pub id: String,
    pub json: Value,
}

/// The app registered for the responder in this run (client credentials).
#[derive(Clone, Debug)]
pub struct Responder {
    pub app_id: Guid,
    pub secret: String,
    /// DER certificates registered for certificate client assertions.
    pub certificates: Vec<Vec<u8>>,
}

/// What is malicious in a scenario, and the tenant's own security debt, for
/// tests that check detections and posture findings against the truth.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AnswerKey {
    pub scenario: String,
    pub malicious_users: Vec<String>,
    pub malicious_apps: Vec<String>,
    pub malicious_ips: Vec<String>,
    pub sign_in_ids: Vec<String>,
    pub audit_ids: Vec<String>,
    pub risk_detection_ids: Vec<String>,
    /// Unified Audit Log record ids (mail read by the backdoored app, the
    /// inbox rule).
    pub ual_ids: Vec<String>,
    pub debt: Vec<Debt>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Debt {
    pub kind: &'static str,
    pub object: String,
    pub note: String,
}

#[derive(Debug)]
pub struct Tenant {
    pub id: Guid,
    pub display: String,
    pub initial_domain: String,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub applications: Vec<Application>,
    pub service_principals: Vec<ServicePrincipal>,
    pub app_role_assignments: Vec<AppRoleAssignment>,
    pub grants: Vec<PermissionGrant>,
    pub role_assignments: Vec<RoleAssignment>,
    pub role_eligibilities: Vec<RoleEligibility>,
    pub domains: Vec<Domain>,
    pub federations: Vec<Federation>,
    pub ca_policies: Vec<Value>,
    /// Security defaults; off wherever conditional access is in use.
    pub security_defaults_enabled: bool,
    /// The authorization, admin consent and authentication methods policies.
    pub policies: super::policies::Policies,
    pub signins: SignInLog,
    /// Sorted by time.
    pub audits: Vec<Audit>,
    /// Sorted by time.
    pub risks: Vec<RiskDetection>,
    /// Unified Audit Log records, sorted by time.
    pub ual: Vec<super::ual::UalRecord>,
    pub responder: Responder,
    pub answer_key: AnswerKey,
    /// What `--live` uses to keep events coming.
    pub live: super::live::LiveSource,
}

impl Tenant {
    /// Accepts the tenant id or any verified domain name, as the token
    /// endpoint does.
    pub fn is_named(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case(&self.id.to_string())
            || self
                .domains
                .iter()
                .any(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.id.to_string() == id || u.upn.eq_ignore_ascii_case(id))
    }

    pub fn service_principal(&self, id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .iter()
            .find(|s| s.id.to_string() == id)
    }
}
