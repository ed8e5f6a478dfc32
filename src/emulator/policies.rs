//! The tenant-wide policies the posture review reads, as Graph serves
//! them: the authorization policy, the admin consent request policy and
//! the authentication methods policy. An ordinary tenant keeps Entra's
//! defaults (the security debt the baselines flag); a hardened one has
//! them set the way the baselines ask.

use serde_json::{Value, json};

use crate::model::well_known::{GUEST_LIKE_MEMBER, GUEST_RESTRICTED};

#[derive(Clone, Debug)]
pub struct Policies {
    pub authorization: Value,
    pub admin_consent: Value,
    pub auth_methods: Value,
    pub app_management: Value,
    pub cross_tenant_default: Value,
    pub token_lifetime: Vec<Value>,
    /// Directory synchronization's settings (one object per tenant).
    pub sync: Value,
    /// PIM's policy for Global Administrator, as its assignment to the role.
    pub global_admin_pim: Value,
}

impl Policies {
    /// Entra's defaults, and a few settings loosened over the years.
    pub fn ordinary(modified: &str, tenant: &str) -> Self {
        Self {
            authorization: authorization(false),
            admin_consent: admin_consent(None),
            auth_methods: auth_methods(false, modified),
            app_management: app_management(false),
            cross_tenant_default: cross_tenant_default(false),
            // Set years ago so a line-of-business app stopped asking.
            token_lifetime: vec![json!({
                "id": "4d2f137b-e8a9-46da-a5c3-cc85b2b840a4",
                "deletedDateTime": null,
                "definition": ["{\"TokenLifetimePolicy\":{\"Version\":1,\"AccessTokenLifetime\":\"8:00:00\"}}"],
                "displayName": "Long access tokens",
                "isOrganizationDefault": true,
            })],
            sync: sync(false, tenant),
            global_admin_pim: global_admin_pim(None),
        }
    }

    /// The baselines' settings; `reviewer`: the user id who reviews
    /// consent requests.
    pub fn hardened(modified: &str, reviewer: &str, tenant: &str) -> Self {
        Self {
            authorization: authorization(true),
            admin_consent: admin_consent(Some(reviewer)),
            auth_methods: auth_methods(true, modified),
            app_management: app_management(true),
            cross_tenant_default: cross_tenant_default(true),
            token_lifetime: Vec::new(),
            sync: sync(true, tenant),
            global_admin_pim: global_admin_pim(Some(reviewer)),
        }
    }
}

fn authorization(hardened: bool) -> Value {
    let consent: Vec<&str> = if hardened {
        Vec::new()
    } else {
        vec!["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]
    };
    json!({
        "id": "authorizationPolicy",
        "displayName": "Authorization Policy",
        "description": "Used to manage authorization related settings across the company.",
        "allowInvitesFrom": if hardened { "adminsAndGuestInviters" } else { "everyone" },
        "allowedToSignUpEmailBasedSubscriptions": !hardened,
        "allowedToUseSSPR": !hardened,
        "allowEmailVerifiedUsersToJoinOrganization": !hardened,
        "blockMsolPowerShell": hardened,
        "guestUserRoleId": if hardened { GUEST_RESTRICTED } else { GUEST_LIKE_MEMBER },
        "defaultUserRolePermissions": {
            "allowedToCreateApps": !hardened,
            "allowedToCreateSecurityGroups": !hardened,
            "allowedToCreateTenants": !hardened,
            "allowedToReadBitlockerKeysForOwnedDevice": true,
            "allowedToReadOtherUsers": true,
            "permissionGrantPoliciesAssigned": consent,
        },
    })
}

fn admin_consent(reviewer: Option<&str>) -> Value {
    let reviewers: Vec<Value> = reviewer
        .map(|id| json!({"query": format!("/users/{id}"), "queryType": "MicrosoftGraph", "queryRoot": null}))
        .into_iter()
        .collect();
    json!({
        "id": "adminConsentRequestPolicy",
        "isEnabled": reviewer.is_some(),
        "notifyReviewers": reviewer.is_some(),
        "remindersEnabled": reviewer.is_some(),
        "requestDurationInDays": if reviewer.is_some() { 30 } else { 0 },
        "version": if reviewer.is_some() { 2 } else { 0 },
        "reviewers": reviewers,
    })
}

fn state(on: bool) -> &'static str {
    if on { "enabled" } else { "disabled" }
}

