//! Settings at the tenant's edges that outlive an eviction: how long a
//! token lives, what credentials apps may be given, and which other
//! tenants' users may come in.

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, flag, text};
use super::{Context, setting_failed, single};
use crate::model::Severity;

pub static APP_PASSWORDS: Check = Check {
    id: "posture.app-passwords-allowed",
    title: "Apps may be given new client secrets",
    severity: Severity::Medium,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[Part::AppManagementPolicy],
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "A client secret added to an app is the persistence of choice after an identity compromise (Midnight Blizzard, Storm-0558's follow-ups): a password that signs in as the app, with no MFA. An app management policy that blocks new secrets leaves certificates and federated credentials, which are harder to plant unseen.",
    remediation: &["remove-added-credentials", "review-app-permissions"],
};

pub static CREDENTIAL_LIFETIME: Check = Check {
    id: "posture.app-credential-lifetime-uncapped",
    title: "App credentials may live for years",
    severity: Severity::Low,
    techniques: &["T1098.001"],
    area: Area::Apps,
    reads: &[Part::AppManagementPolicy],
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "A credential valid for years outlasts every review; capping secrets and certificates (a year or less) makes a forgotten or planted one expire.",
    remediation: &["remove-added-credentials"],
};

pub static TOKEN_LIFETIME: Check = Check {
    id: "posture.token-lifetime-extended",
    title: "Access tokens live longer than Entra's default",
    severity: Severity::Medium,
    techniques: &["T1550.001"],
    area: Area::Authentication,
    reads: &[Part::TokenLifetimePolicies],
    anchors: &["none of the posture tools: the recovery guidance (revoke sessions)"],
    phase: Phase::Retain,
    rationale: "Revoking sessions does not end an access token already issued; a token lifetime policy that stretches access tokens past an hour keeps a stolen one working that much longer after the eviction.",
    remediation: &["revoke-sessions", "revoke-refresh-tokens"],
};

pub static CROSS_TENANT_INBOUND: Check = Check {
    id: "posture.cross-tenant-inbound-open",
    title: "Every other tenant's users may be invited in by default",
    severity: Severity::Low,
    techniques: &["T1199", "T1136.003"],
    area: Area::TenantEdges,
    reads: &[Part::CrossTenantDefault],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Improve,
    rationale: "With B2B collaboration inbound open by default, a guest from any tenant (an attacker's own among them) may be invited into every app. Blocking by default and allowing named partners keeps the door to those the company works with.",
    remediation: &["review-new-accounts"],
};

pub static DIRECT_CONNECT_INBOUND: Check = Check {
    id: "posture.cross-tenant-direct-connect-open",
    title: "B2B direct connect is open to every tenant",
    severity: Severity::Medium,
    techniques: &["T1199"],
    area: Area::TenantEdges,
    reads: &[Part::CrossTenantDefault],
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Direct connect lets users of another tenant into shared Teams channels without a guest account here, so nothing in this directory lists them. Entra blocks it by default; opened for everyone, any tenant's users may come in unseen.",
    remediation: &["review-new-accounts"],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let mut out = app_management(ctx);
    out.push(token_lifetime(ctx));
    out.extend(cross_tenant(ctx));
    out
}

/// The restriction of this type in a list, when on (`state` missing is on).
fn restriction<'a>(list: Option<&'a Value>, kind: &str) -> Option<&'a Value> {
    list?.as_array()?.iter().find(|r| {
        text(r, "restrictionType").is_some_and(|t| t.eq_ignore_ascii_case(kind))
            && text(r, "state").is_none_or(|s| s.eq_ignore_ascii_case("enabled"))
    })
}

/// Days of an ISO 8601 duration of days (`P90D`, `P1Y`).
fn days(duration: &str) -> Option<u64> {
    let d = duration.strip_prefix('P')?;
    if let Some(n) = d.strip_suffix('D') {
        return n.parse().ok();
    }
    d.strip_suffix('Y')?.parse::<u64>().ok().map(|y| y * 365)
}

