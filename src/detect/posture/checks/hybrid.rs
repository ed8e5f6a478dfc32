//! The bridge from on-premises Active Directory: directory synchronization
//! must not let an on-premises object take over a cloud account, and
//! accounts that belong on-premises only (Kerberos keys, the sync
//! service) must not hold power in the cloud.

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, flag, text};
use super::{Context, SYNC_ROLE, unknown_without};
use crate::model::Severity;

pub static SOFT_MATCH: Check = Check {
    id: "posture.sync-soft-match-open",
    title: "Synchronization may soft-match on-premises accounts to cloud ones",
    severity: Severity::Medium,
    techniques: &["T1098", "T1484.002"],
    area: Area::Hybrid,
    reads: &[Part::OnPremisesSync],
    anchors: &[
        "Zero Trust Assessment",
        "Microsoft hybrid identity guidance",
    ],
    phase: Phase::Retain,
    rationale: "Soft match joins an on-premises account to the cloud account with the same e-mail address or UPN; an attacker in Active Directory creates one and takes over the cloud account, an administrator's included. Once synchronization is set up, soft match should be blocked.",
    remediation: &["review-onprem-privileged-access", "cloud-only-admins"],
};

pub static HARD_MATCH: Check = Check {
    id: "posture.sync-hard-match-takeover-open",
    title: "Synchronization may take over cloud accounts by hard match",
    severity: Severity::Medium,
    techniques: &["T1098", "T1484.002"],
    area: Area::Hybrid,
    reads: &[Part::OnPremisesSync],
    anchors: &[
        "Zero Trust Assessment",
        "Microsoft hybrid identity guidance",
    ],
    phase: Phase::Retain,
    rationale: "Hard match joins an on-premises account to a cloud account by its immutable id; unless cloud object takeover is blocked, an attacker in Active Directory who sets that id takes over a cloud-only administrator.",
    remediation: &["review-onprem-privileged-access", "cloud-only-admins"],
};

pub static KERBEROS_ACCOUNT_SYNCED: Check = Check {
    id: "posture.kerberos-account-synced",
    title: "A Kerberos key account is synchronized to the cloud",
    severity: Severity::High,
    techniques: &["T1558", "T1078.002"],
    area: Area::Hybrid,
    reads: &[Part::Users],
    anchors: &[
        "none of the posture tools: Microsoft's Cloud Kerberos trust and Seamless SSO guidance",
    ],
    phase: Phase::Investigate,
    rationale: "krbtgt_AzureAD (Cloud Kerberos trust) and AZUREADSSOACC (Seamless SSO) hold keys that sign Kerberos tickets for the cloud; they belong in Active Directory only. Synchronized, their objects appear in the cloud where they can be changed, and a rule that excludes them from sync was removed.",
    remediation: &["review-onprem-privileged-access"],
};

pub static SYNC_ACCOUNT_PRIVILEGED: Check = Check {
    id: "posture.sync-account-privileged",
    title: "The synchronization account holds another admin role",
    severity: Severity::High,
    techniques: &["T1098.003", "T1078.004"],
    area: Area::Hybrid,
    reads: &[Part::Users, Part::RoleAssignments],
    anchors: &["Zero Trust Assessment", "Azure AD Investigator"],
    phase: Phase::Investigate,
    rationale: "AD Connect's cloud account (Sync_… or On-Premises Directory Synchronization Service Account) needs only its own role. Its password sits on the AD Connect server, so any other role it holds belongs to whoever owns that server.",
    remediation: &[
        "review-privileged-roles",
        "remove-unneeded-admins",
        "adfs-tier0",
    ],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let mut out = features(ctx);
    out.push(kerberos_accounts(ctx));
    out.push(sync_account(ctx));
    out
}

