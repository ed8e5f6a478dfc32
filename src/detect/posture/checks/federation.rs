//! Federation trust: the issuer a federated domain accepts tokens from,
//! the certificates that sign them, and whether Entra ID believes the
//! federation server's word that MFA was done. A Golden SAML attacker
//! changes exactly these.

use std::collections::BTreeSet;

use serde_json::Value;

use super::super::cert::{self, CertFacts};
use super::super::{Area, Check, Failure, Part, Phase, Verdict, text};
use super::Context;
use crate::model::Severity;

const TRUST: &[&str] = &["review-federation-trust", "remove-trust"];

pub static FOREIGN_ISSUER: Check = Check {
    id: "posture.federation-foreign-issuer",
    title: "Federated domain trusts an issuer unrelated to it",
    severity: Severity::Critical,
    techniques: &["T1484.002", "T1606.002"],
    area: Area::Federation,
    reads: &[Part::Federation],
    anchors: &[
        "none: warroom reads the trust itself",
        "Azure AD Investigator (domains)",
    ],
    phase: Phase::Investigate,
    rationale: "Entra ID accepts any token signed for this issuer as a sign-in to the domain. An issuer that is neither the domain nor its federation server is how a backdoor trust lets an attacker sign in as anyone, MFA included.",
    remediation: TRUST,
};

pub static NEXT_CERTIFICATE_DIFFERS: Check = Check {
    id: "posture.federation-next-certificate-differs",
    title: "Federated domain's next signing certificate is not the federation server's",
    severity: Severity::High,
    techniques: &["T1484.002", "T1606.002"],
    area: Area::Federation,
    reads: &[Part::Federation],
    anchors: &["none: warroom reads the trust itself"],
    phase: Phase::Investigate,
    rationale: "Entra ID trusts the next signing certificate as much as the current one. A next certificate issued to another subject or by another issuer than the current one is a second key the attacker holds, and it survives a rotation of the real one.",
    remediation: &[
        "review-federation-trust",
        "rotate-token-signing-certificate-twice",
        "remove-trust",
    ],
};

pub static LONG_LIVED_CERTIFICATE: Check = Check {
    id: "posture.federation-certificate-long-lived",
    title: "Federation signing certificate valid for over a year",
    severity: Severity::Medium,
    techniques: &["T1606.002"],
    area: Area::Federation,
    reads: &[Part::Federation],
    anchors: &["none: warroom reads the trust itself"],
    phase: Phase::Retain,
    rationale: "AD FS rolls its own signing certificates yearly. A certificate valid for longer was made by hand, and a stolen one keeps forging tokens for as long as it is trusted.",
    remediation: &[
        "review-federation-trust",
        "rotate-token-signing-certificate-twice",
    ],
};

pub static ACCEPTS_IDP_MFA: Check = Check {
    id: "posture.federation-accepts-idp-mfa",
    title: "Federated domain accepts MFA claimed by the federation server",
    severity: Severity::High,
    techniques: &["T1556.007", "T1606.002"],
    area: Area::Federation,
    reads: &[Part::Federation],
    anchors: &["none: warroom reads the trust itself"],
    phase: Phase::Retain,
    rationale: "With federatedIdpMfaBehavior set to accept or enforce the federation server's MFA, a forged token that merely claims MFA satisfies every MFA requirement in conditional access. rejectMfaByFederatedIdp makes Entra ID ask for MFA itself.",
    remediation: &["review-federation-trust", "enforce-mfa"],
};

/// A federated domain and the settings the snapshot holds for it.
struct Trust<'a> {
    domain: String,
    settings: &'a Value,
}

fn trusts<'a>(ctx: &'a Context) -> (Vec<Trust<'a>>, Vec<String>) {
    let snapshot = ctx.snapshot;
    let mut out: Vec<Trust> = snapshot
        .federation
        .iter()
        .map(|(domain, settings)| Trust {
            domain: domain
                .clone()
                .or_else(|| text(settings, "displayName").map(str::to_owned))
                .unwrap_or_else(|| "a domain the snapshot does not name".into()),
            settings,
        })
        .collect();
    let mut missing = Vec::new();
    for d in snapshot.list(Part::Domains) {
        let federated =
            text(d, "authenticationType").is_some_and(|t| t.eq_ignore_ascii_case("federated"));
        let Some(name) = text(d, "id") else { continue };
        if federated && !out.iter().any(|t| t.domain.eq_ignore_ascii_case(name)) {
            missing.push(format!(
                "{name} is federated but {}",
                snapshot.lacking(Part::Federation)
            ));
        }
    }
    out.sort_by(|a, b| a.domain.cmp(&b.domain));
    (out, missing)
}

