//! Keys while something is open over the panes: the note editor, help,
//! a prompt (command line, filter, triage), a finding's detail and the
//! timeline.

use super::*;

pub(super) fn on_editor(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Mode::Editor(editor) = &mut state.mode else {
        return vec![];
    };
    match action {
        Action::Save if editor.saving => vec![],
        Action::Save if editor.is_blank() => {
            toast(state, ToastLevel::Error, "the note is empty".into());
            vec![Effect::Render]
        }
        Action::Save => {
            editor.saving = true;
            let effect = Effect::SaveNote {
                text: editor.text().trim_end().to_owned(),
                tags: editor.tags(),
                supersedes: editor.amends.clone(),
                links: editor.links.clone(),
            };
            state.in_flight.push(SafeText::new(SAVING_NOTE));
            vec![Effect::Render, effect]
        }
        Action::Back if editor.saving => vec![],
        Action::Back => {
            let Mode::Editor(editor) = std::mem::replace(&mut state.mode, Mode::Normal) else {
                return vec![];
            };
            if !editor.is_blank() {
                state.mode = Mode::ConfirmDiscard(editor);
            }
            vec![Effect::Render]
        }
        _ => vec![],
    }
}

/// The notes pane's row count follows the notes and its search.
pub(super) fn refresh_notes_len(state: &mut AppState) {
    let filter = state.pane(PaneId::Notes).filter.clone();
    let len = crate::app::notes::visible(&state.notes, filter.as_ref()).len();
    let pane = state.pane_mut(PaneId::Notes);
    pane.len = len;
    pane.selected = pane.selected.min(len.saturating_sub(1));
}

pub(super) fn on_help(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Mode::Help { scroll } = &mut state.mode else {
        return vec![];
    };
    let page = layout::help_visible_rows(state.screen.1).max(1) as i32;
    let delta: i32 = match action {
        Action::MoveDown => 1,
        Action::MoveUp => -1,
        Action::PageDown => page,
        Action::PageUp => -page,
        Action::Top => i32::MIN / 2,
        Action::Bottom => i32::MAX / 2,
        Action::Back | Action::OpenHelp => {
            state.mode = Mode::Normal;
            return vec![Effect::Render];
        }
        // Nothing else means anything in the help.
        _ => return vec![],
    };
    *scroll = (i32::from(*scroll) + delta).clamp(0, i32::from(u16::MAX)) as u16;
    clamp_help_scroll(state);
    vec![Effect::Render]
}

pub(super) fn clamp_help_scroll(state: &mut AppState) {
    let rows = crate::app::ui::help::line_count(&state.keymap, state.screen.0);
    let visible = layout::help_visible_rows(state.screen.1);
    let max = rows.saturating_sub(visible).min(u16::MAX as usize) as u16;
    if let Mode::Help { scroll } = &mut state.mode {
        *scroll = (*scroll).min(max);
    }
}

