//! The directory of the emulated tenant: users, groups, applications,
//! service principals, grants, role assignments, domains, federation
//! settings and conditional access policies, and their Graph JSON shapes.
//! The directory is small (thousands of objects), so objects are plain
//! structs serialised per request.

use serde_json::{Value, json};

use super::ids::Guid;
use super::time::iso;

#[derive(Clone, Debug)]
pub struct User {
    pub id: Guid,
    pub display: String,
    pub upn: String,
    pub guest: bool,
    /// Synced from on-premises Active Directory.
    pub synced: bool,
    pub enabled: bool,
    pub created_ms: i64,
    pub last_sign_in_ms: Option<i64>,
    pub job_title: String,
    pub department: String,
    /// Registered authentication methods (`password` always).
    pub methods: Vec<&'static str>,
    /// When refresh tokens issued before this instant stop working.
    pub refresh_tokens_valid_from_ms: i64,
    /// Where this user usually signs in from: indexes into the place table.
    pub usual_places: Vec<u32>,
    /// The user's usual browsers and clients: indexes into the agent table.
    pub usual_agents: Vec<u16>,
}

impl User {
    pub fn json(&self, tenant_domain: &str) -> Value {
        let mail = if self.guest {
            self.upn
                .split("#EXT#")
                .next()
                .unwrap_or(&self.upn)
                .replacen('_', "@", 1)
        } else {
            self.upn.clone()
        };
        json!({
            "id": self.id.to_string(),
            "displayName": self.display,
            "userPrincipalName": self.upn,
            "mail": mail,
            "userType": if self.guest { "Guest" } else { "Member" },
            "accountEnabled": self.enabled,
            "jobTitle": self.job_title,
            "department": self.department,
            "createdDateTime": iso(self.created_ms),
            "onPremisesSyncEnabled": if self.synced { Value::Bool(true) } else { Value::Null },
            "onPremisesDomainName": if self.synced { Value::from(tenant_domain) } else { Value::Null },
            "signInSessionsValidFromDateTime": iso(self.refresh_tokens_valid_from_ms),
            "signInActivity": {
                "lastSignInDateTime": self.last_sign_in_ms.map(iso),
            },
        })
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    pub id: Guid,
    pub display: String,
    pub description: String,
    pub security: bool,
    pub members: Vec<Guid>,
    pub created_ms: i64,
}

impl Group {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "displayName": self.display,
            "description": self.description,
            "securityEnabled": self.security,
            "mailEnabled": !self.security,
            "groupTypes": if self.security { json!([]) } else { json!(["Unified"]) },
            "createdDateTime": iso(self.created_ms),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Password,
    Certificate,
}

#[derive(Clone, Debug)]
pub struct Credential {
    pub key_id: Guid,
    pub kind: CredentialKind,
    pub display: String,
    pub start_ms: i64,
    pub end_ms: i64,
    /// First characters of a secret, as Graph shows them.
    pub hint: String,
}

impl Credential {
    fn json(&self) -> Value {
        match self.kind {
            CredentialKind::Password => json!({
                "customKeyIdentifier": null,
                "displayName": self.display,
                "endDateTime": iso(self.end_ms),
                "hint": self.hint,
                "keyId": self.key_id.to_string(),
                "secretText": null,
                "startDateTime": iso(self.start_ms),
            }),
            CredentialKind::Certificate => json!({
                "customKeyIdentifier": format!("{:040X}", self.key_id.0),
                "displayName": self.display,
                "endDateTime": iso(self.end_ms),
                "key": null,
                "keyId": self.key_id.to_string(),
                "startDateTime": iso(self.start_ms),
                "type": "AsymmetricX509Cert",
                "usage": "Verify",
            }),
        }
    }
}

fn credentials_json(creds: &[Credential], kind: CredentialKind) -> Value {
    Value::Array(
        creds
            .iter()
            .filter(|c| c.kind == kind)
            .map(Credential::json)
            .collect(),
    )
}

/// An application registration owned by this tenant.
#[derive(Clone, Debug)]
pub struct Application {
    pub id: Guid,
    pub app_id: Guid,
    pub display: String,
    pub created_ms: i64,
    pub credentials: Vec<Credential>,
    /// Permissions the app asks for: (resource appId, app role or scope id, "Role" | "Scope").
    pub required: Vec<(&'static str, &'static str, &'static str)>,
    pub multi_tenant: bool,
}

impl Application {
    pub fn json(&self, tenant_domain: &str) -> Value {
        let mut by_resource: Vec<(&str, Vec<Value>)> = Vec::new();
        for (resource, id, kind) in &self.required {
            let access = json!({ "id": id, "type": kind });
            match by_resource.iter_mut().find(|(r, _)| r == resource) {
                Some((_, list)) => list.push(access),
                None => by_resource.push((resource, vec![access])),
            }
        }
        json!({
            "id": self.id.to_string(),
            "appId": self.app_id.to_string(),
            "displayName": self.display,
            "createdDateTime": iso(self.created_ms),
            "publisherDomain": tenant_domain,
            "signInAudience": if self.multi_tenant { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
            "keyCredentials": credentials_json(&self.credentials, CredentialKind::Certificate),
            "passwordCredentials": credentials_json(&self.credentials, CredentialKind::Password),
            "requiredResourceAccess": by_resource.into_iter().map(|(r, access)| json!({
                "resourceAppId": r,
                "resourceAccess": access,
            })).collect::<Vec<_>>(),
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalType {
    Application,
    ManagedIdentity,
}

#[derive(Clone, Debug)]
pub struct ServicePrincipal {
    pub id: Guid,
    pub app_id: String,
    pub display: String,
    pub owner_tenant: String,
    pub kind: PrincipalType,
    pub credentials: Vec<Credential>,
    /// App roles this principal exposes (resource principals): (id, value).
    pub app_roles: Vec<(&'static str, &'static str)>,
    pub created_ms: i64,
}

impl ServicePrincipal {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "appId": self.app_id,
            "displayName": self.display,
            "appDisplayName": self.display,
            "appOwnerOrganizationId": self.owner_tenant,
            "servicePrincipalType": match self.kind {
                PrincipalType::Application => "Application",
                PrincipalType::ManagedIdentity => "ManagedIdentity",
            },
            "accountEnabled": true,
            "createdDateTime": iso(self.created_ms),
            "keyCredentials": credentials_json(&self.credentials, CredentialKind::Certificate),
            "passwordCredentials": credentials_json(&self.credentials, CredentialKind::Password),
            "appRoles": self.app_roles.iter().map(|(id, value)| json!({
                "id": id,
                "value": value,
                "displayName": value,
                "allowedMemberTypes": ["Application"],
                "isEnabled": true,
            })).collect::<Vec<_>>(),
        })
    }
}

/// An application permission granted to a service principal.
#[derive(Clone, Debug)]
pub struct AppRoleAssignment {
    pub id: String,
    pub principal_id: Guid,
    pub principal_display: String,
    pub resource_id: Guid,
    pub resource_display: String,
    pub app_role_id: &'static str,
    pub created_ms: i64,
}

impl AppRoleAssignment {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "appRoleId": self.app_role_id,
            "createdDateTime": iso(self.created_ms),
            "principalId": self.principal_id.to_string(),
            "principalDisplayName": self.principal_display,
            "principalType": "ServicePrincipal",
            "resourceId": self.resource_id.to_string(),
            "resourceDisplayName": self.resource_display,
        })
    }
}

/// A delegated permission grant (consent).
#[derive(Clone, Debug)]
pub struct PermissionGrant {
    pub id: String,
    pub client_id: Guid,
    /// `AllPrincipals` (admin consent for everyone) or `Principal`.
    pub all_principals: bool,
    pub principal_id: Option<Guid>,
    pub resource_id: Guid,
    pub scope: String,
}

impl PermissionGrant {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "clientId": self.client_id.to_string(),
            "consentType": if self.all_principals { "AllPrincipals" } else { "Principal" },
            "principalId": self.principal_id.map(|p| p.to_string()),
            "resourceId": self.resource_id.to_string(),
            "scope": self.scope,
        })
    }
}

