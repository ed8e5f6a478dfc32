//! The only code that changes [`AppState`]. Pure and synchronous: anything
//! slow is returned as an [`Effect`] for the runtime to run.

use crossterm::event::KeyCode;
use jiff::{SignedDuration, Timestamp};

use super::action::{Action, Effect, Msg};
use super::commands::{self, Command};
use super::feed::Connection;
use super::signins;
use super::state::{
    AppState, CaseLock, Completion, Mode, PaneId, Prompt, PromptKind, Toast, ToastLevel,
};
use super::ui::layout;
use crate::model::{SafeText, is_dangerous};

mod overlays;

use overlays::*;

/// How long a status-bar message stays up.
pub const TOAST_DURATION: SignedDuration = SignedDuration::from_secs(6);

pub fn update(state: &mut AppState, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(action) => on_action(state, action),
        Msg::PromptKey(key) if matches!(state.mode, Mode::Editor(_)) => {
            let Mode::Editor(editor) = &mut state.mode else {
                return vec![];
            };
            if editor.saving {
                return vec![];
            }
            match key.code {
                KeyCode::Char(c) if is_dangerous(c) => {
                    editor
                        .input
                        .insert_str(SafeText::new(&c.to_string()).as_str());
                }
                _ => {
                    editor.input.input(key);
                }
            }
            vec![Effect::Render]
        }
        Msg::Paste(text) if matches!(state.mode, Mode::Editor(_)) => {
            let Mode::Editor(editor) = &mut state.mode else {
                return vec![];
            };
            // Line breaks stay; every other control character is escaped.
            let lines: Vec<String> = text
                .lines()
                .map(|l| SafeText::new(l).as_str().to_owned())
                .collect();
            editor.input.insert_str(lines.join("\n"));
            vec![Effect::Render]
        }
        Msg::PromptKey(key) => {
            let Mode::Prompt(prompt) = &mut state.mode else {
                return vec![];
            };
            match key.code {
                // Typed or injected bidi and control characters go in as
                // their visible escapes, never as themselves.
                KeyCode::Char(c) if is_dangerous(c) => {
                    prompt.input.insert_str(one_line(&c.to_string()));
                }
                // As in a shell: Ctrl-U kills back to the start of the
                // line (the text area would undo instead).
                KeyCode::Char('u')
                    if key
                        .modifiers
                        .contains(crossterm::event::KeyModifiers::CONTROL) =>
                {
                    prompt.input.delete_line_by_head();
                }
                _ => {
                    prompt.input.input(key);
                }
            }
            keep_single_line(prompt);
            prompt.completion = None;
            check_filter(state);
            vec![Effect::Render]
        }
        Msg::Paste(text) => {
            let Mode::Prompt(prompt) = &mut state.mode else {
                return vec![];
            };
            prompt.input.insert_str(one_line(text.trim_end()));
            prompt.completion = None;
            check_filter(state);
            vec![Effect::Render]
        }
        Msg::Tick(now) => {
            state.now = now;
            if state.toast.as_ref().is_some_and(|t| t.until <= now) {
                state.toast = None;
            }
            vec![Effect::Render]
        }
        Msg::Resize(width, height) => {
            state.screen = (width, height);
            clamp_help_scroll(state);
            vec![Effect::Render]
        }
        Msg::Shutdown(reason) => vec![Effect::Exit(reason.exit_code())],
        Msg::Connection(connection) => {
            // The device code goes to the clipboard too: it is short-lived
            // and worthless without the person's own sign-in.
            let copy = match &connection {
                Connection::SignIn { code, .. }
                    if code.as_str().chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    Some(Effect::Copy(code.to_string()))
                }
                _ => None,
            };
            state.session.connection = connection;
            std::iter::once(Effect::Render).chain(copy).collect()
        }
        Msg::SignIns(rows) => {
            signins::receive(state, rows);
            vec![Effect::Render]
        }
        Msg::Journaled(record) => {
            finish_work(state, SAVING_TRIAGE);
            let reading = super::findings::selected(state).map(|f| f.id.clone());
            if state.triage.apply(&record) {
                super::findings::refresh(state, reading);
                toast(state, ToastLevel::Info, "triage saved to the case".into());
            }
            let reading = super::checklist::selected(state).map(|i| i.key.clone());
            let triage = matches!(record.body, crate::case::record::Body::Triage { .. });
            if triage {
                // The plan follows the team's verdicts quietly.
                state.plan.apply(&record);
                super::checklist::refresh(state, reading);
            } else if state.plan.apply(&record) {
                super::checklist::refresh(state, reading);
                // An action's own summary stays up: it says what happened.
                if !matches!(record.body, crate::case::record::Body::Action { .. }) {
                    toast(
                        state,
                        ToastLevel::Info,
                        "checklist saved to the case".into(),
                    );
                }
            }
            vec![Effect::Render]
        }
        Msg::JournalFailed(kind, reason) => {
            finish_work(state, SAVING_TRIAGE);
            // An action's record failing does not undo the action.
            let text = if kind == "action" {
                format!(
                    "the tenant may have changed but its record was not saved ({reason}): write a note of what you did"
                )
            } else {
                format!("not saved to the case, nothing changed: {reason}")
            };
            toast(state, ToastLevel::Error, text);
            vec![Effect::Render]
        }
        // An answer for an item not waiting for one is stale: dropped.
        Msg::ActionPrepared(item, _) if !state.preparing.remove(&item) => vec![],
        Msg::ActionPrepared(item, Ok(prepared)) => {
            if prepared.item != item || prepared.confirm_word().trim().is_empty() {
                state.acting.remove(&item);
                toast(
                    state,
                    ToastLevel::Error,
                    "cannot confirm it: the object has no name or id".into(),
                );
            } else if matches!(state.mode, Mode::Normal) {
                let mut prompt = Prompt::new(PromptKind::ConfirmAction, "");
                prompt.subject = Some(prepared.item.clone());
                state.pending_action = Some(prepared);
                state.mode = Mode::Prompt(Box::new(prompt));
            } else {
                // Something else is open: never put a write over it.
                state.acting.remove(&item);
                toast(
                    state,
                    ToastLevel::Info,
                    "the preview came while something else was open; press x again".into(),
                );
            }
            vec![Effect::Render]
        }
        Msg::ActionPrepared(item, Err(reason)) => {
            state.acting.remove(&item);
            toast(
                state,
                ToastLevel::Error,
                format!("cannot prepare it: {reason}"),
            );
            vec![Effect::Render]
        }
        Msg::ActionDone(done) => {
            finish_work(state, CHANGING_TENANT);
            state.acting.remove(&done.prepared.item);
            let level = if done.verified {
                ToastLevel::Info
            } else {
                ToastLevel::Error
            };
            toast(state, level, done.summary.clone());
            // A new password is shown once, then wiped.
            if let Some(secret) = done.secret.clone() {
                let whom = SafeText::new(done.prepared.confirm_word());
                // Over whatever is open, which comes back once it is closed.
                let previous = std::mem::replace(&mut state.mode, Mode::Normal);
                state.mode = Mode::ShowSecret(Box::new((whom, secret, previous)));
            }
            // The record goes to the journal whatever happened (never the
            // password).
            state.in_flight.push(SafeText::new(SAVING_TRIAGE));
            vec![
                Effect::Render,
                Effect::Journal(super::checklist::action_record(&done)),
            ]
        }
        Msg::SignInRecord(id, record) => {
            signins::record_arrived(state, &id, record);
            vec![Effect::Render]
        }
        Msg::Findings(rows) => {
            // The selection stays on the finding being read; on the first
            // row it stays on the first row, so the worst stays in view
            // while history lands.
            let at_top = state.pane(super::state::PaneId::Findings).selected == 0;
            let reading = super::findings::selected(state)
                .filter(|_| !at_top)
                .map(|f| f.id.clone());
            let news = super::findings::news(&state.findings, &rows);
            let anchor = signins::reading(state);
            state.feed.set_evidence(rows.iter().map(|f| {
                let quiet = f.severity == crate::model::Severity::Info;
                (f.id.clone(), quiet, f.evidence.clone())
            }));
            state.findings = rows;
            // A `finding:` filter may have changed the rows shown.
            signins::reanchor(state, anchor);
            // Findings call for concrete checklist items.
            let item = super::checklist::selected(state).map(|i| i.key.clone());
            state.plan.set_findings(&state.findings);
            super::checklist::refresh(state, item);
            super::findings::refresh(state, reading);
            // New findings are announced without taking the focus.
            if let Some((n, worst)) = news {
                let what = if n == 1 { "finding" } else { "findings" };
                let level = if worst <= crate::model::Severity::High {
                    ToastLevel::Error
                } else {
                    ToastLevel::Info
                };
                toast(
                    state,
                    level,
                    format!("{n} new {what}, worst {}", worst.label().trim()),
                );
            }
            vec![Effect::Render]
        }
        Msg::NoteSaved(note) => {
            state.in_flight.retain(|w| w.as_str() != SAVING_NOTE);
            state.notes.insert(0, note);
            refresh_notes_len(state);
            if matches!(&state.mode, Mode::Editor(e) if e.saving) {
                state.mode = Mode::Normal;
            }
            toast(state, ToastLevel::Info, "note saved to the case".into());
            vec![Effect::Render]
        }
        Msg::Problem(text) => {
            toast(state, ToastLevel::Error, text.to_string());
            vec![Effect::Render]
        }
        Msg::NoteFailed(reason) => {
            state.in_flight.retain(|w| w.as_str() != SAVING_NOTE);
            if let Mode::Editor(editor) = &mut state.mode {
                editor.saving = false;
            }
            toast(
                state,
                ToastLevel::Error,
                format!("note not saved (the text is kept): {reason}"),
            );
            vec![Effect::Render]
        }
        Msg::Emergency(accounts) => {
            let item = super::checklist::selected(state).map(|i| i.key.clone());
            if state.plan.add_emergency_accounts(accounts) {
                super::checklist::refresh(state, item);
            }
            vec![Effect::Render]
        }
        Msg::CaughtUp => {
            state.session.caught_up = true;
            let n = state.findings.len();
            let text = format!(
                "history is in: {}",
                crate::model::counted(n as u64, "finding")
            );
            toast(state, ToastLevel::Info, text);
            vec![Effect::Render]
        }
        Msg::Stream(status) => {
            if status.healthy()
                && matches!(
                    state.session.connection,
                    Connection::Connecting | Connection::SignIn { .. }
                )
            {
                state.session.connection = Connection::Connected;
            }
            let streams = &mut state.session.streams;
            match streams.iter_mut().find(|s| s.name == status.name) {
                Some(known) => *known = status,
                None => streams.push(status),
            }
            vec![Effect::Render]
        }
    }
}

