//! Who keeps the keys: the emergency access accounts the team will need
//! if conditional access or federation locks everyone else out, apps
//! holding directory roles, and privileged accounts nobody uses.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, text};
use super::{Context, GLOBAL_ADMIN, Holding, idle_days, unknown_without};
use crate::model::Severity;

pub static BREAK_GLASS: Check = Check {
    id: "posture.break-glass-accounts",
    title: "Fewer than two sound emergency access accounts",
    severity: Severity::Medium,
    techniques: &["T1531"],
    area: Area::PrivilegedAccess,
    reads: &[
        Part::Users,
        Part::RoleAssignments,
        Part::ConditionalAccess,
        Part::AuthMethods,
    ],
    anchors: &[
        "Maester",
        "Zero Trust Assessment",
        "Microsoft emergency access guidance",
    ],
    phase: Phase::Retain,
    rationale: "Evicting an attacker means changing conditional access and federation, and a mistake there locks every administrator out. Two cloud-only Global Administrators, left out of every policy and signing in with FIDO2 or a certificate, are how the team gets back in; an attacker's account can look the same, so each must be one the team knows.",
    remediation: &["reset-break-glass", "review-privileged-roles"],
};

pub static APP_IN_ROLE: Check = Check {
    id: "posture.service-principal-privileged-role",
    title: "Service principal holds a privileged directory role",
    severity: Severity::High,
    techniques: &["T1098.003", "T1078.004"],
    area: Area::PrivilegedAccess,
    reads: &[Part::RoleAssignments, Part::ServicePrincipals],
    anchors: &["Maester", "Zero Trust Assessment", "Azure AD Investigator"],
    phase: Phase::Investigate,
    rationale: "An app in a privileged role is an administrator that signs in with a secret or certificate, without MFA or conditional access for users; whoever holds one of its credentials, or owns the app, holds the role.",
    remediation: &[
        "review-privileged-roles",
        "remove-unneeded-admins",
        "remove-added-sp-credentials",
    ],
};

pub static STALE_ADMIN: Check = Check {
    id: "posture.stale-privileged-account",
    title: "Privileged account unused for over 90 days",
    severity: Severity::Medium,
    techniques: &["T1078.004"],
    area: Area::PrivilegedAccess,
    reads: &[Part::Users, Part::RoleAssignments, Part::RoleEligibilities],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Retain,
    rationale: "A privileged account nobody signs in with is one nobody would notice being used; an emergency access account not signed in to for months is one nobody knows still works. Remove the role, or test the account.",
    remediation: &["remove-unneeded-admins", "reset-break-glass"],
};

pub static GA_SHARE: Check = Check {
    id: "posture.global-admin-share",
    title: "More Global Administrators than holders of narrower admin roles",
    severity: Severity::Low,
    techniques: &["T1078.004"],
    area: Area::PrivilegedAccess,
    // The policies tell the emergency access accounts, which are set aside.
    reads: &[
        Part::Users,
        Part::RoleAssignments,
        Part::RoleEligibilities,
        Part::ConditionalAccess,
    ],
    anchors: &["ScubaGear MS.AAD.7.2", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Most administration needs a narrower role (Exchange, User, Security Administrator); each Global Administrator used for it is one more account whose theft gives away the tenant. The baseline asks for no more Global Administrators than holders of other privileged roles (emergency access accounts aside).",
    remediation: &["remove-unneeded-admins", "review-privileged-roles"],
};

const STALE_DAYS: i64 = 90;

/// Methods bound to the real sign-in page.
const PHISHING_RESISTANT: &[&str] = &[
    "#microsoft.graph.fido2AuthenticationMethod",
    "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
    "#microsoft.graph.x509CertificateAuthenticationMethod",
    "#microsoft.graph.platformCredentialAuthenticationMethod",
];

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    vec![
        break_glass(ctx),
        app_in_role(ctx),
        stale_admins(ctx),
        global_admin_share(ctx),
    ]
}

