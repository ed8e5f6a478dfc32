//! The two investigation panes in every state a responder meets, drawn at
//! 80×24 and 160×48: the sign-in feed (live, paused with arrivals, filtered,
//! a bad filter being typed, filtered to nothing, a stream hidden, the
//! detail before and after the record arrives) and the findings (live,
//! filtered, triaged, suppressed). Hostile strings are in the data
//! throughout; every screen is checked for raw control characters.

mod screens;

use crossterm::event::KeyCode;
use screens::*;
use warroom::app::feed::{Connection, SignInRow};
use warroom::app::state::{AppState, CaseLock, PaneId};
use warroom::app::{Msg, update};
use warroom::case::record::{Body, Record};
use warroom::model::SafeText;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// A live console with the feed and findings in, focus on `pane`.
fn live(width: u16, height: u16, pane: char) -> AppState {
    let mut state = state(width, height);
    state.session.connection = Connection::Connected;
    state.session.case = CaseLock::Unlocked(SafeText::new("IR-2026-11"));
    state.session.streams = [
        "interactive",
        "noninteractive",
        "serviceprincipal",
        "managedidentity",
    ]
    .map(|name| stream(name, 0, None))
    .to_vec();
    update(&mut state, Msg::SignIns(feed_rows()));
    update(&mut state, Msg::Findings(live_findings()));
    press(&mut state, KeyCode::Char(pane));
    state
}

/// Renders, checks nothing raw got through, and snapshots under `name`.
fn shot(name: &str, state: &AppState) {
    let terminal = render(state, &dark());
    let text = buffer_text(terminal.backend().buffer());
    for raw in ['\x1b', '\u{202e}', '\u{7}'] {
        assert!(
            !text.contains(raw),
            "{name}: a raw {raw:?} reached the screen"
        );
    }
    let (w, h) = state.screen;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
}

#[test]
fn feed_live_and_following() {
    for (w, h) in SIZES {
        let state = live(w, h, '2');
        assert!(state.feed_view.follow);
        shot("feed_live", &state);
    }
}

#[test]
fn feed_paused_counts_new_arrivals_and_keeps_the_row() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('j'));
        press(&mut state, KeyCode::Char('l'));
        let reading = state.feed.get(1).unwrap().id().to_owned();
        let mut later = feed_rows();
        for (i, row) in later.iter_mut().enumerate() {
            row.id = SafeText::new(&format!("late-{i}"));
            row.time = row
                .time
                .checked_add(jiff::SignedDuration::from_secs(120))
                .unwrap();
        }
        update(&mut state, Msg::SignIns(later));
        assert!(!state.feed_view.follow);
        assert_eq!(state.feed_view.unseen, 5);
        let selected = state.pane(PaneId::SignIns).selected;
        assert_eq!(state.feed.get(selected).unwrap().id(), reading);
        shot("feed_paused", &state);
    }
}

#[test]
fn feed_filtered_with_the_count_and_the_filter_in_the_title() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, "status:fail -type:sp");
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.feed.shown_count(), 1);
        shot("feed_filtered", &state);
        // Up in the prompt brings the filter back.
        press(&mut state, KeyCode::Esc);
        press(&mut state, KeyCode::Char('/'));
        press(&mut state, KeyCode::Up);
        shot("feed_filter_history", &state);
    }
}

#[test]
fn feed_filter_is_checked_as_it_is_typed() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, "ip:10.0.0.0/40");
        shot("feed_filter_error", &state);
        // Enter does not apply it: the prompt stays with the reason.
        press(&mut state, KeyCode::Enter);
        assert!(matches!(state.mode, warroom::app::state::Mode::Prompt(_)));
        assert_eq!(state.feed.shown_count(), 5);
    }
}

#[test]
fn feed_filtered_to_nothing_and_a_hidden_stream() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, "country:RU");
        press(&mut state, KeyCode::Enter);
        shot("feed_nothing_matches", &state);
        press(&mut state, KeyCode::Esc);
        press(&mut state, KeyCode::Char(':'));
        type_text(&mut state, "stream sp");
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.feed.shown_count(), 4);
        shot("feed_stream_hidden", &state);
    }
}