fn on_action(state: &mut AppState, action: Action) -> Vec<Effect> {
    match &mut state.mode {
        Mode::Normal => on_normal(state, action),
        Mode::Help { .. } => on_help(state, action),
        Mode::Prompt(_) => on_prompt(state, action),
        Mode::Editor(_) => on_editor(state, action),
        Mode::Detail(_) => on_detail(state, action),
        Mode::Timeline(_) => on_timeline(state, action),
        Mode::ConfirmDiscard(_) => {
            let Mode::ConfirmDiscard(editor) = std::mem::replace(&mut state.mode, Mode::Normal)
            else {
                return vec![];
            };
            match action {
                Action::ConfirmYes => toast(state, ToastLevel::Info, "note discarded".into()),
                Action::ConfirmNo | Action::Back => state.mode = Mode::Editor(editor),
                _ => {
                    state.mode = Mode::ConfirmDiscard(editor);
                    return vec![];
                }
            }
            vec![Effect::Render]
        }
        Mode::ShowSecret(_) => match action {
            Action::ConfirmYes | Action::ConfirmNo | Action::Back => {
                // Dropping it wipes it; what was open before comes back.
                if let Mode::ShowSecret(shown) = std::mem::replace(&mut state.mode, Mode::Normal) {
                    let (_, _, previous) = *shown;
                    state.mode = previous;
                }
                vec![Effect::Render]
            }
            _ => vec![],
        },
        Mode::ConfirmQuit => match action {
            Action::ConfirmYes => vec![Effect::Exit(0)],
            Action::ConfirmNo | Action::Back => {
                state.mode = Mode::Normal;
                vec![Effect::Render]
            }
            _ => vec![],
        },
    }
}