fn auth_methods(hardened: bool, modified: &str) -> Value {
    let all_users =
        json!([{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]);
    let context = |on: bool| {
        json!({"state": if on { "enabled" } else { "default" },
            "includeTarget": {"targetType": "group", "id": "all_users"},
            "excludeTarget": {"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"}})
    };
    json!({
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": modified,
        "policyVersion": "1.5",
        "policyMigrationState": if hardened { "migrationComplete" } else { "migrationInProgress" },
        "registrationEnforcement": {
            "authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1,
                "enforceRegistrationAfterAllowedSnoozes": true,
                "state": if hardened { "enabled" } else { "default" },
                "excludeTargets": [],
                "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}],
            }
        },
        "reportSuspiciousActivitySettings": {
            "state": if hardened { "enabled" } else { "default" },
            "includeTarget": {"targetType": "group", "id": "all_users"},
            "voiceReportingCode": 0,
        },
        "authenticationMethodConfigurations": [
            {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2",
                "state": "enabled", "isSelfServiceRegistrationAllowed": true, "isAttestationEnforced": hardened,
                "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []},
                "includeTargets": all_users, "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "id": "MicrosoftAuthenticator",
                "state": "enabled", "isSoftwareOathEnabled": false,
                "featureSettings": {
                    "displayAppInformationRequiredState": context(hardened),
                    "displayLocationInformationRequiredState": context(hardened),
                },
                "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any"}],
                "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms",
                "state": state(!hardened), "includeTargets": all_users, "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice",
                "state": state(!hardened), "isOfficePhoneAllowed": false, "includeTargets": all_users, "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email",
                "state": state(!hardened), "allowExternalIdToUseEmailOtp": "default", "includeTargets": all_users, "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "id": "TemporaryAccessPass",
                "state": "enabled", "defaultLifetimeInMinutes": 60, "defaultLength": 8,
                "minimumLifetimeInMinutes": 60, "maximumLifetimeInMinutes": 480,
                "isUsableOnce": hardened, "includeTargets": all_users, "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration", "id": "X509Certificate",
                "state": "disabled", "certificateUserBindings": [], "authenticationModeConfiguration": {"x509CertificateAuthenticationDefaultMode": "x509CertificateSingleFactor", "rules": []},
                "includeTargets": all_users, "excludeTargets": []},
        ],
    })
}

