//! Who may sign in and how: legacy protocols that skip MFA, conditional
//! access around administrators, and guests nobody uses any more.

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, flag, text};
use super::{Context, GLOBAL_ADMIN, lowered};
use crate::model::Severity;

pub static LEGACY_AUTH: Check = Check {
    id: "posture.legacy-auth-not-blocked",
    title: "Legacy authentication is not blocked",
    severity: Severity::High,
    techniques: &["T1078.004", "T1110.003"],
    area: Area::Authentication,
    reads: &[Part::ConditionalAccess],
    anchors: &[
        "ScubaGear MS.AAD.1.1",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Improve,
    rationale: "IMAP, POP, SMTP AUTH and other legacy protocols cannot do MFA, so a password alone opens the mailbox. Password spray and stolen passwords go through them; a policy in report-only mode blocks nothing.",
    remediation: &["block-legacy-authentication"],
};

pub static ADMIN_ACCESS: Check = Check {
    id: "posture.admin-access-not-limited",
    title: "No conditional access policy requires MFA of administrators",
    severity: Severity::Medium,
    techniques: &["T1078.004"],
    area: Area::PrivilegedAccess,
    reads: &[Part::ConditionalAccess],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Retain,
    rationale: "The guidance asks for conditional access to limit administrative access: at least MFA for every privileged role, better a phishing-resistant method from a managed device.",
    remediation: &["review-conditional-access", "enforce-mfa"],
};

pub static STALE_GUEST: Check = Check {
    id: "posture.stale-guest",
    title: "Guest account unused for over 90 days",
    severity: Severity::Medium,
    techniques: &["T1078.004"],
    area: Area::TenantEdges,
    reads: &[Part::Users],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Improve,
    rationale: "A guest nobody uses is access nobody watches: the other organisation may have lost the account, and an attacker can use it unnoticed. Guests no longer needed should be removed.",
    remediation: &["review-new-accounts"],
};

const STALE_DAYS: i64 = 90;

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    vec![legacy(ctx), admin_access(ctx), stale_guests(ctx)]
}

pub(super) fn enabled_policies<'a>(ctx: &'a Context) -> impl Iterator<Item = &'a Value> {
    ctx.snapshot
        .list(Part::ConditionalAccess)
        .iter()
        .filter(|p| text(p, "state").is_some_and(|s| s.eq_ignore_ascii_case("enabled")))
}

pub(super) fn name(policy: &Value) -> String {
    format!("\"{}\"", text(policy, "displayName").unwrap_or("(unnamed)"))
}

/// A policy limited to some places, platforms or risk levels applies only
/// there, so it cannot be what makes a tenant-wide check pass.
pub(super) fn narrowed(policy: &Value) -> bool {
    let limited = |pointer: &str| {
        let values = lowered(policy, pointer);
        !values.is_empty() && !values.iter().any(|v| v == "all")
    };
    limited("/conditions/locations/includeLocations")
        || !lowered(policy, "/conditions/locations/excludeLocations").is_empty()
        || limited("/conditions/platforms/includePlatforms")
        || !lowered(policy, "/conditions/platforms/excludePlatforms").is_empty()
        || !lowered(policy, "/conditions/signInRiskLevels").is_empty()
        || !lowered(policy, "/conditions/userRiskLevels").is_empty()
}

pub(super) fn grant_controls(policy: &Value) -> Vec<String> {
    lowered(policy, "/grantControls/builtInControls")
}

/// Security defaults: `Some(true)` when enforced.
pub(super) fn defaults(ctx: &Context) -> Option<bool> {
    ctx.snapshot
        .list(Part::SecurityDefaults)
        .first()
        .and_then(|d| flag(d, "isEnabled"))
}

