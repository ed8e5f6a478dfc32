//! Confirmation overlays. Quitting while work is in flight asks first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout;
use crate::app::state::AppState;
use crate::app::theme::Theme;

pub fn draw_quit(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let mut lines = vec![Line::raw("Work is still in flight:")];
    lines.extend(
        state
            .in_flight
            .iter()
            .map(|w| Line::styled(format!("  {} {w}", theme.symbols.live), theme.warn)),
    );
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("y", theme.key),
        Span::raw(" quit and stop it   "),
        Span::styled("n", theme.key),
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
