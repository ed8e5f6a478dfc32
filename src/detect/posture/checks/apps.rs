//! Applications and service principals: credentials on apps that can
//! read everyone's mail or take the tenant, credentials on Microsoft's own
//! service principals, and consent given for every user.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, text};
use super::{Context, Held, credentials, describe, is_high_risk};
use crate::model::Severity;

pub static NEW_CREDENTIAL_HIGH_RISK: Check = Check {
    id: "posture.app-new-credential-high-risk",
    title: "Recently added credential on an app with high-risk permissions",
    severity: Severity::High,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[
        Part::Applications,
        Part::ServicePrincipals,
        Part::AppRoleAssignments,
        Part::Grants,
    ],
    anchors: &["Azure AD Investigator", "Sparrow"],
    phase: Phase::Investigate,
    rationale: "A secret or certificate added to an existing app that can read all mail or write the directory lets whoever holds it act as the app, with no user, no MFA and no conditional access. Attackers add one to an app that already has the permissions they want. Recent means a start date within 30 days or in the future; the start date is chosen by whoever adds the key, so the audit log (and the snapshot comparison) remain the proof.",
    remediation: &["remove-added-credentials", "review-app-permissions"],
};

pub static FIRST_PARTY_CREDENTIAL: Check = Check {
    id: "posture.first-party-credential",
    title: "Microsoft service principal carries a credential",
    severity: Severity::High,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[Part::ServicePrincipals],
    anchors: &["Azure AD Investigator", "Zero Trust Assessment"],
    phase: Phase::Investigate,
    rationale: "Microsoft's own service principals hold broad rights in every tenant and almost never need a credential added in the tenant. One found there is either a leftover of a hybrid set-up to account for or a backdoor.",
    // Not "remove": a hybrid set-up may have put it there; the review
    // decides, and removal then goes through the credential's own item.
    remediation: &["review-app-permissions"],
};

pub static TENANT_WIDE_GRANT: Check = Check {
    id: "posture.tenant-wide-high-risk-grant",
    title: "High-risk delegated permission consented for every user",
    severity: Severity::High,
    techniques: &["T1528"],
    area: Area::Apps,
    reads: &[Part::Grants, Part::ServicePrincipals],
    anchors: &[
        "Azure AD Investigator",
        "Zero Trust Assessment",
        "CISA risky permissions",
    ],
    phase: Phase::Investigate,
    rationale: "An admin consent for all users lets the app act with these permissions as anyone who signs in to it, across every mailbox, file or directory object those users reach. Illicit consent grants are how attackers keep reading mail after passwords change.",
    remediation: &["review-app-permissions", "remove-risky-grants"],
};

pub static HIGH_RISK_PERMISSIONS: Check = Check {
    id: "posture.app-high-risk-permissions",
    title: "App holds permissions that reach all mail, files or the directory",
    severity: Severity::Medium,
    techniques: &["T1098.003"],
    area: Area::Apps,
    reads: &[
        Part::AppRoleAssignments,
        Part::Grants,
        Part::ServicePrincipals,
    ],
    anchors: &["CISA risky permissions", "Zero Trust Assessment", "Maester"],
    phase: Phase::Investigate,
    rationale: "The guidance asks for every app that can modify privileged users or roles, read all mailboxes, send as others, read all files or add credentials to be reviewed: each is a path back in. Application permissions need no signed-in user; delegated ones act as the users who consented.",
    remediation: &["review-app-permissions"],
};

