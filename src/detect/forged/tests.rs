use super::*;
use serde_json::json;

fn event(v: serde_json::Value) -> Event<'static> {
    Event::new(v, || "x".into()).unwrap()
}

fn signin(id: &str, upn: &str, time: &str) -> Event<'static> {
    event(
        json!({"id": id, "createdDateTime": time, "userPrincipalName": upn,
        "ipAddress": "203.0.113.66", "tokenIssuerType": "ADFederationServices",
        "isInteractive": true, "status": {"errorCode": 0}}),
    )
}

fn issuance(user: &str, time: &str) -> Event<'static> {
    event(
        json!({"EventID": 1200, "TimeGenerated": time, "Computer": "ADFS01",
        "Channel": "Security", "EventSourceName": "AD FS Auditing", "UserId": user}),
    )
}

#[test]
fn a_sign_in_without_an_issuance_is_forged_and_uncovered_time_is_said() {
    let mut forged = Forged::default();
    for e in [
        signin("genuine", "megan.bowen@contoso.com", "2026-11-30T10:00:30Z"),
        // The same sign-in from an overlapping export: one token.
        signin("genuine", "megan.bowen@contoso.com", "2026-11-30T10:00:30Z"),
        // Beside the genuine one, within the window: the one issuance
        // explains one sign-in only.
        signin("beside", "megan.bowen@contoso.com", "2026-11-30T10:03:00Z"),
        signin(
            "patti-ok",
            "patti.fernandez@contoso.com",
            "2026-11-30T10:30:00Z",
        ),
        signin(
            "forged",
            "patti.fernandez@contoso.com",
            "2026-11-30T11:00:00Z",
        ),
        signin(
            "stranger",
            "adele.vance@contoso.com",
            "2026-11-30T11:10:00Z",
        ),
        signin("late", "megan.bowen@contoso.com", "2026-12-03T11:00:00Z"),
        issuance("CONTOSO\\megan.bowen", "2026-11-30T10:00:00Z"),
        issuance("patti.fernandez@contoso.com", "2026-11-30T10:29:55Z"),
        issuance("lynne.robbins@contoso.com", "2026-11-30T09:00:00Z"),
        issuance("lynne.robbins@contoso.com", "2026-11-30T12:00:00Z"),
    ] {
        for f in facts(&e) {
            forged.add(f);
        }
    }
    let findings = forged.findings();
    let by = |id: &str| {
        findings
            .iter()
            .filter(|f| f.detection == id)
            .collect::<Vec<_>>()
    };
    let orphans = by("onprem.forged-token");
    assert_eq!(orphans.len(), 2, "{findings:#?}");
    let named: Vec<&str> = orphans
        .iter()
        .flat_map(|f| f.evidence.iter().map(String::as_str))
        .collect();
    assert!(
        named.contains(&"beside") && named.contains(&"forged"),
        "{named:?}"
    );
    assert!(
        orphans
            .iter()
            .all(|f| f.explanation.contains("never issued"))
    );
    // A user AD FS never issued anything to: high, with the caveat.
    let stranger = by("onprem.forged-token-unknown-user");
    assert_eq!(stranger.len(), 1);
    assert_eq!(stranger[0].evidence, ["stranger"]);
    assert!(stranger[0].explanation.contains("another account name"));
    let uncovered = by("onprem.forged-token-uncovered");
    assert_eq!(uncovered[0].count, 1);
}

#[test]
fn a_gap_in_a_log_read_whole_is_named_and_judges_nothing() {
    let mut forged = Forged::default();
    let record = |n: u64, time: &str| {
        event(
            json!({"EventID": 1200, "TimeGenerated": time, "Computer": "ADFS01",
            "Channel": "Security", "EventSourceName": "AD FS Auditing", "UserId": "CORP\\x",
            "@warroom.record": n}),
        )
    };
    // Records 1 to 30 a minute apart from 08:00, 31 to 39 lost, then
    // 40 to 69 from 14:00.
    let at = |h: u32, m: u32| format!("2026-11-30T{h:02}:{m:02}:00Z");
    let mut events: Vec<Event> = (0..30).map(|i| record(i + 1, &at(8, i as u32))).collect();
    events.extend((0..30).map(|i| record(i + 40, &at(14, i as u32))));
    events.push(signin("in-gap", "x@contoso.com", "2026-11-30T11:00:00Z"));
    for e in events {
        for f in facts(&e) {
            forged.add(f);
        }
    }
    let findings = forged.findings();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].detection, "onprem.forged-token-uncovered");
    assert!(
        findings[0]
            .explanation
            .contains("records are missing: Security record numbers 31 to 39"),
        "{}",
        findings[0].explanation
    );
}

