use super::*;
use serde_json::json;

fn event(v: Value) -> Event<'static> {
    Event::new(v, || "t".into()).unwrap()
}

#[test]
fn csv_lists_with_and_without_types() {
    let (list, notes) = from_csv(
        "type,value,source,confidence,valid_from,valid_until,description\n\
         ipv4-addr,203.0.113.0/24,CISA,85,2026-01-01T00:00:00Z,2027-01-01T00:00:00Z,attacker VPS\n\
         domain,contoso-auth.com,CISA,high,,,\n\
         user-agent,python-requests,,40,,,\n\
         app-id,AAAAAAAA-1111-2222-3333-444444444444,,,,,\n\
         file-hash,abc,,,,,\n\
         ip,not-an-ip,,,,,\n",
        "list.csv",
    )
    .unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(list[0].confidence, Some(85));
    assert_eq!(list[1].confidence, Some(85));
    assert_eq!(list[2].source, "list.csv");
    let (bare, _) = from_csv(
        "ioc\n198.51.100.7\nevil.example\nx@evil.example\nMozilla/5.0 (evil)\n",
        "f",
    )
    .unwrap();
    let kinds: Vec<_> = bare.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            IndicatorKind::Ip,
            IndicatorKind::Domain,
            IndicatorKind::User,
            IndicatorKind::UserAgent
        ]
    );
    assert!(
        from_csv("a,b\n1,2\n", "f")
            .unwrap_err()
            .contains("no value column")
    );
}

#[test]
fn stix_patterns_become_indicators_or_reasons() {
    let bundle = json!({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "identity", "id": "identity--1", "name": "CERT-EU"},
        {"type": "indicator", "id": "indicator--1", "created_by_ref": "identity--1",
         "pattern": "[ipv4-addr:value = '203.0.113.66' OR ipv6-addr:value = '2001:db8:bad::/48']",
         "pattern_type": "stix", "confidence": 90, "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--2", "pattern": "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'AADInternals']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--3", "pattern": "[x-entra-application:app_id = '11111111-2222-3333-4444-555555555555']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--4", "pattern": "[file:hashes.MD5 = 'abc']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--5", "pattern": "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.com']", "pattern_type": "stix", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--6", "pattern": "alert tcp any any", "pattern_type": "snort", "valid_from": "2026-11-01T00:00:00Z"},
        {"type": "indicator", "id": "indicator--7", "pattern": "[domain-name:value = 'gone.example']", "revoked": true, "valid_from": "2026-11-01T00:00:00Z"}
    ]});
    let (list, notes) = from_stix(&bundle, "b.json").unwrap();
    assert_eq!(list.len(), 4, "{list:?}");
    assert_eq!(list[0].source, "CERT-EU");
    assert_eq!(list[0].confidence, Some(90));
    assert_eq!(list[2].kind, IndicatorKind::UserAgent);
    assert_eq!(list[3].kind, IndicatorKind::AppId);
    assert_eq!(notes.len(), 4, "{notes:?}");
    assert!(from_stix(&json!({"type": "indicator"}), "x").is_err());
    // NOT inverts a comparison; OR inside quotes is part of the value.
    assert!(stix_comparisons("[ipv4-addr:value NOT = '1.2.3.4']").is_err());
    let ua = stix_comparisons(
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Foo OR Bar']",
    )
    .unwrap();
    assert_eq!(ua[0].1, "Foo OR Bar");
}

#[test]
fn events_match_by_network_domain_account_agent_and_app() {
    let (indicators, _) = from_csv(
        "type,value,valid_from,valid_until\n\
         ip,203.0.113.0/24,2026-01-01T00:00:00Z,2026-06-01T00:00:00Z\n\
         ip,2001:db8:bad::/48,,\n\
         domain,contoso-auth.com,,\n\
         user,Megan.Bowen@contoso.com,,\n\
         user-agent,python-requests,,\n\
         app,aaaaaaaa-1111-2222-3333-444444444444,,\n",
        "l",
    )
    .unwrap();
    let list = IocList::new(indicators);
    let hits = list.matches(&event(
        json!({"id": "s1", "createdDateTime": "2026-03-01T00:00:00Z",
        "ipAddress": "203.0.113.66", "userPrincipalName": "megan.bowen@contoso.com",
        "appId": "AAAAAAAA-1111-2222-3333-444444444444", "userAgent": "python-requests/2.31",
        "tokenIssuerName": "http://sts.contoso-auth.com/adfs/services/trust", "status": {}}),
    ));
    let matched: BTreeSet<usize> = hits.iter().map(|h| h.indicator).collect();
    assert_eq!(matched, [0, 2, 3, 4, 5].into_iter().collect());
    let v6 = list.matches(&event(
        json!({"id": "s2", "createdDateTime": "2026-03-01T00:00:00Z",
        "ipAddress": "2001:db8:bad:1::5", "status": {}}),
    ));
    assert_eq!(v6.len(), 1);
    assert!(
        list.matches(&event(
            json!({"id": "s3", "createdDateTime": "2026-03-01T00:00:00Z",
        "ipAddress": "198.51.100.1", "userPrincipalName": "adele@contoso.com", "status": {}})
        ))
        .is_empty()
    );

    // Outside the validity window: counted apart, shown as informational.
    let mut m = Matches::default();
    let late = event(
        json!({"id": "s4", "createdDateTime": "2026-09-01T00:00:00Z", "ipAddress": "203.0.113.9", "status": {}}),
    );
    for hit in list.matches(&late) {
        m.add(&list, hit, late.time, &late.id);
    }
    let only_outside = m.findings(&list);
    assert_eq!(only_outside.len(), 1);
    assert_eq!(only_outside[0].severity, Severity::Info);
    assert_eq!(only_outside[0].count, 0);
    assert!(only_outside[0].explanation.contains("all 1 fall outside"));
    let early = event(
        json!({"id": "s5", "createdDateTime": "2026-02-01T00:00:00Z", "ipAddress": "203.0.113.9", "status": {}}),
    );
    for hit in list.matches(&early) {
        m.add(&list, hit, early.time, &early.id);
    }
    let f = m.findings(&list);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].explanation
            .contains("1 more outside its validity window"),
        "{}",
        f[0].explanation
    );
    assert_eq!(f[0].evidence, vec!["s5"]);
    assert!(
        f[0].remediation
            .contains(&"block-attacker-addresses".to_owned())
    );
}

#[test]
fn literals_cover_what_can_be_written_and_give_up_on_the_rest() {
    let list = IocList::new(vec![Indicator {
        kind: IndicatorKind::Ip,
        value: "203.0.113.0/24".into(),
        name: String::new(),
        source: String::new(),
        confidence: None,
        valid_from: None,
        valid_until: None,
    }]);
    assert_eq!(list.literals(), Some(vec!["203.0.113.".to_owned()]));
    let odd = IocList::new(vec![Indicator {
        value: "203.0.113.0/25".into(),
        ..list.indicators[0].clone()
    }]);
    assert_eq!(odd.literals(), None);
}
