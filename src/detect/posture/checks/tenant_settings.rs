//! Tenant-wide settings an attacker comes back through: what users may
//! consent to and register, what guests may do and who may invite them,
//! the legacy PowerShell module, self-service reset for administrators,
//! and which sign-in methods the tenant allows (authorization, admin
//! consent request and authentication methods policies).

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, flag, text};
use super::{Context, setting_failed, single};
use crate::model::Severity;
use crate::model::well_known::GUEST_LIKE_MEMBER;

const AUTHZ: &[Part] = &[Part::AuthorizationPolicy];
const METHODS: &[Part] = &[Part::AuthMethodsPolicy];

pub static USER_CONSENT: Check = Check {
    id: "posture.user-consent-allowed",
    title: "Users may consent to apps themselves",
    severity: Severity::Medium,
    techniques: &["T1528", "T1566.002"],
    area: Area::Apps,
    reads: AUTHZ,
    anchors: &[
        "ScubaGear MS.AAD.5.2",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Improve,
    rationale: "Consent phishing gets a user to grant an attacker's app access to their mail and files, with no password and no MFA prompt to stop it. Only administrators should consent, through the admin consent workflow.",
    remediation: &["review-app-permissions", "remove-risky-grants"],
};

pub static USERS_REGISTER_APPS: Check = Check {
    id: "posture.users-can-register-apps",
    title: "Users may register applications",
    severity: Severity::Low,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: AUTHZ,
    anchors: &[
        "ScubaGear MS.AAD.5.1",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Improve,
    rationale: "An app a user registers is owned by that user: with their account an attacker makes an app, gives it credentials and keeps it after the password is reset.",
    remediation: &["review-app-permissions"],
};

pub static GUEST_INVITES: Check = Check {
    id: "posture.guest-invitations-open",
    title: "Anyone may invite guests",
    severity: Severity::Low,
    techniques: &["T1136.003"],
    area: Area::TenantEdges,
    reads: AUTHZ,
    anchors: &["ScubaGear MS.AAD.8.2", "Maester", "Monkey365"],
    phase: Phase::Improve,
    rationale: "A guest is an account the attacker controls in another tenant. When every member (or every guest) may invite, one compromised account is enough to add one.",
    remediation: &["review-new-accounts"],
};

pub static GUEST_ACCESS: Check = Check {
    id: "posture.guest-access-not-limited",
    title: "Guests see the directory as members do",
    severity: Severity::Medium,
    techniques: &["T1087.004"],
    area: Area::TenantEdges,
    reads: AUTHZ,
    anchors: &[
        "ScubaGear MS.AAD.8.1",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Improve,
    rationale: "A guest with member access lists every user, group and app: the map an attacker needs. Guests should see only their own objects (restricted) or limited properties of others.",
    remediation: &["review-new-accounts"],
};

pub static MSOL_POWERSHELL: Check = Check {
    id: "posture.msonline-powershell-not-blocked",
    title: "The legacy MSOnline PowerShell module is not blocked",
    severity: Severity::Low,
    techniques: &["T1059.009", "T1087.004"],
    area: Area::Authentication,
    reads: AUTHZ,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "MSOnline talks to a legacy endpoint that lets any user read the directory and that attackers' tooling (AADInternals among it) still uses; the authorization policy can block it for everyone.",
    remediation: &["review-conditional-access"],
};

pub static ADMIN_SSPR: Check = Check {
    id: "posture.admins-can-use-sspr",
    title: "Administrators may reset their own passwords",
    severity: Severity::Medium,
    techniques: &["T1098", "T1556"],
    area: Area::PrivilegedAccess,
    reads: AUTHZ,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Self-service reset lets whoever holds an administrator's phone number or mailbox set a new password; during an eviction that is the attacker's way back in. Administrators' passwords should be reset by other administrators.",
    remediation: &["reset-privileged-passwords", "review-admin-auth-methods"],
};

pub static USERS_CREATE_TENANTS: Check = Check {
    id: "posture.users-can-create-tenants",
    title: "Users may create new tenants",
    severity: Severity::Low,
    techniques: &["T1583"],
    area: Area::TenantEdges,
    reads: AUTHZ,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "A user who creates a tenant is its Global Administrator, outside every policy of this one; with a stolen account an attacker gets a tenant in the company's name to stage from and to invite from.",
    remediation: &["review-new-accounts"],
};

pub static SELF_SERVICE_JOIN: Check = Check {
    id: "posture.email-verified-users-can-join",
    title: "Anyone with a company e-mail address may join the tenant",
    severity: Severity::Low,
    techniques: &["T1136.003"],
    area: Area::TenantEdges,
    reads: AUTHZ,
    anchors: &["Monkey365", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Self-service sign-up lets anyone who can read a mailbox of the company's domains create an account in the tenant: with one mailbox the attacker gets a second account nobody created.",
    remediation: &["review-new-accounts"],
};

pub static REGISTRATION_CAMPAIGN: Check = Check {
    id: "posture.registration-campaign-off",
    title: "Users are not moved to the Authenticator app",
    severity: Severity::Low,
    techniques: &["T1111"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "The registration campaign asks users still signing in with text or voice codes to set up the Authenticator app at their next sign-in; without it the weak methods stay in use for good.",
    remediation: &["enforce-mfa"],
};

pub static CONSENT_WORKFLOW: Check = Check {
    id: "posture.admin-consent-workflow-off",
    title: "No admin consent workflow",
    severity: Severity::Low,
    techniques: &["T1528"],
    area: Area::Apps,
    reads: &[Part::AdminConsentPolicy],
    anchors: &["ScubaGear MS.AAD.5.3", "Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "With user consent off, the workflow is how users ask for an app and administrators review what it wants; without it users find ways around, and nobody sees the requests.",
    remediation: &["review-app-permissions"],
};

pub static WEAK_METHODS: Check = Check {
    id: "posture.weak-methods-enabled",
    title: "SMS, voice or e-mail one-time codes are allowed",
    severity: Severity::Medium,
    techniques: &["T1111", "T1451"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["ScubaGear MS.AAD.3.5", "Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Codes sent by text, call or mail are phished, intercepted and SIM-swapped; an attacker who registers one keeps a second factor that looks ordinary. The baselines turn them off.",
    remediation: &["enforce-mfa", "review-admin-auth-methods"],
};

pub static TAP_REUSABLE: Check = Check {
    id: "posture.tap-reusable",
    title: "Temporary Access Passes may be used more than once",
    severity: Severity::Low,
    techniques: &["T1098.005"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "A Temporary Access Pass signs in without MFA and can register new methods; one that works many times during its life is a password with extra powers. One use is enough to onboard.",
    remediation: &["review-admin-auth-methods"],
};

pub static AUTHENTICATOR_CONTEXT: Check = Check {
    id: "posture.authenticator-without-context",
    title: "Authenticator pushes do not show the app and place",
    severity: Severity::Medium,
    techniques: &["T1621"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["ScubaGear MS.AAD.3.3", "Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "A push that names the application and the sign-in's location lets a user see that the request is not theirs; without it, fatigue attacks (MFA bombing) get approvals.",
    remediation: &["enforce-mfa"],
};

pub static SUSPICIOUS_REPORTING: Check = Check {
    id: "posture.suspicious-activity-reporting-off",
    title: "Users cannot report suspicious MFA prompts",
    severity: Severity::Low,
    techniques: &["T1621"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Monitor,
    rationale: "A user who reports a prompt they did not ask for raises their risk to high and tells the team someone has their password, which is what responders need to hear during an eviction.",
    remediation: &["establish-monitoring"],
};

pub static METHODS_MIGRATION: Check = Check {
    id: "posture.methods-migration-incomplete",
    title: "Authentication methods are not managed in one policy",
    severity: Severity::Low,
    techniques: &["T1556"],
    area: Area::Authentication,
    reads: METHODS,
    anchors: &["ScubaGear MS.AAD.3.4", "Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Until the migration is complete the legacy MFA and SSPR settings still allow methods the authentication methods policy turns off, so the tenant allows more than the policy says.",
    remediation: &["enforce-mfa"],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let mut out = authorization(ctx);
    out.push(consent_workflow(ctx));
    out.extend(methods(ctx));
    out
}

/// One failure naming the policy, or a pass with what was read.
fn judged(check: &'static Check, failed: Option<String>, policy: &str, read: String) -> Verdict {
    match failed {
        Some(why) => setting_failed(check, why, ("policy", policy)),
        None => Verdict::pass(check, read),
    }
}

fn authorization(ctx: &Context) -> Vec<Verdict> {
    let checks = [
        &USER_CONSENT,
        &USERS_REGISTER_APPS,
        &GUEST_INVITES,
        &GUEST_ACCESS,
        &MSOL_POWERSHELL,
        &ADMIN_SSPR,
        &USERS_CREATE_TENANTS,
        &SELF_SERVICE_JOIN,
    ];
    let p = match single(ctx, Part::AuthorizationPolicy, &checks) {
        Ok(p) => p,
        Err(unknown) => return unknown,
    };
    const NAME: &str = "authorization policy";
    let defaults = p.get("defaultUserRolePermissions").unwrap_or(&Value::Null);
    let consent: Vec<&str> = p
        .pointer("/defaultUserRolePermissions/permissionGrantPoliciesAssigned")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|g| {
            g.to_ascii_lowercase()
                .starts_with("managepermissiongrantsforself.")
        })
        .collect();
    let mut consent_verdict = judged(
        &USER_CONSENT,
        (!consent.is_empty()).then(|| {
            format!(
                "Users may consent to apps on their own behalf ({}).",
                consent.join(", ")
            )
        }),
        NAME,
        "users may not consent to apps".into(),
    );
    // Consent limited to verified publishers and low-risk permissions is
    // Microsoft's recommended middle way: lower.
    if consent.iter().all(|g| g.ends_with("-low")) {
        for f in &mut consent_verdict.failures {
            f.severity = Some(Severity::Low);
        }
    }
    let invites = text(p, "allowInvitesFrom").unwrap_or("");
    let guest_role = text(p, "guestUserRoleId").unwrap_or("");
    vec![
        consent_verdict,
        judged(
            &USERS_REGISTER_APPS,
            (flag(defaults, "allowedToCreateApps") != Some(false))
                .then(|| "Every user may register applications (allowedToCreateApps is not false).".into()),
            NAME,
            "only administrators register applications".into(),
        ),
        judged(
            &GUEST_INVITES,
            matches!(invites, "everyone" | "adminsGuestInvitersAndAllMembers" | "")
                .then(|| format!("Guests may be invited by: {}.", if invites.is_empty() { "not said (the default: everyone)" } else { invites })),
            NAME,
            format!("guests are invited by: {invites}"),
        ),
        judged(
            &GUEST_ACCESS,
            guest_role.eq_ignore_ascii_case(GUEST_LIKE_MEMBER).then(|| {
                "Guests have the same access to the directory as members (guestUserRoleId).".into()
            }),
            NAME,
            "guests' directory access is limited".into(),
        ),
        judged(
            &MSOL_POWERSHELL,
            (flag(p, "blockMsolPowerShell") != Some(true))
                .then(|| "The MSOnline PowerShell module is not blocked (blockMsolPowerShell is not true).".into()),
            NAME,
            "MSOnline PowerShell is blocked".into(),
        ),
        judged(
            &ADMIN_SSPR,
            (flag(p, "allowedToUseSSPR") != Some(false))
                .then(|| "Administrators may reset their own passwords through self-service reset (allowedToUseSSPR).".into()),
            NAME,
            "administrators may not use self-service reset".into(),
        ),
        judged(
            &USERS_CREATE_TENANTS,
            (flag(defaults, "allowedToCreateTenants") != Some(false))
                .then(|| "Every user may create a tenant (allowedToCreateTenants is not false).".into()),
            NAME,
            "only administrators create tenants".into(),
        ),
        judged(
            &SELF_SERVICE_JOIN,
            (flag(p, "allowEmailVerifiedUsersToJoinOrganization") == Some(true)).then(|| {
                "Anyone who can read a mailbox of the company's domains may sign up to the tenant (allowEmailVerifiedUsersToJoinOrganization).".into()
            }),
            NAME,
            "self-service sign-up is off".into(),
        ),
    ]
}

fn consent_workflow(ctx: &Context) -> Verdict {
    let p = match single(ctx, Part::AdminConsentPolicy, &[&CONSENT_WORKFLOW]) {
        Ok(p) => p,
        Err(mut unknown) => return unknown.remove(0),
    };
    let reviewers = p
        .get("reviewers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let on = flag(p, "isEnabled") == Some(true) && reviewers > 0;
    judged(
        &CONSENT_WORKFLOW,
        (!on).then(|| {
            if reviewers == 0 && flag(p, "isEnabled") == Some(true) {
                "The admin consent workflow is on but names no reviewer.".to_owned()
            } else {
                "The admin consent workflow is off: users cannot ask for an app, and nobody reviews what apps ask for.".to_owned()
            }
        }),
        "admin consent request policy",
        format!("admin consent requests go to {reviewers} reviewers"),
    )
}

/// The configuration of one method (`Sms`, `Voice`, …), by id.
fn method<'a>(p: &'a Value, id: &str) -> Option<&'a Value> {
    p.get("authenticationMethodConfigurations")?
        .as_array()?
        .iter()
        .find(|m| text(m, "id").is_some_and(|i| i.eq_ignore_ascii_case(id)))
}

fn enabled(m: &Value) -> bool {
    text(m, "state").is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
}

fn methods(ctx: &Context) -> Vec<Verdict> {
    let checks = [
        &WEAK_METHODS,
        &TAP_REUSABLE,
        &AUTHENTICATOR_CONTEXT,
        &SUSPICIOUS_REPORTING,
        &METHODS_MIGRATION,
        &REGISTRATION_CAMPAIGN,
    ];
    let p = match single(ctx, Part::AuthMethodsPolicy, &checks) {
        Ok(p) => p,
        Err(unknown) => return unknown,
    };
    const NAME: &str = "authentication methods policy";
    let weak: Vec<Failure> = [
        ("Sms", "SMS codes"),
        ("Voice", "Voice calls"),
        ("Email", "E-mail one-time passcodes"),
    ]
    .iter()
    .filter(|(id, _)| method(p, id).is_some_and(enabled))
    .map(|(id, what)| {
        Failure::new(
            *id,
            format!("{what} are allowed as a sign-in method ({id} is enabled)."),
        )
        .entity("policy", NAME)
        .entity("method", *id)
    })
    .collect();
    let tap = method(p, "TemporaryAccessPass").filter(|m| enabled(m));
    let authenticator = method(p, "MicrosoftAuthenticator").filter(|m| enabled(m));
    let shown = |m: &Value, setting: &str| {
        m.pointer(&format!("/featureSettings/{setting}/state"))
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
    };
    let missing_context: Vec<&str> = authenticator
        .map(|m| {
            [
                ("displayAppInformationRequiredState", "the application"),
                ("displayLocationInformationRequiredState", "the location"),
            ]
            .iter()
            .filter(|(s, _)| !shown(m, s))
            .map(|(_, what)| *what)
            .collect()
        })
        .unwrap_or_default();
    let reporting = p
        .pointer("/reportSuspiciousActivitySettings/state")
        .and_then(Value::as_str)
        .unwrap_or("not set");
    let migration = text(p, "policyMigrationState").unwrap_or("not set");
    let campaign = p
        .pointer("/registrationEnforcement/authenticationMethodsRegistrationCampaign/state")
        .and_then(Value::as_str)
        .unwrap_or("not set");
    vec![
        Verdict::from(
            &WEAK_METHODS,
            weak,
            Vec::new(),
            "SMS, voice and e-mail codes are off",
        ),
        judged(
            &TAP_REUSABLE,
            tap.filter(|m| flag(m, "isUsableOnce") != Some(true)).map(|_| {
                "Temporary Access Passes are on and may be used more than once within their lifetime (isUsableOnce is not true).".into()
            }),
            NAME,
            match tap {
                Some(_) => "Temporary Access Passes are one-time".into(),
                None => "Temporary Access Passes are off".into(),
            },
        ),
        judged(
            &AUTHENTICATOR_CONTEXT,
            (!missing_context.is_empty()).then(|| {
                format!(
                    "Microsoft Authenticator is on and its pushes do not show {}.",
                    missing_context.join(" or ")
                )
            }),
            NAME,
            "Authenticator pushes show the application and the location".into(),
        ),
        judged(
            &SUSPICIOUS_REPORTING,
            (!reporting.eq_ignore_ascii_case("enabled"))
                .then(|| format!("Reporting suspicious activity is not on (state: {reporting}).")),
            NAME,
            "users can report suspicious prompts".into(),
        ),
        judged(
            &METHODS_MIGRATION,
            (!migration.eq_ignore_ascii_case("migrationComplete")).then(|| {
                format!("The move to the authentication methods policy is not complete ({migration}): the legacy MFA and SSPR settings still apply.")
            }),
            NAME,
            "authentication methods are managed in one policy".into(),
        ),
        judged(
            &REGISTRATION_CAMPAIGN,
            (!campaign.eq_ignore_ascii_case("enabled")).then(|| {
                format!("The registration campaign for the Authenticator app is not on (state: {campaign}).")
            }),
            NAME,
            "the registration campaign is on".into(),
        ),
    ]
}
