//! The remediation pane in the states a team meets, at 80×24 and 160×48:
//! the plan as shipped with the items the golden-saml findings call for,
//! progress after items are done, the krbtgt wait counting down, a state
//! refused because its dependencies or wait are not over, a blocked item,
//! and an item the team added. Changes go through the same records the
//! case journal keeps.

mod screens;

use crossterm::event::KeyCode;
use screens::*;
use warroom::app::action::Effect;
use warroom::app::feed::Connection;
use warroom::app::state::{AppState, CaseLock, Mode, PaneId};
use warroom::app::{Action, Msg, update};
use warroom::case::record::{Body, Record};
use warroom::model::SafeText;

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn console(width: u16, height: u16) -> AppState {
    let mut state = state(width, height);
    state.session.connection = Connection::Connected;
    state.session.case = CaseLock::Unlocked(SafeText::new("IR-2026-11"));
    // The fixture's admin, under a name the plan does not spare as a
    // break-glass account.
    let findings = live_findings()
        .into_iter()
        .map(|mut f| {
            for (_, value) in &mut f.entities {
                *value = SafeText::new(&value.as_str().replace("bg-admin01", "it-admin01"));
            }
            f
        })
        .collect();
    update(&mut state, Msg::Findings(findings));
    press(&mut state, KeyCode::Char('3'));
    state
}

/// What the journal would hand back for a record the console asked for.
fn journaled(state: &mut AppState, body: Body, time: &str) {
    update(
        state,
        Msg::Journaled(Record {
            id: format!("{:032x}", fastrand::u128(..)),
            time: time.into(),
            author: "alice@jumpbox".into(),
            body,
        }),
    );
}

fn set(state: &mut AppState, item: &str, status: &str, time: &str) {
    let body = Body::ItemState {
        item: item.into(),
        state: status.into(),
        reason: String::new(),
        owner: "carol".into(),
        at: String::new(),
        overridden: String::new(),
    };
    journaled(state, body, time);
}

/// Types a state line on the selected item; returns what it asked for.
fn state_line(state: &mut AppState, text: &str) -> Vec<Effect> {
    press(state, KeyCode::Char('s'));
    type_text(state, text);
    update(state, Msg::Action(Action::Submit))
}

fn select(state: &mut AppState, key: &str) {
    let at = warroom::app::checklist::visible(state)
        .iter()
        .position(|&i| state.plan.items()[i].key == key)
        .unwrap();
    state.pane_mut(PaneId::Remediation).selected = at;
}

fn shot(name: &str, state: &AppState) {
    let terminal = render(state, &dark());
    let text = buffer_text(terminal.backend().buffer());
    assert!(
        !text.contains('\x1b') && !text.contains('\u{202e}'),
        "{name}: raw control text"
    );
    let (w, h) = state.screen;
    insta::assert_snapshot!(format!("{name}_{w}x{h}"), terminal.backend());
}

#[test]
fn the_plan_with_the_items_the_findings_call_for() {
    for (w, h) in SIZES {
        let mut state = console(w, h);
        let keys: Vec<&str> = state.plan.items().iter().map(|i| i.key.as_str()).collect();
        assert!(
            keys.contains(&"review-federation-trust:contoso.com\\x1b]0;owned\\x07"),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"review-new-accounts:adsync-backup@contoso.com"),
            "{keys:?}"
        );
        shot("checklist", &state);
        press(&mut state, KeyCode::Char('z'));
        shot("checklist_zoomed", &state);
    }
}

#[test]
fn progress_waits_and_refusals() {
    for (w, h) in SIZES {
        let mut state = console(w, h);
        for item in [
            "out-of-band-channel",
            "clean-workstations",
            "review-onprem-privileged-access",
        ] {
            set(&mut state, item, "done", "2026-11-25T08:00:00Z");
        }
        set(
            &mut state,
            "isolated-response-tenant",
            "n/a",
            "2026-11-25T08:05:00Z",
        );
        // The first krbtgt reset was done at 06:04 (the clock reads 12:04):
        // the second waits until 16:04.
        set(
            &mut state,
            "reset-krbtgt-first",
            "done",
            "2026-11-25T06:04:15Z",
        );
        select(&mut state, "reset-krbtgt-second");
        let effects = state_line(&mut state, "done");
        assert!(!effects.iter().any(|e| matches!(e, Effect::Journal(_))));
        let Mode::Prompt(prompt) = &state.mode else {
            panic!("the prompt closed")
        };
        assert_eq!(prompt.problem.as_deref(), Some("not yet: wait 4h00m more"));
        shot("checklist_wait_refused", &state);
        press(&mut state, KeyCode::Esc);
        shot("checklist_progress", &state);
        // Ten hours later it can be done.
        update(
            &mut state,
            Msg::Tick("2026-11-25T16:05:00Z".parse().unwrap()),
        );
        let effects = state_line(&mut state, "done @dave second reset replicated");
        assert!(effects.iter().any(|e| matches!(e,
            Effect::Journal(Body::ItemState { item, state, owner, .. })
                if item == "reset-krbtgt-second" && state == "done" && owner == "dave")));
    }
}