/// The tenant default app management policy: off, as Entra ships it, or
/// blocking new secrets and capping certificates at a year.
fn app_management(hardened: bool) -> Value {
    let since = "2024-01-01T00:00:00Z";
    json!({
        "id": "00000000-0000-0000-0000-000000000000",
        "displayName": "Default app management tenant policy",
        "description": "Default tenant policy that enforces app management restrictions on applications and service principals.",
        "isEnabled": hardened,
        "applicationRestrictions": {
            "passwordCredentials": if hardened {
                json!([
                    {"restrictionType": "passwordAddition", "state": "enabled", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": since},
                    {"restrictionType": "passwordLifetime", "state": "enabled", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": since},
                ])
            } else {
                json!([])
            },
            "keyCredentials": if hardened {
                json!([{"restrictionType": "asymmetricKeyLifetime", "state": "enabled", "maxLifetime": "P365D", "restrictForAppsCreatedAfterDateTime": since}])
            } else {
                json!([])
            },
        },
        "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []},
    })
}

fn access(allowed: bool, who: &str, what: &str) -> Value {
    json!({
        "usersAndGroups": {"accessType": if allowed { "allowed" } else { "blocked" }, "targets": [{"target": who, "targetType": "user"}]},
        "applications": {"accessType": if allowed { "allowed" } else { "blocked" }, "targets": [{"target": what, "targetType": "application"}]},
    })
}

/// Cross-tenant defaults: collaboration inbound blocked unless a partner
/// is configured (hardened), or Entra's open default plus direct connect
/// opened for a project long over.
fn cross_tenant_default(hardened: bool) -> Value {
    json!({
        "isServiceDefault": !hardened,
        "inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false},
        "automaticUserConsentSettings": {"inboundAllowed": false, "outboundAllowed": false},
        "b2bCollaborationInbound": access(!hardened, "AllUsers", "AllApplications"),
        "b2bCollaborationOutbound": access(true, "AllUsers", "AllApplications"),
        "b2bDirectConnectInbound": access(!hardened, "AllUsers", "AllApplications"),
        "b2bDirectConnectOutbound": access(false, "AllUsers", "AllApplications"),
        "tenantRestrictions": access(false, "AllUsers", "AllApplications"),
        "invitationRedemptionIdentityProviderConfiguration": {"primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"], "fallbackIdentityProvider": "defaultConfiguredIdp"},
    })
}

/// Directory synchronization (AD Connect) with its takeover protections
/// off, as older installations have them, or on.
fn sync(hardened: bool, tenant: &str) -> Value {
    json!({
        "id": tenant,
        "configuration": {
            "synchronizationInterval": "PT30M",
            "customerRequestedSynchronizationInterval": null,
            "accidentalDeletionPrevention": {"synchronizationPreventionType": "enabledForCount", "alertThreshold": 500},
        },
        "features": {
            "blockCloudObjectTakeoverThroughHardMatchEnabled": hardened,
            "blockSoftMatchEnabled": hardened,
            "bypassDirSyncOverridesEnabled": false,
            "cloudPasswordPolicyForPasswordSyncedUsersEnabled": hardened,
            "concurrentCredentialUpdateEnabled": false,
            "concurrentOrgIdProvisioningEnabled": true,
            "deviceWritebackEnabled": false,
            "directoryExtensionsEnabled": false,
            "fopeConflictResolutionEnabled": false,
            "groupWriteBackEnabled": false,
            "passwordSyncEnabled": true,
            "passwordWritebackEnabled": false,
            "quarantineUponProxyAddressesConflictEnabled": true,
            "quarantineUponUpnConflictEnabled": true,
            "softMatchOnUpnEnabled": !hardened,
            "synchronizeUpnForManagedUsersEnabled": true,
            "unifiedGroupWritebackEnabled": false,
            "userForcePasswordChangeOnLogonEnabled": false,
            "userWritebackEnabled": false,
        },
    })
}

fn notification(id: &str, recipients: &[String]) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule",
        "id": id,
        "notificationType": "Email",
        "recipientType": "Admin",
        "notificationLevel": "All",
        "isDefaultRecipientsEnabled": true,
        "notificationRecipients": recipients,
        "target": {"caller": "Admin", "operations": ["all"], "level": "Eligibility", "inheritableSettings": [], "enforcedSettings": []},
    })
}

/// PIM's settings for Global Administrator: activation approved by
/// `approver` and every assignment and activation mailed to the security
/// team (hardened), or Entra's defaults.
fn global_admin_pim(approver: Option<&str>) -> Value {
    let recipients: Vec<String> = approver
        .map(|_| vec!["secops@contoso.com".to_owned()])
        .unwrap_or_default();
    let approvers: Vec<Value> = approver
        .map(|id| json!({"@odata.type": "#microsoft.graph.singleUser", "isBackup": false, "userId": id, "description": "Cloud administrator"}))
        .into_iter()
        .collect();
    let policy = "DirectoryRole_contoso_62e90394-69f5-4237-9190-012177145e10";
    json!({
        "id": format!("{policy}_62e90394-69f5-4237-9190-012177145e10"),
        "policyId": policy,
        "scopeId": "/",
        "scopeType": "DirectoryRole",
        "roleDefinitionId": "62e90394-69f5-4237-9190-012177145e10",
        "policy": {
            "id": policy,
            "displayName": "DirectoryRole",
            "isOrganizationDefault": false,
            "scopeId": "/",
            "scopeType": "DirectoryRole",
            "rules": [
                {"@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule",
                 "id": "Approval_EndUser_Assignment",
                 "setting": {"isApprovalRequired": approver.is_some(), "isApprovalRequiredForExtension": false,
                     "isRequestorJustificationRequired": true, "approvalMode": "SingleStage",
                     "approvalStages": [{"approvalStageTimeOutInDays": 1, "isApproverJustificationRequired": true,
                         "escalationTimeInMinutes": 0, "isEscalationEnabled": false,
                         "primaryApprovers": approvers, "escalationApprovers": []}]},
                 "target": {"caller": "EndUser", "operations": ["all"], "level": "Assignment", "inheritableSettings": [], "enforcedSettings": []}},
                notification("Notification_Admin_Admin_Eligibility", &recipients),
                notification("Notification_Admin_Admin_Assignment", &recipients),
                notification("Notification_Admin_EndUser_Assignment", &recipients),
            ],
        },
    })
}
