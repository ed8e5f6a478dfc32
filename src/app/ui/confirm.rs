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

pub fn draw_quit(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut lines = vec![Line::raw("Work is still in flight:")];
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
        Span::raw(" quit and stop it   "),
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