fn features(ctx: &Context) -> Vec<Verdict> {
    let checks = [
        (&SOFT_MATCH, "blockSoftMatchEnabled", "soft match"),
        (
            &HARD_MATCH,
            "blockCloudObjectTakeoverThroughHardMatchEnabled",
            "cloud object takeover through hard match",
        ),
    ];
    if !ctx.snapshot.has(Part::OnPremisesSync) {
        return checks
            .iter()
            .map(|(c, _, _)| Verdict::unknown(c, ctx.snapshot.lacking(Part::OnPremisesSync)))
            .collect();
    }
    let settings = ctx.snapshot.list(Part::OnPremisesSync);
    let synced_users = ctx
        .users
        .values()
        .any(|u| flag(u, "onPremisesSyncEnabled") == Some(true));
    checks
        .iter()
        .map(|(check, feature, what)| {
            let open: Vec<&Value> = settings
                .iter()
                .filter(|s| s.get("features").and_then(|f| flag(f, feature)) != Some(true))
                .collect();
            if settings.is_empty() || (open.is_empty()) {
                return Verdict::pass(
                    check,
                    if settings.is_empty() {
                        "the tenant has no directory synchronization".to_owned()
                    } else {
                        format!("{what} is blocked")
                    },
                );
            }
            let failure = Failure::new(
                feature.to_string(),
                format!(
                    "Directory synchronization does not block {what} ({feature} is not true){}.",
                    if synced_users {
                        ", and accounts are synchronized"
                    } else {
                        ""
                    }
                ),
            )
            .entity("policy", "on-premises synchronization");
            Verdict::from(check, vec![failure], Vec::new(), "")
        })
        .collect()
}

fn kerberos_accounts(ctx: &Context) -> Verdict {
    if !ctx.snapshot.has(Part::Users) {
        return Verdict::unknown(&KERBEROS_ACCOUNT_SYNCED, ctx.snapshot.lacking(Part::Users));
    }
    let key_account = |u: &Value| {
        let names = [
            text(u, "onPremisesSamAccountName"),
            text(u, "userPrincipalName"),
            text(u, "displayName"),
        ];
        names.iter().flatten().any(|n| {
            let n = n.to_ascii_lowercase();
            n.starts_with("krbtgt") || n.starts_with("azureadssoacc")
        })
    };
    let failures: Vec<Failure> = ctx
        .users
        .iter()
        .filter(|(_, u)| flag(u, "onPremisesSyncEnabled") == Some(true) && key_account(u))
        .map(|(id, _)| {
            Failure::new(
                *id,
                format!(
                    "{} is a Kerberos key account synchronized from Active Directory.",
                    ctx.name_of(id)
                ),
            )
            .entity("targetResources.userPrincipalName", ctx.name_of(id))
            .evidence(*id)
        })
        .collect();
    Verdict::from(
        &KERBEROS_ACCOUNT_SYNCED,
        failures,
        Vec::new(),
        format!("{} users", ctx.users.len()),
    )
}

fn sync_account(ctx: &Context) -> Verdict {
    if let Some(unknown) =
        unknown_without(ctx, &SYNC_ACCOUNT_PRIVILEGED, SYNC_ACCOUNT_PRIVILEGED.reads)
    {
        return unknown;
    }
    let is_sync_account = |id: &str| {
        ctx.holdings
            .iter()
            .any(|h| h.principal == id && h.role.eq_ignore_ascii_case(SYNC_ROLE))
            || ctx.users.get(id).is_some_and(|u| {
                text(u, "userPrincipalName")
                    .is_some_and(|n| n.to_ascii_lowercase().starts_with("sync_"))
                    || text(u, "displayName")
                        .is_some_and(|n| n.contains("Directory Synchronization Service Account"))
            })
    };
    let failures: Vec<Failure> = ctx
        .holdings
        .iter()
        .filter(|h| {
            h.privileged && !h.role.eq_ignore_ascii_case(SYNC_ROLE) && is_sync_account(&h.principal)
        })
        .map(|h| {
            Failure::new(
                format!("{}:{}", h.principal, h.role),
                format!(
                    "The synchronization account {} also holds {}.",
                    ctx.name_of(&h.principal),
                    h.role_name
                ),
            )
            .entity(
                "targetResources.userPrincipalName",
                ctx.name_of(&h.principal),
            )
            .entity("role", h.role_name.clone())
            .evidence(h.principal.clone())
        })
        .collect();
    Verdict::from(
        &SYNC_ACCOUNT_PRIVILEGED,
        failures,
        Vec::new(),
        "synchronization accounts' roles",
    )
}