fn on_normal(state: &mut AppState, action: Action) -> Vec<Effect> {
    let before = (
        state.focus,
        state.zoomed,
        state.panes.clone(),
        state.feed_view.look(),
    );
    let effects = apply_normal(state, action);
    let unchanged = matches!(state.mode, Mode::Normal)
        && before
            == (
                state.focus,
                state.zoomed,
                state.panes.clone(),
                state.feed_view.look(),
            );
    if unchanged && effects == [Effect::Render] {
        return vec![];
    }
    effects
}

fn apply_normal(state: &mut AppState, action: Action) -> Vec<Effect> {
    let page = page_size(state);
    let focus = state.focus;
    match action {
        Action::FocusNext => state.focus = focus.next(),
        Action::FocusPrev => state.focus = focus.prev(),
        Action::Focus(pane) => state.focus = pane,
        Action::ToggleZoom => state.zoomed = !state.zoomed,
        Action::OpenHelp => state.mode = Mode::Help { scroll: 0 },
        Action::OpenCommand => {
            state.mode = Mode::Prompt(Box::new(Prompt::new(PromptKind::Command, "")))
        }
        Action::OpenFilter => {
            let current = state.pane(focus).filter.as_ref().map(|f| f.to_string());
            let prompt = Prompt::new(PromptKind::Filter(focus), current.as_deref().unwrap_or(""));
            state.mode = Mode::Prompt(Box::new(prompt));
        }
        Action::Back => {
            if state.zoomed {
                state.zoomed = false;
            } else {
                clear_filter(state, focus);
            }
        }
        Action::Quit => return request_quit(state),
        Action::ToggleFollow if focus == PaneId::SignIns => {
            let follow = !state.feed_view.follow;
            signins::set_follow(state, follow);
        }
        Action::Open if focus == PaneId::SignIns => return signins::open_detail(state),
        Action::Open if focus == PaneId::Findings => {
            let Some(id) = super::findings::selected(state).map(|f| f.id.clone()) else {
                return vec![];
            };
            let filter = state.pane(PaneId::Findings).filter.clone();
            show_evidence(state, &id);
            if state.focus == PaneId::Findings {
                // Not sign-ins: the list stays as it was, on this finding,
                // whose detail lists its events.
                state.pane_mut(PaneId::Findings).filter = filter;
                super::findings::refresh(state, Some(id.clone()));
                toast(
                    state,
                    ToastLevel::Info,
                    "its events are not sign-ins: they are listed in the finding".into(),
                );
            }
        }
        Action::CellNext if focus == PaneId::SignIns => {
            state.feed_view.cell = state.feed_view.cell.next()
        }
        Action::CellPrev if focus == PaneId::SignIns => {
            state.feed_view.cell = state.feed_view.cell.prev()
        }
        Action::Pivot if focus == PaneId::SignIns => {
            if let Err(reason) = signins::pivot(state) {
                toast(state, ToastLevel::Error, reason);
            }
        }
        // Related findings: the finding and those that name it (raised
        // through its infrastructure), by filtering on its id.
        Action::Pivot if focus == PaneId::Findings => {
            if let Some(id) = super::findings::selected(state).map(|f| f.id.clone()) {
                set_filter(state, PaneId::Findings, &id);
            }
        }
        Action::PivotFindings if focus == PaneId::SignIns => {
            if let Err(reason) = signins::pivot_findings(state) {
                toast(state, ToastLevel::Error, reason);
            }
        }
        Action::Copy => return copy_selected(state),
        Action::Chart if focus == PaneId::SignIns => signins::cycle_chart(state),
        Action::ShowRemediation if focus == PaneId::Findings => {
            if let Some(id) = super::findings::selected(state).map(|f| f.id.clone()) {
                state.pane_mut(PaneId::Remediation).filter =
                    Some(SafeText::new(&format!("finding:{id}")));
                state.pane_mut(PaneId::Remediation).selected = 0;
                super::checklist::refresh(state, None);
                state.focus = PaneId::Remediation;
            }
        }
        Action::Act if focus == PaneId::Remediation => {
            let target = super::checklist::can_record(state)
                .and_then(|()| super::checklist::action_target(state));
            match target {
                Ok(target) if state.acting.contains(&target.item) => toast(
                    state,
                    ToastLevel::Error,
                    "an action on this item is already under way".into(),
                ),
                Ok(target) => {
                    state.acting.insert(target.item.clone());
                    state.preparing.insert(target.item.clone());
                    toast(
                        state,
                        ToastLevel::Info,
                        format!(
                            "reading {} from the tenant (nothing is sent yet)",
                            target.value
                        ),
                    );
                    return vec![Effect::Render, Effect::PrepareAction(target)];
                }
                Err(reason) => toast(state, ToastLevel::Error, reason),
            }
        }
        Action::Triage if focus == PaneId::Remediation => match super::checklist::can_record(state)
        {
            Err(reason) => toast(state, ToastLevel::Error, reason),
            Ok(()) => {
                let mut prompt = Prompt::new(PromptKind::ItemState, "");
                prompt.subject = super::checklist::selected(state).map(|i| i.key.clone());
                state.mode = Mode::Prompt(Box::new(prompt));
            }
        },
        Action::AddItem if focus == PaneId::Remediation => {
            match super::checklist::can_record(state) {
                Err(reason) => toast(state, ToastLevel::Error, reason),
                Ok(()) => {
                    let mut prompt = Prompt::new(PromptKind::ItemAdd, "");
                    let phase = super::checklist::selected(state)
                        .map(|i| i.phase)
                        .unwrap_or(0);
                    prompt.subject = state.plan.template.phases.get(phase).map(|p| p.id.clone());
                    state.mode = Mode::Prompt(Box::new(prompt));
                }
            }
        }
        Action::Triage | Action::Suppress if focus == PaneId::Findings => {
            if let Err(reason) = super::findings::can_triage(state) {
                toast(state, ToastLevel::Error, reason);
            } else {
                let kind = if action == Action::Triage {
                    PromptKind::Triage
                } else {
                    PromptKind::Suppress
                };
                let mut prompt = Prompt::new(kind, "");
                prompt.subject = super::findings::selected(state).map(|f| f.id.clone());
                state.mode = Mode::Prompt(Box::new(prompt));
            }
        }
        Action::ToggleFollow
        | Action::Open
        | Action::CellNext
        | Action::CellPrev
        | Action::Pivot
        | Action::PivotFindings
        | Action::Triage
        | Action::Suppress
        | Action::ZoomIn
        | Action::ZoomOut
        | Action::Chart
        | Action::AddItem
        | Action::ShowRemediation
        | Action::Act => return vec![],
        Action::OpenTimeline => match super::timeline::open(state) {
            Some(view) => state.mode = Mode::Timeline(view),
            None => toast(
                state,
                ToastLevel::Info,
                "nothing on the timeline yet: no sign-ins and no findings".into(),
            ),
        },
        Action::NewNote => {
            if !matches!(state.session.case, CaseLock::Unlocked(_)) {
                toast(
                    state,
                    ToastLevel::Error,
                    "no case open: start warroom with --case NAME (or WARROOM_CASE) to keep notes"
                        .into(),
                );
                return vec![Effect::Render];
            }
            // A note started on a sign-in is about that sign-in.
            let mut editor = super::notes::NoteEditor::default();
            if focus == PaneId::SignIns
                && let Some(row) = state.feed.get(state.pane(PaneId::SignIns).selected)
            {
                editor.links.push(format!("signin:{}", row.id()));
            }
            if focus == PaneId::Findings
                && let Some(finding) = super::findings::selected(state)
            {
                editor.links.push(format!("finding:{}", finding.id));
            }
            if focus == PaneId::Remediation
                && let Some(item) = super::checklist::selected(state)
            {
                editor.links.push(format!("item:{}", item.key));
            }
            state.focus = PaneId::Notes;
            state.mode = Mode::Editor(Box::new(editor));
        }
        Action::AmendNote => {
            let filter = state.pane(PaneId::Notes).filter.clone();
            let shown = super::notes::visible(&state.notes, filter.as_ref());
            let chosen = shown
                .get(state.pane(PaneId::Notes).selected)
                .map(|&i| &state.notes[i]);
            let Some(note) = chosen.filter(|_| focus == PaneId::Notes) else {
                toast(
                    state,
                    ToastLevel::Error,
                    "select a note in the Notes pane to amend it".into(),
                );
                return vec![Effect::Render];
            };
            let mut editor = super::notes::NoteEditor {
                amends: Some(note.id.clone()),
                links: note.links.iter().map(|l| l.to_string()).collect(),
                ..Default::default()
            };
            let text: Vec<&str> = note.lines.iter().map(|l| l.as_str()).collect();
            editor.input.insert_str(text.join("\n"));
            state.mode = Mode::Editor(Box::new(editor));
        }
        Action::MoveDown => move_selection(state, focus, 1),
        Action::MoveUp => move_selection(state, focus, -1),
        Action::PageDown => move_selection(state, focus, page),
        Action::PageUp => move_selection(state, focus, -page),
        Action::Top if focus == PaneId::SignIns => signins::set_follow(state, true),
        Action::Top => move_selection(state, focus, isize::MIN),
        Action::Bottom => move_selection(state, focus, isize::MAX),
        Action::Submit
        | Action::Complete
        | Action::CompletePrev
        | Action::ConfirmYes
        | Action::ConfirmNo
        | Action::Save => return vec![],
    }
    vec![Effect::Render]
}