/// Past `SPILL_AT` sign-ins go to the sealed spill file and come back
/// part by part: the findings are those of a join held all in memory,
/// copies of a sign-in still count once, and the first copy of a
/// sign-in may be written out while the second is still in memory.
#[test]
fn spilled_sign_ins_are_judged_as_if_all_were_in_memory() {
    let base = 1_790_000_000i64;
    let (mut facts, mut copies) = (Vec::new(), Vec::new());
    let n = SPILL_AT + SPILL_AT / 2;
    for i in 0..n as i64 {
        let user = format!("user{}", i % 301);
        let time = base + i * 7;
        let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
        facts.push(Fact::FederatedSignIn {
            user: user.clone(),
            upn: format!("{user}@contoso.com"),
            time,
            id: id.clone(),
            ip: format!("198.51.100.{}", i % 200),
            issuer: String::new(),
        });
        // Every fourth sign-in has no issuance (301 users: each has
        // some); one in a hundred is read twice, the copy far later
        // in the input.
        if i % 4 != 0 {
            facts.push(Fact::Issuance {
                user,
                time,
                server: "adfs1".into(),
                ips: vec![format!("198.51.100.{}", i % 200)],
                issuer: None,
                proxies: Vec::new(),
                intranet: false,
            });
        }
        if i % 100 == 0 {
            copies.push(Fact::FederatedSignIn {
                user: format!("user{}", i % 301),
                upn: format!("user{}@contoso.com", i % 301),
                time,
                id,
                ip: format!("198.51.100.{}", i % 200),
                issuer: String::new(),
            });
        }
    }
    facts.extend(copies);
    facts.push(Fact::Logged {
        time: base - 3_600,
        server: "adfs1".into(),
    });
    facts.push(Fact::Logged {
        time: base + n as i64 * 7 + 3_600,
        server: "adfs1".into(),
    });
    let mut spilled = Forged::default();
    let mut held = Forged {
        spill_failed: true,
        ..Forged::default()
    };
    for fact in facts {
        spilled.add(fact.clone());
        held.add(fact);
    }
    assert!(spilled.spilled.is_some() && held.spilled.is_none());
    assert!(spilled.signins.len() < SPILL_AT);
    let a = serde_json::to_value(spilled.findings()).unwrap();
    let b = serde_json::to_value(held.findings()).unwrap();
    assert_eq!(a, b);
    let forged: u64 = held
        .findings()
        .iter()
        .filter(|f| f.detection == "onprem.forged-token")
        .map(|f| f.count)
        .sum();
    assert_eq!(forged, (n as u64).div_ceil(4), "each unissued sign-in once");
}

#[test]
fn without_adfs_logs_nothing_is_claimed() {
    let mut forged = Forged::default();
    for f in facts(&signin(
        "s",
        "megan.bowen@contoso.com",
        "2026-11-30T10:00:30Z",
    )) {
        forged.add(f);
    }
    assert!(forged.findings().is_empty());
}

const FARM: &str = "http://sts.contoso.com/adfs/services/trust";
const ROGUE: &str = "http://sts.contoso-auth.com/adfs/services/trust";
const HOME: &str = "2001:db8:100:4::7fc";
const ATTACKER: &str = "203.0.113.66";

/// A sign-in as Entra ID logs it, token from `issuer`, client `ip`.
fn federated(id: &str, time: &str, ip: &str, issuer: &str) -> Event<'static> {
    event(json!({"id": id, "createdDateTime": time,
        "userPrincipalName": "lynne.robbins@contoso.com", "ipAddress": ip,
        "tokenIssuerType": "ADFederationServices", "tokenIssuerName": issuer,
        "isInteractive": true, "status": {"errorCode": 0}}))
}

/// A 1200 as a Log Analytics row carries it: the audit XML as text,
/// with the client's address where `ip` is given.
fn issued(time: &str, ip: Option<&str>) -> Event<'static> {
    issued_as(1200, time, ip)
}

fn issued_as(id: u64, time: &str, ip: Option<&str>) -> Event<'static> {
    let address = ip.map_or(
        "<IpAddress>N/A</IpAddress><ForwardedIpAddress />".to_owned(),
        |ip| format!("<IpAddress>{ip}</IpAddress><ForwardedIpAddress>{ip}</ForwardedIpAddress>"),
    );
    let audit = format!(
        "<AuditBase><ContextComponents><Component><RelyingParty>urn:federation:MicrosoftOnline</RelyingParty>\
         <UserId>CONTOSO\\lynne.robbins</UserId></Component><Component><Server>{FARM}</Server>\
         <NetworkLocation>Extranet</NetworkLocation>{address}<ProxyIpAddress>N/A</ProxyIpAddress>\
         <ProxyServer>WAP01</ProxyServer></Component></ContextComponents></AuditBase>"
    );
    event(
        json!({"EventID": id, "TimeGenerated": time, "Computer": "ADFS01",
        "Channel": "Security", "EventSourceName": "AD FS Auditing", "EventData": audit}),
    )
}

