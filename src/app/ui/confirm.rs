//! Confirmation overlays. Quitting while work is in flight asks first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout;
use crate::app::Action;
use crate::app::keymap::Layer;
use crate::app::state::AppState;
use crate::app::theme::Theme;

pub fn draw_discard(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Confirm, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    let lines = vec![
        Line::raw("The note has not been saved."),
        Line::raw(""),
        Line::from(vec![
            Span::styled(hint(Action::ConfirmYes), theme.key),
            Span::raw(" throw it away   "),
            Span::styled(hint(Action::ConfirmNo), theme.key),
            Span::raw(" keep writing"),
        ]),
    ];
    let rect = layout::centered(area, 48, lines.len() as u16 + 2);
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(theme.warn)
        .title(Line::styled(" Discard the note? ", theme.warn));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).style(theme.overlay),
        rect,
    );
}

/// A new password, shown once: nothing else on screen is as sensitive.
pub fn draw_secret(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    whom: &crate::model::SafeText,
    secret: &crate::playbook::act::Secret,
) {
    let lines = vec![
        Line::from(
            std::iter::once(Span::styled("New password for ", theme.text))
                .chain(super::untrusted(whom, theme.title, theme, 60))
                .collect::<Vec<_>>(),
        ),
        Line::raw(""),
        Line::styled(format!("  {}  ", secret.0.as_str()), theme.key),
        Line::raw(""),
        Line::styled(
            "Shown this once and recorded nowhere; they must change it at next sign-in.",
            theme.dim,
        ),
        Line::styled(
            "Pass it on over the secure channel, then press y or Esc.",
            theme.dim,
        ),
    ];
    let rect = super::layout::centered(area, 80, 9);
    frame.render_widget(ratatui::widgets::Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            ratatui::widgets::Block::bordered()
                .border_style(theme.border_focused)
                .title(Line::styled(" Password reset ", theme.title_focused)),
        ),
        rect,
    );
}

pub fn draw_quit(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut lines = Vec::new();
    if let Some(lost) = crate::app::update::lost_on_quit(state) {
        for line in super::wrap_words(&lost, 52) {
            lines.push(Line::styled(line, theme.warn));
        }
        if !state.in_flight.is_empty() {
            lines.push(Line::raw(""));
        }
    }
    if !state.in_flight.is_empty() {
        lines.push(Line::raw("Work is still in flight:"));
    }
    for work in &state.in_flight {
        let mut spans = vec![Span::styled(
            format!("  {} ", theme.symbols.live),
            theme.warn,
        )];
        spans.extend(super::untrusted(work, theme.warn, theme, 50));
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Confirm, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    lines.push(Line::from(vec![
        Span::styled(hint(Action::ConfirmYes), theme.key),
        Span::raw(if state.in_flight.is_empty() {
            " quit   "
        } else {
            " quit and stop it   "
        }),
        Span::styled(hint(Action::ConfirmNo), theme.key),
        Span::raw(" keep working"),
    ]));
    let height = lines.len() as u16 + 2;
    let rect = layout::centered(area, 56, height);
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(theme.error)
        .title(Line::styled(" Quit warroom? ", theme.error));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .style(theme.overlay),
        rect,
    );
}