/// What the in-flight list says while a note is being written.
const SAVING_NOTE: &str = "saving a note to the case";
/// And while a triage decision or checklist change is.
const SAVING_TRIAGE: &str = "saving a decision to the case";

/// What the in-flight list says while an action is on its way.
const CHANGING_TENANT: &str = "changing the tenant (sent once, waiting for the answer)";

/// The typed name must be the object's exactly; a dry run only records
/// the preview.
fn confirm_action(state: &mut AppState, typed: &str) -> Vec<Effect> {
    let Some(prepared) = state.pending_action.take() else {
        state.mode = Mode::Normal;
        return vec![Effect::Render];
    };
    if prepared.dry_run {
        state.mode = Mode::Normal;
        state.acting.remove(&prepared.item);
        state.in_flight.push(SafeText::new(SAVING_TRIAGE));
        toast(
            state,
            ToastLevel::Info,
            "dry run: nothing was sent; the preview goes in the case".into(),
        );
        let record = super::checklist::dry_run_record(&prepared);
        return vec![Effect::Render, Effect::Journal(record)];
    }
    if typed.trim() != prepared.confirm_word() {
        let problem = format!(
            "type exactly {} to send it (nothing was sent)",
            SafeText::new(prepared.confirm_word())
        );
        state.pending_action = Some(prepared);
        if let Mode::Prompt(prompt) = &mut state.mode {
            prompt.problem = Some(problem);
        }
        return vec![Effect::Render];
    }
    state.mode = Mode::Normal;
    state.in_flight.push(SafeText::new(CHANGING_TENANT));
    vec![Effect::Render, Effect::ExecuteAction(prepared)]
}