/// AD FS audit events an hour either side: the log covers the time.
fn edges() -> [Event<'static>; 2] {
    let logged = |time: &str| {
        event(
            json!({"EventID": 403, "TimeGenerated": time, "Computer": "ADFS01",
            "Channel": "Security", "EventSourceName": "AD FS Auditing"}),
        )
    };
    [
        logged("2026-12-05T15:00:00Z"),
        logged("2026-12-05T17:30:00Z"),
    ]
}

fn judge(events: Vec<Event<'static>>) -> Vec<Finding> {
    let mut forged = Forged::default();
    for e in events.iter().chain(edges().iter()) {
        for f in facts(e) {
            forged.add(f);
        }
    }
    forged.findings()
}

fn named(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.detection == "onprem.forged-token")
        .flat_map(|f| f.evidence.clone())
        .collect()
}

/// A victim signs in for real minutes before or after a forged token of
/// theirs is used. Whichever comes first, whether AD FS logged the
/// client's address or not, and whether the forgery names the
/// attacker's issuer or the farm's own (a stolen key), the forged
/// sign-in is named and the genuine one is not.
#[test]
fn a_forgery_beside_the_victims_own_sign_in_is_named() {
    for genuine_after in [true, false] {
        for address_logged in [true, false] {
            for issuer in [ROGUE, FARM] {
                let (forged_at, genuine_at, issued_at) = if genuine_after {
                    (
                        "2026-12-05T16:15:00Z",
                        "2026-12-05T16:18:40Z",
                        "2026-12-05T16:18:34Z",
                    )
                } else {
                    (
                        "2026-12-05T16:22:00Z",
                        "2026-12-05T16:18:40Z",
                        "2026-12-05T16:18:34Z",
                    )
                };
                let findings = judge(vec![
                    federated("forged", forged_at, ATTACKER, issuer),
                    federated("genuine", genuine_at, HOME, FARM),
                    issued(issued_at, address_logged.then_some(HOME)),
                ]);
                let case = format!("after {genuine_after}, address {address_logged}, {issuer}");
                assert_eq!(named(&findings), ["forged"], "{case}: {findings:#?}");
                assert!(
                    !findings
                        .iter()
                        .any(|f| f.detection == "onprem.forged-token-uncovered"),
                    "{case}"
                );
            }
        }
    }
}

/// The finding says why the issuance nearby does not explain the
/// forged sign-in, in the terms both logs use.
#[test]
fn a_misfit_is_explained() {
    let findings = judge(vec![
        federated("forged", "2026-12-05T16:15:00Z", ATTACKER, ROGUE),
        issued("2026-12-05T16:18:34Z", Some(HOME)),
    ]);
    let text = &findings[0].explanation;
    assert!(
        text.contains(
            "AD FS (adfs01) issued a token to lynne.robbins at 2026-12-05T16:18:34Z from 2001:db8:100:4::7fc; \
             this sign-in at 2026-12-05T16:15:00Z came from 203.0.113.66 with issuer sts.contoso-auth.com \
             (the farm issues as sts.contoso.com, or as the user's own domain)"
        ),
        "{text}"
    );
    // The farm's issuer, another client of the same IP family (one of
    // the other family may be the same dual-stack client).
    let findings = judge(vec![
        federated("forged", "2026-12-05T16:15:00Z", ATTACKER, FARM),
        issued("2026-12-05T16:18:34Z", Some("198.51.100.44")),
    ]);
    assert!(
        findings[0]
            .explanation
            .contains("(AD FS saw another client)")
    );
    // No address logged, and the one token already explains the
    // victim's own sign-in.
    let findings = judge(vec![
        federated("forged", "2026-12-05T16:15:00Z", ATTACKER, FARM),
        federated("genuine", "2026-12-05T16:18:40Z", HOME, FARM),
        issued("2026-12-05T16:18:34Z", None),
    ]);
    assert!(
        findings[0].explanation.contains(
            "from an address it did not log; this sign-in at 2026-12-05T16:15:00Z came from 203.0.113.66 \
             with issuer sts.contoso.com (that token is the one presented at 2026-12-05T16:18:40Z from 2001:db8:100:4::7fc)"
        ),
        "{}",
        findings[0].explanation
    );
}

