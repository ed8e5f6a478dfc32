//! The `hardened` scenario: the same company with its security debt paid
//! off, set up the way the posture baselines ask: cloud-only
//! administrators eligible through PIM, two tested emergency access
//! accounts, the conditional access policies the guidance lists, no app
//! holding more than it needs, and the federation trust refusing the
//! federation server's word for MFA. Every posture check passes on it.

use serde_json::{Value, json};

use super::apps::service_principal;
use super::catalog;
use super::directory::{PrincipalType, RoleAssignment, RoleEligibility};
use super::generate::{Build, INITIAL_DOMAIN, user, who};
use super::time::{DAY, HOUR};
use crate::model::well_known::{ADMIN_TOOLS, PHISHING_RESISTANT_STRENGTH as PHISHING_RESISTANT};

/// Application permissions no app of a hardened tenant holds.
const HIGH_RISK_ROLES: &[&str] = &[
    catalog::graph_app_role::MAIL_READ,
    catalog::graph_app_role::MAIL_READ_WRITE,
    catalog::graph_app_role::FILES_READ_ALL,
    catalog::graph_app_role::ROLE_MANAGEMENT_READ_WRITE_DIRECTORY,
    catalog::graph_app_role::APPLICATION_READ_WRITE_ALL,
    catalog::EXCHANGE_FULL_ACCESS_AS_APP,
];

pub fn harden(b: &mut Build) {
    let second = user(
        b,
        "Break Glass 02",
        &format!("bg-admin02@{INITIAL_DOMAIN}"),
        false,
        "Emergency access",
        "IT",
    );
    let emergency = [who::BREAK_GLASS, second];
    // Day-to-day administration in a narrower role, from a cloud-only
    // account.
    let messaging = user(
        b,
        "Grady Archie (admin)",
        &format!("adm-grady@{INITIAL_DOMAIN}"),
        false,
        "Messaging Engineer",
        "IT",
    );
    roles(b, &emergency, messaging);
    conditional_access(b, &emergency);
    apps(b);
    if let Some(federation) = b.tenant.federations.first_mut() {
        federation.mfa_behavior = "rejectMfaByFederatedIdp";
    }
    b.tenant.users[who::STALE_GUEST].last_sign_in_ms = Some(b.end_ms - 3 * DAY);
    b.tenant.policies = super::policies::Policies::hardened(
        &super::time::iso(b.start_ms - 100 * DAY),
        &b.tenant.users[who::ADELE].id.to_string(),
        &b.tenant.id.to_string(),
    );
    b.tenant.answer_key.debt = Vec::new();
}

/// Administrators are cloud-only and eligible through PIM; the two
/// emergency accounts hold Global Administrator standing, sign in with
/// FIDO2 and were tested this month.
fn roles(b: &mut Build, emergency: &[usize], messaging: usize) {
    let synced: Vec<_> = b
        .tenant
        .users
        .iter()
        .filter(|u| u.synced)
        .map(|u| u.id)
        .collect();
    let adele = b.tenant.users[who::ADELE].id;
    b.tenant
        .role_assignments
        .retain(|a| !synced.contains(&a.principal_id) && a.principal_id != adele);
    b.tenant
        .role_eligibilities
        .retain(|e| !synced.contains(&e.principal_id));
    let id = b.ids.next_guid();
    b.tenant.role_eligibilities.push(RoleEligibility {
        id,
        principal_id: adele,
        role_template_id: catalog::GLOBAL_ADMINISTRATOR,
        start_ms: b.start_ms - 400 * DAY,
        end_ms: b.end_ms + 365 * DAY,
    });
    let adele = &mut b.tenant.users[who::ADELE];
    adele.methods = vec!["password", "fido2", "microsoftAuthenticator"];
    adele.last_sign_in_ms = Some(b.end_ms - 2 * HOUR);
    let grady = &mut b.tenant.users[messaging];
    grady.methods = vec!["password", "fido2"];
    grady.last_sign_in_ms = Some(b.end_ms - 5 * HOUR);
    let principal_id = grady.id;
    let id = b.ids.next_guid();
    b.tenant.role_eligibilities.push(RoleEligibility {
        id,
        principal_id,
        role_template_id: catalog::EXCHANGE_ADMINISTRATOR,
        start_ms: b.start_ms - 200 * DAY,
        end_ms: b.end_ms + 365 * DAY,
    });
    let second = emergency[1];
    let principal_id = b.tenant.users[second].id;
    b.tenant.role_assignments.push(RoleAssignment {
        id: format!("{:x}", super::ids::mix(principal_id.0 as u64)),
        principal_id,
        role_template_id: catalog::GLOBAL_ADMINISTRATOR,
        created_ms: b.start_ms - 300 * DAY,
        activated_until_ms: None,
    });
    for &account in emergency {
        let user = &mut b.tenant.users[account];
        user.methods = vec!["password", "fido2"];
        user.last_sign_in_ms = Some(b.end_ms - 12 * DAY);
    }
}

