//! The findings the join reports: a user's forged sign-ins, and the
//! sign-ins the AD FS logs read cannot judge.

use std::collections::BTreeMap;

use super::WITHIN_SECS;
use super::coverage::Coverage;
use crate::detect::{Entity, Finding};
use crate::model::Severity;

/// One user's sign-ins no issuance matches.
pub(super) struct Orphans {
    pub(super) upn: String,
    pub(super) count: u64,
    pub(super) first: i64,
    pub(super) last: i64,
    /// (time, id) of the earliest.
    pub(super) ids: Vec<(i64, String)>,
    pub(super) ips: Vec<String>,
    /// (time, why) of the earliest sign-ins near which AD FS did issue a
    /// token that does not fit them.
    pub(super) misfits: Vec<(i64, String)>,
}

/// What a finding says of one user's unexplained sign-ins: the earliest
/// ids and misfits, capped; entities; the addresses in words.
struct Said {
    upn: String,
    count: u64,
    first: i64,
    last: i64,
    ids: Vec<String>,
    misfits: Vec<String>,
    entities: Vec<Entity>,
    addresses: String,
}

impl Orphans {
    fn said(self) -> Said {
        let Orphans {
            upn,
            count,
            first,
            last,
            mut ids,
            ips,
            mut misfits,
        } = self;
        ids.sort();
        misfits.sort();
        let mut entities = vec![Entity {
            field: "userPrincipalName".into(),
            value: upn.clone(),
        }];
        entities.extend(ips.iter().map(|ip| Entity {
            field: "ipAddress".into(),
            value: ip.clone(),
        }));
        Said {
            upn,
            count,
            first,
            last,
            ids: ids.into_iter().take(ORPHAN_IDS).map(|(_, id)| id).collect(),
            misfits: misfits
                .into_iter()
                .take(MISFITS)
                .map(|(_, why)| why)
                .collect(),
            entities,
            addresses: if ips.is_empty() {
                "unknown addresses".to_owned()
            } else {
                ips.join(", ")
            },
        }
    }
}

/// Misfits named per finding.
pub(super) const MISFITS: usize = 5;

/// Sign-ins listed per orphan finding (its count is exact).
pub(super) const ORPHAN_IDS: usize = 50;

/// Sign-ins no issuance matched that the AD FS logs do not cover.
#[derive(Default)]
pub(super) struct Outside {
    pub(super) count: u64,
    pub(super) first: i64,
    pub(super) last: i64,
}

pub(super) use crate::model::de::graph_time_secs as iso;

