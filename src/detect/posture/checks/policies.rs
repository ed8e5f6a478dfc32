//! Conditional access the recovery guidance and the baselines ask every
//! tenant to have: MFA for everyone, risk-based policies, the token
//! flows phishing kits abuse blocked, security-info registration guarded,
//! and phishing-resistant methods for administrators. Each is judged from
//! the enabled policies alone: one in report-only mode protects nothing.

use serde_json::Value;

use super::super::{Area, Check, Failure, Part, Phase, Verdict, text};
use super::access::{defaults, enabled_policies, grant_controls, name, narrowed};
use super::{Context, GLOBAL_ADMIN, lowered};
use crate::model::Severity;
use crate::model::well_known::PHISHING_RESISTANT_STRENGTH as PHISHING_RESISTANT;

const CA: &[Part] = &[Part::ConditionalAccess];

pub static MFA_FOR_ALL: Check = Check {
    id: "posture.mfa-not-required-for-all",
    title: "MFA is not required of every user",
    severity: Severity::High,
    techniques: &["T1078.004", "T1110"],
    area: Area::Authentication,
    reads: CA,
    anchors: &[
        "ScubaGear MS.AAD.3.2",
        "Maester",
        "Zero Trust Assessment",
        "Monkey365",
    ],
    phase: Phase::Improve,
    rationale: "After a compromise the attacker holds passwords; MFA required of every user, for every app, is what makes a stolen password alone useless. A policy limited to some users or some places leaves the rest open.",
    remediation: &["enforce-mfa", "review-conditional-access"],
};