fn policy(b: &mut Build, name: &str, conditions: Value, grant: Value) -> Value {
    json!({
        "id": b.ids.next_guid().to_string(),
        "displayName": name,
        "state": "enabled",
        "createdDateTime": super::time::iso(b.start_ms - 300 * DAY),
        "modifiedDateTime": null,
        "sessionControls": null,
        "conditions": conditions,
        "grantControls": grant,
    })
}

/// The policies the baselines ask for, each leaving out only the two
/// emergency access accounts.
fn conditional_access(b: &mut Build, emergency: &[usize]) {
    let excluded: Vec<String> = emergency
        .iter()
        .map(|&i| b.tenant.users[i].id.to_string())
        .collect();
    let everyone = json!({"includeUsers": ["All"], "excludeUsers": excluded});
    let every_app = json!({"includeApplications": ["All"]});
    let all_clients = json!(["all"]);
    let grant = |controls: &[&str]| json!({"operator": "OR", "builtInControls": controls});
    let mut policies = Vec::new();
    let specs = [
        (
            "Require MFA for all users",
            json!({"clientAppTypes": all_clients, "users": everyone, "applications": every_app}),
            grant(&["mfa"]),
        ),
        (
            "Block legacy authentication",
            json!({"clientAppTypes": ["exchangeActiveSync", "other"], "users": everyone, "applications": every_app}),
            grant(&["block"]),
        ),
        (
            "High user risk: change password",
            json!({"clientAppTypes": all_clients, "users": everyone, "applications": every_app, "userRiskLevels": ["high"]}),
            json!({"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}),
        ),
        (
            "High sign-in risk: block",
            json!({"clientAppTypes": all_clients, "users": everyone, "applications": every_app, "signInRiskLevels": ["high"]}),
            grant(&["block"]),
        ),
        (
            "Block device code flow and authentication transfer",
            json!({"clientAppTypes": all_clients, "users": everyone, "applications": every_app,
                "authenticationFlows": {"transferMethods": "deviceCodeFlow,authenticationTransfer"}}),
            grant(&["block"]),
        ),
        (
            "Registering security info needs MFA",
            json!({"clientAppTypes": all_clients, "users": everyone,
                "applications": {"includeApplications": [], "includeUserActions": ["urn:user:registersecurityinfo"]}}),
            grant(&["mfa"]),
        ),
        (
            "Phishing-resistant MFA for administrators",
            json!({"clientAppTypes": all_clients,
                "users": {"includeRoles": [catalog::GLOBAL_ADMINISTRATOR, catalog::EXCHANGE_ADMINISTRATOR], "excludeUsers": excluded},
                "applications": every_app}),
            json!({"operator": "OR", "builtInControls": [],
                "authenticationStrength": {"id": PHISHING_RESISTANT, "displayName": "Phishing-resistant MFA"}}),
        ),
    ];
    for (name, conditions, grant) in specs {
        policies.push(policy(b, name, conditions, grant));
    }
    b.tenant.ca_policies = policies;
}

/// No app holds high-risk permissions, multi-tenant apps are locked, and
/// Microsoft's administration tools need assignment.
fn apps(b: &mut Build) {
    b.tenant
        .app_role_assignments
        .retain(|a| !HIGH_RISK_ROLES.contains(&a.app_role_id));
    b.tenant.grants.retain(|g| {
        !g.scope.split_whitespace().any(|s| {
            s.starts_with("Mail.") || s.starts_with("Files.") || s.ends_with("ReadWrite.All")
        })
    });
    for app in &mut b.tenant.applications {
        app.instance_lock = app.multi_tenant;
    }
    for (app_id, name) in ADMIN_TOOLS {
        let at = service_principal(
            b,
            name,
            app_id,
            catalog::MICROSOFT_TENANT,
            PrincipalType::Application,
            b.start_ms - 300 * DAY,
        );
        b.tenant.service_principals[at].assignment_required = true;
    }
}