fn break_glass(ctx: &Context) -> Verdict {
    if let Some(unknown) = unknown_without(
        ctx,
        &BREAK_GLASS,
        &[Part::Users, Part::RoleAssignments, Part::ConditionalAccess],
    ) {
        return unknown;
    }
    let accounts = ctx.emergency_accounts();
    let names: Vec<String> = accounts.iter().map(|id| ctx.name_of(id)).collect();
    let mut failures = Vec::new();
    if accounts.len() < 2 {
        let mut failure = Failure::new(
            "count",
            format!(
                "{} emergency access account{} ({}): the guidance asks for at least two cloud-only Global Administrators, standing, left out of every enabled conditional access policy.",
                accounts.len(),
                if accounts.len() == 1 { "" } else { "s" },
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        );
        for id in &accounts {
            failure = failure
                .entity("targetResources.userPrincipalName", ctx.name_of(id))
                .evidence(*id);
        }
        failures.push(failure);
    }
    let mut unjudged = Vec::new();
    for id in &accounts {
        let Some(methods) = ctx.snapshot.methods.get(&Some((*id).to_owned())) else {
            unjudged.push(format!(
                "{}'s methods ({})",
                ctx.name_of(id),
                ctx.snapshot.lacking(Part::AuthMethods)
            ));
            continue;
        };
        let strong = methods
            .iter()
            .filter_map(|m| text(m, "@odata.type"))
            .any(|t| PHISHING_RESISTANT.iter().any(|p| p.eq_ignore_ascii_case(t)));
        if !strong {
            failures.push(
                Failure::new(
                    format!("{id}:methods"),
                    format!(
                        "The emergency access account {} has no phishing-resistant method (FIDO2, Windows Hello, certificate): a password and a push can be phished.",
                        ctx.name_of(id)
                    ),
                )
                .entity("targetResources.userPrincipalName", ctx.name_of(id))
                .evidence(*id),
            );
        }
    }
    Verdict::from(
        &BREAK_GLASS,
        failures,
        unjudged,
        format!("emergency access accounts: {}", names.join(", ")),
    )
}

fn app_in_role(ctx: &Context) -> Verdict {
    if let Some(unknown) = unknown_without(
        ctx,
        &APP_IN_ROLE,
        &[Part::RoleAssignments, Part::ServicePrincipals],
    ) {
        return unknown;
    }
    let held: Vec<&Holding> = ctx
        .holdings
        .iter()
        .filter(|h| h.privileged && ctx.principals.contains_key(h.principal.as_str()))
        .collect();
    let failures = held
        .iter()
        .map(|h| {
            let sp = ctx.principals[h.principal.as_str()];
            let severity = if h.role.eq_ignore_ascii_case(GLOBAL_ADMIN) {
                Severity::Critical
            } else {
                Severity::High
            };
            Failure::new(
                format!("{}:{}", h.principal, h.role),
                format!(
                    "The service principal {} (app id {}) holds {}{}.",
                    ctx.name_of(&h.principal),
                    text(sp, "appId").unwrap_or("unknown"),
                    h.role_name,
                    if h.active {
                        ""
                    } else {
                        " as a PIM eligibility"
                    }
                ),
            )
            .severity(severity)
            .entity("targetResources.displayName", ctx.name_of(&h.principal))
            .entity("role", h.role_name.clone())
            .evidence(h.principal.clone())
        })
        .collect();
    Verdict::from(
        &APP_IN_ROLE,
        failures,
        Vec::new(),
        format!("{} service principals", ctx.principals.len()),
    )
}

fn stale_admins(ctx: &Context) -> Verdict {
    if let Some(unknown) = unknown_without(ctx, &STALE_ADMIN, &[Part::Users, Part::RoleAssignments])
    {
        return unknown;
    }
    let admins: BTreeSet<&str> = ctx
        .holdings
        .iter()
        .filter(|h| h.privileged)
        .map(|h| h.principal.as_str())
        .filter(|id| ctx.users.contains_key(id))
        .collect();
    let mut failures = Vec::new();
    let mut unread = 0;
    for id in &admins {
        let user: &Value = ctx.users[id];
        match idle_days(ctx, user) {
            Some((idle, since)) if idle > STALE_DAYS => failures.push(
                Failure::new(
                    *id,
                    format!(
                        "{} holds a privileged role and {since}, {idle} days before the snapshot.",
                        ctx.name_of(id)
                    ),
                )
                .entity("targetResources.userPrincipalName", ctx.name_of(id))
                .evidence(*id),
            ),
            Some(_) => {}
            None => unread += 1,
        }
    }
    let unjudged = if unread > 0 {
        vec![format!(
            "{unread} privileged users without sign-in activity in the snapshot (it needs AuditLog.Read.All and an Entra ID P1 licence)"
        )]
    } else {
        Vec::new()
    };
    Verdict::from(
        &STALE_ADMIN,
        failures,
        unjudged,
        format!("{} privileged users", admins.len()),
    )
}

fn global_admin_share(ctx: &Context) -> Verdict {
    if let Some(unknown) = unknown_without(ctx, &GA_SHARE, GA_SHARE.reads) {
        return unknown;
    }
    let emergency = ctx.emergency_accounts();
    let users = |global: bool| -> BTreeSet<&str> {
        ctx.holdings
            .iter()
            .filter(|h| h.privileged && h.role.eq_ignore_ascii_case(GLOBAL_ADMIN) == global)
            .map(|h| h.principal.as_str())
            .filter(|id| ctx.users.contains_key(id) && !emergency.contains(id))
            .collect()
    };
    let global = users(true);
    let narrower: BTreeSet<&str> = users(false).difference(&global).copied().collect();
    let looked = format!(
        "{} Global Administrators (emergency access accounts aside), {} holders of narrower privileged roles",
        global.len(),
        narrower.len()
    );
    if global.len() <= narrower.len() {
        return Verdict::pass(&GA_SHARE, looked);
    }
    let mut failure = Failure::new(
        "share",
        format!(
            "{} users hold Global Administrator ({}) and {} hold only narrower privileged roles.",
            global.len(),
            global
                .iter()
                .map(|id| ctx.name_of(id))
                .collect::<Vec<_>>()
                .join(", "),
            narrower.len()
        ),
    );
    for id in &global {
        failure = failure.entity("admin", ctx.name_of(id));
    }
    Verdict::from(&GA_SHARE, vec![failure], Vec::new(), looked)
}