/// One piece of work of this kind is over (others may still run).
fn finish_work(state: &mut AppState, label: &str) {
    if let Some(at) = state.in_flight.iter().position(|w| w.as_str() == label) {
        state.in_flight.remove(at);
    }
}

/// What a copy says: the terminal is asked to set its clipboard (OSC 52),
/// which some refuse (tmux without `set-clipboard on`).
pub(super) const COPIED: &str = "went to the terminal's clipboard (OSC 52)";

/// Copies what is selected: the sign-in cell, the finding's id, the note.
fn copy_selected(state: &mut AppState) -> Vec<Effect> {
    let value = match state.focus {
        PaneId::SignIns => signins::selected_value(state),
        PaneId::Findings => super::findings::selected(state).map(|f| f.id.clone()),
        PaneId::Remediation | PaneId::Notes => None,
    };
    match value {
        Some(text) => {
            toast(state, ToastLevel::Info, format!("the value {COPIED}"));
            vec![Effect::Render, Effect::Copy(text)]
        }
        None => vec![],
    }
}

/// Keeps the filter prompt's verdict on what is typed current.
fn check_filter(state: &mut AppState) {
    let Mode::Prompt(prompt) = &state.mode else {
        return;
    };
    if prompt.kind != PromptKind::Filter(PaneId::SignIns) {
        return;
    }
    let problem = signins::check(prompt.text(), state);
    if let Mode::Prompt(prompt) = &mut state.mode {
        prompt.problem = problem;
    }
}