pub(super) fn on_prompt(state: &mut AppState, action: Action) -> Vec<Effect> {
    let Mode::Prompt(prompt) = &mut state.mode else {
        return vec![];
    };
    match action {
        Action::Submit => {
            let text = prompt.text().trim().to_owned();
            let kind = prompt.kind;
            if kind == PromptKind::Filter(PaneId::SignIns) {
                // A bad filter keeps the prompt open with its reason.
                if let Err(problem) = signins::apply_filter(state, &text) {
                    if let Mode::Prompt(prompt) = &mut state.mode {
                        prompt.problem = Some(problem);
                    }
                    return vec![Effect::Render];
                }
                state.mode = Mode::Normal;
                return vec![Effect::Render];
            }
            if kind == PromptKind::ConfirmAction {
                return confirm_action(state, &text);
            }
            if matches!(
                kind,
                PromptKind::Triage
                    | PromptKind::Suppress
                    | PromptKind::ItemState
                    | PromptKind::ItemAdd
            ) {
                // A bad line keeps the prompt open with its reason.
                let subject = prompt.subject.clone().unwrap_or_default();
                let body = if matches!(kind, PromptKind::ItemState | PromptKind::ItemAdd) {
                    crate::app::checklist::journal_body(state, kind, &subject, &text)
                } else {
                    crate::app::findings::journal_body(state, kind, &subject, &text)
                };
                match body {
                    Ok(body) => {
                        state.mode = Mode::Normal;
                        state.in_flight.push(SafeText::new(SAVING_TRIAGE));
                        return vec![Effect::Render, Effect::Journal(body)];
                    }
                    Err(problem) => {
                        if let Mode::Prompt(prompt) = &mut state.mode {
                            prompt.problem = Some(problem);
                        }
                        return vec![Effect::Render];
                    }
                }
            }
            state.mode = Mode::Normal;
            match kind {
                PromptKind::Command if text.is_empty() => {}
                PromptKind::Command => return run_command(state, &text),
                PromptKind::Filter(pane) => set_filter(state, pane, &text),
                PromptKind::Triage
                | PromptKind::Suppress
                | PromptKind::ItemState
                | PromptKind::ItemAdd
                | PromptKind::ConfirmAction => {}
            }
        }
        Action::MoveUp | Action::MoveDown if prompt.kind == PromptKind::Filter(PaneId::SignIns) => {
            let at = prompt.recalled;
            let Some((index, text)) = signins::recall(state, at, action == Action::MoveUp) else {
                return vec![];
            };
            if let Mode::Prompt(prompt) = &mut state.mode {
                let kind = prompt.kind;
                **prompt = Prompt::new(kind, &text);
                prompt.recalled = Some(index);
            }
            check_filter(state);
        }
        Action::Complete | Action::CompletePrev => {
            if !matches!(
                prompt.kind,
                PromptKind::Command | PromptKind::Triage | PromptKind::ItemState
            ) {
                return vec![];
            }
            let step = if action == Action::Complete { 1 } else { -1 };
            cycle_completion(prompt, step);
        }
        Action::Back => {
            if let Some(dropped) = state.pending_action.take() {
                state.acting.remove(&dropped.item);
                toast(state, ToastLevel::Info, "nothing was sent".into());
            }
            state.mode = Mode::Normal;
        }
        // Other keys are typing, not actions, while the prompt is open.
        _ => return vec![],
    }
    vec![Effect::Render]
}

/// The sign-in detail: scroll, copy the record, pivot, close.
pub(super) fn on_detail(state: &mut AppState, action: Action) -> Vec<Effect> {
    let page = page_size(state) as i32;
    let Mode::Detail(detail) = &mut state.mode else {
        return vec![];
    };
    let delta: i32 = match action {
        Action::MoveDown => 1,
        Action::MoveUp => -1,
        Action::PageDown => page,
        Action::PageUp => -page,
        Action::Top => i32::MIN / 2,
        Action::Bottom => i32::MAX / 2,
        Action::Back => {
            state.mode = Mode::Normal;
            return vec![Effect::Render];
        }
        Action::Copy => {
            // Said either way: a copy that silently did nothing misleads.
            let (level, text, copy) = match &detail.record {
                crate::app::state::Record::Loaded(lines) => {
                    let text: Vec<&str> = lines.iter().map(SafeText::as_str).collect();
                    (
                        ToastLevel::Info,
                        format!("the record ({} lines) {COPIED}", lines.len()),
                        Some(text.join("\n")),
                    )
                }
                crate::app::state::Record::Loading => (
                    ToastLevel::Error,
                    "nothing copied yet: the record is still being read (y again once it shows)"
                        .to_owned(),
                    None,
                ),
                crate::app::state::Record::Failed(why) => (
                    ToastLevel::Error,
                    format!("nothing copied: the record could not be read ({why})"),
                    None,
                ),
            };
            toast(state, level, text);
            return [Effect::Render]
                .into_iter()
                .chain(copy.map(Effect::Copy))
                .collect();
        }
        Action::Pivot => {
            let (handle, id) = (detail.handle, detail.id.clone());
            state.mode = Mode::Normal;
            let Some(user) = state
                .feed
                .locate(handle, &id)
                .and_then(|h| state.feed.by_handle(h))
                .map(|row| row.text(row.row.principal).to_string())
                .filter(|user| !user.is_empty())
            else {
                toast(
                    state,
                    ToastLevel::Error,
                    "this sign-in names no user".into(),
                );
                return vec![Effect::Render];
            };
            let term = format!("user:\"{}\"", user.replace('"', ""));
            if let Err(reason) = signins::apply_filter(state, &term) {
                toast(state, ToastLevel::Error, reason);
            }
            return vec![Effect::Render];
        }
        _ => return vec![],
    };
    let lines = match &detail.record {
        crate::app::state::Record::Loaded(lines) => lines.len(),
        _ => 0,
    };
    // The fields above the record take about twenty lines.
    let max = (lines + 24).min(u16::MAX as usize) as i32;
    detail.scroll = (i32::from(detail.scroll) + delta).clamp(0, max) as u16;
    vec![Effect::Render]
}