/// A credential counts as recent when it started within this many days
/// of the snapshot.
const RECENT_DAYS: i64 = 30;

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let snapshot = ctx.snapshot;
    if !snapshot.has(Part::ServicePrincipals) {
        let why = snapshot.lacking(Part::ServicePrincipals);
        return [
            &NEW_CREDENTIAL_HIGH_RISK,
            &FIRST_PARTY_CREDENTIAL,
            &TENANT_WIDE_GRANT,
            &HIGH_RISK_PERMISSIONS,
        ]
        .into_iter()
        .map(|c| Verdict::unknown(c, why.clone()))
        .collect();
    }
    let apps: BTreeMap<&str, &Value> = snapshot
        .list(Part::Applications)
        .iter()
        .filter_map(|a| Some((text(a, "appId")?, a)))
        .collect();
    let mut grants_unknown = Vec::new();
    for part in [Part::AppRoleAssignments, Part::Grants] {
        if !snapshot.has(part) {
            grants_unknown.push(snapshot.lacking(part));
        }
    }
    let looked = format!(
        "{} service principals, {} applications",
        snapshot.list(Part::ServicePrincipals).len(),
        apps.len()
    );
    // Attackers add keys to app registrations more often than to their
    // service principals: without the registrations, no pass.
    let mut credentials_unknown = grants_unknown.clone();
    if !snapshot.has(Part::Applications) {
        credentials_unknown.push(snapshot.lacking(Part::Applications));
    }
    vec![
        new_credentials(ctx, &apps, credentials_unknown, &looked),
        first_party(ctx, &looked),
        tenant_wide(ctx, grants_unknown.clone()),
        reach(ctx, &apps, grants_unknown, &looked),
    ]
}

fn high_risk<'a>(ctx: &'a Context, sp_id: &str) -> Vec<&'a Held> {
    ctx.permissions
        .get(sp_id)
        .map(|held| {
            held.iter()
                .filter(|h| is_high_risk(h.permission) && (h.application || h.tenant_wide))
                .collect()
        })
        .unwrap_or_default()
}

/// A recent key: (keyId as written, age in days, what it is, the objects
/// it sits on and their ids).
type Recent<'a> = (String, i64, String, Vec<&'a str>, Vec<&'a str>);

fn new_credentials(
    ctx: &Context,
    apps: &BTreeMap<&str, &Value>,
    mut unjudged: Vec<String>,
    looked: &str,
) -> Verdict {
    let mut failures = Vec::new();
    for sp in ctx.snapshot.list(Part::ServicePrincipals) {
        let Some(sp_id) = text(sp, "id") else {
            continue;
        };
        let held = high_risk(ctx, sp_id);
        if held.is_empty() {
            continue;
        }
        let name = text(sp, "displayName").unwrap_or(sp_id);
        let app_id = text(sp, "appId").unwrap_or("");
        let app = apps.get(app_id).copied();
        // The same key often sits on both the application and its
        // service principal: one finding names both.
        let mut recent: BTreeMap<String, Recent> = BTreeMap::new();
        for (object, what) in [(Some(sp), "service principal"), (app, "application")] {
            let Some(object) = object else { continue };
            let created = super::super::time(object, "createdDateTime");
            for (key, label, start) in credentials(object) {
                let Some(start) = start else {
                    unjudged.push(format!("{name}'s {label} (keyId {key}) has no start date"));
                    continue;
                };
                // A start in the future is a key staged for later: recent.
                let age = ctx.days_before_now(start).max(0);
                let after_creation =
                    created.is_none_or(|c| start.as_second() - c.as_second() > 86_400);
                if !(0..=RECENT_DAYS).contains(&age) || !after_creation {
                    continue;
                }
                let made = created
                    .map(|c| {
                        format!(
                            " ({} days after the {what} was created)",
                            (start.as_second() - c.as_second()) / 86_400
                        )
                    })
                    .unwrap_or_default();
                let entry = recent.entry(key.to_lowercase()).or_insert_with(|| {
                    (
                        key.clone(),
                        age,
                        format!("{label}{made}"),
                        Vec::new(),
                        Vec::new(),
                    )
                });
                entry.3.push(what);
                entry.4.push(text(object, "id").unwrap_or(""));
            }
        }
        for (key, age, label, whats, ids) in recent.into_values() {
            let mut failure = Failure::new(format!("{sp_id}:{}", key.to_lowercase()), format!(
                "A {label} (keyId {key}) was added {age} days before the snapshot to the {} of {name}; the app holds {}.",
                whats.join(" and the "),
                describe(&held)
            ))
            .entity("targetResources.displayName", name)
            .entity("keyId", key.clone())
            .entity("appId", app_id);
            for id in ids {
                failure = failure.evidence(id);
            }
            failures.push(failure);
        }
    }
    Verdict::from(&NEW_CREDENTIAL_HIGH_RISK, failures, unjudged, looked)
}

