//! Attacker infrastructure. Once a finding is critical, or the team has
//! confirmed it as malicious, what it names of the attacker's means (the
//! addresses, the network behind them when no one else in the tenant uses
//! it, user agents, app credentials) becomes an indicator for everything
//! else: other accounts' sign-ins, audits and mail records from the same
//! infrastructure are raised as findings that name the finding they came
//! from. A decision that the finding is benign or a false positive
//! withdraws what it raised.
//!
//! An address that tried to sign in to disabled accounts is a weaker seed
//! (Sentinel's "sign-ins from IPs that attempt sign-ins to disabled
//! accounts"): only the address counts, only what succeeded from it is
//! raised, and at medium.
//!
//! Addresses and agents many accounts share (an office's egress, a common
//! browser) are not indicators: they would raise the whole tenant.
//!
//! The console and `watch` keep a small row per event (`Activity`); `scan`
//! keeps none on its first pass and reads its files again for the texts
//! `Engine::infrastructure_texts` names, so both judge the same rows.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use jiff::Timestamp;

use super::event::{Event, Kind, text_at};
use super::{Entity, Finding};
use crate::model::Severity;

pub const DETECTION: &str = "infra.attacker-infrastructure";

/// Accounts (or apps) an address, network or agent may serve before it is
/// taken for shared infrastructure rather than the attacker's own.
const SHARED: usize = 10;

/// Sign-in and record ids a finding lists (its count is exact).
const MAX_EVIDENCE: usize = 50;

/// Who acted, as one key: a user's UPN (lower case) or an app's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Actor {
    User(String),
    App(String),
}

/// What of one event the infrastructure findings read.
#[derive(Clone, Debug)]
pub struct Row {
    pub id: String,
    pub kind: Kind,
    pub time: Option<Timestamp>,
    pub actor: Actor,
    /// An app's display name, where the event gives it.
    pub app_name: Option<String>,
    pub ip: Option<IpAddr>,
    pub asn: Option<u32>,
    pub agent: Option<String>,
    /// The app credential a service principal signed in with.
    pub key: Option<String>,
    /// A sign-in that failed (other records count as done).
    pub failed: bool,
}

