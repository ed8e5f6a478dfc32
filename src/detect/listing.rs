//! Every detection warroom runs, described for `warroom rules`: the rules
//! as data (`assets/detections`), the stateful detections written in code
//! (baselines, joins, the forged-token proof), and Sigma rules loaded.

use serde::Serialize;

use super::Kind;
use crate::model::Severity;

/// One detection as `warroom rules` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub id: String,
    pub title: String,
    /// `built-in`, `built-in (stateful)` or `sigma`.
    pub source: &'static str,
    /// Sigma rules only: who wrote the rule (DRL 1.1 asks it be shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The kinds of record it reads.
    pub kinds: Vec<&'static str>,
    pub techniques: Vec<String>,
    /// The most severe finding it raises.
    pub severity: Severity,
}

/// A detection written in code: (id, title, kinds read, techniques, the
/// most severe finding it raises).
type Stateful = (
    &'static str,
    &'static str,
    &'static [Kind],
    &'static [&'static str],
    Severity,
);

/// The detections written in code. `tests/rules.rs` checks this list
/// against the detection ids the engine's code raises.
pub const STATEFUL: &[Stateful] = &[
    (
        "signin.claim-from-new-network",
        "MFA claim from a network new to the user (forged SAML token?)",
        &[Kind::SignIn],
        &["T1606.002", "T1550.001"],
        Severity::Medium,
    ),
    (
        "signin.new-token-issuer",
        "Federated tokens from an issuer new to the tenant",
        &[Kind::SignIn],
        &["T1484.002", "T1606.002"],
        Severity::High,
    ),
    (
        "signin.service-principal-new-network",
        "Service principal signed in from a network new to it",
        &[Kind::SignIn],
        &["T1078.004", "T1098.001"],
        Severity::Medium,
    ),
    (
        "signin.impossible-travel",
        "Impossible travel: one account signed in from places too far apart",
        &[Kind::SignIn],
        &["T1078.004"],
        Severity::Medium,
    ),
    (
        "signin.session-replayed",
        "Session replayed: one sign-in session used from two countries",
        &[Kind::SignIn],
        &["T1550.004", "T1557"],
        Severity::High,
    ),
    (
        "audit.app-credential-added",
        "Credentials added to an application or service principal",
        &[Kind::Audit],
        &["T1098.001"],
        Severity::High,
    ),
    (
        "audit.credential-after-consent",
        "Credential added to an app after it was granted high-risk permissions",
        &[Kind::Audit],
        &["T1098.001", "T1528"],
        Severity::Critical,
    ),
    (
        "audit.app-promoted-after-role-grant",
        "App granted role management then made someone an administrator",
        &[Kind::Audit],
        &["T1098.003"],
        Severity::Critical,
    ),
    (
        "infra.attacker-infrastructure",
        "Activity from infrastructure seen in another finding",
        &[Kind::SignIn, Kind::Audit, Kind::MailAudit],
        &["T1078"],
        Severity::High,
    ),
    (
        "onprem.forged-token",
        "Federated sign-in with a token AD FS never issued",
        &[Kind::SignIn, Kind::WindowsEvent],
        &["T1606.002"],
        Severity::Critical,
    ),
    (
        "onprem.forged-token-unknown-user",
        "Federated sign-in of a user AD FS never issued a token to",
        &[Kind::SignIn, Kind::WindowsEvent],
        &["T1606.002"],
        Severity::High,
    ),
    (
        "onprem.forged-token-other-client",
        "Federated sign-in whose AD FS token went to another client",
        &[Kind::SignIn, Kind::WindowsEvent],
        &["T1606.002"],
        Severity::High,
    ),
    (
        "onprem.forged-token-uncovered",
        "Federated sign-ins the AD FS logs do not cover",
        &[Kind::SignIn, Kind::WindowsEvent],
        &["T1606.002"],
        Severity::Medium,
    ),
    (
        "onprem.adfs-config-transfer",
        "AD FS configuration pulled through the farm's replication service",
        &[Kind::WindowsEvent],
        &["T1552.004", "T1606.002"],
        Severity::High,
    ),
    (
        "onprem.dcsync-rights-granted",
        "Replication rights granted on the domain",
        &[Kind::WindowsEvent],
        &["T1222.001", "T1003.006"],
        Severity::Critical,
    ),
    (
        "onprem.krbtgt-reset",
        "krbtgt password reset",
        &[Kind::WindowsEvent],
        &["T1558.001"],
        Severity::Info,
    ),
    (
        "onprem.krbtgt-reset-too-soon",
        "krbtgt reset again before the wait was over",
        &[Kind::WindowsEvent],
        &["T1558.001"],
        Severity::High,
    ),
    (
        "ioc.match",
        "Threat indicator seen (with --ioc)",
        &[
            Kind::SignIn,
            Kind::Audit,
            Kind::MailAudit,
            Kind::WindowsEvent,
        ],
        &[],
        Severity::High,
    ),
];

/// The built-in detections: rules as data, then those written in code.
pub fn built_in() -> Result<Vec<Listed>, String> {
    let mut out: Vec<Listed> = super::rule::built_in()?
        .into_iter()
        .map(|ready| {
            let rule = ready.rule;
            Listed {
                id: rule.id,
                title: rule.title,
                source: "built-in",
                author: None,
                kinds: vec![rule.kind.name()],
                techniques: rule.techniques,
                severity: rule.severity,
            }
        })
        .collect();
    out.extend(
        STATEFUL
            .iter()
            .map(|(id, title, kinds, techniques, severity)| Listed {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                source: "built-in (stateful)",
                author: None,
                kinds: kinds.iter().map(|k| k.name()).collect(),
                techniques: techniques.iter().map(|t| (*t).to_owned()).collect(),
                severity: *severity,
            }),
    );
    Ok(out)
}

/// Sigma rules as loaded.
pub fn sigma(rules: &super::sigma::SigmaRules) -> Vec<Listed> {
    rules
        .rules
        .iter()
        .map(|r| Listed {
            id: format!("sigma.{}", r.id),
            title: r.title.clone(),
            source: "sigma",
            author: Some(r.author.clone()),
            kinds: vec![r.service.kind().name()],
            techniques: r.techniques.clone(),
            severity: r.severity,
        })
        .collect()
}
