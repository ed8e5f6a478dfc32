//! The tenant-wide policies the posture review reads, as Graph serves
//! them: the authorization policy, the admin consent request policy and
//! the authentication methods policy. An ordinary tenant keeps Entra's
//! defaults (the security debt the baselines flag); a hardened one has
//! them set the way the baselines ask.

use serde_json::{Value, json};

/// Guests see the directory as members do.
const GUEST_LIKE_MEMBER: &str = "a0b1b346-4d3e-4e8b-98f8-753987be4970";
/// Guests see only their own directory objects.
const GUEST_RESTRICTED: &str = "2af84b1e-32c8-42b7-82bc-daa82404023b";

#[derive(Clone, Debug)]
pub struct Policies {
    pub authorization: Value,
    pub admin_consent: Value,
    pub auth_methods: Value,
}

impl Policies {
    /// Entra's defaults, and a few settings loosened over the years.
    pub fn ordinary(modified: &str) -> Self {
        Self {
            authorization: authorization(false),
            admin_consent: admin_consent(None),
            auth_methods: auth_methods(false, modified),
        }
    }

    /// The baselines' settings; `reviewer`: the user id who reviews
    /// consent requests.
    pub fn hardened(modified: &str, reviewer: &str) -> Self {
        Self {
            authorization: authorization(true),
            admin_consent: admin_consent(Some(reviewer)),
            auth_methods: auth_methods(true, modified),
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
        "allowEmailVerifiedUsersToJoinOrganization": false,
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
