//! Rendered screens of the console shell, as insta snapshots of ratatui's
//! TestBackend. States are reached the way a user reaches them: keys go
//! through the keymap and `update`, not by poking fields.

use crossterm::event::KeyCode;
use ratatui::style::Color;

use warroom::app::feed::Connection;
mod screens;

use screens::*;
use warroom::app::state::{CaseLock, PaneId};
use warroom::app::{Msg, Theme, update};
use warroom::config::ThemeName;
use warroom::model::SafeText;

#[test]
fn shell_80x24_stacks_panes_around_the_focused_one() {
    let state = state(80, 24);
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn shell_80x24_after_tab_opens_sign_ins() {
    let mut state = state(80, 24);
    press(&mut state, KeyCode::Tab);
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn shell_160x48_shows_the_grid() {
    let state = state(160, 48);
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn shell_200x60_uses_the_room() {
    let mut state = state(200, 60);
    press(&mut state, KeyCode::Char('3'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn help_overlay_80x24() {
    let mut state = state(80, 24);
    press(&mut state, KeyCode::Char('?'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn help_overlay_scrolled_to_the_end() {
    let mut state = state(80, 24);
    press(&mut state, KeyCode::Char('?'));
    press(&mut state, KeyCode::Char('G'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn help_overlay_160x48() {
    let mut state = state(160, 48);
    press(&mut state, KeyCode::F(1));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn zoomed_sign_ins_at_160x48() {
    let mut state = state(160, 48);
    press(&mut state, KeyCode::Char('2'));
    press(&mut state, KeyCode::Char('z'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn command_line_with_completions() {
    let mut state = state(80, 24);
    press(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "f");
    press(&mut state, KeyCode::Tab);
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn unknown_command_shows_an_error_in_the_status_bar() {
    let mut state = state(80, 24);
    press(&mut state, KeyCode::Char(':'));
    type_text(&mut state, "frobnicate");
    press(&mut state, KeyCode::Enter);
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn filter_prompt_then_filter_in_the_title() {
    let mut state = state(120, 40);
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "adele@contoso");
    insta::assert_snapshot!("filter_prompt_typing", render(&state, &dark()).backend());
    press(&mut state, KeyCode::Enter);
    insta::assert_snapshot!("filter_applied", render(&state, &dark()).backend());
}

#[test]
fn confirm_quit_while_work_is_in_flight() {
    let mut state = state(80, 24);
    state
        .in_flight
        .push(SafeText::new("pulling sign-ins (page 14)"));
    press(&mut state, KeyCode::Char('q'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

/// Quitting a demo whose throwaway case holds the team's triage asks
/// first, and says what would be deleted; with nothing in it, `q` quits.
#[test]
fn quitting_a_demo_with_triage_in_its_throwaway_case_asks_first() {
    let mut state = state(80, 24);
    state.session.throwaway_case = true;
    state.session.case = CaseLock::Unlocked(SafeText::new("demo"));
    let effects = update(
        &mut state,
        warroom::app::Msg::Action(warroom::app::Action::Quit),
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, warroom::app::Effect::Exit(0)))
    );
    let record = warroom::case::record::Record {
        id: "r1".into(),
        time: "2026-11-25T12:00:00Z".into(),
        author: "alice@jumpbox".into(),
        body: warroom::case::record::Body::Triage {
            finding: "f1".into(),
            detection: "audit.federation-changed".into(),
            state: "confirmed".into(),
            reason: String::new(),
            owner: String::new(),
        },
    };
    update(&mut state, warroom::app::Msg::Journaled(record));
    let effects = update(
        &mut state,
        warroom::app::Msg::Action(warroom::app::Action::Quit),
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, warroom::app::Effect::Exit(_)))
    );
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn status_bar_states() {
    let mut state = state(100, 30);
    state.session.connection = Connection::Connected;
    state.session.streams = vec![stream("interactive", 0, None), stream("audit", 0, None)];
    state.session.case = CaseLock::Unlocked(SafeText::new("IR-2026-11"));
    insta::assert_snapshot!("status_live_case_open", render(&state, &dark()).backend());
    state.session.streams[1] = stream(
        "audit",
        3,
        Some("cannot reach graph.microsoft.com: connection refused"),
    );
    state.session.case = CaseLock::Locked(SafeText::new("IR-2026-11"));
    insta::assert_snapshot!(
        "status_stream_failing_case_locked",
        render(&state, &dark()).backend()
    );
}

#[test]
fn signins_pane_waits_for_a_device_code_sign_in() {
    let mut state = state(100, 30);
    update(
        &mut state,
        Msg::Connection(Connection::SignIn {
            url: SafeText::new("https://microsoft.com/devicelogin"),
            code: SafeText::new("FJ7QK2LXP"),
            expires: "2026-11-25T12:19:15Z".parse().unwrap(),
        }),
    );
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn signins_pane_shows_the_feed_with_hostile_strings_escaped() {
    for (width, height) in [(80, 24), (200, 60)] {
        let mut state = state(width, height);
        update(&mut state, Msg::Connection(Connection::Connected));
        for name in [
            "interactive",
            "noninteractive",
            "serviceprincipal",
            "managedidentity",
        ] {
            update(&mut state, Msg::Stream(stream(name, 0, None)));
        }
        update(&mut state, Msg::SignIns(feed_rows()));
        press(&mut state, KeyCode::Char('2'));
        press(&mut state, KeyCode::Char('j'));
        let terminal = render(&state, &dark());
        let text = buffer_text(terminal.backend().buffer());
        assert!(!text.contains('\u{202e}') && !text.contains('\x1b'));
        assert!(
            text.contains("\\u{202e}"),
            "the override shows as its escape"
        );
        assert_eq!(state.pane(PaneId::SignIns).selected, 1);
        insta::assert_snapshot!(format!("signins_feed_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn a_paused_feed_keeps_the_selected_row() {
    let mut state = state(120, 40);
    update(&mut state, Msg::SignIns(feed_rows()[2..].to_vec()));
    press(&mut state, KeyCode::Char('2'));
    press(&mut state, KeyCode::Char('j'));
    let before = state.feed.get(1).unwrap().id().to_owned();
    // Newer sign-ins arrive while the responder reads row 1.
    update(&mut state, Msg::SignIns(feed_rows()[..2].to_vec()));
    let selected = state.pane(PaneId::SignIns).selected;
    assert_eq!(state.feed.get(selected).unwrap().id(), before);
    // On the top row, the feed follows the newest.
    press(&mut state, KeyCode::Char('g'));
    update(&mut state, Msg::SignIns(feed_rows()[..1].to_vec()));
    assert_eq!(state.pane(PaneId::SignIns).selected, 0);
}

#[test]
fn no_color_draws_without_colour() {
    let state = state(80, 24);
    let mono = Theme::for_terminal(ThemeName::Dark, false, true);
    let terminal = render(&state, &mono);
    insta::assert_snapshot!(terminal.backend());
    for cell in terminal.backend().buffer().content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "cell {:?} has a colour under NO_COLOR",
            cell.symbol()
        );
    }
}

#[test]
fn ascii_mode_uses_plain_characters() {
    let mut state = state(120, 40);
    press(&mut state, KeyCode::Char('?'));
    let ascii = Theme::for_terminal(ThemeName::Dark, true, false);
    let terminal = render(&state, &ascii);
    insta::assert_snapshot!(terminal.backend());
    let text = buffer_text(terminal.backend().buffer());
    assert!(text.is_ascii(), "non-ASCII symbol drawn in ASCII mode");
}

#[test]
fn ascii_mode_at_80x24() {
    let state = state(80, 24);
    let ascii = Theme::for_terminal(ThemeName::Mono, true, false);
    let terminal = render(&state, &ascii);
    insta::assert_snapshot!(terminal.backend());
    assert!(buffer_text(terminal.backend().buffer()).is_ascii());
}

/// A tenant name carrying an OSC 52 clipboard write, a clear-screen and a
/// right-to-left override is drawn as inert, visible text.
#[test]
fn hostile_tenant_string_is_drawn_inert() {
    let hostile = "evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2Jcorp\u{202e}moc.\u{9b}31m";
    let mut state = state(120, 40);
    state.session.tenant = Some(SafeText::new(hostile));
    let mut filter_prompt = state.clone();
    let terminal = render(&state, &dark());
    let text = buffer_text(terminal.backend().buffer());
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{9b}'] {
        assert!(!text.contains(bad), "{bad:?} reached the screen buffer");
    }
    assert!(
        text.contains(r"evil\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2Jcorp\u{202e}moc.\x9b31m"),
        "{text}"
    );
    insta::assert_snapshot!(terminal.backend());

    // The same string pasted into a prompt never reaches the editor raw.
    press(&mut filter_prompt, KeyCode::Char('/'));
    update(&mut filter_prompt, Msg::Paste(hostile.to_owned()));
    press(&mut filter_prompt, KeyCode::Enter);
    let text = buffer_text(render(&filter_prompt, &dark()).backend().buffer());
    for bad in ['\x1b', '\x07', '\u{202e}', '\u{9b}'] {
        assert!(
            !text.contains(bad),
            "{bad:?} reached the screen from a paste"
        );
    }
}

fn note(id: &str, time: &str, tags: &[&str], text: &str) -> warroom::app::notes::NoteRow {
    warroom::app::notes::NoteRow {
        id: id.into(),
        time: time.into(),
        author: SafeText::new("alice@jump01"),
        tags: tags.iter().map(|t| SafeText::new(t)).collect(),
        lines: text.lines().map(SafeText::new).collect(),
        links: vec![SafeText::new("signin:evt-50")],
        supersedes: None,
    }
}

#[test]
fn notes_pane_lists_notes_and_shows_the_selected_one() {
    let mut state = state(120, 40);
    state.session.case = CaseLock::Unlocked(SafeText::new("IR-2026-11"));
    for row in [
        note(
            "9f2c",
            "2026-11-25 11:58",
            &["adfs"],
            "Token-signing cert exported from ADFS01\nThumbprint 3F2A…",
        ),
        note(
            "a71b",
            "2026-11-25 12:02",
            &[],
            "Pasted from chat: \u{1b}]52;c;cm0gLXJmIH4=\u{7} do not trust\nrow two",
        ),
    ] {
        update(&mut state, Msg::NoteSaved(row));
    }
    press(&mut state, KeyCode::Char('4'));
    press(&mut state, KeyCode::Char('z'));
    let terminal = render(&state, &dark());
    let text = buffer_text(terminal.backend().buffer());
    assert!(!text.contains('\u{1b}') && text.contains("\\x1b]52"));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn note_editor_and_discard_question() {
    let mut state = state(80, 24);
    state.session.case = CaseLock::Unlocked(SafeText::new("IR-2026-11"));
    press(&mut state, KeyCode::Char('n'));
    type_text(&mut state, "DCSync from 10.0.4.17 at 02:14 #dcsync");
    insta::assert_snapshot!("note_editor", render(&state, &dark()).backend());
    press(&mut state, KeyCode::Esc);
    insta::assert_snapshot!("note_discard_question", render(&state, &dark()).backend());
}

#[test]
fn notes_pane_says_why_a_case_is_locked() {
    let mut state = state(100, 30);
    state.session.case = CaseLock::Locked(SafeText::new("IR-2026-11"));
    state.session.case_detail = Some(SafeText::new(
        "the identity /home/alice/.local/share/warroom/identity.age is not among the recipients of case IR-2026-11",
    ));
    press(&mut state, KeyCode::Char('4'));
    insta::assert_snapshot!(render(&state, &dark()).backend());
}

#[test]
fn findings_pane_lists_and_explains_with_hostile_strings_escaped() {
    for (width, height) in [(80, 24), (160, 48)] {
        let mut state = state(width, height);
        update(&mut state, Msg::Findings(live_findings()));
        // New findings are announced in the status bar, focus unchanged.
        assert_eq!(state.focus, PaneId::Findings);
        let toast = state.toast.as_ref().expect("new findings announced");
        assert!(
            toast.text.as_str().contains("3 new findings, worst CRIT"),
            "{toast:?}"
        );
        let terminal = render(&state, &dark());
        let text = buffer_text(terminal.backend().buffer());
        assert!(!text.contains('\x1b') && !text.contains('\u{202e}') && !text.contains('\u{7}'));
        assert!(text.contains("Federation trust changed") && text.contains("1 CRIT"));
        insta::assert_snapshot!(format!("findings_{width}x{height}"), terminal.backend());
    }
}

#[test]
fn findings_selection_stays_on_its_finding_as_more_arrive() {
    let mut state = state(160, 48);
    let all = live_findings();
    update(&mut state, Msg::Findings(all[1..].to_vec()));
    press(&mut state, KeyCode::Char('j'));
    let reading = state.findings[state.pane(PaneId::Findings).selected]
        .id
        .clone();
    // A more severe finding arrives and sorts above.
    update(&mut state, Msg::Findings(all.clone()));
    let selected = state.pane(PaneId::Findings).selected;
    assert_eq!(state.findings[selected].id, reading);
    let terminal = render(&state, &dark());
    insta::assert_snapshot!(terminal.backend());
}