/// An address as logs write it: bare, `[v6]:port` or `v4:port`.
fn address(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (host, port) = text.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

fn first(value: &super::json::Json, paths: &[&str]) -> Option<String> {
    paths.iter().find_map(|p| text_at(value, p))
}

/// The row of a sign-in, directory audit or audit log record; `None` for
/// other kinds and for events that name no actor.
pub fn row(event: &Event) -> Option<Row> {
    let v = &event.value;
    let failed = event.kind == Kind::SignIn
        && v.get("status")
            .and_then(|s| s.get("errorCode"))
            .and_then(|c| c.as_i64())
            .is_some_and(|c| c != 0);
    let (actor, app_name, ip, asn, agent, key) = match event.kind {
        Kind::SignIn => {
            let app = text_at(v, "appId");
            let service = text_at(v, "servicePrincipalId").is_some()
                && text_at(v, "userPrincipalName").is_none();
            let actor = match (service, app, text_at(v, "userPrincipalName")) {
                (true, Some(app), _) => Actor::App(app.to_lowercase()),
                (_, _, Some(upn)) => Actor::User(upn.to_lowercase()),
                _ => return None,
            };
            let name = first(v, &["servicePrincipalName", "appDisplayName"]);
            (
                actor,
                name,
                text_at(v, "ipAddress"),
                text_at(v, "autonomousSystemNumber").and_then(|n| n.parse().ok()),
                text_at(v, "userAgent"),
                text_at(v, "servicePrincipalCredentialKeyId"),
            )
        }
        Kind::Audit => {
            let actor = match (
                text_at(v, "initiatedBy.user.userPrincipalName"),
                text_at(v, "initiatedBy.app.appId"),
            ) {
                (Some(upn), _) => Actor::User(upn.to_lowercase()),
                (None, Some(app)) => Actor::App(app.to_lowercase()),
                _ => return None,
            };
            (
                actor,
                text_at(v, "initiatedBy.app.displayName"),
                first(
                    v,
                    &["initiatedBy.user.ipAddress", "initiatedBy.app.ipAddress"],
                ),
                None,
                None,
                None,
            )
        }
        Kind::MailAudit => {
            let app = first(v, &["auditData.AppId", "auditData.ClientAppId"]);
            let by_app =
                text_at(v, "userType").is_some_and(|t| t.eq_ignore_ascii_case("servicePrincipal"));
            let user = first(v, &["userPrincipalName", "auditData.UserId"]);
            let actor = match (by_app, app, user) {
                (true, Some(app), _) => Actor::App(app.to_lowercase()),
                (_, _, Some(upn)) => Actor::User(upn.to_lowercase()),
                (_, Some(app), None) => Actor::App(app.to_lowercase()),
                _ => return None,
            };
            (
                actor,
                None,
                first(
                    v,
                    &[
                        "clientIp",
                        "auditData.ClientIPAddress",
                        "auditData.ClientIP",
                    ],
                ),
                None,
                None,
                None,
            )
        }
        _ => return None,
    };
    Some(Row {
        id: event.id.clone(),
        kind: event.kind,
        time: event.time,
        actor,
        app_name,
        ip: ip.as_deref().and_then(address),
        asn,
        agent,
        key: key.map(|k| k.to_lowercase()),
        failed,
    })
}

/// The rows of the events seen, once each.
#[derive(Default)]
pub struct Activity {
    rows: Vec<Row>,
    ids: HashSet<String>,
}

impl Activity {
    pub fn add(&mut self, row: Row) {
        if self.ids.insert(row.id.clone()) {
            self.rows.push(row);
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One thing of the attacker's, and the finding it was seen in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Mark {
    Ip(IpAddr),
    Asn(u32),
    Agent(String),
    Key(String),
}

impl Mark {
    fn describe(&self) -> String {
        match self {
            Mark::Ip(ip) => ip.to_string(),
            Mark::Asn(n) => format!("AS{n}"),
            Mark::Agent(a) => format!("user agent \"{a}\""),
            Mark::Key(k) => format!("credential {k}"),
        }
    }

    fn entity(&self) -> Entity {
        let (field, value) = match self {
            Mark::Ip(ip) => ("ipAddress", ip.to_string()),
            Mark::Asn(n) => ("network", format!("AS{n}")),
            Mark::Agent(a) => ("userAgent", a.clone()),
            Mark::Key(k) => ("keyId", k.clone()),
        };
        Entity {
            field: field.into(),
            value,
        }
    }
}

/// The detection whose addresses seed as probers.
const PROBE: &str = "signin.disabled-account";

/// How a finding names the attacker's infrastructure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seed {
    /// Critical or confirmed: all it names is the attacker's.
    Attacker,
    /// Tried disabled accounts: its addresses, for what succeeded there.
    Prober,
}

/// Whether a finding seeds indicators: critical, or confirmed by the
/// team, or a disabled-account probe; never once judged benign or a false
/// positive, and never a finding of this detection (what it raised does
/// not raise more).
fn seeds(finding: &Finding, verdicts: &HashMap<String, String>) -> Option<Seed> {
    if finding.detection == DETECTION || finding.detection.starts_with("posture.") {
        return None;
    }
    match verdicts.get(&finding.id).map(String::as_str) {
        Some("benign" | "false-positive") => None,
        Some("confirmed") => Some(Seed::Attacker),
        _ if finding.severity == Severity::Critical => Some(Seed::Attacker),
        _ if finding.detection == PROBE => Some(Seed::Prober),
        _ => None,
    }
}

/// What the seeding findings name, before the shared ones are set aside.
fn named(findings: &[Finding], verdicts: &HashMap<String, String>) -> Vec<(Mark, usize)> {
    let mut out = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let Some(seed) = seeds(f, verdicts) else {
            continue;
        };
        for e in &f.entities {
            let field = e.field.to_ascii_lowercase();
            let mark = if let Some(ip) = address(&e.value) {
                Some(Mark::Ip(ip))
            } else if seed == Seed::Prober {
                None
            } else if field == "network" || field.ends_with("autonomoussystemnumber") {
                e.value.trim_start_matches("AS").parse().ok().map(Mark::Asn)
            } else if field.ends_with("useragent") {
                Some(Mark::Agent(e.value.clone()))
            } else if field.ends_with("keyid") {
                Some(Mark::Key(e.value.to_lowercase()))
            } else {
                None
            };
            if let Some(mark) = mark {
                out.push((mark, i));
            }
        }
    }
    out
}

/// The texts whose records `scan` must read again to judge `named`'s
/// marks as the console does: every record holding one of them.
pub fn texts(
    findings: &[Finding],
    verdicts: &HashMap<String, String>,
    activity: &Activity,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (mark, _) in marks(findings, verdicts, activity) {
        match mark {
            Mark::Ip(ip) => out.insert(ip.to_string()),
            Mark::Asn(n) => out.insert(n.to_string()),
            Mark::Agent(a) => out.insert(a),
            Mark::Key(k) => out.insert(k),
        };
    }
    // The addresses behind a network mark: records that carry no number
    // (audit log records) are found by address.
    let asns: HashSet<u32> = marks(findings, verdicts, activity)
        .into_iter()
        .filter_map(|(m, _)| match m {
            Mark::Asn(n) => Some(n),
            _ => None,
        })
        .collect();
    for row in &activity.rows {
        if let (Some(ip), Some(asn)) = (row.ip, row.asn)
            && asns.contains(&asn)
        {
            out.insert(ip.to_string());
        }
    }
    out
}

/// The marks that stand: named by a seeding finding and not shared by
/// many accounts; an address's network joins them when nobody else in
/// the tenant uses that network.
fn marks(
    findings: &[Finding],
    verdicts: &HashMap<String, String>,
    activity: &Activity,
) -> Vec<(Mark, usize)> {
    let named = named(findings, verdicts);
    if named.is_empty() {
        return named;
    }
    let mut actors: HashMap<Mark, HashSet<&Actor>> = HashMap::new();
    for row in &activity.rows {
        for mark in row_marks(row) {
            actors.entry(mark).or_default().insert(&row.actor);
        }
    }
    let shared = |m: &Mark| actors.get(m).is_some_and(|a| a.len() >= SHARED);
    let mut out: Vec<(Mark, usize)> = Vec::new();
    for (mark, seed) in named {
        if shared(&mark) {
            continue;
        }
        let attacker = seeds(&findings[seed], verdicts) == Some(Seed::Attacker);
        if let Mark::Ip(ip) = &mark
            && attacker
        {
            // The network behind the address, as the sign-ins give it.
            let asn = activity
                .rows
                .iter()
                .filter(|r| r.ip == Some(*ip))
                .find_map(|r| r.asn);
            if let Some(asn) = asn.map(Mark::Asn)
                && !shared(&asn)
            {
                out.push((asn, seed));
            }
        }
        out.push((mark, seed));
    }
    out.sort();
    out.dedup();
    out
}

/// The marks a row carries (its network through its own number only).
fn row_marks(row: &Row) -> Vec<Mark> {
    let mut out = Vec::new();
    out.extend(row.ip.map(Mark::Ip));
    out.extend(row.asn.map(Mark::Asn));
    out.extend(row.agent.clone().map(Mark::Agent));
    out.extend(row.key.clone().map(Mark::Key));
    out
}

/// One finding per seeding finding and account: what that account did
/// from the seed's infrastructure, the seed's own evidence left out.
pub fn findings(
    earlier: &[Finding],
    verdicts: &HashMap<String, String>,
    activity: &Activity,
) -> Vec<Finding> {
    let marks = marks(earlier, verdicts, activity);
    if marks.is_empty() {
        return Vec::new();
    }
    // Addresses that belong to a marked network, learned from sign-ins:
    // audit log records carry the address only.
    let mut asn_of: HashMap<IpAddr, u32> = HashMap::new();
    for row in &activity.rows {
        if let (Some(ip), Some(asn)) = (row.ip, row.asn) {
            asn_of.insert(ip, asn);
        }
    }
    let strength: Vec<Option<Seed>> = earlier.iter().map(|f| seeds(f, verdicts)).collect();
    let mut by_mark: HashMap<&Mark, Vec<usize>> = HashMap::new();
    for (mark, seed) in &marks {
        by_mark.entry(mark).or_default().push(*seed);
    }
    let names: HashMap<&Actor, &str> = activity
        .rows
        .iter()
        .filter_map(|r| r.app_name.as_deref().map(|n| (&r.actor, n)))
        .collect();
    #[derive(Default)]
    struct Group<'a> {
        rows: Vec<&'a Row>,
        marks: BTreeSet<Mark>,
    }
    let mut groups: BTreeMap<(usize, &Actor), Group> = BTreeMap::new();
    for row in &activity.rows {
        let mut carried = row_marks(row);
        if row.asn.is_none()
            && let Some(asn) = row.ip.and_then(|ip| asn_of.get(&ip))
        {
            carried.push(Mark::Asn(*asn));
        }
        let mut seen_for: HashSet<usize> = HashSet::new();
        for mark in &carried {
            for seed in by_mark.get(mark).into_iter().flatten() {
                let probed = strength[*seed] == Some(Seed::Prober);
                if earlier[*seed].evidence.contains(&row.id) || (probed && row.failed) {
                    continue;
                }
                let group = groups.entry((*seed, &row.actor)).or_default();
                group.marks.insert(mark.clone());
                if seen_for.insert(*seed) {
                    group.rows.push(row);
                }
            }
        }
    }
    let iso = |t: Option<Timestamp>| t.map(crate::model::de::graph_time);
    let mut out = Vec::new();
    for ((seed, actor), mut group) in groups {
        let probed = strength[seed] == Some(Seed::Prober);
        let seed = &earlier[seed];
        group
            .rows
            .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
        let (who_field, who) = match actor {
            Actor::User(upn) => ("userPrincipalName", upn.clone()),
            Actor::App(id) => match names.get(actor) {
                Some(name) => ("servicePrincipal", format!("{name} ({id})")),
                None => ("appId", id.clone()),
            },
        };
        let mut entities = vec![Entity {
            field: who_field.into(),
            value: who.clone(),
        }];
        entities.extend(group.marks.iter().map(Mark::entity));
        // The addresses the activity came from, when a network or agent
        // matched rather than the address itself.
        let addresses: BTreeSet<IpAddr> = group.rows.iter().filter_map(|r| r.ip).collect();
        let unmarked: Vec<String> = addresses
            .iter()
            .filter(|ip| !group.marks.contains(&Mark::Ip(**ip)))
            .map(IpAddr::to_string)
            .collect();
        for ip in unmarked.iter().take(5) {
            entities.push(Entity {
                field: "ipAddress".into(),
                value: ip.clone(),
            });
        }
        entities.push(Entity {
            field: "finding".into(),
            value: seed.id.clone(),
        });
        let count = group.rows.len() as u64;
        let kinds = kinds_phrase(&group.rows);
        let mut marks: Vec<String> = group.marks.iter().map(Mark::describe).collect();
        if !unmarked.is_empty() {
            let more = if unmarked.len() > 5 {
                format!(" and {} more", unmarked.len() - 5)
            } else {
                String::new()
            };
            marks.push(format!(
                "addresses {}{more}",
                unmarked[..unmarked.len().min(5)].join(", ")
            ));
        }
        let key = format!("{}\u{0}{who_field}\u{0}{who}", seed.id);
        out.push(Finding {
            id: super::finding_id(DETECTION, &key),
            detection: DETECTION.into(),
            severity: if probed {
                Severity::Medium
            } else {
                Severity::High
            },
            title: if probed {
                "Activity from an address that tried disabled accounts".into()
            } else {
                "Activity from infrastructure seen in another finding".into()
            },
            techniques: vec!["T1078".into()],
            entities,
            evidence: group.rows.iter().take(MAX_EVIDENCE).map(|r| r.id.clone()).collect(),
            count,
            first_seen: iso(group.rows.first().and_then(|r| r.time)),
            last_seen: iso(group.rows.last().and_then(|r| r.time)),
            remediation: match actor {
                Actor::User(_) => vec!["revoke-sessions".into(), "reset-passwords".into()],
                Actor::App(_) => vec!["remove-added-credentials".into(), "review-app-permissions".into()],
            },
            explanation: format!(
                "{who}: {kinds} from {}, the infrastructure of \"{}\" ({})",
                marks.join(", "),
                seed.title,
                seed.id
            ),
            rationale: if probed {
                "Nobody signs in to a disabled account by accident for long: an address that tried and then got in elsewhere has working credentials for someone. Ask the account's owner; a red-team exercise or a shared gateway is the usual innocent answer.".into()
            } else {
                "An address, network, user agent or credential seen in a critical or confirmed finding is the attacker's until shown otherwise: whatever else came from it is the attacker's reach.".into()
            },
            verdict: None,
        });
    }
    out
}