fn app_management(ctx: &Context) -> Vec<Verdict> {
    let policy = match single(
        ctx,
        Part::AppManagementPolicy,
        &[&APP_PASSWORDS, &CREDENTIAL_LIFETIME],
    ) {
        Ok(policy) => policy,
        Err(unknown) => return unknown,
    };
    const NAME: &str = "default app management policy";
    let on = flag(policy, "isEnabled") == Some(true);
    let passwords = policy.pointer("/applicationRestrictions/passwordCredentials");
    let keys = policy.pointer("/applicationRestrictions/keyCredentials");
    let blocked = on && restriction(passwords, "passwordAddition").is_some();
    let capped = |list, kind| {
        restriction(list, kind)
            .and_then(|r| text(r, "maxLifetime"))
            .and_then(days)
            .is_some_and(|d| d <= 365)
    };
    let lifetimes = on
        && (blocked || capped(passwords, "passwordLifetime"))
        && capped(keys, "asymmetricKeyLifetime");
    let fail = |check: &'static Check, why: &str| setting_failed(check, why, ("policy", NAME));
    vec![
        if blocked {
            Verdict::pass(&APP_PASSWORDS, "new client secrets are blocked")
        } else if on {
            fail(
                &APP_PASSWORDS,
                "The default app management policy does not block new client secrets (no passwordAddition restriction).",
            )
        } else {
            fail(
                &APP_PASSWORDS,
                "The default app management policy is off: any app may be given a client secret.",
            )
        },
        if lifetimes {
            Verdict::pass(
                &CREDENTIAL_LIFETIME,
                "app secrets and certificates are capped at a year or less",
            )
        } else {
            fail(
                &CREDENTIAL_LIFETIME,
                "No app management restriction caps the lifetime of app secrets and certificates at a year or less.",
            )
        },
    ]
}

/// An access token lifetime (`8:00:00`, `1.00:00:00`) in minutes.
fn minutes(lifetime: &str) -> Option<u64> {
    let (days, clock) = match lifetime.split_once('.') {
        Some((d, rest)) if !d.contains(':') => (d.parse::<u64>().ok()?, rest),
        _ => (0, lifetime),
    };
    let mut parts = clock.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m) = (parts.next()??, parts.next().flatten().unwrap_or(0));
    Some(days * 1440 + h * 60 + m)
}

fn token_lifetime(ctx: &Context) -> Verdict {
    if !ctx.snapshot.has(Part::TokenLifetimePolicies) {
        return Verdict::unknown(
            &TOKEN_LIFETIME,
            ctx.snapshot.lacking(Part::TokenLifetimePolicies),
        );
    }
    let policies = ctx.snapshot.list(Part::TokenLifetimePolicies);
    let mut failures = Vec::new();
    for p in policies {
        let definitions = p
            .get("definition")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        for definition in definitions {
            let Ok(parsed) = serde_json::from_str::<Value>(definition) else {
                continue;
            };
            let Some(lifetime) = parsed
                .pointer("/TokenLifetimePolicy/AccessTokenLifetime")
                .and_then(Value::as_str)
            else {
                continue;
            };
            if minutes(lifetime).is_some_and(|m| m > 90) {
                let name = text(p, "displayName").unwrap_or("(unnamed)");
                failures.push(
                    Failure::new(
                        text(p, "id").unwrap_or(name),
                        format!(
                            "\"{name}\" sets access tokens to live {lifetime}{}.",
                            if flag(p, "isOrganizationDefault") == Some(true) {
                                ", for every app of the tenant"
                            } else {
                                ""
                            }
                        ),
                    )
                    .entity("policy", name)
                    .evidence(text(p, "id").unwrap_or("")),
                );
            }
        }
    }
    Verdict::from(
        &TOKEN_LIFETIME,
        failures,
        Vec::new(),
        format!("{} token lifetime policies", policies.len()),
    )
}

/// Whether a B2B setting lets everyone in to everything.
fn open_to_all(setting: Option<&Value>) -> bool {
    let allowed_all = |part: &str, target: &str| {
        setting.and_then(|s| s.get(part)).is_some_and(|p| {
            text(p, "accessType").is_some_and(|a| a.eq_ignore_ascii_case("allowed"))
                && p.get("targets").and_then(Value::as_array).is_some_and(|t| {
                    t.iter()
                        .any(|x| text(x, "target").is_some_and(|v| v.eq_ignore_ascii_case(target)))
                })
        })
    };
    allowed_all("usersAndGroups", "AllUsers") && allowed_all("applications", "AllApplications")
}

fn cross_tenant(ctx: &Context) -> Vec<Verdict> {
    let default = match single(
        ctx,
        Part::CrossTenantDefault,
        &[&CROSS_TENANT_INBOUND, &DIRECT_CONNECT_INBOUND],
    ) {
        Ok(default) => default,
        Err(unknown) => return unknown,
    };
    const NAME: &str = "default cross-tenant access";
    let judge = |check: &'static Check, field: &str, what: &str| {
        if open_to_all(default.get(field)) {
            Verdict::from(
                check,
                vec![Failure::new(field.to_owned(), format!("By default, {what} is allowed for all users of every other tenant, to all applications.")).entity("policy", NAME)],
                Vec::new(),
                "",
            )
        } else {
            Verdict::pass(
                check,
                format!("{what} is not open to every tenant by default"),
            )
        }
    };
    vec![
        judge(
            &CROSS_TENANT_INBOUND,
            "b2bCollaborationInbound",
            "B2B collaboration inbound",
        ),
        judge(
            &DIRECT_CONNECT_INBOUND,
            "b2bDirectConnectInbound",
            "B2B direct connect inbound",
        ),
    ]
}