#[test]
fn dependencies_block_and_reasons_are_required() {
    let mut state = console(160, 48);
    select(&mut state, "revoke-refresh-tokens");
    let effects = state_line(&mut state, "in-progress");
    assert!(effects.iter().all(|e| !matches!(e, Effect::Journal(_))));
    let Mode::Prompt(prompt) = &state.mode else {
        panic!("the prompt closed")
    };
    assert!(
        prompt
            .problem
            .as_deref()
            .unwrap()
            .contains("Reset the passwords of compromised accounts")
    );
    press(&mut state, KeyCode::Esc);
    let effects = state_line(&mut state, "blocked");
    assert!(effects.iter().all(|e| !matches!(e, Effect::Journal(_))));
    press(&mut state, KeyCode::Esc);
    let effects = state_line(&mut state, "blocked waiting for the change window");
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Journal(Body::ItemState { state, .. }) if state == "blocked")
    ));
    set(
        &mut state,
        "revoke-refresh-tokens",
        "blocked",
        "2026-11-25T09:00:00Z",
    );
    // An item of the team's own.
    press(&mut state, KeyCode::Char('+'));
    type_text(&mut state, "Tell the insurer");
    let effects = update(&mut state, Msg::Action(Action::Submit));
    let body = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Journal(body) => Some(body),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        body,
        Body::ItemAdded {
            phase: "control".into(),
            title: "Tell the insurer".into()
        }
    );
    journaled(&mut state, body, "2026-11-25T09:10:00Z");
    assert!(
        state
            .plan
            .items()
            .iter()
            .any(|i| i.title.as_str() == "Tell the insurer")
    );
    shot("checklist_blocked_and_added", &state);
}

#[test]
fn without_a_case_the_checklist_says_where_it_is_kept() {
    let mut state = console(80, 24);
    state.session.case = CaseLock::NoCase;
    press(&mut state, KeyCode::Char('s'));
    assert!(matches!(state.mode, Mode::Normal));
    let toast = state.toast.as_ref().unwrap();
    assert!(toast.text.as_str().contains("no case open"), "{toast:?}");
}

#[test]
fn a_finding_leads_to_the_items_it_calls_for() {
    for (w, h) in SIZES {
        let mut state = console(w, h);
        press(&mut state, KeyCode::Char('1'));
        // The federation change calls for reviewing the trust and rotating
        // the signing certificate twice.
        press(&mut state, KeyCode::Char('c'));
        assert_eq!(state.focus, PaneId::Remediation);
        let keys: Vec<String> = warroom::app::checklist::visible(&state)
            .into_iter()
            .map(|i| state.plan.items()[i].key.clone())
            .collect();
        assert!(
            keys.contains(&"review-federation-trust".to_string()),
            "{keys:?}"
        );
        assert!(
            keys.contains(&"rotate-token-signing-certificate-twice".to_string()),
            "{keys:?}"
        );
        assert!(
            keys.iter()
                .any(|k| k.starts_with("review-federation-trust:contoso.com")),
            "{keys:?}"
        );
        assert!(!keys.contains(&"reset-krbtgt-first".to_string()));
        shot("checklist_for_a_finding", &state);
    }
}

/// The preview of an action the person asked for (as after `x`).
fn offer(state: &mut AppState, prepared: warroom::playbook::act::Prepared) {
    state.acting.insert(prepared.item.clone());
    state.preparing.insert(prepared.item.clone());
    let item = prepared.item.clone();
    update(state, Msg::ActionPrepared(item, Ok(Box::new(prepared))));
}

/// An action read from the tenant, as the runtime hands it to `update`.
fn prepared(dry_run: bool) -> warroom::playbook::act::Prepared {
    warroom::playbook::act::Prepared {
        item: "revoke-sessions:it-admin01@contoso.com".into(),
        action: warroom::playbook::template::Action::RevokeSessions,
        kind: "user",
        object_id: "c34f7720-2c0c-4648-a5f7-2325f5260d98".into(),
        object_name: "bg-admin01@contoso.onmicrosoft.com".into(),
        method: reqwest::Method::POST,
        url: "https://graph.microsoft.com/v1.0/users/c34f7720-2c0c-4648-a5f7-2325f5260d98/revokeSignInSessions".into(),
        body: None,
        before: serde_json::json!({
            "displayName": "Break Glass 01\u{1b}[2J",
            "userPrincipalName": "bg-admin01@contoso.onmicrosoft.com",
            "signInSessionsValidFromDateTime": "2023-12-12T19:17:52Z",
        }),
        dry_run,
        needs: "User.RevokeSessions.All (delegated, by an administrator)",
    }
}