fn run_command(state: &mut AppState, line: &str) -> Vec<Effect> {
    let command = match commands::parse(line) {
        Ok(command) => command,
        Err(message) => {
            toast(state, ToastLevel::Error, message);
            return vec![Effect::Render];
        }
    };
    match command {
        Command::Focus(pane) => state.focus = pane,
        Command::Zoom => state.zoomed = !state.zoomed,
        Command::Filter(text) if state.focus == PaneId::SignIns => {
            if let Err(problem) = signins::apply_filter(state, &text) {
                toast(state, ToastLevel::Error, problem);
            }
        }
        Command::Filter(text) => set_filter(state, state.focus, &text),
        Command::ClearFilter => clear_filter(state, state.focus),
        Command::Stream(kind) => {
            let hidden = signins::toggle_stream(state, kind);
            let shown = if hidden { "hidden" } else { "shown" };
            toast(
                state,
                ToastLevel::Info,
                format!("{} sign-ins {shown}", kind.stream()),
            );
        }
        Command::Help => state.mode = Mode::Help { scroll: 0 },
        Command::Quit => return request_quit(state),
    }
    vec![Effect::Render]
}

fn clear_filter(state: &mut AppState, pane: PaneId) {
    if pane == PaneId::SignIns {
        signins::clear_filter(state);
    } else {
        set_filter(state, pane, "");
    }
}