/// "4 sign-ins, 1 directory audit, 26 audit log records".
fn kinds_phrase(rows: &[&Row]) -> String {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for row in rows {
        let noun = match row.kind {
            Kind::SignIn => "sign-in",
            Kind::Audit => "directory audit",
            Kind::MailAudit => "audit log record",
            _ => "event",
        };
        *counts.entry(noun).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(noun, n)| crate::model::counted(n, noun))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(value: serde_json::Value) -> Event<'static> {
        Event::new(value, || "t".into()).unwrap()
    }

    fn signin(id: &str, upn: &str, ip: &str, asn: u32, day: u32) -> Event<'static> {
        event(serde_json::json!({
            "id": id, "createdDateTime": format!("2026-11-{day:02}T10:00:00Z"),
            "userPrincipalName": upn, "ipAddress": ip, "autonomousSystemNumber": asn,
            "appDisplayName": "Office", "status": {"errorCode": 0}
        }))
    }

    fn seed(ip: &str, severity: Severity) -> Finding {
        Finding {
            id: "audit.federation-changed:1".into(),
            detection: "audit.federation-changed".into(),
            severity,
            title: "Federation trust changed".into(),
            techniques: vec![],
            entities: vec![Entity {
                field: "initiatedBy.user.ipAddress".into(),
                value: ip.into(),
            }],
            evidence: vec!["fed".into()],
            count: 1,
            first_seen: None,
            last_seen: None,
            remediation: vec![],
            explanation: String::new(),
            rationale: String::new(),
            verdict: None,
        }
    }

    fn activity(events: &[Event]) -> Activity {
        let mut a = Activity::default();
        for e in events {
            a.add(row(e).unwrap());
        }
        a
    }

    /// Sentinel's "sign-ins from IPs that attempt sign-ins to disabled
    /// accounts": the address alone, what succeeded there, at medium.
    #[test]
    fn an_address_that_tried_disabled_accounts_raises_what_succeeded_there() {
        let failed = event(serde_json::json!({
            "id": "f1", "createdDateTime": "2026-11-02T10:00:00Z", "userPrincipalName": "ann@c.com",
            "ipAddress": "203.0.113.9", "status": {"errorCode": 50126}
        }));
        let events = [
            signin("ok1", "ann@c.com", "203.0.113.9", 64511, 2),
            failed,
            // The same network, another address: a prober's network is not marked.
            signin("ok2", "bob@c.com", "203.0.113.10", 64511, 3),
        ];
        let mut probe = seed("203.0.113.9", Severity::Low);
        probe.detection = PROBE.into();
        probe.id = format!("{PROBE}:1");
        let found = findings(&[probe.clone()], &HashMap::new(), &activity(&events));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Medium);
        assert_eq!(found[0].evidence, ["ok1"]);
        assert_eq!(found[0].entities[0].value, "ann@c.com");
        let benign = HashMap::from([(probe.id.clone(), "benign".to_owned())]);
        assert!(findings(&[probe], &benign, &activity(&events)).is_empty());
    }

    #[test]
    fn an_attackers_address_and_network_raise_other_accounts() {
        let mut events = vec![
            signin("a1", "megan@c.com", "203.0.113.66", 64511, 2),
            signin("a2", "svc@c.com", "203.0.113.66", 64511, 3),
            signin("a3", "app-user@c.com", "203.0.113.140", 64511, 4),
        ];
        // The office: shared by many, never an indicator.
        for i in 0..12 {
            events.push(signin(
                &format!("o{i}"),
                &format!("u{i}@c.com"),
                "198.51.100.10",
                64500,
                5,
            ));
        }
        events.push(event(serde_json::json!({
            "id": "mail1", "createdDateTime": "2026-11-06T10:00:00Z", "operation": "MailItemsAccessed",
            "auditLogRecordType": "exchangeItemAggregated", "userType": "servicePrincipal",
            "userPrincipalName": "lynne@c.com", "clientIp": "203.0.113.140",
            "auditData": {"AppId": "98839dc2-f915-4909-8eb5-23ca18b95103"}
        })));
        let activity = activity(&events);
        let found = findings(
            &[seed("203.0.113.66", Severity::Critical)],
            &HashMap::new(),
            &activity,
        );
        let who: BTreeSet<String> = found.iter().map(|f| f.entities[0].value.clone()).collect();
        assert_eq!(
            who,
            [
                "98839dc2-f915-4909-8eb5-23ca18b95103",
                "app-user@c.com",
                "megan@c.com",
                "svc@c.com"
            ]
            .into_iter()
            .map(String::from)
            .collect()
        );
        assert!(
            found
                .iter()
                .all(|f| f.explanation.contains("Federation trust changed"))
        );
        // The office's address seeds nothing.
        assert!(
            findings(
                &[seed("198.51.100.10", Severity::Critical)],
                &HashMap::new(),
                &activity
            )
            .is_empty()
        );
        // A high finding seeds nothing until it is confirmed; a critical
        // one judged benign withdraws what it raised.
        assert!(
            findings(
                &[seed("203.0.113.66", Severity::High)],
                &HashMap::new(),
                &activity
            )
            .is_empty()
        );
        let confirmed = HashMap::from([(
            "audit.federation-changed:1".to_owned(),
            "confirmed".to_owned(),
        )]);
        assert!(
            !findings(
                &[seed("203.0.113.66", Severity::High)],
                &confirmed,
                &activity
            )
            .is_empty()
        );
        let benign =
            HashMap::from([("audit.federation-changed:1".to_owned(), "benign".to_owned())]);
        assert!(
            findings(
                &[seed("203.0.113.66", Severity::Critical)],
                &benign,
                &activity
            )
            .is_empty()
        );
    }

    #[test]
    fn addresses_read_as_logs_write_them() {
        assert_eq!(address("203.0.113.5:443"), "203.0.113.5".parse().ok());
        assert_eq!(address("[2001:db8::1]:443"), "2001:db8::1".parse().ok());
        assert_eq!(address("2001:db8::1"), "2001:db8::1".parse().ok());
        assert_eq!(address("contoso.com"), None);
    }
}
