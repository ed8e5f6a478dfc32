//! PIM's own settings for Global Administrator: an activation someone
//! approves, and assignments and activations the security team hears of.

use serde_json::Value;

use super::super::{Area, Check, Part, Phase, Verdict, flag, text};
use super::{Context, GLOBAL_ADMIN, setting_failed};
use crate::model::Severity;

const READS: &[Part] = &[Part::RoleManagementPolicies];

pub static APPROVAL: Check = Check {
    id: "posture.global-admin-activation-unapproved",
    title: "Global Administrator activates without approval",
    severity: Severity::Medium,
    techniques: &["T1078.004", "T1098.003"],
    area: Area::PrivilegedAccess,
    reads: READS,
    anchors: &["ScubaGear MS.AAD.7.6", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "An eligible Global Administrator whose account is taken activates the role at once unless someone must approve it; approval puts a second person between a stolen session and the tenant.",
    remediation: &["use-pim-for-admin-roles"],
};

pub static ASSIGNMENT_ALERTS: Check = Check {
    id: "posture.pim-assignment-alerts-off",
    title: "Global Administrator assignments alert no one beyond the defaults",
    severity: Severity::Low,
    techniques: &["T1098.003"],
    area: Area::Visibility,
    reads: READS,
    anchors: &["ScubaGear MS.AAD.7.7", "Maester"],
    phase: Phase::Monitor,
    rationale: "A role assigned (eligible or active) is how an attacker keeps administration; PIM can mail each assignment to the security team's mailbox, not only to the administrators who may be the ones doing it.",
    remediation: &["establish-monitoring"],
};

pub static ACTIVATION_ALERTS: Check = Check {
    id: "posture.global-admin-activation-alerts-off",
    title: "Global Administrator activations alert no one beyond the defaults",
    severity: Severity::Low,
    techniques: &["T1078.004"],
    area: Area::Visibility,
    reads: READS,
    anchors: &["ScubaGear MS.AAD.7.8", "Maester"],
    phase: Phase::Monitor,
    rationale: "Each Global Administrator activation should reach the security team as it happens: an activation nobody expected is a taken account at work.",
    remediation: &["establish-monitoring"],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let all = [&APPROVAL, &ASSIGNMENT_ALERTS, &ACTIVATION_ALERTS];
    if !ctx.snapshot.has(Part::RoleManagementPolicies) {
        return all
            .iter()
            .map(|c| Verdict::unknown(c, ctx.snapshot.lacking(Part::RoleManagementPolicies)))
            .collect();
    }
    let assignment = ctx
        .snapshot
        .list(Part::RoleManagementPolicies)
        .iter()
        .find(|a| {
            text(a, "roleDefinitionId").is_some_and(|r| r.eq_ignore_ascii_case(GLOBAL_ADMIN))
                && text(a, "scopeId") == Some("/")
        });
    let Some(rules) = assignment
        .and_then(|a| a.pointer("/policy/rules"))
        .and_then(Value::as_array)
    else {
        return all
            .iter()
            .map(|c| {
                Verdict::unknown(
                    c,
                    "the snapshot holds no PIM policy (with its rules) for Global Administrator",
                )
            })
            .collect();
    };
    let rule = |id: &str| rules.iter().find(|r| text(r, "id") == Some(id));
    let fail = |check: &'static Check, why: &str| {
        setting_failed(check, why, ("role", "Global Administrator"))
    };
    let approval = rule("Approval_EndUser_Assignment")
        .and_then(|r| r.get("setting"))
        .and_then(|s| flag(s, "isApprovalRequired"))
        == Some(true);
    let mailed = |id: &str| {
        rule(id)
            .and_then(|r| r.get("notificationRecipients"))
            .and_then(Value::as_array)
            .is_some_and(|to| !to.is_empty())
    };
    vec![
        if approval {
            Verdict::pass(&APPROVAL, "activating Global Administrator needs approval")
        } else {
            fail(
                &APPROVAL,
                "Activating Global Administrator in PIM needs no approval.",
            )
        },
        if mailed("Notification_Admin_Admin_Eligibility")
            && mailed("Notification_Admin_Admin_Assignment")
        {
            Verdict::pass(
                &ASSIGNMENT_ALERTS,
                "assignments are mailed to named recipients",
            )
        } else {
            fail(
                &ASSIGNMENT_ALERTS,
                "Eligible and active assignments of Global Administrator are mailed to no recipient beyond PIM's defaults.",
            )
        },
        if mailed("Notification_Admin_EndUser_Assignment") {
            Verdict::pass(
                &ACTIVATION_ALERTS,
                "activations are mailed to named recipients",
            )
        } else {
            fail(
                &ACTIVATION_ALERTS,
                "Activations of Global Administrator are mailed to no recipient beyond PIM's defaults.",
            )
        },
    ]
}