#[test]
fn an_action_is_sent_only_after_its_object_is_named() {
    for (w, h) in SIZES {
        let mut state = console(w, h);
        let ready = prepared(false);
        offer(&mut state, ready.clone());
        assert!(matches!(state.mode, Mode::Prompt(_)));
        shot("action_confirm", &state);
        // A wrong name sends nothing and says what to type.
        type_text(&mut state, "bg-admin01");
        let effects = update(&mut state, Msg::Action(Action::Submit));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::ExecuteAction(_)))
        );
        shot("action_confirm_wrong_name", &state);
        // Esc sends nothing either.
        press(&mut state, KeyCode::Esc);
        assert!(state.pending_action.is_none());
        assert!(
            state
                .toast
                .as_ref()
                .unwrap()
                .text
                .as_str()
                .contains("nothing was sent")
        );
        // The right name sends it, once.
        offer(&mut state, ready.clone());
        type_text(&mut state, "bg-admin01@contoso.onmicrosoft.com");
        let effects = update(&mut state, Msg::Action(Action::Submit));
        let sent: Vec<_> = effects
            .iter()
            .filter(|e| matches!(e, Effect::ExecuteAction(_)))
            .collect();
        assert_eq!(sent.len(), 1);
        assert_eq!(state.in_flight.len(), 1, "quitting now asks first");
        // The answer goes to the journal; a verified change does the item.
        let done = warroom::playbook::act::Executed {
            prepared: ready.clone(),
            outcome: warroom::source::graph::client::WriteOutcome::Done {
                status: 200,
                body: serde_json::json!({"value": true}),
            },
            after: Some(
                serde_json::json!({"signInSessionsValidFromDateTime": "2026-11-25T12:04:15Z"}),
            ),
            verified: true,
            summary:
                "done (200); user bg-admin01@contoso.onmicrosoft.com read again shows the change"
                    .into(),
            secret: None,
        };
        let effects = update(&mut state, Msg::ActionDone(Box::new(done)));
        let record = effects
            .into_iter()
            .find_map(|e| match e {
                Effect::Journal(body) => Some(body),
                _ => None,
            })
            .unwrap();
        let Body::Action {
            verified,
            outcome,
            before,
            after,
            ..
        } = &record
        else {
            panic!("{record:?}")
        };
        assert!(
            *verified
                && outcome == "done"
                && before.contains("2023-12-12")
                && after.contains("2026-11-25")
        );
        journaled(&mut state, record, "2026-11-25T12:04:20Z");
        let item = state
            .plan
            .items()
            .iter()
            .find(|i| i.key == ready.item)
            .unwrap();
        assert_eq!(item.status, warroom::playbook::Status::Done);
    }
}

#[test]
fn a_dry_run_records_the_preview_and_sends_nothing() {
    for (w, h) in SIZES {
        let mut state = console(w, h);
        offer(&mut state, prepared(true));
        shot("action_dry_run", &state);
        let effects = update(&mut state, Msg::Action(Action::Submit));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::ExecuteAction(_)))
        );
        let record = effects
            .into_iter()
            .find_map(|e| match e {
                Effect::Journal(body) => Some(body),
                _ => None,
            })
            .unwrap();
        assert!(
            matches!(&record, Body::Action { outcome, verified: false, .. } if outcome == "dry-run")
        );
        journaled(&mut state, record, "2026-11-25T12:05:00Z");
        let item = state
            .plan
            .items()
            .iter()
            .find(|i| i.key == "revoke-sessions")
            .unwrap();
        assert_ne!(item.status, warroom::playbook::Status::Done);
    }
}

#[test]
fn items_done_by_hand_say_so() {
    let mut state = console(160, 48);
    select(&mut state, "reset-krbtgt-first");
    press(&mut state, KeyCode::Char('x'));
    let toast = state.toast.as_ref().unwrap();
    assert!(toast.text.as_str().contains("done by hand"), "{toast:?}");
}