fn legacy(ctx: &Context) -> Verdict {
    if defaults(ctx) == Some(true) {
        return Verdict::pass(
            &LEGACY_AUTH,
            "security defaults are on, which block legacy authentication",
        );
    }
    if !ctx.snapshot.has(Part::ConditionalAccess) {
        return Verdict::unknown(&LEGACY_AUTH, ctx.snapshot.lacking(Part::ConditionalAccess));
    }
    let blocks = |p: &&Value| {
        let apps = lowered(p, "/conditions/clientAppTypes");
        let users = lowered(p, "/conditions/users/includeUsers");
        let targets = lowered(p, "/conditions/applications/includeApplications");
        (apps.iter().any(|a| a == "exchangeactivesync") && apps.iter().any(|a| a == "other"))
            && users.iter().any(|u| u == "all")
            && targets.iter().any(|t| t == "all")
            && grant_controls(p).iter().any(|c| c == "block")
            && !narrowed(p)
    };
    if let Some(policy) = enabled_policies(ctx).find(blocks) {
        let excluded = lowered(policy, "/conditions/users/excludeUsers").len()
            + lowered(policy, "/conditions/users/excludeGroups").len();
        return Verdict::pass(
            &LEGACY_AUTH,
            format!(
                "{} blocks legacy clients for all users{}",
                name(policy),
                if excluded > 0 {
                    format!(" ({excluded} users or groups left out)")
                } else {
                    String::new()
                }
            ),
        );
    }
    let report_only: Vec<String> = ctx
        .snapshot
        .list(Part::ConditionalAccess)
        .iter()
        .filter(|p| text(p, "state") == Some("enabledForReportingButNotEnforced") && blocks(p))
        .map(name)
        .collect();
    let mut failure = Failure::new(
        "legacy-authentication",
        format!(
            "No enabled conditional access policy blocks legacy clients (Exchange ActiveSync and other clients) for all users{}{}.",
            match defaults(ctx) {
                Some(false) => ", and security defaults are off",
                _ => "",
            },
            if report_only.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} only reports (enabledForReportingButNotEnforced)",
                    report_only.join(", ")
                )
            }
        ),
    );
    for p in &report_only {
        failure = failure.entity("policy", p.trim_matches('"').to_owned());
    }
    for p in ctx.snapshot.list(Part::ConditionalAccess) {
        if report_only.contains(&name(p)) {
            failure = failure.evidence(text(p, "id").unwrap_or(""));
        }
    }
    Verdict::from(&LEGACY_AUTH, vec![failure], Vec::new(), "")
}

fn admin_access(ctx: &Context) -> Verdict {
    if defaults(ctx) == Some(true) {
        return Verdict::pass(
            &ADMIN_ACCESS,
            "security defaults are on, which require MFA of administrators",
        );
    }
    if !ctx.snapshot.has(Part::ConditionalAccess) {
        return Verdict::unknown(&ADMIN_ACCESS, ctx.snapshot.lacking(Part::ConditionalAccess));
    }
    let covers_admins = |p: &&Value| {
        let roles = lowered(p, "/conditions/users/includeRoles");
        let users = lowered(p, "/conditions/users/includeUsers");
        let strong = grant_controls(p)
            .iter()
            .any(|c| matches!(c.as_str(), "mfa" | "compliantdevice" | "domainjoineddevice"))
            || p.pointer("/grantControls/authenticationStrength")
                .is_some_and(|s| !s.is_null());
        let excluded = lowered(p, "/conditions/users/excludeRoles");
        let targets = lowered(p, "/conditions/applications/includeApplications");
        strong
            && (users.iter().any(|u| u == "all") || roles.iter().any(|r| r == GLOBAL_ADMIN))
            && !excluded.iter().any(|r| r == GLOBAL_ADMIN)
            && targets.iter().any(|t| t == "all")
            && !narrowed(p)
    };
    match enabled_policies(ctx).find(covers_admins) {
        Some(policy) => Verdict::pass(
            &ADMIN_ACCESS,
            format!("{} requires MFA of Global Administrators", name(policy)),
        ),
        None => Verdict::from(
            &ADMIN_ACCESS,
            vec![Failure::new(
                "admin-access",
                format!(
                    "Of {} conditional access policies, none is enabled that requires MFA (or a compliant device) of Global Administrators, and security defaults are not on.",
                    ctx.snapshot.list(Part::ConditionalAccess).len()
                ),
            )],
            Vec::new(),
            "",
        ),
    }
}

fn stale_guests(ctx: &Context) -> Verdict {
    if !ctx.snapshot.has(Part::Users) {
        return Verdict::unknown(&STALE_GUEST, ctx.snapshot.lacking(Part::Users));
    }
    let mut failures = Vec::new();
    let mut unread = 0;
    let mut guests = 0;
    for user in ctx.snapshot.list(Part::Users) {
        if !ctx.is_guest(user) {
            continue;
        }
        guests += 1;
        let Some((idle, since)) = super::idle_days(ctx, user) else {
            unread += 1;
            continue;
        };
        if idle > STALE_DAYS {
            let id = text(user, "id").unwrap_or("");
            failures.push(
                Failure::new(
                    id,
                    format!(
                        "The guest {} {since}, {idle} days before the snapshot.",
                        ctx.name_of(id)
                    ),
                )
                .entity("targetResources.userPrincipalName", ctx.name_of(id))
                .evidence(id),
            );
        }
    }
    let unjudged = if unread > 0 {
        vec![format!(
            "{unread} guests without sign-in activity in the snapshot (it needs AuditLog.Read.All and an Entra ID P1 licence)"
        )]
    } else {
        Vec::new()
    };
    Verdict::from(&STALE_GUEST, failures, unjudged, format!("{guests} guests"))
}
