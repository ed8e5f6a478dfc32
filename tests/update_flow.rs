//! Keys through the keymap and `update`, with no terminal: what each key
//! does to the state and which effects it asks for.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use warroom::app::action::ShutdownReason;
use warroom::app::runtime::to_msg;
use warroom::app::state::{Mode, PaneId, Session};
use warroom::app::{AppState, Effect, Keymap, Msg, update};
use warroom::model::SafeText;

fn state() -> AppState {
    let mut s = AppState::new(
        Arc::new(Keymap::default()),
        Session::default(),
        "2026-11-25T12:00:00Z".parse().unwrap(),
    );
    update(&mut s, Msg::Resize(80, 24));
    s
}

fn key(state: &mut AppState, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    match to_msg(state, Event::Key(KeyEvent::new(code, mods))) {
        Some(msg) => update(state, msg),
        None => vec![],
    }
}

fn press(state: &mut AppState, code: KeyCode) -> Vec<Effect> {
    key(state, code, KeyModifiers::NONE)
}

fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

#[test]
fn tab_and_numbers_move_focus() {
    let mut s = state();
    assert_eq!(s.focus, PaneId::Findings);
    assert_eq!(press(&mut s, KeyCode::Tab), vec![Effect::Render]);
    assert_eq!(s.focus, PaneId::SignIns);
    key(&mut s, KeyCode::BackTab, KeyModifiers::SHIFT);
    key(&mut s, KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(s.focus, PaneId::Notes);
    press(&mut s, KeyCode::Char('3'));
    assert_eq!(s.focus, PaneId::Remediation);
}

#[test]
fn escape_leaves_zoom_then_clears_the_filter() {
    let mut s = state();
    press(&mut s, KeyCode::Char('/'));
    type_text(&mut s, "10.0.0.1");
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        s.pane(PaneId::Findings).filter.as_ref().unwrap().as_str(),
        "10.0.0.1"
    );
    press(&mut s, KeyCode::Char('z'));
    assert!(s.zoomed);
    press(&mut s, KeyCode::Esc);
    assert!(!s.zoomed);
    assert!(s.pane(PaneId::Findings).filter.is_some());
    press(&mut s, KeyCode::Esc);
    assert!(s.pane(PaneId::Findings).filter.is_none());
    assert_eq!(
        press(&mut s, KeyCode::Esc),
        vec![],
        "nothing left to undo: no redraw"
    );
}

#[test]
fn quit_is_immediate_when_idle() {
    let mut s = state();
    assert_eq!(press(&mut s, KeyCode::Char('q')), vec![Effect::Exit(0)]);
}

#[test]
fn quit_asks_while_work_is_in_flight() {
    let mut s = state();
    s.in_flight.push(SafeText::new("pulling audits"));
    assert_eq!(press(&mut s, KeyCode::Char('q')), vec![Effect::Render]);
    assert!(matches!(s.mode, Mode::ConfirmQuit));
    // Keys of other layers do nothing while the question is open.
    assert_eq!(press(&mut s, KeyCode::Char('z')), vec![]);
    press(&mut s, KeyCode::Char('n'));
    assert!(matches!(s.mode, Mode::Normal));
    key(&mut s, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(press(&mut s, KeyCode::Char('y')), vec![Effect::Exit(0)]);
}

#[test]
fn signals_exit_with_conventional_codes() {
    let mut s = state();
    s.in_flight.push(SafeText::new("writing"));
    assert_eq!(
        update(&mut s, Msg::Shutdown(ShutdownReason::Hangup)),
        vec![Effect::Exit(129)]
    );
    assert_eq!(
        update(&mut s, Msg::Shutdown(ShutdownReason::Terminate)),
        vec![Effect::Exit(143)]
    );
}

#[test]
fn help_scroll_stays_within_the_bindings() {
    let mut s = state();
    press(&mut s, KeyCode::Char('?'));
    press(&mut s, KeyCode::Char('k'));
    assert!(matches!(s.mode, Mode::Help { scroll: 0 }));
    press(&mut s, KeyCode::Char('G'));
    let Mode::Help { scroll: bottom } = s.mode else {
        panic!("help closed")
    };
    assert!(bottom > 0);
    press(&mut s, KeyCode::Char('j'));
    assert!(matches!(s.mode, Mode::Help { scroll } if scroll == bottom));
    press(&mut s, KeyCode::Char('k'));
    assert!(matches!(s.mode, Mode::Help { scroll } if scroll == bottom - 1));
    // A taller terminal shows everything: no scrolling left.
    update(&mut s, Msg::Resize(200, 200));
    assert!(matches!(s.mode, Mode::Help { scroll: 0 }));
    press(&mut s, KeyCode::Char('q'));
    assert!(
        matches!(s.mode, Mode::Normal),
        "q closes help, it does not quit"
    );
}

#[test]
fn command_line_completes_and_runs() {
    let mut s = state();
    press(&mut s, KeyCode::Char(':'));
    type_text(&mut s, "fo");
    press(&mut s, KeyCode::Tab);
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt closed")
    };
    assert_eq!(p.text(), "focus ");
    assert!(p.completion.is_none(), "a single match is final");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Tab);
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt closed")
    };
    assert_eq!(p.text(), "focus signins");
    key(&mut s, KeyCode::BackTab, KeyModifiers::SHIFT);
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt closed")
    };
    assert_eq!(p.text(), "focus findings");
    press(&mut s, KeyCode::Tab);
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, PaneId::SignIns);
    assert!(matches!(s.mode, Mode::Normal));
}