pub fn judge(ctx: &Context) -> Vec<Verdict> {
    let (trusts, missing) = trusts(ctx);
    let looked = if trusts.is_empty() {
        if ctx.snapshot.has(Part::Domains) {
            "no federated domain".to_owned()
        } else {
            return [
                &FOREIGN_ISSUER,
                &NEXT_CERTIFICATE_DIFFERS,
                &LONG_LIVED_CERTIFICATE,
                &ACCEPTS_IDP_MFA,
            ]
            .into_iter()
            .map(|c| Verdict::unknown(c, ctx.snapshot.lacking(Part::Domains)))
            .collect();
        }
    } else {
        format!("the federation settings of {} domain(s)", trusts.len())
    };
    // The tenant's own names: its domains, and the federated ones.
    let mut domains: Vec<String> = ctx
        .snapshot
        .list(Part::Domains)
        .iter()
        .filter_map(|d| text(d, "id").map(str::to_lowercase))
        .collect();
    domains.extend(trusts.iter().map(|t| t.domain.to_lowercase()));
    vec![
        issuer(&trusts, &domains, missing.clone(), &looked),
        next_certificate(&trusts, missing.clone(), &looked),
        lifetime(&trusts, missing.clone(), &looked),
        idp_mfa(&trusts, missing, &looked),
    ]
}

fn failure(t: &Trust, explanation: String) -> Failure {
    Failure::new(t.domain.to_lowercase(), explanation)
        .entity("targetResources.displayName", t.domain.clone())
        .entity("issuerUri", text(t.settings, "issuerUri").unwrap_or(""))
        .evidence(text(t.settings, "id").unwrap_or(""))
}

fn issuer(
    trusts: &[Trust],
    domains: &[String],
    mut unjudged: Vec<String>,
    looked: &str,
) -> Verdict {
    let mut failures = Vec::new();
    for t in trusts {
        let Some(issuer) = text(t.settings, "issuerUri") else {
            unjudged.push(format!("{} has no issuerUri in the snapshot", t.domain));
            continue;
        };
        let Some(host) = host_of(issuer) else {
            unjudged.push(format!(
                "{}'s issuer {issuer} is not a URL; compare it with the federation server by hand",
                t.domain
            ));
            continue;
        };
        if host == "any.sts" {
            failures.push(failure(t, format!(
                "{} trusts the issuer {issuer}: any.sts is the default issuer of a well-known tool for planting backdoor federation trusts.",
                t.domain
            )));
            continue;
        }
        // Judged against the tenant's own domains, never against the
        // trust's own sign-in addresses: whoever writes the trust writes
        // those too.
        if domains.iter().any(|d| related(&host, d)) {
            continue;
        }
        let sign_in: Vec<String> = ["passiveSignInUri", "activeSignInUri"]
            .iter()
            .filter_map(|k| text(t.settings, k).and_then(host_of))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // Keyed by the issuer too: a new foreign issuer is a new finding.
        failures.push(Failure {
            key: format!("{}:{}", t.domain.to_lowercase(), issuer.to_lowercase()),
            ..failure(
            t,
            format!(
                "{} trusts tokens from the issuer {issuer}, whose host {host} belongs to none of the tenant's domains (its sign-in addresses: {}).",
                t.domain,
                if sign_in.is_empty() {
                    "none in the snapshot".to_owned()
                } else {
                    sign_in.join(", ")
                }
            ),
        )
        });
    }
    Verdict::from(&FOREIGN_ISSUER, failures, unjudged, looked)
}

fn read_cert(t: &Trust, field: &str, unjudged: &mut Vec<String>) -> Option<CertFacts> {
    let blob = text(t.settings, field)?;
    match cert::read(blob) {
        Ok(facts) => Some(facts),
        Err(why) => {
            unjudged.push(format!("{}'s {field} cannot be read: {why}", t.domain));
            None
        }
    }
}