#[test]
fn feed_detail_before_and_after_the_record_arrives() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('j'));
        press(&mut state, KeyCode::Enter);
        shot("feed_detail_loading", &state);
        let record = serde_json::to_string_pretty(&serde_json::json!({
            "id": "evt-40",
            "userPrincipalName": "admin\u{202e}moc.nimda@contoso.com",
            "appDisplayName": "Outlook\u{1b}[31m",
            "status": {"errorCode": 50126, "failureReason": "Invalid username or password\u{7}"},
        }))
        .unwrap();
        update(&mut state, Msg::SignInRecord("evt-40".into(), Ok(record)));
        shot("feed_detail_record", &state);
        update(
            &mut state,
            Msg::SignInRecord("evt-40".into(), Err(SafeText::new("429 after 3 tries"))),
        );
        shot("feed_detail_record_failed", &state);
    }
}

#[test]
fn findings_filtered_and_triaged() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '1');
        let federation = state.findings[0].clone();
        let record = |body| Record {
            id: "r1".into(),
            time: "2026-11-25T12:00:00Z".into(),
            author: "alice@jumpbox".into(),
            body,
        };
        update(
            &mut state,
            Msg::Journaled(record(Body::Triage {
                finding: federation.id.clone(),
                detection: federation.detection.clone(),
                state: "confirmed".into(),
                reason: "bg-admin01 is the attacker's".into(),
                owner: "carol".into(),
            })),
        );
        shot("findings_triaged", &state);
        let created = state.findings[2].clone();
        let (field, value) = created.entities[0].clone();
        // Reading the finding that is suppressed: the selection stays
        // where it was (on the row that took its place), not at the top.
        state.pane_mut(PaneId::Findings).selected = 2;
        update(
            &mut state,
            Msg::Journaled(record(Body::Suppress {
                detection: created.detection.clone(),
                field,
                value: value.to_string(),
                reason: "the onboarding robot".into(),
            })),
        );
        assert_eq!(state.pane(PaneId::Findings).len, 2);
        assert_eq!(state.pane(PaneId::Findings).selected, 1);
        shot("findings_suppressed", &state);
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, "rotated");
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.pane(PaneId::Findings).len, 1);
        shot("findings_filtered", &state);
    }
}

#[test]
fn the_triage_prompt_refuses_a_line_it_cannot_record() {
    let mut state = live(80, 24, '1');
    press(&mut state, KeyCode::Char('s'));
    type_text(&mut state, "benign");
    press(&mut state, KeyCode::Enter);
    shot("findings_triage_needs_a_reason", &state);
}

#[test]
fn feed_with_the_failures_chart() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        press(&mut state, KeyCode::Char('b'));
        assert_eq!(state.feed_view.top.len(), 1);
        shot("feed_chart_addresses", &state);
        press(&mut state, KeyCode::Char('b'));
        shot("feed_chart_countries", &state);
    }
}

#[test]
fn timeline_marks_the_milestones_and_jumps_to_evidence() {
    for (w, h) in SIZES {
        let mut state = live(w, h, '2');
        // The forged-token finding's evidence arrives in the feed.
        let forged = SignInRow {
            id: SafeText::new("s1"),
            time: "2026-11-24T19:00:00Z".parse().unwrap(),
            principal: SafeText::new("megan\u{202e}moc.osotnoc@"),
            ip: SafeText::new("203.0.113.66"),
            error_code: 5000811,
            ..Default::default()
        };
        update(&mut state, Msg::SignIns(vec![forged]));
        press(&mut state, KeyCode::Char('t'));
        shot("timeline", &state);
        // The first mark is the federation change: an audit, so Enter
        // shows the finding itself.
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.focus, PaneId::Findings);
        assert_eq!(state.pane(PaneId::Findings).len, 1);
        // The second is the forged-token finding: its sign-in, in the feed.
        press(&mut state, KeyCode::Char('t'));
        press(&mut state, KeyCode::Char('j'));
        press(&mut state, KeyCode::Char('+'));
        shot("timeline_zoomed", &state);
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.focus, PaneId::SignIns);
        let filter = state.pane(PaneId::SignIns).filter.clone().unwrap();
        assert!(
            filter
                .as_str()
                .starts_with("finding:signin.rotated-key-in-use"),
            "{filter:?}"
        );
        assert_eq!(state.feed.shown_count(), 1);
    }
}

