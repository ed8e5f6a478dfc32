//! How apps are set up, beyond what they were granted: Microsoft's own
//! administration tools open to every user, and multi-tenant apps whose
//! service principals other tenants can change.

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, flag, text};
use super::{Context, unknown_without};
use crate::model::Severity;
use crate::model::well_known::ADMIN_TOOLS;

pub static ADMIN_TOOLS_OPEN: Check = Check {
    id: "posture.admin-tools-open-to-all",
    title: "Microsoft's administration tools can be used by any user",
    severity: Severity::Medium,
    techniques: &["T1087.004", "T1059.009"],
    area: Area::Apps,
    reads: &[Part::ServicePrincipals],
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Microsoft Graph PowerShell, Azure PowerShell, Azure CLI and Graph Explorer read (and, with consent, change) the whole directory. Attackers use them with stolen tokens because they are trusted first-party apps. Unless their service principals require assignment, every user may use them, and a missing one is created, open, on the first sign-in.",
    remediation: &["review-app-permissions", "review-conditional-access"],
};

pub static INSTANCE_LOCK: Check = Check {
    id: "posture.app-instance-lock-off",
    title: "Multi-tenant app without app instance property lock",
    severity: Severity::Low,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[Part::Applications],
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "A multi-tenant app's service principals live in other tenants; without the app instance property lock an administrator there (or an attacker who is one) can add credentials to its service principal and sign in as the app with the permissions customers granted it.",
    remediation: &["review-app-permissions", "remove-added-sp-credentials"],
};

pub static PRIVILEGED_APP_OWNERS: Check = Check {
    id: "posture.privileged-app-owners",
    title: "Users own apps that hold high-risk permissions or roles",
    severity: Severity::Medium,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[
        Part::Applications,
        Part::ServicePrincipals,
        Part::AppRoleAssignments,
        Part::RoleAssignments,
    ],
    anchors: &["Maester", "Zero Trust Assessment", "Azure AD Investigator"],
    phase: Phase::Retain,
    rationale: "An app's owner can add a credential to it and sign in as the app, with every permission and role it holds and no MFA: owning a privileged app is holding its privileges. Such apps should have no user owners, or only administrators of the same tier.",
    remediation: &["review-app-permissions", "remove-added-credentials"],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    vec![admin_tools(ctx), instance_lock(ctx), privileged_owners(ctx)]
}

fn admin_tools(ctx: &Context) -> Verdict {
    if !ctx.snapshot.has(Part::ServicePrincipals) {
        return Verdict::unknown(
            &ADMIN_TOOLS_OPEN,
            ctx.snapshot.lacking(Part::ServicePrincipals),
        );
    }
    let mut failures = Vec::new();
    for (app_id, tool) in ADMIN_TOOLS {
        let sp = ctx
            .principals
            .values()
            .find(|sp| text(sp, "appId").is_some_and(|a| a.eq_ignore_ascii_case(app_id)));
        let why = match sp {
            None => format!(
                "{tool} (app id {app_id}) has no service principal in the tenant: the first user to sign in to it creates one that every user may use."
            ),
            Some(sp) if flag(sp, "appRoleAssignmentRequired") != Some(true) => format!(
                "{tool}'s service principal does not require assignment: every user may sign in to it."
            ),
            Some(_) => continue,
        };
        let mut failure = Failure::new(*app_id, why).entity("targetResources.displayName", *tool);
        if let Some(id) = sp.and_then(|sp| text(sp, "id")) {
            failure = failure.evidence(id);
        }
        failures.push(failure);
    }
    Verdict::from(
        &ADMIN_TOOLS_OPEN,
        failures,
        Vec::new(),
        format!("{} first-party administration tools", ADMIN_TOOLS.len()),
    )
}

fn locked(app: &Value) -> bool {
    app.get("servicePrincipalLockConfiguration")
        .is_some_and(|lock| {
            flag(lock, "isEnabled") == Some(true) && flag(lock, "allProperties") == Some(true)
        })
}

fn instance_lock(ctx: &Context) -> Verdict {
    if !ctx.snapshot.has(Part::Applications) {
        return Verdict::unknown(&INSTANCE_LOCK, ctx.snapshot.lacking(Part::Applications));
    }
    let apps = ctx.snapshot.list(Part::Applications);
    let multi_tenant: Vec<&Value> = apps
        .iter()
        .filter(|a| {
            text(a, "signInAudience")
                .is_some_and(|s| s != "AzureADMyOrg" && s != "PersonalMicrosoftAccount")
        })
        .collect();
    let failures = multi_tenant
        .iter()
        .filter(|a| !locked(a))
        .map(|a| {
            let name = text(a, "displayName").unwrap_or("(unnamed)");
            Failure::new(
                text(a, "id").unwrap_or(name),
                format!(
                    "{name} (app id {}) signs in users of other tenants ({}) and its service principals there are not locked against new credentials.",
                    text(a, "appId").unwrap_or("unknown"),
                    text(a, "signInAudience").unwrap_or("")
                ),
            )
            .entity("targetResources.displayName", name)
            .evidence(text(a, "id").unwrap_or(""))
        })
        .collect();
    Verdict::from(
        &INSTANCE_LOCK,
        failures,
        Vec::new(),
        format!(
            "{} applications, {} multi-tenant",
            apps.len(),
            multi_tenant.len()
        ),
    )
}

fn privileged_owners(ctx: &Context) -> Verdict {
    if let Some(unknown) = unknown_without(ctx, &PRIVILEGED_APP_OWNERS, PRIVILEGED_APP_OWNERS.reads)
    {
        return unknown;
    }
    let mut failures = Vec::new();
    let apps = ctx.snapshot.list(Part::Applications);
    for app in apps {
        let owners: Vec<&str> = app
            .get("owners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| text(o, "userPrincipalName").or_else(|| text(o, "displayName")))
            .collect();
        let Some(app_id) = text(app, "appId") else {
            continue;
        };
        if owners.is_empty() {
            continue;
        }
        let Some((sp_id, _)) = ctx
            .principals
            .iter()
            .find(|(_, sp)| text(sp, "appId").is_some_and(|a| a.eq_ignore_ascii_case(app_id)))
        else {
            continue;
        };
        let mut powers: Vec<String> = ctx
            .permissions
            .get(*sp_id)
            .into_iter()
            .flatten()
            .filter(|h| h.application && super::is_high_risk(h.permission))
            .map(|h| h.permission.name.clone())
            .collect();
        powers.extend(
            ctx.holdings
                .iter()
                .filter(|h| h.privileged && h.principal == *sp_id)
                .map(|h| h.role_name.clone()),
        );
        powers.sort();
        powers.dedup();
        if powers.is_empty() {
            continue;
        }
        let name = text(app, "displayName").unwrap_or(app_id);
        let mut failure = Failure::new(
            text(app, "id").unwrap_or(app_id),
            format!(
                "{name} holds {} and is owned by {}: each owner can add a credential and act as the app.",
                powers.join(", "),
                owners.join(", ")
            ),
        )
        .entity("targetResources.displayName", name)
        .evidence(text(app, "id").unwrap_or(""));
        for owner in owners {
            failure = failure.entity("owner", owner);
        }
        failures.push(failure);
    }
    Verdict::from(
        &PRIVILEGED_APP_OWNERS,
        failures,
        Vec::new(),
        format!("{} applications and their owners", apps.len()),
    )
}