pub static USER_RISK: Check = Check {
    id: "posture.user-risk-policy-missing",
    title: "No policy acts on high user risk",
    severity: Severity::Medium,
    techniques: &["T1078.004"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["ScubaGear MS.AAD.2.1", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Identity Protection rates a user high risk when their credentials leak or their account behaves like a taken one; without a policy that blocks them or makes them change their password, the rating changes nothing.",
    remediation: &["review-conditional-access", "reset-passwords"],
};

pub static SIGN_IN_RISK: Check = Check {
    id: "posture.signin-risk-policy-missing",
    title: "No policy acts on high sign-in risk",
    severity: Severity::Medium,
    techniques: &["T1078.004", "T1550.004"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["ScubaGear MS.AAD.2.3", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "A high-risk sign-in (an anonymising network, a token replayed, a password sprayed) should be blocked or made to prove itself with MFA at the moment it happens; otherwise the detection arrives after the session is open.",
    remediation: &["review-conditional-access"],
};

pub static DEVICE_CODE: Check = Check {
    id: "posture.device-code-flow-not-blocked",
    title: "Device code flow is not blocked",
    severity: Severity::Medium,
    techniques: &["T1528", "T1566.002"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["CIS M365 5.2.2.12", "Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Device code phishing (Storm-2372 and others) has a user type a code the attacker asked for and hands the attacker the user's tokens, MFA included. Few tenants need the flow; a policy blocking it for everyone else closes the door.",
    remediation: &["restrict-device-code-flow", "review-conditional-access"],
};

pub static AUTH_TRANSFER: Check = Check {
    id: "posture.authentication-transfer-not-blocked",
    title: "Authentication transfer is not blocked",
    severity: Severity::Low,
    techniques: &["T1550.001"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["Maester", "Zero Trust Assessment"],
    phase: Phase::Improve,
    rationale: "Authentication transfer moves a signed-in session from a computer to a phone by QR code; a session moved is a session that can be moved to the wrong device.",
    remediation: &["review-conditional-access"],
};

pub static REGISTRATION: Check = Check {
    id: "posture.security-info-registration-unprotected",
    title: "Registering security info is not protected",
    severity: Severity::Medium,
    techniques: &["T1556.006", "T1098.005"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["ScubaGear MS.AAD.3.8", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "An attacker with a password registers their own MFA method and keeps the account after the password is reset. A policy on the \"register security information\" user action (MFA, a trusted place or a managed device) stops a password alone from adding one.",
    remediation: &["review-conditional-access", "review-admin-auth-methods"],
};

pub static PHISHING_RESISTANT_ADMINS: Check = Check {
    id: "posture.admins-not-phishing-resistant",
    title: "Administrators are not required to use phishing-resistant MFA",
    severity: Severity::Medium,
    techniques: &["T1557", "T1111"],
    area: Area::PrivilegedAccess,
    reads: CA,
    anchors: &["ScubaGear MS.AAD.3.6", "Maester", "Zero Trust Assessment"],
    phase: Phase::Retain,
    rationale: "Adversary-in-the-middle kits relay push and code MFA; FIDO2, Windows Hello and certificates are bound to the real sign-in page. The guidance asks for them for every privileged role, through an authentication strength in conditional access.",
    remediation: &["enforce-mfa", "review-conditional-access"],
};

pub static CAE_DISABLED: Check = Check {
    id: "posture.continuous-access-evaluation-off",
    title: "Continuous access evaluation is switched off",
    severity: Severity::Medium,
    techniques: &["T1550.001"],
    area: Area::Authentication,
    reads: CA,
    anchors: &["none of the posture tools: the recovery guidance (revoke sessions)"],
    phase: Phase::Retain,
    rationale: "Revoking a user's sessions, disabling them or resetting their password ends their tokens within minutes only where continuous access evaluation is on; a policy that turns it off leaves a stolen access token working for its whole life (an hour or more) after the eviction.",
    remediation: &["revoke-sessions", "review-conditional-access"],
};

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    vec![
        mfa_for_all(ctx),
        risk(
            ctx,
            &USER_RISK,
            "/conditions/userRiskLevels",
            &["block", "passwordchange"],
            "user risk",
        ),
        risk(
            ctx,
            &SIGN_IN_RISK,
            "/conditions/signInRiskLevels",
            &["block", "mfa"],
            "sign-in risk",
        ),
        flow_blocked(ctx, &DEVICE_CODE, "devicecodeflow", "device code flow"),
        flow_blocked(
            ctx,
            &AUTH_TRANSFER,
            "authenticationtransfer",
            "authentication transfer",
        ),
        registration(ctx),
        phishing_resistant_admins(ctx),
        continuous_access(ctx),
    ]
}

fn continuous_access(ctx: &Context) -> Verdict {
    if let Some(unknown) = lacking(ctx, &CAE_DISABLED) {
        return unknown;
    }
    let failures: Vec<Failure> = enabled_policies(ctx)
        .filter(|p| {
            p.pointer("/sessionControls/continuousAccessEvaluation/mode")
                .and_then(Value::as_str)
                .is_some_and(|m| m.eq_ignore_ascii_case("disabled"))
        })
        .map(|p| {
            Failure::new(
                text(p, "id").unwrap_or("policy"),
                format!(
                    "{} switches continuous access evaluation off for the sign-ins it covers.",
                    name(p)
                ),
            )
            .entity("policy", name(p).trim_matches('"').to_owned())
            .evidence(text(p, "id").unwrap_or(""))
        })
        .collect();
    Verdict::from(
        &CAE_DISABLED,
        failures,
        Vec::new(),
        "no enabled policy switches continuous access evaluation off",
    )
}

fn for_everyone(p: &Value) -> bool {
    lowered(p, "/conditions/users/includeUsers")
        .iter()
        .any(|u| u == "all")
}

fn every_app(p: &Value) -> bool {
    lowered(p, "/conditions/applications/includeApplications")
        .iter()
        .any(|a| a == "all")
}

fn strength(p: &Value) -> Option<&Value> {
    p.pointer("/grantControls/authenticationStrength")
        .filter(|s| !s.is_null())
}

fn asks_mfa(p: &Value) -> bool {
    grant_controls(p).iter().any(|c| c == "mfa") || strength(p).is_some()
}

/// Who a policy leaves out, for the note ("2 users or groups left out").
fn left_out(p: &Value) -> String {
    let n = lowered(p, "/conditions/users/excludeUsers").len()
        + lowered(p, "/conditions/users/excludeGroups").len()
        + lowered(p, "/conditions/users/excludeRoles").len();
    if n > 0 {
        format!(" ({n} users, groups or roles left out)")
    } else {
        String::new()
    }
}

/// The verdict when no enabled policy does what `check` asks.
fn missing(ctx: &Context, check: &'static Check, what: String) -> Verdict {
    let report_only = ctx
        .snapshot
        .list(Part::ConditionalAccess)
        .iter()
        .filter(|p| text(p, "state") != Some("enabled"))
        .count();
    let failure = Failure::new(
        check.id.trim_start_matches("posture."),
        format!(
            "Of {} conditional access policies, no enabled one {what}{}.",
            ctx.snapshot.list(Part::ConditionalAccess).len(),
            if report_only > 0 {
                format!(" ({report_only} not enabled: report-only or off)")
            } else {
                String::new()
            }
        ),
    );
    // The object that fails is the tenant's conditional access as a whole.
    Verdict::from(
        check,
        vec![failure.entity("policy", "conditional access")],
        Vec::new(),
        "",
    )
}

/// The snapshot lacks the policies (and security defaults do not answer).
fn lacking(ctx: &Context, check: &'static Check) -> Option<Verdict> {
    (!ctx.snapshot.has(Part::ConditionalAccess))
        .then(|| Verdict::unknown(check, ctx.snapshot.lacking(Part::ConditionalAccess)))
}

fn mfa_for_all(ctx: &Context) -> Verdict {
    if defaults(ctx) == Some(true) {
        return Verdict::pass(
            &MFA_FOR_ALL,
            "security defaults are on, which require MFA of everyone",
        );
    }
    if let Some(unknown) = lacking(ctx, &MFA_FOR_ALL) {
        return unknown;
    }
    let covers = |p: &&Value| for_everyone(p) && every_app(p) && asks_mfa(p) && !narrowed(p);
    match enabled_policies(ctx).find(covers) {
        Some(p) => Verdict::pass(
            &MFA_FOR_ALL,
            format!(
                "{} requires MFA of all users for all apps{}",
                name(p),
                left_out(p)
            ),
        ),
        None => missing(
            ctx,
            &MFA_FOR_ALL,
            "requires MFA of all users for all apps, and security defaults are off".into(),
        ),
    }
}

fn risk(
    ctx: &Context,
    check: &'static Check,
    levels: &str,
    grants: &[&str],
    what: &str,
) -> Verdict {
    if let Some(unknown) = lacking(ctx, check) {
        return unknown;
    }
    let acts = |p: &&Value| {
        lowered(p, levels).iter().any(|l| l == "high")
            && for_everyone(p)
            && every_app(p)
            && (grant_controls(p)
                .iter()
                .any(|c| grants.contains(&c.as_str()))
                || grants.contains(&"mfa") && strength(p).is_some())
    };
    match enabled_policies(ctx).find(acts) {
        Some(p) => Verdict::pass(
            check,
            format!("{} acts on high {what}{}", name(p), left_out(p)),
        ),
        None => missing(
            ctx,
            check,
            format!(
                "acts on high {what} for all users and apps ({})",
                grants.join(" or ")
            ),
        ),
    }
}

/// `transferMethods` is one string of flags (`deviceCodeFlow,authenticationTransfer`).
fn transfer_methods(p: &Value) -> Vec<String> {
    match p.pointer("/conditions/authenticationFlows/transferMethods") {
        Some(Value::String(s)) => s.split(',').map(|m| m.trim().to_lowercase()).collect(),
        Some(Value::Array(_)) => lowered(p, "/conditions/authenticationFlows/transferMethods"),
        _ => Vec::new(),
    }
}

fn flow_blocked(ctx: &Context, check: &'static Check, method: &str, what: &str) -> Verdict {
    if let Some(unknown) = lacking(ctx, check) {
        return unknown;
    }
    let blocks = |p: &&Value| {
        transfer_methods(p).iter().any(|m| m == method)
            && for_everyone(p)
            && every_app(p)
            && grant_controls(p).iter().any(|c| c == "block")
    };
    match enabled_policies(ctx).find(blocks) {
        Some(p) => Verdict::pass(check, format!("{} blocks {what}{}", name(p), left_out(p))),
        None => missing(ctx, check, format!("blocks {what} for all users")),
    }
}

fn registration(ctx: &Context) -> Verdict {
    if let Some(unknown) = lacking(ctx, &REGISTRATION) {
        return unknown;
    }
    let guards = |p: &&Value| {
        let action = lowered(p, "/conditions/applications/includeUserActions")
            .iter()
            .any(|a| a == "urn:user:registersecurityinfo");
        let controls = grant_controls(p);
        let guarded = strength(p).is_some()
            || controls.iter().any(|c| {
                matches!(
                    c.as_str(),
                    "mfa" | "compliantdevice" | "domainjoineddevice" | "block"
                )
            });
        action && for_everyone(p) && guarded
    };
    match enabled_policies(ctx).find(guards) {
        Some(p) => Verdict::pass(
            &REGISTRATION,
            format!(
                "{} guards registering security info{}",
                name(p),
                left_out(p)
            ),
        ),
        None => missing(
            ctx,
            &REGISTRATION,
            "guards the \"register security information\" action for all users".into(),
        ),
    }
}

fn phishing_resistant_admins(ctx: &Context) -> Verdict {
    if let Some(unknown) = lacking(ctx, &PHISHING_RESISTANT_ADMINS) {
        return unknown;
    }
    let requires = |p: &&Value| {
        let admins = lowered(p, "/conditions/users/includeRoles")
            .iter()
            .any(|r| r == GLOBAL_ADMIN)
            || for_everyone(p);
        let resistant = strength(p)
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .is_some_and(|id| id == PHISHING_RESISTANT);
        admins && resistant && every_app(p) && !narrowed(p)
    };
    match enabled_policies(ctx).find(requires) {
        Some(p) => Verdict::pass(
            &PHISHING_RESISTANT_ADMINS,
            format!(
                "{} requires phishing-resistant MFA of Global Administrators",
                name(p)
            ),
        ),
        None => missing(
            ctx,
            &PHISHING_RESISTANT_ADMINS,
            "requires the phishing-resistant authentication strength of Global Administrators"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::posture::{Outcome, Snapshot};
    use serde_json::json;

    fn judged(policies: Vec<Value>) -> Vec<(&'static str, Outcome)> {
        let mut lines: Vec<Value> = policies
            .into_iter()
            .enumerate()
            .map(|(i, mut p)| {
                p["@odata.type"] = json!("#microsoft.graph.conditionalAccessPolicy");
                p["id"] = json!(format!("policy-{i}"));
                p
            })
            .collect();
        lines.push(json!({"@odata.type": "#microsoft.graph.identitySecurityDefaultsEnforcementPolicy", "isEnabled": false}));
        let snapshot = Snapshot::from_lines(lines);
        let ctx = Context::new(
            &snapshot,
            jiff::Timestamp::from_second(1_790_000_000).unwrap(),
        );
        judge(&ctx)
            .into_iter()
            .map(|v| (v.check.id, v.outcome))
            .collect()
    }

    fn policy(state: &str, users: Value, apps: Value, conditions: Value, grant: Value) -> Value {
        let mut c = json!({"users": users, "applications": apps, "clientAppTypes": ["all"]});
        for (k, v) in conditions.as_object().unwrap() {
            c[k] = v.clone();
        }
        json!({"id": "p", "displayName": "p", "state": state, "conditions": c, "grantControls": grant})
    }

    fn hardened() -> Vec<Value> {
        let all = json!({"includeUsers": ["All"], "excludeUsers": ["bg1", "bg2"]});
        let apps = json!({"includeApplications": ["All"]});
        vec![
            policy(
                "enabled",
                all.clone(),
                apps.clone(),
                json!({}),
                json!({"operator": "OR", "builtInControls": ["mfa"]}),
            ),
            policy(
                "enabled",
                all.clone(),
                apps.clone(),
                json!({"userRiskLevels": ["high"]}),
                json!({"operator": "AND", "builtInControls": ["mfa", "passwordChange"]}),
            ),
            policy(
                "enabled",
                all.clone(),
                apps.clone(),
                json!({"signInRiskLevels": ["high", "medium"]}),
                json!({"operator": "OR", "builtInControls": ["block"]}),
            ),
            policy(
                "enabled",
                all.clone(),
                apps.clone(),
                json!({"authenticationFlows": {"transferMethods": "deviceCodeFlow,authenticationTransfer"}}),
                json!({"operator": "OR", "builtInControls": ["block"]}),
            ),
            policy(
                "enabled",
                all.clone(),
                json!({"includeApplications": [], "includeUserActions": ["urn:user:registersecurityinfo"]}),
                json!({}),
                json!({"operator": "OR", "builtInControls": ["mfa"]}),
            ),
            policy(
                "enabled",
                json!({"includeRoles": [GLOBAL_ADMIN]}),
                apps,
                json!({}),
                json!({"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": PHISHING_RESISTANT, "displayName": "Phishing-resistant MFA"}}),
            ),
        ]
    }

    #[test]
    fn a_tenant_with_the_baselines_policies_passes_every_check() {
        for (id, outcome) in judged(hardened()) {
            assert_eq!(outcome, Outcome::Pass, "{id}");
        }
    }

    #[test]
    fn report_only_or_narrowed_policies_pass_nothing() {
        let report_only: Vec<Value> = hardened()
            .into_iter()
            .map(|mut p| {
                p["state"] = json!("enabledForReportingButNotEnforced");
                p
            })
            .collect();
        for (id, outcome) in judged(report_only) {
            // Nothing enabled switches continuous access evaluation off.
            let want = if id == CAE_DISABLED.id {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            assert_eq!(outcome, want, "{id}");
        }
        // MFA for all users, but only outside one named place.
        let mut narrowed = hardened();
        narrowed[0]["conditions"]["locations"] =
            json!({"includeLocations": ["All"], "excludeLocations": ["office"]});
        let outcomes = judged(narrowed);
        assert!(outcomes.contains(&(MFA_FOR_ALL.id, Outcome::Fail)));
        // Device code blocked, authentication transfer not.
        let mut one_flow = hardened();
        one_flow[3]["conditions"]["authenticationFlows"]["transferMethods"] =
            json!("deviceCodeFlow");
        let outcomes = judged(one_flow);
        assert!(outcomes.contains(&(DEVICE_CODE.id, Outcome::Pass)));
        assert!(outcomes.contains(&(AUTH_TRANSFER.id, Outcome::Fail)));
        // An enabled policy that switches continuous access evaluation off.
        let mut no_cae = hardened();
        no_cae[0]["sessionControls"] = json!({"continuousAccessEvaluation": {"mode": "disabled"}});
        let outcomes = judged(no_cae);
        assert!(outcomes.contains(&(CAE_DISABLED.id, Outcome::Fail)));
        assert!(outcomes.contains(&(MFA_FOR_ALL.id, Outcome::Pass)));
    }

    #[test]
    fn without_the_policies_nothing_is_judged() {
        let snapshot = Snapshot::from_lines(vec![
            json!({"@odata.type": "#microsoft.graph.user", "id": "u"}),
        ]);
        let ctx = Context::new(
            &snapshot,
            jiff::Timestamp::from_second(1_790_000_000).unwrap(),
        );
        for v in judge(&ctx) {
            assert_eq!(v.outcome, Outcome::Unknown, "{}", v.check.id);
        }
    }
}