#[test]
fn typing_in_the_prompt_is_not_taken_by_pane_keys() {
    let mut s = state();
    press(&mut s, KeyCode::Char(':'));
    type_text(&mut s, "q z 1?/");
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt closed")
    };
    assert_eq!(p.text(), "q z 1?/");
    assert_eq!(s.focus, PaneId::Findings);
    assert!(!s.zoomed);
    press(&mut s, KeyCode::Esc);
    assert!(matches!(s.mode, Mode::Normal));
}

/// Ctrl-U in a prompt kills back to the start of the line, as in a shell.
#[test]
fn ctrl_u_in_the_prompt_kills_to_the_start_of_the_line() {
    let mut s = state();
    press(&mut s, KeyCode::Char('/'));
    type_text(&mut s, "user:megan");
    key(&mut s, KeyCode::Left, KeyModifiers::NONE);
    key(&mut s, KeyCode::Char('u'), KeyModifiers::CONTROL);
    let Mode::Prompt(p) = &s.mode else {
        panic!("prompt closed")
    };
    assert_eq!(p.text(), "n");
}

#[test]
fn command_errors_become_a_toast_that_expires() {
    let mut s = state();
    press(&mut s, KeyCode::Char(':'));
    type_text(&mut s, "focus moon");
    press(&mut s, KeyCode::Enter);
    let toast = s.toast.clone().expect("error shown");
    assert!(
        toast.text.as_str().contains("no pane \"moon\""),
        "{}",
        toast.text
    );
    update(&mut s, Msg::Tick("2026-11-25T12:00:03Z".parse().unwrap()));
    assert!(s.toast.is_some());
    update(&mut s, Msg::Tick("2026-11-25T12:00:07Z".parse().unwrap()));
    assert!(s.toast.is_none());
}

#[test]
fn command_quit_follows_the_same_rule_as_q() {
    let mut s = state();
    press(&mut s, KeyCode::Char(':'));
    type_text(&mut s, "quit");
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::Exit(0)]);
}

#[test]
fn pasted_lines_become_one_filter() {
    let mut s = state();
    press(&mut s, KeyCode::Char('/'));
    update(&mut s, Msg::Paste("198.51.100.7\n203.0.113.9\n".into()));
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        s.pane(PaneId::Findings).filter.as_ref().unwrap().as_str(),
        "198.51.100.7 203.0.113.9"
    );
}

#[test]
fn selection_stays_in_range_of_an_empty_pane() {
    let mut s = state();
    for code in [
        KeyCode::Char('j'),
        KeyCode::Down,
        KeyCode::PageDown,
        KeyCode::Char('G'),
    ] {
        press(&mut s, code);
        assert_eq!(s.pane(PaneId::Findings).selected, 0);
    }
    s.pane_mut(PaneId::Findings).len = 30;
    press(&mut s, KeyCode::Char('j'));
    press(&mut s, KeyCode::Down);
    assert_eq!(s.pane(PaneId::Findings).selected, 2);
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(s.pane(PaneId::Findings).selected, 29);
    key(&mut s, KeyCode::Char('u'), KeyModifiers::CONTROL);
    assert_eq!(s.pane(PaneId::Findings).selected, 17);
    press(&mut s, KeyCode::Home);
    assert_eq!(s.pane(PaneId::Findings).selected, 0);
}

fn note_row(id: &str, text: &str) -> warroom::app::notes::NoteRow {
    warroom::app::notes::NoteRow {
        id: id.into(),
        time: "2026-11-25 12:00".into(),
        author: SafeText::new("alice@jump"),
        tags: vec![],
        lines: text.lines().map(SafeText::new).collect(),
        links: vec![],
        supersedes: None,
    }
}