/// An intranet client: AD FS sees its private address, Entra ID the
/// office's public one. Nothing to compare, so nothing is claimed; nor
/// when the network uses public addresses inside (AD FS says Intranet).
#[test]
fn an_intranet_address_is_not_another_client() {
    let findings = judge(vec![
        federated("genuine", "2026-12-05T16:18:40Z", "198.51.100.20", FARM),
        issued("2026-12-05T16:18:34Z", Some("10.1.2.3")),
    ]);
    assert!(findings.is_empty(), "{findings:#?}");
    let audit = format!(
        "<RelyingParty>urn:federation:MicrosoftOnline</RelyingParty>\
         <UserId>CONTOSO\\lynne.robbins</UserId><Server>{FARM}</Server>\
         <NetworkLocation>Intranet</NetworkLocation><IpAddress>192.0.2.77</IpAddress>"
    );
    let inside = event(
        json!({"EventID": 1200, "TimeGenerated": "2026-12-05T16:18:34Z",
        "Computer": "ADFS01", "Channel": "Security", "EventSourceName": "AD FS Auditing",
        "EventData": audit}),
    );
    let findings = judge(vec![
        federated("genuine", "2026-12-05T16:18:40Z", "198.51.100.20", FARM),
        inside,
    ]);
    assert!(findings.is_empty(), "{findings:#?}");
}

/// A lone sign-in whose only nearby token went to another public address:
/// a forgery while the user signs in, or a client with two exits. Said
/// apart (high), not called forged (critical).
#[test]
fn a_token_issued_to_another_client_is_said_apart() {
    let findings = judge(vec![
        federated("lone", "2026-12-05T16:18:40Z", "203.0.113.9", FARM),
        issued("2026-12-05T16:18:34Z", Some("198.51.100.44")),
    ]);
    assert!(named(&findings).is_empty(), "{findings:#?}");
    let other: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.detection == "onprem.forged-token-other-client")
        .collect();
    assert_eq!(other.len(), 1, "{findings:#?}");
    assert_eq!(other[0].severity, crate::model::Severity::High);
    assert_eq!(other[0].evidence, ["lone"]);
    assert!(other[0].explanation.contains("different exits"));
}

/// A fresh sign-in makes AD FS log its credential check (1202) beside the
/// token (1200): the check is no second token for a forgery to hide
/// behind.
#[test]
fn a_credential_check_is_no_spare_token() {
    let findings = judge(vec![
        federated("forged", "2026-12-05T16:15:00Z", ATTACKER, FARM),
        federated("genuine", "2026-12-05T16:18:40Z", HOME, FARM),
        issued("2026-12-05T16:18:34Z", None),
        issued_as(1202, "2026-12-05T16:18:33Z", None),
    ]);
    assert_eq!(named(&findings), ["forged"], "{findings:#?}");
}

/// An office whose AD FS traffic leaves by its proxy and whose
/// Microsoft 365 traffic leaves locally: every sign-in shows one
/// address to AD FS and another to Entra ID. Seen for three users on
/// two days, the pair is learned and nobody is called forged; one
/// user's pair alone is not enough.
#[test]
fn an_office_with_two_exits_is_learned() {
    let run = |users: &[&str]| {
        let mut forged = Forged::default();
        let mut events = Vec::new();
        for (n, user) in users.iter().enumerate() {
            for day in [5, 6] {
                let at = |m: u32, s: u32| {
                    format!("2026-12-0{day}T16:{:02}:{s:02}Z", 10 + 3 * n as u32 + m)
                };
                events.push(event(
                    json!({"id": format!("{user}-{day}"), "createdDateTime": at(0, 40),
                    "userPrincipalName": format!("{user}@contoso.com"), "ipAddress": "203.0.113.9",
                    "tokenIssuerType": "ADFederationServices", "tokenIssuerName": FARM,
                    "isInteractive": true, "status": {"errorCode": 0}}),
                ));
                events.push(event(json!({"EventID": 1200, "TimeGenerated": at(0, 34), "Computer": "ADFS01",
                    "Channel": "Security", "EventSourceName": "AD FS Auditing",
                    "EventData": format!("<RelyingParty>urn:federation:MicrosoftOnline</RelyingParty><UserId>CONTOSO\\{user}</UserId><Server>{FARM}</Server><IpAddress>198.51.100.20</IpAddress>")})));
            }
        }
        for time in ["2026-12-05T15:00:00Z", "2026-12-06T17:30:00Z"] {
            events.push(event(
                json!({"EventID": 403, "TimeGenerated": time, "Computer": "ADFS01",
                "Channel": "Security", "EventSourceName": "AD FS Auditing"}),
            ));
        }
        for e in &events {
            for f in facts(e) {
                forged.add(f);
            }
        }
        forged
            .findings()
            .iter()
            .filter(|f| f.detection == "onprem.forged-token-other-client")
            .map(|f| f.count)
            .sum::<u64>()
    };
    assert_eq!(run(&["adele", "lynne", "megan"]), 0);
    assert_eq!(run(&["adele"]), 2);
}