#[test]
fn a_triage_line_judges_the_finding_it_was_opened_on() {
    let mut state = live(160, 48, '1');
    let all = state.findings.clone();
    // Open the prompt on the second finding, then the list changes under it.
    press(&mut state, KeyCode::Char('j'));
    let chosen = all[1].id.clone();
    press(&mut state, KeyCode::Char('s'));
    update(
        &mut state,
        Msg::Findings(vec![all[2].clone(), all[1].clone(), all[0].clone()]),
    );
    type_text(&mut state, "confirmed forged");
    let effects = update(&mut state, Msg::Action(warroom::app::Action::Submit));
    let journaled = effects.iter().find_map(|e| match e {
        warroom::app::action::Effect::Journal(Body::Triage { finding, .. }) => {
            Some(finding.clone())
        }
        _ => None,
    });
    assert_eq!(journaled, Some(chosen));
    assert_eq!(state.in_flight.len(), 1);
    // Gone by the time the line is sent: nothing is recorded.
    press(&mut state, KeyCode::Char('s'));
    update(&mut state, Msg::Findings(vec![]));
    type_text(&mut state, "benign robot");
    let effects = update(&mut state, Msg::Action(warroom::app::Action::Submit));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, warroom::app::action::Effect::Journal(_)))
    );
}

/// The posture review beside the event findings: a failing check of a
/// snapshot whose app name carries an escape, marked `snap`, its objects
/// listed where events would be.
#[test]
fn findings_from_the_posture_review() {
    use warroom::detect::posture::{self, Snapshot};
    let snapshot = Snapshot::from_lines([
        serde_json::json!({"id": "contoso.com", "authenticationType": "Federated", "isVerified": true,
            "@warroom.source": "domains", "@warroom.snapshotAt": "2026-11-25T12:00:00Z"}),
        serde_json::json!({"id": "f1", "issuerUri": "http://any.sts/8E5C1A",
            "passiveSignInUri": "https://sts.contoso.com/adfs/ls",
            "federatedIdpMfaBehavior": "rejectMfaByFederatedIdp",
            "@warroom.source": "domains/contoso.com/federationConfiguration"}),
        serde_json::json!({"id": "g1", "clientId": "sp1", "consentType": "AllPrincipals",
            "resourceId": "graph", "scope": "Mail.Read offline_access",
            "@warroom.source": "oauth2PermissionGrants"}),
        serde_json::json!({"id": "sp1", "appId": "a1", "displayName": "Mail\u{1b}[2J Helper\u{202e}",
            "appOwnerOrganizationId": "5618c9df-8943-474e-9519-7ae99e333d1b",
            "@warroom.source": "servicePrincipals"}),
    ]);
    let verdicts = posture::judge(&snapshot, jiff::Timestamp::now());
    let rows: Vec<_> = posture::findings(&verdicts, &[], snapshot.taken_at)
        .iter()
        .filter(|f| f.verdict == Some(posture::Outcome::Fail))
        // Microsoft's admin tools are missing from so small a snapshot:
        // true, and not what these panes show.
        .filter(|f| f.detection != "posture.admin-tools-open-to-all")
        .map(warroom::app::findings::FindingRow::from_finding)
        .collect();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    for (w, h) in SIZES {
        let mut state = live(w, h, '1');
        let mut all = live_findings();
        all.extend(rows.iter().cloned());
        all.sort_by_key(|f| f.severity);
        update(&mut state, Msg::Findings(all));
        press(&mut state, KeyCode::Char('/'));
        type_text(&mut state, "consented");
        press(&mut state, KeyCode::Enter);
        assert_eq!(state.pane(PaneId::Findings).len, 1);
        shot("findings_posture", &state);
    }
}

