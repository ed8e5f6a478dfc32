//! The team's encrypted case notes: newest first, the selected note in
//! full below, and the editor for a new one.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::pane;
use crate::app::Action;
use crate::app::keymap::Layer;
use crate::app::notes::{NoteEditor, NoteRow, visible};
use crate::app::state::{AppState, CaseLock, Mode, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::Notes, focused);
    if let Mode::Editor(editor) | Mode::ConfirmDiscard(editor) = &state.mode {
        return draw_editor(frame, area, block, state, theme, editor);
    }
    let detail = state.session.case_detail.as_ref().map(|d| d.to_string());
    match &state.session.case {
        CaseLock::NoCase => {
            return pane::draw_empty(
                frame,
                area,
                block,
                theme,
                "No case open.",
                &[
                    "Case notes are encrypted with age to the core team's keys; nothing about a case touches disk in plaintext.",
                    "Create one with `warroom case new NAME`, then start the console with WARROOM_CASE=NAME.",
                ],
            );
        }
        CaseLock::Locked(name) => {
            let headline = format!("Case {name} is locked.");
            let details: Vec<&str> = detail.as_deref().into_iter().collect();
            return pane::draw_empty(frame, area, block, theme, &headline, &details);
        }
        CaseLock::Unlocked(_) => {}
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let header_rows = if detail.is_some() { 2 } else { 0 };
    let [header, body] =
        Layout::vertical([Constraint::Length(header_rows), Constraint::Min(0)]).areas(inner);
    if let Some(detail) = &state.session.case_detail {
        let room = usize::from(header.width) * 2;
        let line = Line::from(super::untrusted(detail, theme.dim, theme, room));
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), header);
    }
    let shown = visible(&state.notes, state.pane(PaneId::Notes).filter.as_ref());
    if shown.is_empty() {
        let new = key_hint(state, Layer::Normal, Action::NewNote);
        let text = if state.notes.is_empty() {
            format!(" No notes yet. Press {new} to write one; it is encrypted before it is saved.")
        } else {
            " No note matches the search.".to_owned()
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim)
                .wrap(Wrap { trim: true }),
            body,
        );
        return;
    }
    let selected = state.pane(PaneId::Notes).selected.min(shown.len() - 1);
    let list_rows = (body.height / 2).max(1).min(shown.len() as u16);
    let [list, full] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Min(0)]).areas(body);
    let lines = pane::list_window(&shown, selected, list_rows, |&n| {
        summary_line(&state.notes[n], theme, usize::from(list.width))
    });
    frame.render_widget(Paragraph::new(lines), list);
    if full.height > 1 {
        draw_full(frame, full, &state.notes[shown[selected]], theme);
    }
}

fn key_hint(state: &AppState, layer: Layer, action: Action) -> String {
    state
        .keymap
        .hint(layer, action)
        .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
}

/// `11-25 12:04 alice@jump [adfs] first line of the note`.
fn summary_line<'a>(note: &'a NoteRow, theme: &Theme, width: usize) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!("{} ", note.time.get(5..).unwrap_or(&note.time)),
        theme.dim,
    )];
    spans.extend(super::untrusted(&note.author, theme.dim, theme, 20));
    for tag in &note.tags {
        spans.push(Span::styled(" #", theme.key));
        spans.extend(super::untrusted(tag, theme.key, theme, 16));
    }
    spans.push(Span::raw(" "));
    let used: usize = spans.iter().map(Span::width).sum();
    if let Some(first) = note.lines.first() {
        spans.extend(super::untrusted(
            first,
            theme.text,
            theme,
            width.saturating_sub(used),
        ));
    }
    Line::from(spans)
}

fn draw_full(frame: &mut Frame, area: Rect, note: &NoteRow, theme: &Theme) {
    let mut lines = vec![Line::styled(
        format!("── {} {}", note.time, note.id),
        theme.dim,
    )];
    if let Some(old) = &note.supersedes {
        lines.push(Line::styled(format!("amends {old}"), theme.dim));
    }
    for link in &note.links {
        let mut spans = vec![Span::styled("about ", theme.dim)];
        spans.extend(super::untrusted(link, theme.key, theme, 80));
        lines.push(Line::from(spans));
    }
    for line in &note.lines {
        lines.push(Line::from(super::untrusted(
            line,
            theme.text,
            theme,
            usize::MAX,
        )));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

fn draw_editor(
    frame: &mut Frame,
    area: Rect,
    block: ratatui::widgets::Block<'_>,
    state: &AppState,
    theme: &Theme,
    editor: &NoteEditor,
) {
    let save = key_hint(state, Layer::Editor, Action::Save);
    let close = key_hint(state, Layer::Editor, Action::Back);
    let status = if editor.saving {
        " saving (encrypting and writing to the journal)…".to_owned()
    } else {
        let what = match (&editor.amends, editor.links.first()) {
            (Some(_), _) => "amending a note (the original is kept)".to_owned(),
            (None, Some(link)) => format!("new note about {}", crate::model::SafeText::new(link)),
            (None, None) => "new note".to_owned(),
        };
        format!(" {what} · {save} save · {close} close · #words become tags")
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [hint, text] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(status).style(theme.dim), hint);
    frame.render_widget(&editor.input, text);
}

pub fn summary(state: &AppState) -> String {
    match &state.session.case {
        CaseLock::NoCase => "no case open".to_owned(),
        CaseLock::Locked(_) => "case locked".to_owned(),
        CaseLock::Unlocked(_) => format!("{} notes", state.notes.len()),
    }
}
