//! Who holds administrative rights, and how: synced from on-premises,
//! standing instead of eligible, guests, too many Global Administrators,
//! admins with nothing but a password, and sign-in methods added lately.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, text};
use super::{Context, GLOBAL_ADMIN, Holding};
use crate::model::Severity;

pub static SYNCED_ADMIN: Check = Check {
    id: "posture.synced-privileged-account",
    title: "Privileged role held by an account synced from on-premises",
    severity: Severity::High,
    techniques: &["T1078.002", "T1098.003"],
    area: Area::PrivilegedAccess,
    reads: &[Part::Users, Part::RoleAssignments],
    anchors: &["ScubaGear MS.AAD.7.3", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Whoever controls Active Directory controls a synced account's password and attributes. Cloud administrators must be cloud-only accounts so that losing on-premises does not hand over the tenant. High for roles that control the tenant (Global, Privileged Role, Hybrid Identity, Application Administrator and the like), medium for the others.",
    remediation: &["cloud-only-admins", "review-privileged-roles"],
};

pub static STANDING_ASSIGNMENT: Check = Check {
    id: "posture.standing-privileged-assignment",
    title: "Privileged role held as a standing assignment instead of eligible in PIM",
    severity: Severity::High,
    techniques: &["T1098.003"],
    area: Area::PrivilegedAccess,
    reads: &[
        Part::RoleAssignments,
        Part::RoleEligibilities,
        Part::Users,
        Part::ConditionalAccess,
    ],
    anchors: &["ScubaGear MS.AAD.7.4", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "A standing assignment is administrative power every hour of every day, whoever holds the session. Eligible assignments activated for a few hours through PIM leave a trail and an approval; only the emergency access accounts should stand.",
    remediation: &[
        "use-pim-for-admin-roles",
        "review-privileged-roles",
        "remove-unneeded-admins",
    ],
};

pub static TOO_MANY_GLOBAL_ADMINS: Check = Check {
    id: "posture.too-many-global-admins",
    title: "Five or more Global Administrators",
    severity: Severity::Medium,
    techniques: &["T1078.004"],
    area: Area::PrivilegedAccess,
    reads: &[Part::RoleAssignments, Part::RoleEligibilities],
    anchors: &[
        "ScubaGear MS.AAD.7.1",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Retain,
    rationale: "Every Global Administrator is a way to take the whole tenant. Microsoft advises fewer than five, emergency access accounts included.",
    remediation: &["remove-unneeded-admins", "review-privileged-roles"],
};

pub static GUEST_IN_ROLE: Check = Check {
    id: "posture.guest-in-role",
    title: "Guest account holds a directory role",
    severity: Severity::High,
    techniques: &["T1078.004", "T1098.003"],
    area: Area::PrivilegedAccess,
    reads: &[Part::Users, Part::RoleAssignments],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Retain,
    rationale: "A guest is secured by another organisation: its password, MFA and devices are out of this tenant's reach. Directory roles belong to the tenant's own accounts.",
    remediation: &["review-privileged-roles", "remove-unneeded-admins"],
};

pub static ADMIN_WITHOUT_MFA: Check = Check {
    id: "posture.privileged-without-mfa",
    title: "Privileged account with no MFA method registered",
    severity: Severity::High,
    techniques: &["T1078.004"],
    area: Area::PrivilegedAccess,
    reads: &[Part::Users, Part::RoleAssignments, Part::AuthMethods],
    anchors: &["Maester", "Zero Trust Assessment", "Monkey365"],
    phase: Phase::Retain,
    rationale: "An administrator who can only sign in with a password falls to one phished or sprayed password, and whoever registers the first MFA method on it owns it.",
    remediation: &["enforce-mfa", "review-admin-auth-methods"],
};

pub static RECENT_ADMIN_METHOD: Check = Check {
    id: "posture.privileged-method-recent",
    title: "Sign-in method added to a privileged account in the last 30 days",
    severity: Severity::Medium,
    techniques: &["T1098.005"],
    area: Area::PrivilegedAccess,
    reads: &[Part::Users, Part::RoleAssignments, Part::AuthMethods],
    anchors: &["none: the recovery guidance (methods registered during the intrusion)"],
    phase: Phase::Investigate,
    rationale: "Attackers who reach an admin register their own authenticator, phone or temporary access pass so they can come back after the password changes. Each recent method must be one the admin added.",
    remediation: &["review-admin-auth-methods"],
};

pub static PIM_NOT_USED: Check = Check {
    id: "posture.pim-not-used",
    title: "Privileged roles are not managed through PIM",
    severity: Severity::Medium,
    techniques: &["T1098.003"],
    area: Area::PrivilegedAccess,
    reads: &[Part::RoleAssignments, Part::RoleEligibilities],
    anchors: &["ScubaGear MS.AAD.7.5", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Without eligible assignments every admin holds their role all the time. PIM makes activation time-bound, justified and logged.",
    remediation: &["use-pim-for-admin-roles"],
};

/// Methods that are only a password or a way to reset one.
const NOT_MFA: &[&str] = &["password", "email", "securityQuestion"];

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let snapshot = ctx.snapshot;
    let all = [
        &SYNCED_ADMIN,
        &STANDING_ASSIGNMENT,
        &TOO_MANY_GLOBAL_ADMINS,
        &GUEST_IN_ROLE,
        &ADMIN_WITHOUT_MFA,
        &RECENT_ADMIN_METHOD,
        &PIM_NOT_USED,
    ];
    // Who holds a role now is in the assignments; eligibilities alone
    // would pass every check on half the picture.
    if !snapshot.has(Part::RoleAssignments) {
        let why = snapshot.lacking(Part::RoleAssignments);
        return all
            .into_iter()
            .map(|c| Verdict::unknown(c, why.clone()))
            .collect();
    }
    let privileged: Vec<&Holding> = ctx.holdings.iter().filter(|h| h.privileged).collect();
    // Each privileged principal once, with the roles they hold.
    let mut admins: BTreeMap<&str, Vec<&Holding>> = BTreeMap::new();
    for h in &privileged {
        admins.entry(h.principal.as_str()).or_default().push(h);
    }
    let looked = format!("{} holders of privileged roles", admins.len());
    vec![
        synced(ctx, &admins, &looked),
        standing(ctx, &privileged, &looked),
        global_admins(ctx),
        guests(ctx),
        without_mfa(ctx, &admins, &looked),
        recent_methods(ctx, &admins, &looked),
        pim(ctx, &privileged),
    ]
}

fn roles_of(held: &[&Holding]) -> String {
    let names: BTreeSet<String> = held
        .iter()
        .map(|h| {
            if h.active {
                h.role_name.clone()
            } else {
                format!("{} (eligible)", h.role_name)
            }
        })
        .collect();
    names.into_iter().collect::<Vec<_>>().join(", ")
}

fn user_failure(ctx: &Context, id: &str, explanation: String) -> Failure {
    Failure::new(id, explanation)
        .entity("targetResources.userPrincipalName", ctx.name_of(id))
        .evidence(id)
}

/// Roles that control the tenant itself: who holds one can make
/// themselves Global Administrator, mint credentials for any app, or
/// change whose tokens are trusted.
const CONTROL_ROLES: &[&str] = &[
    GLOBAL_ADMIN,
    "e8611ab8-c189-46e8-94e1-60213ab1f814", // Privileged Role Administrator
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13", // Privileged Authentication Administrator
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", // Hybrid Identity Administrator
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", // Application Administrator
    "158c047a-c907-4556-b7ef-446551a6b5f7", // Cloud Application Administrator
    "8329153b-31d0-4727-b945-745eb3bc5f31", // Domain Name Administrator
    "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", // Partner Tier2 Support
];

fn controls_tenant(held: &[&Holding]) -> bool {
    held.iter().any(|h| {
        CONTROL_ROLES
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&h.role))
    })
}

fn synced(ctx: &Context, admins: &BTreeMap<&str, Vec<&Holding>>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    let mut unjudged = Vec::new();
    for (id, held) in admins {
        let Some(user) = ctx.users.get(id) else {
            if !ctx.principals.contains_key(id) {
                unjudged.push(format!(
                    "{} (not among the snapshot's users: a group, or {})",
                    ctx.name_of(id),
                    ctx.snapshot.lacking(Part::Users)
                ));
            }
            continue;
        };
        match user.get("onPremisesSyncEnabled") {
            Some(Value::Bool(true)) => failures.push(
                user_failure(
                    ctx,
                    id,
                    format!(
                        "{} holds {} and is synced from on-premises Active Directory{}.",
                        ctx.name_of(id),
                        roles_of(held),
                        text(user, "onPremisesSamAccountName")
                            .map(|s| format!(" (sAMAccountName {s})"))
                            .unwrap_or_default()
                    ),
                )
                .severity(if controls_tenant(held) {
                    Severity::High
                } else {
                    Severity::Medium
                }),
            ),
            Some(_) => {}
            None => unjudged.push(format!(
                "{} (the snapshot lacks onPremisesSyncEnabled)",
                ctx.name_of(id)
            )),
        }
    }
    Verdict::from(&SYNCED_ADMIN, failures, unjudged, looked)
}

fn standing(ctx: &Context, privileged: &[&Holding], looked: &str) -> Verdict {
    let mut failures = Vec::new();
    let mut unjudged = Vec::new();
    let mut emergency = BTreeSet::new();
    let kept = ctx.emergency_accounts();
    for h in privileged.iter().filter(|h| h.active) {
        // Apps cannot activate roles through PIM; a group or an account
        // the snapshot does not list is judged like a user.
        if ctx.principals.contains_key(h.principal.as_str()) {
            continue;
        }
        match h.standing {
            // Sound emergency access accounts stand by design (the
            // break-glass check judges them).
            Some(true) if kept.contains(h.principal.as_str()) => {
                emergency.insert(ctx.name_of(&h.principal));
            }
            // Left out of every policy, but whether it is cloud-only
            // (a sound emergency account) needs the user.
            Some(true) if h.role.eq_ignore_ascii_case(GLOBAL_ADMIN) && !can_tell(ctx, h) => {
                let missing = if ctx.snapshot.has(Part::ConditionalAccess) {
                    Part::Users
                } else {
                    Part::ConditionalAccess
                };
                unjudged.push(format!(
                    "whether {} is an emergency access account ({})",
                    ctx.name_of(&h.principal),
                    ctx.snapshot.lacking(missing)
                ));
            }
            // Emergency access accounts stand by design and are left out of
            // conditional access; so would an attacker's. Named, at lower
            // severity, for the team to vouch for.
            Some(true) if ctx.excluded_from_ca.contains(h.principal.as_str()) => {
                emergency.insert(ctx.name_of(&h.principal));
                failures.push(Failure {
                    key: format!("{}:{}", h.principal, h.role),
                    ..user_failure(ctx, &h.principal, format!(
                        "{} holds {} as a standing assignment (id {}) and is left out of conditional access: an emergency access account, if the team keeps it as one.",
                        ctx.name_of(&h.principal), h.role_name, h.assignment_id
                    ))
                    .entity("role", h.role_name.clone())
                    .severity(Severity::Medium)
                });
            }
            Some(true) => failures.push(Failure {
                key: format!("{}:{}", h.principal, h.role),
                ..user_failure(ctx, &h.principal, format!(
                    "{} holds {} as a standing assignment (id {}), not an eligible role activated through PIM.",
                    ctx.name_of(&h.principal), h.role_name, h.assignment_id
                ))
                .entity("role", h.role_name.clone())
            }),
            Some(false) => {}
            None => unjudged.push(format!(
                "{}'s {} (the snapshot holds neither PIM schedules nor eligibilities)",
                ctx.name_of(&h.principal), h.role_name
            )),
        }
    }
    let mut note = looked.to_owned();
    if !emergency.is_empty() {
        note.push_str(&format!(
            "; standing by design as emergency access accounts (left out of conditional access): {}",
            emergency.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    Verdict::from(&STANDING_ASSIGNMENT, failures, unjudged, note)
}

/// Whether the snapshot can tell if a standing Global Administrator is an
/// emergency access account: that needs the policies, and the user (cloud
/// or synced) when the policies leave them out.
fn can_tell(ctx: &Context, h: &Holding) -> bool {
    ctx.snapshot.has(Part::ConditionalAccess)
        && (ctx.snapshot.has(Part::Users) || !ctx.left_out_of_every_policy(&h.principal))
}

fn global_admins(ctx: &Context) -> Verdict {
    let holders: BTreeSet<&str> = ctx
        .holdings
        .iter()
        .filter(|h| {
            h.role.eq_ignore_ascii_case(GLOBAL_ADMIN) || h.role_name == "Global Administrator"
        })
        .map(|h| h.principal.as_str())
        .collect();
    let looked = format!(
        "{} Global Administrators (active or eligible)",
        holders.len()
    );
    if holders.len() < 5 {
        return Verdict::pass(&TOO_MANY_GLOBAL_ADMINS, looked);
    }
    let names: Vec<String> = holders.iter().map(|h| ctx.name_of(h)).collect();
    let mut failure = Failure::new(
        "global-admins",
        format!(
            "{} principals hold Global Administrator: {}.",
            holders.len(),
            names.join(", ")
        ),
    );
    // Named as admins, not as targets: which of them to remove is the
    // team's call, so no "remove" item is made for each.
    for name in names {
        failure = failure.entity("admin", name);
    }
    Verdict::from(&TOO_MANY_GLOBAL_ADMINS, vec![failure], Vec::new(), looked)
}

fn guests(ctx: &Context) -> Verdict {
    let mut by_guest: BTreeMap<&str, Vec<&Holding>> = BTreeMap::new();
    let mut unjudged = Vec::new();
    for h in &ctx.holdings {
        match ctx.users.get(h.principal.as_str()) {
            Some(user) if ctx.is_guest(user) => by_guest.entry(h.principal.as_str()).or_default().push(h),
            Some(_) => {}
            None if h.privileged && !ctx.principals.contains_key(h.principal.as_str()) => unjudged.push(format!(
                "{} holds {} but is not among the snapshot's users or service principals (a group?)",
                h.principal, h.role_name
            )),
            None => {}
        }
    }
    unjudged.sort();
    unjudged.dedup();
    let failures = by_guest
        .into_iter()
        .map(|(id, held)| {
            user_failure(
                ctx,
                id,
                format!("The guest {} holds {}.", ctx.name_of(id), roles_of(&held)),
            )
        })
        .collect();
    Verdict::from(
        &GUEST_IN_ROLE,
        failures,
        unjudged,
        format!("{} role holdings", ctx.holdings.len()),
    )
}

/// `#microsoft.graph.fido2AuthenticationMethod` → `fido2`.
fn method_kind(method: &Value) -> String {
    let kind = method
        .get("@odata.type")
        .or_else(|| method.get("odata.type"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = kind.rsplit('.').next().unwrap_or(kind);
    kind.strip_suffix("AuthenticationMethod")
        .unwrap_or(kind)
        .to_owned()
}

fn methods_of<'a>(ctx: &'a Context, id: &str) -> Option<&'a Vec<Value>> {
    ctx.snapshot.methods.get(&Some(id.to_owned()))
}

fn without_mfa(ctx: &Context, admins: &BTreeMap<&str, Vec<&Holding>>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    let mut unjudged = Vec::new();
    for (id, held) in admins {
        if !ctx.users.contains_key(id) {
            continue;
        }
        let Some(methods) = methods_of(ctx, id) else {
            unjudged.push(format!(
                "{} ({})",
                ctx.name_of(id),
                ctx.snapshot.lacking(Part::AuthMethods)
            ));
            continue;
        };
        let kinds: Vec<String> = methods.iter().map(method_kind).collect();
        let strong = kinds
            .iter()
            .any(|k| !NOT_MFA.contains(&k.as_str()) && k != "temporaryAccessPass" && !k.is_empty());
        if !strong {
            failures.push(user_failure(
                ctx,
                id,
                format!(
                    "{} holds {} and has no MFA method registered (only: {}).",
                    ctx.name_of(id),
                    roles_of(held),
                    if kinds.is_empty() {
                        "nothing".to_owned()
                    } else {
                        kinds.join(", ")
                    }
                ),
            ));
        }
    }
    Verdict::from(&ADMIN_WITHOUT_MFA, failures, unjudged, looked)
}

fn recent_methods(ctx: &Context, admins: &BTreeMap<&str, Vec<&Holding>>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    let mut unjudged = Vec::new();
    for id in admins.keys() {
        if !ctx.users.contains_key(id) {
            if !ctx.principals.contains_key(id) {
                unjudged.push(ctx.name_of(id));
            }
            continue;
        }
        let Some(methods) = methods_of(ctx, id) else {
            unjudged.push(ctx.name_of(id));
            continue;
        };
        for m in methods {
            let kind = method_kind(m);
            let created = super::super::time(m, "createdDateTime")
                .or_else(|| super::super::time(m, "creationDateTime"));
            // A password comes with every account; its changes are another story.
            if kind == "password" {
                continue;
            }
            let Some(created) = created else {
                if kind == "temporaryAccessPass" {
                    unjudged.push(format!(
                        "{}'s temporary access pass has no creation time",
                        ctx.name_of(id)
                    ));
                }
                continue;
            };
            let age = ctx.days_before_now(created);
            if (0..=30).contains(&age) {
                let method_id = text(m, "id").unwrap_or("");
                failures.push(Failure {
                    key: format!("{id}:{method_id}"),
                    ..user_failure(
                        ctx,
                        id,
                        format!(
                            "A {kind} method{} was added to {} {age} days before the snapshot.",
                            text(m, "displayName")
                                .map(|d| format!(" (\"{d}\")"))
                                .unwrap_or_default(),
                            ctx.name_of(id)
                        ),
                    )
                    .entity("method", kind.clone())
                });
            }
        }
    }
    let unjudged = if unjudged.is_empty() {
        unjudged
    } else {
        vec![format!(
            "{} ({})",
            unjudged.join(", "),
            ctx.snapshot.lacking(Part::AuthMethods)
        )]
    };
    Verdict::from(&RECENT_ADMIN_METHOD, failures, unjudged, looked)
}

fn pim(ctx: &Context, privileged: &[&Holding]) -> Verdict {
    if privileged.is_empty() {
        return Verdict::pass(&PIM_NOT_USED, "no privileged role holders");
    }
    if !ctx.snapshot.has(Part::RoleEligibilities) && !ctx.snapshot.has(Part::RoleInstances) {
        return Verdict::unknown(&PIM_NOT_USED, ctx.snapshot.lacking(Part::RoleEligibilities));
    }
    let eligible = privileged
        .iter()
        .filter(|h| !h.active || h.standing == Some(false))
        .count();
    if eligible > 0 {
        return Verdict::pass(
            &PIM_NOT_USED,
            format!("{eligible} privileged roles held through PIM"),
        );
    }
    // Eligible roles not activated now show only in the eligibilities.
    if !ctx.snapshot.has(Part::RoleEligibilities) {
        return Verdict::unknown(
            &PIM_NOT_USED,
            format!(
                "no role is activated through PIM now, and {}",
                ctx.snapshot.lacking(Part::RoleEligibilities)
            ),
        );
    }
    let failure = Failure::new(
        "pim",
        format!(
            "None of the {} privileged role holdings is an eligible (PIM) assignment.",
            privileged.len()
        ),
    );
    Verdict::from(&PIM_NOT_USED, vec![failure], Vec::new(), "")
}
