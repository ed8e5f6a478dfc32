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
    /// When the password last changed (`lastPasswordChangeDateTime`).
    pub password_changed_ms: i64,
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
        let mut names = self.display.split_whitespace();
        let (given, surname) = (names.next().unwrap_or(""), names.next_back().unwrap_or(""));
        json!({
            "id": self.id.to_string(),
            "displayName": self.display,
            "givenName": given,
            "surname": surname,
            "userPrincipalName": self.upn,
            "mail": mail,
            "businessPhones": [],
            "mobilePhone": null,
            "officeLocation": null,
            "preferredLanguage": "en-US",
            "userType": if self.guest { "Guest" } else { "Member" },
            "accountEnabled": self.enabled,
            "jobTitle": self.job_title,
            "department": self.department,
            "createdDateTime": iso(self.created_ms),
            "onPremisesSyncEnabled": if self.synced { Value::Bool(true) } else { Value::Null },
            "onPremisesDomainName": if self.synced { Value::from(tenant_domain) } else { Value::Null },
            "signInSessionsValidFromDateTime": iso(self.refresh_tokens_valid_from_ms),
            "lastPasswordChangeDateTime": iso(self.password_changed_ms),
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
        let nickname: String = self
            .display
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        json!({
            "id": self.id.to_string(),
            "deletedDateTime": null,
            "classification": null,
            "displayName": self.display,
            "description": self.description,
            "securityEnabled": self.security,
            "mailEnabled": !self.security,
            "mail": if self.security { Value::Null } else { Value::from(format!("{nickname}@contoso.com")) },
            "mailNickname": nickname,
            "groupTypes": if self.security { json!([]) } else { json!(["Unified"]) },
            "createdDateTime": iso(self.created_ms),
            "renewedDateTime": iso(self.created_ms),
            "expirationDateTime": null,
            "isAssignableToRole": null,
            "membershipRule": null,
            "membershipRuleProcessingState": null,
            "onPremisesLastSyncDateTime": null,
            "onPremisesSecurityIdentifier": null,
            "onPremisesSyncEnabled": null,
            "onPremisesProvisioningErrors": [],
            "preferredDataLocation": null,
            "preferredLanguage": null,
            "proxyAddresses": [],
            "resourceBehaviorOptions": [],
            "resourceProvisioningOptions": [],
            "theme": null,
            "visibility": if self.security { Value::Null } else { Value::from("Private") },
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
    /// App instance property lock on its service principals elsewhere.
    pub instance_lock: bool,
    /// Users who own the registration (and may add credentials to it).
    pub owners: Vec<Guid>,
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
            "servicePrincipalLockConfiguration": if self.instance_lock {
                json!({"isEnabled": true, "allProperties": true, "credentialsWithUsageVerify": true, "credentialsWithUsageSign": true, "identifierUris": false, "tokenEncryptionKeyId": true})
            } else {
                Value::Null
            },
            "identifierUris": [format!("api://{}", self.app_id)],
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
    /// Only users and groups assigned to the app may sign in to it.
    pub assignment_required: bool,
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
            "deletedDateTime": null,
            "appRoleAssignmentRequired": self.assignment_required,
            "homepage": null,
            "logoutUrl": null,
            "publisherName": if self.owner_tenant == super::catalog::MICROSOFT_TENANT { "Microsoft Services" } else { "Contoso" },
            "replyUrls": [],
            "servicePrincipalNames": [self.app_id.clone()],
            "tags": [],
            "addIns": [],
            "info": null,
            "oauth2PermissionScopes": [],
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
            "deletedDateTime": null,
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
            "@odata.id": format!("https://graph.microsoft.com/v2/oauth2PermissionGrants/{}", self.id),
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
    /// `None`: a standing assignment made outside PIM. `Some(end)`: an
    /// eligible role activated through PIM until `end`.
    pub activated_until_ms: Option<i64>,
}

impl RoleAssignment {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id,
            "principalId": self.principal_id.to_string(),
            "roleDefinitionId": self.role_template_id,
            "directoryScopeId": "/",
            "resourceScope": "/",
            "createdDateTime": iso(self.created_ms),
        })
    }

    /// As `roleAssignmentScheduleInstances` lists it.
    pub fn schedule_instance_json(&self) -> Value {
        let activated = self.activated_until_ms.is_some();
        json!({
            "id": format!("{}-1", self.id),
            "principalId": self.principal_id.to_string(),
            "roleDefinitionId": self.role_template_id,
            "directoryScopeId": "/",
            "appScopeId": null,
            "startDateTime": if activated { Value::from(iso(self.created_ms)) } else { Value::Null },
            "endDateTime": self.activated_until_ms.map(iso),
            "assignmentType": if activated { "Activated" } else { "Assigned" },
            "memberType": "Direct",
            "roleAssignmentOriginId": self.id,
            "roleAssignmentScheduleId": self.id,
        })
    }
}

/// A PIM eligibility: the principal may activate the role when needed.
#[derive(Clone, Debug)]
pub struct RoleEligibility {
    pub id: Guid,
    pub principal_id: Guid,
    pub role_template_id: &'static str,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl RoleEligibility {
    pub fn json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "principalId": self.principal_id.to_string(),
            "roleDefinitionId": self.role_template_id,
            "directoryScopeId": "/",
            "appScopeId": null,
            "createdUsing": self.id.to_string(),
            "createdDateTime": iso(self.start_ms),
            "modifiedDateTime": iso(self.start_ms),
            "status": "Provisioned",
            "memberType": "Direct",
            "scheduleInfo": {
                "startDateTime": iso(self.start_ms),
                "recurrence": null,
                "expiration": { "type": "afterDateTime", "endDateTime": iso(self.end_ms), "duration": null },
            },
        })
    }
}

/// A registered authentication method, as `users/{id}/authentication/methods` lists it.
pub fn method_json(user: &User, method: &str) -> Value {
    let id = Guid::from_seed(user.id.0 as u64 ^ method.len() as u64).to_string();
    let created = iso(user.created_ms);
    match method {
        "password" => json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            // The password method has this fixed id in every tenant.
            "id": "28c10230-6103-485e-b985-444c60001490",
            "password": null,
            "createdDateTime": created,
        }),
        "microsoftAuthenticator" => json!({
            "@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
            "id": id,
            "displayName": "iPhone 15",
            "deviceTag": "SoftwareTokenActivated",
            "phoneAppVersion": "6.8.17",
            "createdDateTime": created,
        }),
        "fido2" => json!({
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
            "id": id,
            "displayName": "Security key",
            "creationDateTime": created,
            "aaGuid": "2fc0579f-8113-47ea-b116-555a8db9202a",
            "model": "NFC key",
            "attestationCertificates": [],
            "attestationLevel": "attested",
        }),
        other => {
            json!({ "@odata.type": format!("#microsoft.graph.{other}AuthenticationMethod"), "id": id })
        }
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
            "availabilityStatus": null,
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
