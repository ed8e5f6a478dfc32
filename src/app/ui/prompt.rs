//! The command line (`:`) and the filter prompt (`/`), with the list of
//! completions above it while Tab is cycling.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{AppState, Prompt, PromptKind};
use crate::app::theme::Theme;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    completions: Option<Rect>,
    prompt: &Prompt,
    state: &AppState,
    theme: &Theme,
) {
    let label = match prompt.kind {
        PromptKind::Command => ":".to_owned(),
        PromptKind::Filter(pane) => format!("filter {}: ", pane.title()),
        PromptKind::Triage => "triage (state @owner reason): ".to_owned(),
        PromptKind::Suppress => "suppress similar, because: ".to_owned(),
        PromptKind::ItemState => {
            "item (todo|in-progress|done|blocked|n/a @owner reason): ".to_owned()
        }
        PromptKind::ItemAdd => "new item in this phase: ".to_owned(),
        PromptKind::ConfirmAction if state.pending_action.as_ref().is_some_and(|p| p.dry_run) => {
            "dry run: Enter records the preview, Esc drops it; nothing is sent ".to_owned()
        }
        PromptKind::ConfirmAction => {
            "type the name shown to send it (Esc: nothing is sent): ".to_owned()
        }
    };
    let [l, input] = Layout::horizontal([
        Constraint::Length(label.chars().count() as u16),
        Constraint::Min(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Span::styled(label, theme.key)), l);
    frame.render_widget(&prompt.input, input);

    if let (Some(rect), Some(problem)) = (completions, &prompt.problem) {
        let text = crate::model::SafeText::new(problem);
        let mut spans = vec![Span::styled(" ", theme.error)];
        spans.extend(super::untrusted(
            &text,
            theme.error,
            theme,
            usize::from(rect.width),
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), rect);
    } else if let (Some(rect), Some(completion)) = (completions, &prompt.completion) {
        let mut spans = vec![Span::raw(" ")];
        for (i, candidate) in completion.candidates.iter().enumerate() {
            let style = if i == completion.index {
                theme.key.add_modifier(Modifier::REVERSED)
            } else {
                theme.dim
            };
            spans.push(Span::styled(candidate.trim_end(), style));
            spans.push(Span::raw("  "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), rect);
    }
}