fn next_certificate(trusts: &[Trust], mut unjudged: Vec<String>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    for t in trusts {
        let Some(next) = text(t.settings, "nextSigningCertificate") else {
            continue;
        };
        let Some(current) = text(t.settings, "signingCertificate") else {
            unjudged.push(format!(
                "{} has a next signing certificate but no current one in the snapshot",
                t.domain
            ));
            continue;
        };
        if current == next {
            continue;
        }
        let (Some(current), Some(next)) = (
            read_cert(t, "signingCertificate", &mut unjudged),
            read_cert(t, "nextSigningCertificate", &mut unjudged),
        ) else {
            continue;
        };
        if current.subject == next.subject && current.issuer == next.issuer {
            continue;
        }
        failures.push(
            failure(t, format!(
                "{}'s next signing certificate ({}) is issued to \"{}\" by \"{}\"; the current one ({}) to \"{}\" by \"{}\".",
                t.domain, next.thumbprint, next.subject, next.issuer, current.thumbprint, current.subject, current.issuer
            ))
            .entity("certificate", next.thumbprint.clone()),
        );
    }
    Verdict::from(&NEXT_CERTIFICATE_DIFFERS, failures, unjudged, looked)
}

fn lifetime(trusts: &[Trust], mut unjudged: Vec<String>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    for t in trusts {
        for field in ["signingCertificate", "nextSigningCertificate"] {
            let Some(facts) = read_cert(t, field, &mut unjudged) else {
                continue;
            };
            let days = facts.lifetime_days();
            if days > 366 {
                failures.push(Failure {
                    key: format!("{}:{}", t.domain.to_lowercase(), facts.thumbprint),
                    ..failure(
                        t,
                        format!(
                            "{}'s {field} ({}, \"{}\") is valid for {days} days, {} to {}.",
                            t.domain,
                            facts.thumbprint,
                            facts.subject,
                            facts.not_before.strftime("%Y-%m-%d"),
                            facts.not_after.strftime("%Y-%m-%d"),
                        ),
                    )
                    .entity("certificate", facts.thumbprint.clone())
                });
            }
        }
    }
    Verdict::from(&LONG_LIVED_CERTIFICATE, failures, unjudged, looked)
}

fn idp_mfa(trusts: &[Trust], mut unjudged: Vec<String>, looked: &str) -> Verdict {
    let mut failures = Vec::new();
    for t in trusts {
        match text(t.settings, "federatedIdpMfaBehavior") {
            Some(b) if b.eq_ignore_ascii_case("rejectMfaByFederatedIdp") => {}
            Some(b @ ("acceptIfMfaDoneByFederatedIdp" | "enforceMfaByFederatedIdp")) => {
                failures.push(failure(t, format!(
                    "{}'s federatedIdpMfaBehavior is {b}: a token that claims MFA is taken at its word.",
                    t.domain
                )));
            }
            Some(other) => unjudged.push(format!(
                "{}'s federatedIdpMfaBehavior is {other}, a value this check does not know",
                t.domain
            )),
            None => unjudged.push(format!(
                "{} has no federatedIdpMfaBehavior in the snapshot (older trusts say it with SupportsMfa; check it in PowerShell)",
                t.domain
            )),
        }
    }
    Verdict::from(&ACCEPTS_IDP_MFA, failures, unjudged, looked)
}

/// The host of a URL-shaped issuer or address, lower-cased.
fn host_of(uri: &str) -> Option<String> {
    let url = reqwest::Url::parse(uri).ok()?;
    url.host_str().map(str::to_lowercase)
}

/// Two hosts belong together: the same, one inside the other, or the
/// same registered name (`sts.contoso.com` and `contoso.com`).
fn related(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    // A bare label (`com`) is no one's domain.
    if !a.contains('.') || !b.contains('.') {
        return false;
    }
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}")) || base(&a) == base(&b)
}

/// The registered part of a host name: its last two labels, or three
/// where the second-level label is a short public suffix (`co.uk`).
fn base(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let take = match labels.as_slice() {
        [.., second, top] if top.len() == 2 && second.len() <= 3 && labels.len() >= 3 => 3,
        _ => 2,
    };
    labels[labels.len().saturating_sub(take)..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_belong_together_by_their_registered_name() {
        assert!(related("sts.contoso.com", "contoso.com"));
        assert!(related("contoso.com", "login.contoso.com"));
        assert!(related("adfs.contoso.co.uk", "contoso.co.uk"));
        assert!(!related("sts.contoso-auth.com", "contoso.com"));
        assert!(!related("evil.co.uk", "contoso.co.uk"));
        assert_eq!(
            host_of("http://any.sts/B2B3C4D5").as_deref(),
            Some("any.sts")
        );
        assert_eq!(host_of("urn:federation:contoso"), None);
    }
}