/// The timeline: pan, zoom, pick a mark, jump to its evidence, close.
pub(super) fn on_timeline(state: &mut AppState, action: Action) -> Vec<Effect> {
    use crate::app::timeline;
    let Mode::Timeline(mut view) = std::mem::replace(&mut state.mode, Mode::Normal) else {
        return vec![];
    };
    match action {
        Action::Back => return vec![Effect::Render],
        Action::CellPrev | Action::CellNext => {
            timeline::pan(&mut view, state, action == Action::CellNext)
        }
        Action::ZoomIn | Action::ZoomOut => {
            timeline::zoom(&mut view, state, action == Action::ZoomIn)
        }
        Action::MoveDown | Action::MoveUp => {
            timeline::step_mark(&mut view, state, action == Action::MoveDown)
        }
        Action::Open => {
            if let Some(mark) = timeline::marks(state).get(view.mark) {
                show_evidence(state, &mark.finding);
            }
            return vec![Effect::Render];
        }
        _ => {
            state.mode = Mode::Timeline(view);
            return vec![];
        }
    }
    state.mode = Mode::Timeline(view);
    vec![Effect::Render]
}

/// A finding's evidence: its sign-ins in the feed when it has any there,
/// else the finding itself in the findings pane.
pub(super) fn show_evidence(state: &mut AppState, finding: &str) {
    let before = state
        .pane(PaneId::SignIns)
        .filter
        .as_ref()
        .map(|f| f.to_string());
    if signins::apply_filter(state, &format!("finding:{finding}")).is_ok()
        && state.feed.shown_count() > 0
    {
        state.focus = PaneId::SignIns;
        return;
    }
    // Not sign-ins (an audit, a risk detection): back to the old filter.
    match before {
        Some(text) => {
            let _ = signins::apply_filter(state, &text);
        }
        None => signins::clear_filter(state),
    }
    state.pane_mut(PaneId::Findings).filter = Some(SafeText::new(finding));
    crate::app::findings::refresh(state, None);
    state.focus = PaneId::Findings;
}

/// First Tab lists the matches and shows the first; later Tabs cycle.
pub(super) fn cycle_completion(prompt: &mut Prompt, step: isize) {
    let completion = match prompt.completion.take() {
        Some(mut c) => {
            let n = c.candidates.len() as isize;
            c.index = (c.index as isize + step).rem_euclid(n) as usize;
            c
        }
        None => {
            let candidates = match prompt.kind {
                PromptKind::Triage => crate::app::triage::complete(prompt.text()),
                PromptKind::ItemState => crate::app::checklist::complete(prompt.text()),
                _ => commands::complete(prompt.text()),
            };
            if candidates.is_empty() {
                return;
            }
            let index = if step < 0 { candidates.len() - 1 } else { 0 };
            Completion { candidates, index }
        }
    };
    let chosen = completion.candidates[completion.index].clone();
    prompt.input = Prompt::new(prompt.kind, &chosen).input;
    // A single match is final: the next Tab completes the argument.
    prompt.completion = (completion.candidates.len() > 1).then_some(completion);
}

/// Editing shortcuts can split the line; a prompt stays one line.
pub(super) fn keep_single_line(prompt: &mut Prompt) {
    if prompt.input.lines().len() > 1 {
        let joined = prompt.input.lines().join(" ");
        prompt.input = Prompt::new(prompt.kind, &joined).input;
    }
}