/// A user's orphan sign-ins: forged (critical) when AD FS issued this
/// account other tokens; when it never did, AD FS may know the user by
/// another name (its `DOMAIN\\sAMAccountName` is not the UPN's first part),
/// so the finding is high and says so.
pub(super) fn orphan_finding(user: &str, o: Orphans, read: &str, known_to_adfs: bool) -> Finding {
    let Said {
        upn,
        count,
        first,
        last,
        ids,
        misfits,
        entities,
        addresses,
    } = o.said();
    let misfit = if misfits.is_empty() {
        String::new()
    } else {
        format!(
            " Near some of them AD FS did issue a token, but not one that fits: {}.",
            misfits.join("; ")
        )
    };
    let (detection, severity, title, caveat) = if known_to_adfs {
        (
            "onprem.forged-token",
            Severity::Critical,
            "Federated sign-in with a token AD FS never issued",
            String::new(),
        )
    } else {
        (
            "onprem.forged-token-unknown-user",
            Severity::High,
            "Federated sign-in of a user AD FS never issued a token to",
            format!(
                " AD FS issued no token to any account named {user} in all the logs read: if AD FS knows this user by another account name, compare by hand; otherwise these are forged too."
            ),
        )
    };
    Finding {
        id: crate::detect::finding_id(detection, user),
        detection: detection.into(),
        severity,
        title: title.into(),
        techniques: vec!["T1606.002".into()],
        entities,
        evidence: ids,
        count,
        first_seen: Some(iso(first)),
        last_seen: Some(iso(last)),
        remediation: [
            "revoke-sessions",
            "rotate-token-signing-certificate-twice",
            "remove-trust",
            "review-federation-trust",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        explanation: format!(
            "{count} federated sign-in(s) of {upn} from {addresses} were never issued by the AD FS servers: no token issuance (1200) for {user} within {} minutes of each fits it (an issuance fits a sign-in under an issuer the farm has, from the client AD FS saw where it logged a public address, and only one sign-in), and {read} of each without a gap. These tokens were forged (orphan sign-ins).{misfit} If the farm has servers whose logs were not read, read them too before calling this proof.{caveat}",
            WITHIN_SECS / 60
        ),
        rationale: "AD FS logs every token it issues. A federated sign-in Entra ID accepted with no matching issuance was signed by someone else holding the token-signing key: a Golden SAML token.".into(),
        verdict: None,
    }
}

/// A user's sign-ins whose nearest unused AD FS token went to another
/// client (same account, same issuer, minutes apart, another public
/// address of the same IP family). A forgery used while the victim signs
/// in looks like this; so does a client whose traffic to AD FS and to
/// Microsoft 365 leaves by different exits (a split-tunnel VPN, a
/// security proxy for one and not the other, a privacy relay). High, not
/// critical: the finding says which.
pub(super) fn elsewhere_finding(user: &str, o: Orphans, read: &str) -> Finding {
    let Said {
        upn,
        count,
        first,
        last,
        ids,
        misfits,
        entities,
        addresses,
    } = o.said();
    let detection = "onprem.forged-token-other-client";
    Finding {
        id: crate::detect::finding_id(detection, user),
        detection: detection.into(),
        severity: Severity::High,
        title: "Federated sign-in whose AD FS token went to another client".into(),
        techniques: vec!["T1606.002".into()],
        entities,
        evidence: ids,
        count,
        first_seen: Some(iso(first)),
        last_seen: Some(iso(last)),
        remediation: ["revoke-sessions", "review-federation-trust"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        explanation: format!(
            "{count} federated sign-in(s) of {upn} from {addresses} match no AD FS token of their own: within {} minutes AD FS did issue {user} a token, but to another client ({}), and {read}. Either the token used here was forged while the user was signing in, or this client reaches AD FS and Microsoft 365 by different exits (a split-tunnel VPN, a proxy for one only, a privacy relay): ask the user, and look for the same pair of addresses on other users.",
            WITHIN_SECS / 60,
            misfits.join("; ")
        ),
        rationale: "AD FS records the client it issued each token to. A sign-in whose only nearby token went to a different public address was not presented by the client AD FS saw, unless the client's traffic leaves by two exits.".into(),
        verdict: None,
    }
}

pub(super) fn uncovered_finding(
    outside: &Outside,
    in_gaps: &BTreeMap<usize, u64>,
    unread: Option<(u64, String)>,
    overflow: u64,
    coverage: &Coverage,
    servers: &[String],
) -> Finding {
    let mut parts = Vec::new();
    if outside.count > 0 {
        parts.push(format!(
            "{} fall outside the time every AD FS server's log covers ({first_out} to {last_out}; logs read: {})",
            outside.count,
            servers.join("; "),
            first_out = iso(outside.first),
            last_out = iso(outside.last),
        ));
    }
    if overflow > 0 {
        parts.push(format!(
            "{overflow} belong to users with so many sign-ins and tokens at once that matching them was cut short"
        ));
    }
    if let Some((n, why)) = &unread {
        parts.push(format!(
            "{n} could not be read back from the scan's sealed spill file ({why})"
        ));
    }
    for (index, n) in in_gaps {
        let gap = &coverage.gaps[*index];
        let why = match &gap.numbers {
            Some((channel, a, b)) => format!("{}: {channel} record numbers {a} to {b}", gap.why),
            None => gap.why.to_owned(),
        };
        parts.push(format!(
            "{n} fall in a gap in {}'s log from {} to {} ({why})",
            gap.server,
            iso(gap.from),
            iso(gap.to),
        ));
    }
    let total = outside.count
        + in_gaps.values().sum::<u64>()
        + unread.as_ref().map_or(0, |(n, _)| *n)
        + overflow;
    let times = (outside.count > 0)
        .then_some([outside.first, outside.last])
        .into_iter()
        .flatten()
        .chain(in_gaps.keys().map(|i| coverage.gaps[*i].from))
        .chain(in_gaps.keys().map(|i| coverage.gaps[*i].to));
    let span = times.fold(None, |span: Option<(i64, i64)>, t| {
        Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
    });
    let entities = in_gaps
        .keys()
        .map(|i| Entity {
            field: "Computer".into(),
            value: coverage.gaps[*i].server.clone(),
        })
        .collect();
    Finding {
        id: crate::detect::finding_id("onprem.forged-token-uncovered", ""),
        detection: "onprem.forged-token-uncovered".into(),
        severity: Severity::Medium,
        title: "Federated sign-ins the AD FS logs do not cover".into(),
        techniques: vec!["T1606.002".into()],
        entities,
        evidence: Vec::new(),
        count: total,
        first_seen: span.map(|(first, _)| iso(first)),
        last_seen: span.map(|(_, last)| iso(last)),
        remediation: vec!["collect-logs".into()],
        explanation: format!(
            "{total} federated sign-in(s) with no issuance found cannot be judged: {}. Whether AD FS issued their tokens cannot be told; collect the AD FS Security logs of every farm server for those times.",
            parts.join("; ")
        ),
        rationale: "Missing logs are not evidence of innocence: a forged token only shows against the issuance log of the time it was used, on every server that could have issued it.".into(),
        verdict: None,
    }
}