fn first_party(ctx: &Context, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    for sp in ctx.snapshot.list(Part::ServicePrincipals) {
        if !ctx.is_first_party(sp) {
            continue;
        }
        let sp_id = text(sp, "id").unwrap_or("");
        let name = text(sp, "displayName").unwrap_or(sp_id);
        for (key, label, start) in credentials(sp) {
            let since = start
                .map(|s| format!(", valid from {}", s.strftime("%Y-%m-%d")))
                .unwrap_or_default();
            failures.push(
                Failure::new(format!("{sp_id}:{key}"), format!(
                    "{name}, a Microsoft service principal (appId {}), carries a {label} (keyId {key}{since}).",
                    text(sp, "appId").unwrap_or("?")
                ))
                .entity("targetResources.displayName", name)
                .entity("keyId", key.clone())
                .entity("appId", text(sp, "appId").unwrap_or(""))
                .evidence(sp_id),
            );
        }
    }
    Verdict::from(&FIRST_PARTY_CREDENTIAL, failures, Vec::new(), looked)
}

fn tenant_wide(ctx: &Context, unjudged: Vec<String>) -> Verdict {
    let mut failures = Vec::new();
    let grants = ctx.snapshot.list(Part::Grants);
    for g in grants {
        if text(g, "consentType") != Some("AllPrincipals") {
            continue;
        }
        let client = text(g, "clientId").unwrap_or("");
        let risky: Vec<&str> = text(g, "scope")
            .unwrap_or("")
            .split_whitespace()
            .filter(|s| {
                crate::detect::catalogue::Catalogue::shared()
                    .permission
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case(s) && is_high_risk(p))
            })
            .collect();
        if risky.is_empty() {
            continue;
        }
        let name = ctx.name_of(client);
        let resource = ctx.name_of(text(g, "resourceId").unwrap_or(""));
        let owner = ctx
            .principals
            .get(client)
            .and_then(|sp| text(sp, "appOwnerOrganizationId"))
            .map(|o| format!(" (an app registered in tenant {o})"))
            .unwrap_or_default();
        failures.push(
            Failure::new(text(g, "id").unwrap_or(client), format!(
                "{name}{owner} may use {} on {resource} as any user of the tenant (admin consent for all principals; the whole grant: {}).",
                risky.join(", "),
                text(g, "scope").unwrap_or("")
            ))
            .entity("targetResources.displayName", name.clone())
            .entity("appId", ctx.principals.get(client).and_then(|sp| text(sp, "appId")).unwrap_or(""))
            .evidence(text(g, "id").unwrap_or("")),
        );
    }
    let unjudged = if ctx.snapshot.has(Part::Grants) {
        Vec::new()
    } else {
        unjudged
    };
    Verdict::from(
        &TENANT_WIDE_GRANT,
        failures,
        unjudged,
        format!("{} delegated grants", grants.len()),
    )
}

fn reach(
    ctx: &Context,
    apps: &BTreeMap<&str, &Value>,
    unjudged: Vec<String>,
    looked: &str,
) -> Verdict {
    let mut failures = Vec::new();
    for sp in ctx.snapshot.list(Part::ServicePrincipals) {
        let Some(sp_id) = text(sp, "id") else {
            continue;
        };
        let held: Vec<&Held> = ctx
            .permissions
            .get(sp_id)
            .map(|h| {
                h.iter()
                    .filter(|h| {
                        is_high_risk(h.permission)
                            && (h.application
                                || h.tenant_wide
                                || h.permission.risk == Severity::Critical)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if held.is_empty() {
            continue;
        }
        let name = text(sp, "displayName").unwrap_or(sp_id);
        let app_id = text(sp, "appId").unwrap_or("");
        let mut keys = credentials(sp);
        if let Some(app) = apps.get(app_id) {
            keys.extend(credentials(app));
        }
        let creds = match keys.len() {
            0 => "no credential in the tenant".to_owned(),
            n => format!("{n} credential(s) that let it sign in on its own"),
        };
        let mut failure = Failure::new(
            sp_id,
            format!("{name} holds {}; it carries {creds}.", describe(&held)),
        )
        .entity("targetResources.displayName", name)
        .entity("appId", app_id)
        .evidence(sp_id);
        for h in &held {
            failure = failure
                .entity("permission", h.permission.name.clone())
                .evidence(h.grant_id.clone());
        }
        failures.push(failure);
    }
    Verdict::from(&HIGH_RISK_PERMISSIONS, failures, unjudged, looked)
}