#[derive(Clone, Debug)]
pub struct RoleAssignment {
    pub id: String,
    pub principal_id: Guid,
    pub role_template_id: &'static str,
    pub created_ms: i64,
}

impl RoleAssignment {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "principalId": self.principal_id.to_string(),
            "roleDefinitionId": self.role_template_id,
            "directoryScopeId": "/",
            "createdDateTime": iso(self.created_ms),
        })
    }
}

#[derive(Clone, Debug)]
pub struct Domain {
    pub name: String,
    pub federated: bool,
    pub is_default: bool,
    pub is_initial: bool,
}

impl Domain {
    pub fn json(&self) -> Value {
        json!({
            "id": self.name,
            "authenticationType": if self.federated { "Federated" } else { "Managed" },
            "isAdminManaged": true,
            "isDefault": self.is_default,
            "isInitial": self.is_initial,
            "isRoot": true,
            "isVerified": true,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"],
            "passwordValidityPeriodInDays": 2147483647,
            "passwordNotificationWindowInDays": 14,
        })
    }
}

/// The AD FS trust of a federated domain.
#[derive(Clone, Debug)]
pub struct Federation {
    pub id: Guid,
    pub domain: String,
    pub display: String,
    pub issuer_uri: String,
    pub passive_sign_in_uri: String,
    pub active_sign_in_uri: String,
    pub sign_out_uri: String,
    pub metadata_exchange_uri: String,
    /// Base64 DER of the signing certificate.
    pub signing_certificate: String,
    pub next_signing_certificate: Option<String>,
    pub mfa_behavior: &'static str,
}

impl Federation {
    pub fn json(&self) -> Value {
        json!({
            "@odata.type": "#microsoft.graph.internalDomainFederation",
            "id": self.id.to_string(),
            "displayName": self.display,
            "issuerUri": self.issuer_uri,
            "metadataExchangeUri": self.metadata_exchange_uri,
            "signingCertificate": self.signing_certificate,
            "nextSigningCertificate": self.next_signing_certificate,
            "passiveSignInUri": self.passive_sign_in_uri,
            "activeSignInUri": self.active_sign_in_uri,
            "signOutUri": self.sign_out_uri,
            "preferredAuthenticationProtocol": "wsFed",
            "promptLoginBehavior": "nativeSupport",
            "federatedIdpMfaBehavior": self.mfa_behavior,
            "isSignedAuthenticationRequestRequired": false,
            "signingCertificateUpdateStatus": {
                "certificateUpdateResult": "success",
                "lastRunDateTime": null,
            },
        })
    }
}
