//! The writes remediation uses (and `addPassword`, which attackers use),
//! as Graph performs them: each changes the tenant and logs the directory
//! audit the real service logs, initiated by the caller. A delegated caller
//! must be a Global Administrator; an app-only caller must hold the
//! application permission Graph asks for (the responder app holds
//! Application.ReadWrite.All and read permissions, nothing else).

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::audit::{AuditSpec, Initiator, Target, audit};
use super::catalog;
use super::oauth::Caller;
use super::server::{ApiError, api_error};
use super::tenant::Tenant;
use super::time;

/// What a successful write answers.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// 204 No Content.
    NoContent,
    /// 200 with this body.
    Body(Value),
    /// 201 Created with the new object.
    Created(Value),
}

/// The write methods remediation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Post,
    Patch,
    Delete,
}

/// Where audits say a write came from.
const CALLER_IP: &str = "127.0.0.1";

fn denied() -> ApiError {
    api_error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

pub(super) fn missing(what: &str, id: &str) -> ApiError {
    api_error(
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{id}' does not exist or one of its queried reference-property objects are not present. ({what})"
        ),
    )
}

pub(super) fn bad_body(message: impl std::fmt::Display) -> ApiError {
    api_error(
        StatusCode::BAD_REQUEST,
        "Request_BadRequest",
        &format!("Invalid request body: {message}"),
    )
}

/// Who is writing: a signed-in user, or an app on its own.
#[derive(Clone, Copy)]
pub(super) enum Who {
    User(usize),
    App(usize),
}

/// The application permission (Microsoft Graph app role id) an app-only
/// caller needs for a write.
fn permission_for(method: Method, segments: &[&str]) -> &'static str {
    use catalog::graph_app_role as role;
    if let (Method::Post, Some(needs)) = (method, super::grants::permission_for(segments)) {
        return needs;
    }
    match (method, segments) {
        (Method::Post, ["users", _, "revokeSignInSessions"]) => {
            "77f3a031-c388-4f99-b373-dc68676a979e"
        }
        (Method::Patch, ["users", _]) => "3011c876-62b7-4ada-afa2-506cbbecc68c",
        (
            _,
            [
                "applications" | "servicePrincipals",
                _,
                "addPassword" | "removePassword",
            ],
        )
        | (Method::Patch, ["applications", _]) => role::APPLICATION_READ_WRITE_ALL,
        (_, ["oauth2PermissionGrants", ..]) => "8e8e4742-1d95-4f68-9d56-6ee75648c72a",
        (_, ["servicePrincipals", _, "appRoleAssignedTo", ..]) => {
            "06b708a9-e830-4db3-a914-8e69da51d44f"
        }
        (_, ["roleManagement", ..]) => role::ROLE_MANAGEMENT_READ_WRITE_DIRECTORY,
        _ => "7e05723c-0bb0-42da-be95-ae9f08a6e53c",
    }
}

/// The caller, if it may make this write: a Global Administrator signed
/// in, or an app holding `needs`.
fn actor(tenant: &Tenant, caller: &Caller, needs: &str) -> Result<Who, ApiError> {
    let Some(user) = caller.user else {
        let sp = tenant
            .service_principals
            .iter()
            .position(|s| s.app_id.eq_ignore_ascii_case(&caller.app_id))
            .ok_or_else(denied)?;
        let sp_id = tenant.service_principals[sp].id;
        let holds = tenant
            .app_role_assignments
            .iter()
            .any(|a| a.principal_id == sp_id && a.app_role_id == needs);
        return if holds {
            Ok(Who::App(sp))
        } else {
            Err(denied())
        };
    };
    let index = tenant
        .users
        .iter()
        .position(|u| u.id == user)
        .ok_or_else(denied)?;
    let is_admin = tenant
        .role_assignments
        .iter()
        .any(|r| r.principal_id == user && r.role_template_id == catalog::GLOBAL_ADMINISTRATOR);
    if is_admin {
        Ok(Who::User(index))
    } else {
        Err(denied())
    }
}

pub(super) struct Change<'a> {
    pub activity: &'a str,
    pub category: &'a str,
    pub operation: &'a str,
    pub targets: Vec<Target>,
    pub modified: Vec<(&'a str, String, String)>,
}