/// A day of the demo tenant in the feed and on the timeline: sign-ins
/// spread over the working day (no second holding a crowd, no minute
/// holding the day), drawn at 200×60 with the finding rows naming what
/// they are about.
#[test]
fn a_demo_day_has_the_rhythm_of_a_working_day() {
    use warroom::emulator::{Scenario, Spec, generate};
    let end_ms = 1_795_000_000_000;
    let tenant = generate::build(&Spec {
        scenario: Scenario::GoldenSaml,
        seed: 3,
        signins: 20_000,
        days: 30,
        end_ms,
    });
    let day: Vec<SignInRow> = tenant
        .signins
        .records()
        .iter()
        .filter(|r| r.time_ms > end_ms - 86_400_000)
        .filter_map(|r| serde_json::to_value(tenant.signins.wire(r, true)).ok())
        .filter_map(|v| serde_json::from_value::<warroom::model::SignIn>(v).ok())
        .filter_map(|s| SignInRow::from_signin(&s))
        .collect();
    assert!(day.len() > 300, "{} sign-ins in the day", day.len());
    let mut per_second = std::collections::HashMap::new();
    let mut per_minute = std::collections::HashMap::new();
    for row in &day {
        *per_second.entry(row.time.as_second()).or_insert(0) += 1;
        *per_minute.entry(row.time.as_second() / 60).or_insert(0) += 1;
    }
    let crowd = per_second.values().max().copied().unwrap_or(0);
    assert!(crowd <= 4, "{crowd} sign-ins share one second");
    let busiest = per_minute.values().max().copied().unwrap_or(0);
    assert!(
        busiest * 50 < day.len(),
        "one minute holds {busiest} of the day's {}",
        day.len()
    );
    // The day alone in the feed (no fixture rows), the findings beside it.
    let mut state = state(200, 60);
    state.session.connection = Connection::Connected;
    update(&mut state, Msg::SignIns(day));
    press(&mut state, KeyCode::Char('2'));
    shot("demo_day_feed", &state);
    press(&mut state, KeyCode::Char('t'));
    shot("demo_day_timeline", &state);
    press(&mut state, KeyCode::Esc);
    update(&mut state, Msg::Findings(live_findings()));
    press(&mut state, KeyCode::Char('1'));
    shot("demo_day_findings", &state);
}

#[test]
fn p_on_a_finding_shows_it_with_the_findings_it_raised() {
    let mut state = live(160, 48, '1');
    let mut findings = live_findings();
    let seed = findings[0].clone();
    let mut raised = findings[1].clone();
    raised.id = "infra-1".into();
    raised.detection = "infra.attacker-infrastructure".into();
    raised
        .entities
        .push(("finding".into(), SafeText::new(&seed.id)));
    findings.push(raised);
    update(&mut state, Msg::Findings(findings.clone()));
    let all = state.pane(PaneId::Findings).len;
    press(&mut state, KeyCode::Char('g'));
    while warroom::app::findings::selected(&state).unwrap().id != seed.id {
        press(&mut state, KeyCode::Char('j'));
    }
    press(&mut state, KeyCode::Char('p'));
    let kept: Vec<String> = warroom::app::findings::visible(
        &state.findings,
        state.pane(PaneId::Findings).filter.as_ref(),
        &state.triage,
    )
    .iter()
    .map(|&i| state.findings[i].id.clone())
    .collect();
    assert_eq!(kept, [seed.id.clone(), "infra-1".into()]);
    assert!(all > 2);
}

/// Enter on a finding whose events are not sign-ins (an audit) leaves the
/// list as it was, on that finding, and says where its events are.
#[test]
fn enter_on_an_audit_finding_keeps_the_list() {
    let mut state = live(160, 48, '1');
    let all = state.pane(PaneId::Findings).len;
    let audit = state
        .findings
        .iter()
        .position(|f| f.detection.starts_with("audit."))
        .expect("an audit finding in the fixture");
    let id = state.findings[audit].id.clone();
    press(&mut state, KeyCode::Char('g'));
    while warroom::app::findings::selected(&state).unwrap().id != id {
        press(&mut state, KeyCode::Char('j'));
    }
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.focus, PaneId::Findings);
    assert_eq!(state.pane(PaneId::Findings).filter, None);
    assert_eq!(state.pane(PaneId::Findings).len, all);
    assert_eq!(warroom::app::findings::selected(&state).unwrap().id, id);
    let toast = state.toast.clone().expect("it says where the events are");
    assert!(
        toast.text.as_str().contains("listed in the finding"),
        "{}",
        toast.text
    );
}