#[test]
fn a_new_password_is_shown_once_and_goes_nowhere_else() {
    let mut state = console(80, 24);
    let mut ready = prepared(false);
    ready.action = warroom::playbook::template::Action::ResetPassword;
    ready.item = "reset-passwords:it-admin01@contoso.com".into();
    let password = "Qm7#kP2x-Rv9@Lw4=Hs8";
    let done = warroom::playbook::act::Executed {
        prepared: ready,
        outcome: warroom::source::graph::client::WriteOutcome::Done {
            status: 204,
            body: serde_json::Value::Null,
        },
        after: Some(serde_json::json!({"lastPasswordChangeDateTime": "2026-11-25T12:04:15Z"})),
        verified: true,
        summary: "done (204); user bg-admin01@contoso.onmicrosoft.com read again shows the change"
            .into(),
        secret: Some(warroom::playbook::act::Secret(zeroize::Zeroizing::new(
            password.to_owned(),
        ))),
    };
    let effects = update(&mut state, Msg::ActionDone(Box::new(done)));
    assert!(matches!(state.mode, Mode::ShowSecret(_)));
    for effect in &effects {
        assert!(!format!("{effect:?}").contains(password), "{effect:?}");
    }
    shot("password_shown_once", &state);
    press(&mut state, KeyCode::Char('y'));
    assert!(matches!(state.mode, Mode::Normal));
    let screen = buffer_text(render(&state, &dark()).backend().buffer());
    assert!(!screen.contains(password));
}

#[test]
fn a_preview_nobody_asked_for_is_dropped() {
    let mut state = console(80, 24);
    let ready = prepared(false);
    // Not asked for (or asked and given up): no prompt, nothing to send.
    update(
        &mut state,
        Msg::ActionPrepared(ready.item.clone(), Ok(Box::new(ready.clone()))),
    );
    assert!(matches!(state.mode, Mode::Normal));
    assert!(state.pending_action.is_none());
    // While one is open, another for the same item is refused.
    offer(&mut state, ready.clone());
    type_text(&mut state, "bg-admin01@contoso.onmicrosoft.com");
    update(&mut state, Msg::Action(Action::Submit));
    update(
        &mut state,
        Msg::ActionPrepared(ready.item.clone(), Ok(Box::new(ready))),
    );
    assert!(
        matches!(state.mode, Mode::Normal),
        "a second preview opened while the first was being sent"
    );
}

/// A blocker can be overridden with a reason, and the override is in the
/// record; an item done by hand earlier is recorded at the time it was
/// done, so the krbtgt wait counts from then.
#[test]
fn a_blocker_is_overridden_with_a_reason_and_work_is_dated_when_it_happened() {
    let mut state = console(160, 48);
    select(&mut state, "revoke-refresh-tokens");
    let effects = state_line(&mut state, "done override");
    assert!(effects.iter().all(|e| !matches!(e, Effect::Journal(_))));
    press(&mut state, KeyCode::Esc);
    let effects = state_line(
        &mut state,
        "done override the resets were done by the helpdesk",
    );
    let body = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Journal(body) => Some(body),
            _ => None,
        })
        .expect("the override is recorded");
    let Body::ItemState {
        overridden, reason, ..
    } = &body
    else {
        panic!("{body:?}")
    };
    assert!(overridden.contains("Reset the passwords"), "{overridden}");
    assert_eq!(reason, "the resets were done by the helpdesk");

    // The first krbtgt reset, done at 02:00 and recorded hours later.
    let now = state.now;
    let earlier = now
        .checked_sub(jiff::SignedDuration::from_hours(4))
        .unwrap();
    select(&mut state, "reset-krbtgt-first");
    let effects = state_line(
        &mut state,
        &format!("done override at {earlier} done on the DC console"),
    );
    let body = effects
        .into_iter()
        .find_map(|e| match e {
            Effect::Journal(body) => Some(body),
            _ => None,
        })
        .expect("recorded");
    let Body::ItemState { at, .. } = &body else {
        panic!("{body:?}")
    };
    assert_eq!(at.parse::<jiff::Timestamp>().unwrap(), earlier);
    journaled(&mut state, body, &now.to_string());
    let second = state
        .plan
        .items()
        .iter()
        .find(|i| i.key == "reset-krbtgt-second")
        .unwrap()
        .clone();
    let left = state.plan.wait_left(&second, now).expect("the wait runs");
    // Ten hours from 4 hours ago: six left, not ten.
    assert!(left <= jiff::SignedDuration::from_hours(6), "{left:?}");
    // A time still to come is refused.
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    select(&mut state, "reset-dsrm");
    let effects = state_line(&mut state, &format!("done override at {later} soon"));
    assert!(effects.iter().all(|e| !matches!(e, Effect::Journal(_))));
}