pub(super) fn log(tenant: &mut Tenant, actor: Who, change: Change<'_>) {
    let key = fastrand::u64(..);
    let initiator = match actor {
        Who::User(user) => Initiator::User {
            user: &tenant.users[user],
            ip: CALLER_IP,
        },
        Who::App(sp) => Initiator::App {
            sp: &tenant.service_principals[sp],
        },
    };
    let a = audit(AuditSpec {
        time_ms: time::now_ms(),
        key,
        activity: change.activity,
        category: change.category,
        service: "Core Directory",
        operation: change.operation,
        initiator,
        targets: change.targets,
        modified: change.modified,
        failed: false,
    });
    tenant.audits.push(a);
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyIdBody {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserPatch {
    account_enabled: Option<bool>,
    password_profile: Option<Value>,
}

/// A value as `modifiedProperties` shows it: a JSON array holding the text,
/// certificates cut to their first 48 characters.
/// Keys as an audit's `KeyDescription` lists them.
pub(crate) fn key_descriptions(credentials: &[super::directory::Credential]) -> String {
    let described: Vec<String> = credentials
        .iter()
        .map(|c| {
            let kind = match c.kind {
                super::directory::CredentialKind::Password => "Password",
                super::directory::CredentialKind::Certificate => "AsymmetricX509Cert",
            };
            format!(
                "[KeyIdentifier={},KeyType={kind},KeyUsage=Verify,DisplayName={}]",
                c.key_id, c.display
            )
        })
        .collect();
    serde_json::to_string(&described).unwrap_or_default()
}

fn audit_value(text: &str) -> String {
    let shown: String = text.chars().take(48).collect();
    serde_json::to_string(&[shown]).unwrap_or_default()
}

/// `removePassword`: drops the credential the body's `keyId` names.
fn remove_password(
    credentials: &mut Vec<super::directory::Credential>,
    body: &[u8],
) -> Result<String, ApiError> {
    let key: KeyIdBody = serde_json::from_slice(body).map_err(bad_body)?;
    let before = credentials.len();
    credentials.retain(|c| !c.key_id.to_string().eq_ignore_ascii_case(&key.key_id));
    if credentials.len() == before {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            &format!("No password credential with keyId '{}'.", key.key_id),
        ));
    }
    Ok(key.key_id)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NewPassword {
    display_name: Option<String>,
    end_date_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AddPasswordBody {
    password_credential: NewPassword,
}

/// `addPassword`: a new secret, shown once in the answer as Graph does,
/// and the audit Graph logs for it.
fn add_password(
    tenant: &mut Tenant,
    who: Who,
    collection: &str,
    id: &str,
    body: &[u8],
) -> Result<Outcome, ApiError> {
    use super::directory::{Credential, CredentialKind};
    let request: AddPasswordBody = if body.is_empty() {
        AddPasswordBody::default()
    } else {
        serde_json::from_slice(body).map_err(bad_body)?
    };
    let now = time::now_ms();
    let end = match request.password_credential.end_date_time.as_deref() {
        None => now + 730 * time::DAY,
        Some(text) => text
            .parse::<jiff::Timestamp>()
            .map_err(|_| bad_body("endDateTime is not a date and time"))?
            .as_millisecond(),
    };
    let secret: String = (0..40).map(|_| fastrand::alphanumeric()).collect();
    let display = request.password_credential.display_name.unwrap_or_default();
    let credential = Credential {
        key_id: super::ids::Guid::from_seed(fastrand::u64(..)),
        kind: CredentialKind::Password,
        display: display.clone(),
        start_ms: now,
        end_ms: end,
        hint: secret.chars().take(3).collect(),
    };
    let (credentials, name, kind, activity) = if collection == "applications" {
        let app = tenant
            .applications
            .iter_mut()
            .find(|a| a.id.to_string() == id)
            .ok_or_else(|| missing("application", id))?;
        (
            &mut app.credentials,
            app.display.clone(),
            "Application",
            "Update application – Certificates and secrets management ",
        )
    } else {
        let sp = tenant
            .service_principals
            .iter_mut()
            .find(|s| s.id.to_string() == id)
            .ok_or_else(|| missing("servicePrincipal", id))?;
        (
            &mut sp.credentials,
            sp.display.clone(),
            "ServicePrincipal",
            "Add service principal credentials",
        )
    };
    // An application's audit lists every key before and after; a service
    // principal's only the one added.
    let before = if kind == "Application" {
        key_descriptions(credentials)
    } else {
        "[]".into()
    };
    credentials.push(credential.clone());
    let after = if kind == "Application" {
        key_descriptions(credentials)
    } else {
        key_descriptions(std::slice::from_ref(&credential))
    };
    let key_id = credential.key_id.to_string();
    log(
        tenant,
        who,
        Change {
            activity,
            category: "ApplicationManagement",
            operation: "Update",
            targets: vec![Target::other(id.to_string(), name, kind)],
            modified: vec![("KeyDescription", before, after)],
        },
    );
    Ok(Outcome::Body(serde_json::json!({
        "customKeyIdentifier": null,
        "displayName": display,
        "endDateTime": time::iso(end),
        "hint": credential.hint,
        "keyId": key_id,
        "secretText": secret,
        "startDateTime": time::iso(now),
    })))
}

/// The `KeyDescription` change an audit shows for a removed credential.
fn key_removed(key_id: &str) -> Vec<(&'static str, String, String)> {
    vec![(
        "KeyDescription",
        audit_value(&format!("[KeyIdentifier={key_id}]")),
        "[]".into(),
    )]
}

/// Applies one write; `segments` is the path after the version.
pub fn apply(
    tenant: &mut Tenant,
    caller: &Caller,
    method: Method,
    segments: &[&str],
    body: &[u8],
) -> Result<Outcome, ApiError> {
    let who = actor(tenant, caller, permission_for(method, segments))?;
    match (method, segments) {
        (Method::Post, ["applications" | "servicePrincipals", id, "addPassword"]) => {
            add_password(tenant, who, segments[0], id, body)
        }
        (Method::Post, ["oauth2PermissionGrants"]) => super::grants::add_grant(tenant, who, body),
        (Method::Post, ["applications", id, "owners", "$ref"]) => {
            super::grants::add_owner(tenant, who, id, body)
        }
        (Method::Post, ["servicePrincipals", id, "appRoleAssignedTo"]) => {
            super::grants::add_app_role(tenant, who, id, body)
        }
        (Method::Post, ["roleManagement", "directory", "roleAssignments"]) => {
            super::grants::add_role(tenant, who, body)
        }
        (Method::Post, ["users", id, "revokeSignInSessions"]) => {
            let u = tenant
                .users
                .iter()
                .position(|u| u.id.to_string() == *id || u.upn.eq_ignore_ascii_case(id))
                .ok_or_else(|| missing("user", id))?;
            let before = tenant.users[u].refresh_tokens_valid_from_ms;
            let now = time::now_ms();
            tenant.users[u].refresh_tokens_valid_from_ms = now;
            let target = Target::user(&tenant.users[u]);
            log(
                tenant,
                who,
                Change {
                    activity: "Update user",
                    category: "UserManagement",
                    operation: "Update",
                    targets: vec![target],
                    modified: vec![(
                        "StsRefreshTokensValidFrom",
                        format!("[\"{}\"]", time::iso(before)),
                        format!("[\"{}\"]", time::iso(now)),
                    )],
                },
            );
            Ok(Outcome::Body(serde_json::json!({ "value": true })))
        }
        (Method::Patch, ["users", id]) => {
            let patch: UserPatch = serde_json::from_slice(body).map_err(bad_body)?;
            let u = tenant
                .users
                .iter()
                .position(|u| u.id.to_string() == *id || u.upn.eq_ignore_ascii_case(id))
                .ok_or_else(|| missing("user", id))?;
            if let Some(enabled) = patch.account_enabled {
                let before = tenant.users[u].enabled;
                tenant.users[u].enabled = enabled;
                let t = Target::user(&tenant.users[u]);
                log(
                    tenant,
                    who,
                    Change {
                        activity: if enabled {
                            "Enable account"
                        } else {
                            "Disable account"
                        },
                        category: "UserManagement",
                        operation: "Update",
                        targets: vec![t],
                        modified: vec![(
                            "AccountEnabled",
                            format!("[{before}]"),
                            format!("[{enabled}]"),
                        )],
                    },
                );
            }
            if let Some(profile) = &patch.password_profile {
                let password = profile["password"].as_str().unwrap_or("");
                if password.chars().count() < 8 {
                    return Err(bad_body(
                        "the password does not meet the complexity requirements",
                    ));
                }
                tenant.users[u].password_changed_ms = time::now_ms();
                let t = Target::user(&tenant.users[u]);
                log(
                    tenant,
                    who,
                    Change {
                        activity: "Reset user password",
                        category: "UserManagement",
                        operation: "Update",
                        targets: vec![t],
                        modified: vec![],
                    },
                );
            }
            Ok(Outcome::NoContent)
        }
        (Method::Post, ["applications", id, "removePassword"]) => {
            let app = tenant
                .applications
                .iter_mut()
                .find(|a| a.id.to_string() == *id)
                .ok_or_else(|| missing("application", id))?;
            let key_id = remove_password(&mut app.credentials, body)?;
            let target = Target::other(id.to_string(), app.display.clone(), "Application");
            log(
                tenant,
                who,
                Change {
                    activity: "Update application – Certificates and secrets management ",
                    category: "ApplicationManagement",
                    operation: "Update",
                    targets: vec![target],
                    modified: key_removed(&key_id),
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Post, ["servicePrincipals", id, "removePassword"]) => {
            let sp = tenant
                .service_principals
                .iter_mut()
                .find(|s| s.id.to_string() == *id)
                .ok_or_else(|| missing("servicePrincipal", id))?;
            let key_id = remove_password(&mut sp.credentials, body)?;
            let target = Target::other(id.to_string(), sp.display.clone(), "ServicePrincipal");
            log(
                tenant,
                who,
                Change {
                    activity: "Remove service principal credentials",
                    category: "ApplicationManagement",
                    operation: "Update",
                    targets: vec![target],
                    modified: key_removed(&key_id),
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Patch, ["applications", id]) => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct AppPatch {
                key_credentials: Option<Vec<Value>>,
            }
            let patch: AppPatch = serde_json::from_slice(body).map_err(bad_body)?;
            let Some(keep) = patch.key_credentials else {
                return Err(bad_body("only keyCredentials may be changed here"));
            };
            let keep: Vec<String> = keep
                .iter()
                .filter_map(|k| k["keyId"].as_str().map(str::to_lowercase))
                .collect();
            let app = tenant
                .applications
                .iter_mut()
                .find(|a| a.id.to_string() == *id)
                .ok_or_else(|| missing("application", id))?;
            app.credentials.retain(|c| {
                c.kind == super::directory::CredentialKind::Password
                    || keep.contains(&c.key_id.to_string())
            });
            let target = Target::other(id.to_string(), app.display.clone(), "Application");
            log(
                tenant,
                who,
                Change {
                    activity: "Update application – Certificates and secrets management ",
                    category: "ApplicationManagement",
                    operation: "Update",
                    targets: vec![target],
                    modified: vec![(
                        "KeyDescription",
                        "[\"(certificates)\"]".into(),
                        format!("{keep:?}"),
                    )],
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Delete, ["oauth2PermissionGrants", id]) => {
            let at = tenant
                .grants
                .iter()
                .position(|g| g.id == *id)
                .ok_or_else(|| missing("oauth2PermissionGrant", id))?;
            let grant = tenant.grants.remove(at);
            let display = tenant
                .service_principals
                .iter()
                .find(|s| s.id == grant.client_id)
                .map(|s| s.display.clone())
                .unwrap_or_default();
            log(
                tenant,
                who,
                Change {
                    activity: "Remove delegated permission grant",
                    category: "ApplicationManagement",
                    operation: "Unassign",
                    targets: vec![Target::other(
                        grant.client_id.to_string(),
                        display,
                        "ServicePrincipal",
                    )],
                    modified: vec![(
                        "DelegatedPermissionGrant.Scope",
                        format!("\"{}\"", grant.scope),
                        "\"\"".into(),
                    )],
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Delete, ["servicePrincipals", resource, "appRoleAssignedTo", id]) => {
            let at = tenant
                .app_role_assignments
                .iter()
                .position(|a| a.id == *id && a.resource_id.to_string() == *resource)
                .ok_or_else(|| missing("appRoleAssignment", id))?;
            let assignment = tenant.app_role_assignments.remove(at);
            log(
                tenant,
                who,
                Change {
                    activity: "Remove app role assignment from service principal",
                    category: "ApplicationManagement",
                    operation: "Unassign",
                    targets: vec![Target::other(
                        assignment.principal_id.to_string(),
                        assignment.principal_display.clone(),
                        "ServicePrincipal",
                    )],
                    modified: vec![(
                        "AppRole.Id",
                        format!("\"{}\"", assignment.app_role_id),
                        "\"\"".into(),
                    )],
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Delete, ["roleManagement", "directory", "roleAssignments", id]) => {
            let at = tenant
                .role_assignments
                .iter()
                .position(|r| r.id == *id)
                .ok_or_else(|| missing("roleAssignment", id))?;
            let assignment = tenant.role_assignments.remove(at);
            let role = catalog::ROLES
                .iter()
                .find(|r| r.0 == assignment.role_template_id)
                .map_or("", |r| r.1);
            let mut targets = Vec::new();
            if let Some(u) = tenant
                .users
                .iter()
                .find(|u| u.id == assignment.principal_id)
            {
                targets.push(Target::user(u));
            }
            targets.push(Target::other(assignment.role_template_id, role, "Role"));
            log(
                tenant,
                who,
                Change {
                    activity: "Remove member from role",
                    category: "RoleManagement",
                    operation: "Unassign",
                    targets,
                    modified: vec![("Role.DisplayName", format!("\"{role}\""), "\"\"".into())],
                },
            );
            Ok(Outcome::NoContent)
        }
        (Method::Patch, ["domains", domain, "federationConfiguration", fed_id]) => {
            let patch: serde_json::Map<String, Value> =
                serde_json::from_slice(body).map_err(bad_body)?;
            let fed = tenant
                .federations
                .iter_mut()
                .find(|f| f.domain.eq_ignore_ascii_case(domain) && f.id.to_string() == *fed_id)
                .ok_or_else(|| missing("internalDomainFederation", fed_id))?;
            // Check every field before changing anything: a refused
            // request leaves the trust as it was.
            let mut changes: Vec<(&str, Option<String>)> = Vec::new();
            for (field, value) in &patch {
                let text = value.as_str().map(str::to_owned);
                match (field.as_str(), &text) {
                    ("signingCertificate" | "issuerUri", None) => {
                        return Err(bad_body(format!("{field} must be a string")));
                    }
                    ("signingCertificate" | "issuerUri" | "nextSigningCertificate", _) => {
                        changes.push((field.as_str(), text))
                    }
                    (other, _) => {
                        return Err(bad_body(format!("'{other}' cannot be changed here")));
                    }
                }
            }
            let mut modified = Vec::new();
            for (field, new) in changes {
                let slot = match field {
                    "signingCertificate" => &mut fed.signing_certificate,
                    "issuerUri" => &mut fed.issuer_uri,
                    _ => fed.next_signing_certificate.get_or_insert_with(String::new),
                };
                let old = std::mem::replace(slot, new.clone().unwrap_or_default());
                if field == "nextSigningCertificate" && new.is_none() {
                    fed.next_signing_certificate = None;
                }
                let name = match field {
                    "signingCertificate" => "SigningCertificate",
                    "issuerUri" => "IssuerUri",
                    _ => "NextSigningCertificate",
                };
                modified.push((
                    name,
                    audit_value(&old),
                    audit_value(new.as_deref().unwrap_or("")),
                ));
            }
            let body = fed.json();
            let target = Target::other(domain.to_string(), domain.to_string(), "Domain");
            log(
                tenant,
                who,
                Change {
                    activity: "Set federation settings on domain",
                    category: "DirectoryManagement",
                    operation: "Update",
                    targets: vec![target],
                    modified,
                },
            );
            Ok(Outcome::Body(body))
        }
        (Method::Delete, ["domains", domain, "federationConfiguration", fed_id]) => {
            let at = tenant
                .federations
                .iter()
                .position(|f| f.domain.eq_ignore_ascii_case(domain) && f.id.to_string() == *fed_id)
                .ok_or_else(|| missing("internalDomainFederation", fed_id))?;
            tenant.federations.remove(at);
            if let Some(d) = tenant
                .domains
                .iter_mut()
                .find(|d| d.name.eq_ignore_ascii_case(domain))
            {
                d.federated = false;
            }
            log(
                tenant,
                who,
                Change {
                    activity: "Set domain authentication",
                    category: "DirectoryManagement",
                    operation: "Update",
                    targets: vec![Target::other(
                        domain.to_string(),
                        domain.to_string(),
                        "Domain",
                    )],
                    modified: vec![(
                        "AuthenticationType",
                        "[\"Federated\"]".into(),
                        "[\"Managed\"]".into(),
                    )],
                },
            );
            Ok(Outcome::NoContent)
        }
        _ => Err(api_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "This write is not supported here.",
        )),
    }
}