#[test]
fn writing_a_note_saves_through_an_effect_and_keeps_the_text_until_saved() {
    let mut s = state();
    // No case: said, nothing opens.
    press(&mut s, KeyCode::Char('n'));
    assert!(matches!(s.mode, Mode::Normal));
    assert!(
        s.toast
            .as_ref()
            .unwrap()
            .text
            .as_str()
            .contains("no case open")
    );
    s.session.case = warroom::app::state::CaseLock::Unlocked(SafeText::new("ir"));
    press(&mut s, KeyCode::Char('n'));
    assert!(matches!(s.mode, Mode::Editor(_)));
    assert_eq!(s.focus, PaneId::Notes);
    // `q` and `n` are text here; Enter is a line break.
    type_text(&mut s, "quiet #adfs");
    press(&mut s, KeyCode::Enter);
    type_text(&mut s, "line two");
    let effects = key(&mut s, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(
        effects.contains(&Effect::SaveNote {
            text: "quiet #adfs\nline two".into(),
            tags: vec!["adfs".into()],
            supersedes: None,
            links: vec![],
        }),
        "{effects:?}"
    );
    assert_eq!(s.in_flight.len(), 1);
    // A failed save keeps the editor and its text.
    update(&mut s, Msg::NoteFailed(SafeText::new("disk full")));
    let Mode::Editor(editor) = &s.mode else {
        panic!("editor closed on failure")
    };
    assert_eq!(editor.text(), "quiet #adfs\nline two");
    assert!(s.in_flight.is_empty());
    key(&mut s, KeyCode::Char('s'), KeyModifiers::CONTROL);
    update(
        &mut s,
        Msg::NoteSaved(note_row("n1", "quiet #adfs\nline two")),
    );
    assert!(matches!(s.mode, Mode::Normal));
    assert_eq!(s.notes.len(), 1);
    assert_eq!(s.pane(PaneId::Notes).len, 1);
}

#[test]
fn closing_an_unsaved_note_asks_first() {
    let mut s = state();
    s.session.case = warroom::app::state::CaseLock::Unlocked(SafeText::new("ir"));
    press(&mut s, KeyCode::Char('n'));
    // An empty editor just closes.
    press(&mut s, KeyCode::Esc);
    assert!(matches!(s.mode, Mode::Normal));
    press(&mut s, KeyCode::Char('n'));
    type_text(&mut s, "draft");
    press(&mut s, KeyCode::Esc);
    assert!(matches!(s.mode, Mode::ConfirmDiscard(_)));
    press(&mut s, KeyCode::Char('n'));
    let Mode::Editor(editor) = &s.mode else {
        panic!("the draft was not kept")
    };
    assert_eq!(editor.text(), "draft");
    press(&mut s, KeyCode::Esc);
    press(&mut s, KeyCode::Char('y'));
    assert!(matches!(s.mode, Mode::Normal));
}

#[test]
fn searching_notes_narrows_the_list() {
    let mut s = state();
    s.session.case = warroom::app::state::CaseLock::Unlocked(SafeText::new("ir"));
    for (id, text) in [
        ("a", "krbtgt reset"),
        ("b", "ADFS cert exported"),
        ("c", "adfs farm rebuilt"),
    ] {
        update(&mut s, Msg::NoteSaved(note_row(id, text)));
    }
    assert_eq!(s.pane(PaneId::Notes).len, 3);
    press(&mut s, KeyCode::Char('4'));
    press(&mut s, KeyCode::Char('/'));
    type_text(&mut s, "adfs");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.pane(PaneId::Notes).len, 2);
}

#[test]
fn amending_a_note_starts_from_its_text_and_names_it() {
    let mut s = state();
    s.session.case = warroom::app::state::CaseLock::Unlocked(SafeText::new("ir"));
    update(&mut s, Msg::NoteSaved(note_row("n1", "cert exported")));
    press(&mut s, KeyCode::Char('4'));
    press(&mut s, KeyCode::Char('a'));
    let Mode::Editor(editor) = &s.mode else {
        panic!("no editor")
    };
    assert_eq!(editor.text(), "cert exported");
    type_text(&mut s, " twice");
    let effects = key(&mut s, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(effects.contains(&Effect::SaveNote {
        text: "cert exported twice".into(),
        tags: vec![],
        supersedes: Some("n1".into()),
        links: vec![],
    }));
}

#[test]
fn a_note_started_on_a_sign_in_links_it() {
    let mut s = state();
    s.session.case = warroom::app::state::CaseLock::Unlocked(SafeText::new("ir"));
    let row = warroom::app::feed::SignInRow {
        id: SafeText::new("a1b2"),
        time: "2026-11-25T12:00:00Z".parse().unwrap(),
        kind: warroom::app::feed::Kind::Interactive,
        principal: SafeText::new("adele@contoso.com"),
        ..Default::default()
    };
    update(&mut s, Msg::SignIns(vec![row]));
    press(&mut s, KeyCode::Char('2'));
    press(&mut s, KeyCode::Char('n'));
    type_text(&mut s, "forged token?");
    let effects = key(&mut s, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(effects.iter().any(|e| matches!(e,
        Effect::SaveNote { links, .. } if links == &vec!["signin:a1b2".to_string()])));
}
