//! Writes that give power rather than take it away: a delegated grant
//! (consent), an application permission, a directory role. Remediation
//! never makes these; an attacker does, and tests make them between two
//! snapshots to see the comparison catch them. Each answers 201 with the
//! new object and logs the audit Graph logs.

use axum::http::StatusCode;
use serde::Deserialize;

use super::audit::Target;
use super::directory::{AppRoleAssignment, PermissionGrant, RoleAssignment};
use super::server::{ApiError, api_error};
use super::tenant::Tenant;
use super::writes::{Change, Outcome, Who, bad_body, log, missing};
use super::{catalog, generate, ids::Guid, time};

fn guid(text: &str, what: &str) -> Result<Guid, ApiError> {
    Guid::parse(text).ok_or_else(|| {
        api_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!("Invalid value specified for property '{what}'."),
        )
    })
}

fn principal(tenant: &Tenant, id: Guid) -> Result<usize, ApiError> {
    tenant
        .service_principals
        .iter()
        .position(|s| s.id == id)
        .ok_or_else(|| missing("servicePrincipal", &id.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewGrant {
    client_id: String,
    consent_type: String,
    principal_id: Option<String>,
    resource_id: String,
    scope: String,
}

/// `POST /oauth2PermissionGrants`.
pub fn add_grant(tenant: &mut Tenant, who: Who, body: &[u8]) -> Result<Outcome, ApiError> {
    let new: NewGrant = serde_json::from_slice(body).map_err(bad_body)?;
    let client = principal(tenant, guid(&new.client_id, "clientId")?)?;
    let resource = principal(tenant, guid(&new.resource_id, "resourceId")?)?;
    let all = match new.consent_type.as_str() {
        "AllPrincipals" => true,
        "Principal" => false,
        other => return Err(bad_body(format!("consentType '{other}' is not known"))),
    };
    let principal_id = match (&new.principal_id, all) {
        (Some(p), false) => Some(guid(p, "principalId")?),
        (None, false) => return Err(bad_body("principalId is needed for consentType Principal")),
        _ => None,
    };
    let grant = PermissionGrant {
        id: generate::opaque_id(fastrand::u64(..)),
        client_id: tenant.service_principals[client].id,
        all_principals: all,
        principal_id,
        resource_id: tenant.service_principals[resource].id,
        scope: new.scope.clone(),
    };
    let json = grant.json();
    tenant.grants.push(grant);
    let sp = &tenant.service_principals[client];
    let target = Target::other(sp.id.to_string(), sp.display.clone(), "ServicePrincipal");
    log(
        tenant,
        who,
        Change {
            activity: "Add delegated permission grant",
            category: "ApplicationManagement",
            operation: "Assign",
            targets: vec![target],
            modified: vec![(
                "DelegatedPermissionGrant.Scope",
                String::new(),
                format!("\"{}\"", new.scope),
            )],
        },
    );
    Ok(Outcome::Created(json))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAppRole {
    principal_id: String,
    resource_id: String,
    app_role_id: String,
}

/// `POST /servicePrincipals/{resource}/appRoleAssignedTo`.
pub fn add_app_role(
    tenant: &mut Tenant,
    who: Who,
    resource: &str,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let new: NewAppRole = serde_json::from_slice(body).map_err(bad_body)?;
    if !new.resource_id.eq_ignore_ascii_case(resource) {
        return Err(bad_body(
            "resourceId differs from the service principal addressed",
        ));
    }
    let to = principal(tenant, guid(&new.principal_id, "principalId")?)?;
    let on = principal(tenant, guid(resource, "resourceId")?)?;
    let role = tenant.service_principals[on]
        .app_roles
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&new.app_role_id))
        .map(|(id, _)| *id)
        .ok_or_else(|| bad_body("the resource has no app role with that id"))?;
    let (principal, resource) = (
        &tenant.service_principals[to],
        &tenant.service_principals[on],
    );
    let assignment = AppRoleAssignment {
        id: generate::opaque_id(fastrand::u64(..)),
        principal_id: principal.id,
        principal_display: principal.display.clone(),
        resource_id: resource.id,
        resource_display: resource.display.clone(),
        app_role_id: role,
        created_ms: time::now_ms(),
    };
    let json = assignment.json();
    let target = Target::other(
        principal.id.to_string(),
        principal.display.clone(),
        "ServicePrincipal",
    );
    tenant.app_role_assignments.push(assignment);
    log(
        tenant,
        who,
        Change {
            activity: "Add app role assignment to service principal",
            category: "ApplicationManagement",
            operation: "Assign",
            targets: vec![target],
            modified: vec![("AppRole.Id", String::new(), format!("\"{role}\""))],
        },
    );
    Ok(Outcome::Created(json))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewRoleAssignment {
    principal_id: String,
    role_definition_id: String,
    directory_scope_id: Option<String>,
}

/// `POST /roleManagement/directory/roleAssignments`: a standing
/// assignment, made outside PIM.
pub fn add_role(tenant: &mut Tenant, who: Who, body: &[u8]) -> Result<Outcome, ApiError> {
    let new: NewRoleAssignment = serde_json::from_slice(body).map_err(bad_body)?;
    if new.directory_scope_id.as_deref().unwrap_or("/") != "/" {
        return Err(bad_body("only directoryScopeId '/' is emulated"));
    }
    let principal_id = guid(&new.principal_id, "principalId")?;
    let user = tenant
        .users
        .iter()
        .position(|u| u.id == principal_id)
        .ok_or_else(|| missing("user", &new.principal_id))?;
    let (role, role_name) = catalog::ROLES
        .iter()
        .find(|r| r.0.eq_ignore_ascii_case(&new.role_definition_id))
        .map(|r| (r.0, r.1))
        .ok_or_else(|| missing("roleDefinition", &new.role_definition_id))?;
    let assignment = RoleAssignment {
        id: format!("{:x}", fastrand::u64(..)),
        principal_id,
        role_template_id: role,
        created_ms: time::now_ms(),
        activated_until_ms: None,
    };
    let json = assignment.json();
    tenant.role_assignments.push(assignment);
    let mut member = Target::user(&tenant.users[user]);
    member.kind = "User";
    log(
        tenant,
        who,
        Change {
            activity: "Add member to role",
            category: "RoleManagement",
            operation: "Assign",
            targets: vec![member, Target::other(role, role_name, "Role")],
            modified: vec![(
                "Role.DisplayName",
                String::new(),
                format!("\"{role_name}\""),
            )],
        },
    );
    Ok(Outcome::Created(json))
}

#[derive(Deserialize)]
struct NewReference {
    #[serde(rename = "@odata.id")]
    id: String,
}

/// `POST /applications/{id}/owners/$ref`: a user made owner of an app
/// registration, who may then add credentials to it.
pub fn add_owner(
    tenant: &mut Tenant,
    who: Who,
    app: &str,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let reference: NewReference = serde_json::from_slice(body).map_err(bad_body)?;
    let user_id = reference
        .id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    let user_id = guid(user_id, "@odata.id")?;
    let user = tenant
        .users
        .iter()
        .position(|u| u.id == user_id)
        .ok_or_else(|| missing("user", &user_id.to_string()))?;
    let at = tenant
        .applications
        .iter()
        .position(|a| a.id.to_string() == app)
        .ok_or_else(|| missing("application", app))?;
    if tenant.applications[at].owners.contains(&user_id) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'owners'.",
        ));
    }
    tenant.applications[at].owners.push(user_id);
    let target = Target::other(
        app.to_owned(),
        tenant.applications[at].display.clone(),
        "Application",
    );
    let mut owner = Target::user(&tenant.users[user]);
    owner.kind = "User";
    log(
        tenant,
        who,
        Change {
            activity: "Add owner to application",
            category: "ApplicationManagement",
            operation: "Assign",
            targets: vec![owner, target],
            modified: Vec::new(),
        },
    );
    Ok(Outcome::NoContent)
}

/// The Graph app role an app-only caller needs for these writes, if the
/// path is one of them.
pub fn permission_for(segments: &[&str]) -> Option<&'static str> {
    match segments {
        ["applications", _, "owners", "$ref"] => {
            Some(catalog::graph_app_role::APPLICATION_READ_WRITE_ALL)
        }
        ["oauth2PermissionGrants"] => Some("8e8e4742-1d95-4f68-9d56-6ee75648c72a"),
        ["servicePrincipals", _, "appRoleAssignedTo"] => {
            Some("06b708a9-e830-4db3-a914-8e69da51d44f")
        }
        ["roleManagement", "directory", "roleAssignments"] => {
            Some(catalog::graph_app_role::ROLE_MANAGEMENT_READ_WRITE_DIRECTORY)
        }
        _ => None,
    }
}