fn set_filter(state: &mut AppState, pane: PaneId, text: &str) {
    let text = text.trim();
    state.pane_mut(pane).filter = (!text.is_empty()).then(|| SafeText::new(text));
    state.pane_mut(pane).selected = 0;
    if pane == PaneId::Notes {
        refresh_notes_len(state);
    }
    if pane == PaneId::Findings {
        super::findings::refresh(state, None);
    }
    if pane == PaneId::Remediation {
        super::checklist::refresh(state, None);
    }
}

/// What quitting would delete: the notes and triage decisions the demo's
/// throwaway case holds, in words (`None` when nothing would be lost).
pub fn lost_on_quit(state: &AppState) -> Option<String> {
    if !state.session.throwaway_case {
        return None;
    }
    let notes = state.notes.len() as u64;
    let decisions = state.triage.verdicts().len() as u64;
    (notes + decisions > 0).then(|| {
        format!(
            "The throwaway demo case holds {} and {}: quitting deletes them (start the demo with --case NAME to keep them).",
            crate::model::counted(notes, "note"),
            crate::model::counted(decisions, "triage decision")
        )
    })
}

fn request_quit(state: &mut AppState) -> Vec<Effect> {
    if state.in_flight.is_empty() && lost_on_quit(state).is_none() {
        vec![Effect::Exit(0)]
    } else {
        state.mode = Mode::ConfirmQuit;
        vec![Effect::Render]
    }
}

fn move_selection(state: &mut AppState, pane: PaneId, delta: isize) {
    let p = state.pane_mut(pane);
    let last = p.len.saturating_sub(1);
    p.selected = p.selected.saturating_add_signed(delta).min(last);
    // Leaving the newest row pauses the feed there.
    if pane == PaneId::SignIns && p.selected > 0 && state.feed_view.follow {
        state.feed_view.follow = false;
        state.feed_view.unseen = 0;
    }
}

fn page_size(state: &AppState) -> isize {
    (state.screen.1 / 2).max(1) as isize
}

fn toast(state: &mut AppState, level: ToastLevel, text: String) {
    let until = state
        .now
        .checked_add(TOAST_DURATION)
        .unwrap_or(Timestamp::MAX);
    let text = SafeText::new(&text);
    state.toast = Some(Toast { level, text, until });
}

/// Text for a one-line prompt: line breaks and tabs become spaces, other
/// dangerous characters their visible escapes.
fn one_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\n' | '\r' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    SafeText::new(&spaced).as_str().to_owned()
}
