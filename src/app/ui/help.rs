//! The help overlay, built from the keymap so it always matches dispatch.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::layout;
use crate::app::Action;
use crate::app::keymap::{HelpRow, Layer};
use crate::app::state::AppState;
use crate::app::theme::Theme;

/// Width of the keys column.
const KEYS_WIDTH: usize = 26;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, scroll: u16) {
    let rect = layout::help_area(area);
    let rows = state.keymap.help_rows();
    let visible = layout::help_visible_rows(area.height);
    let lines: Vec<Line> = rows
        .iter()
        .skip(usize::from(scroll))
        .take(visible)
        .map(|row| match row {
            HelpRow::Heading(text) => Line::styled(
                *text,
                theme
                    .title
                    .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            HelpRow::Binding { keys, description } => Line::from(vec![
                Span::styled(format!("  {keys:<KEYS_WIDTH$}"), theme.key),
                Span::styled(*description, theme.text),
            ]),
            HelpRow::Blank => Line::raw(""),
        })
        .collect();
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Help, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    let more = if usize::from(scroll) + visible < rows.len() {
        format!(
            " {}/{} scroll, more below ",
            hint(Action::MoveDown),
            hint(Action::MoveUp)
        )
    } else {
        " ".to_owned()
    };
    let close = format!(" {} closes ", hint(Action::Back));
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(theme.border_focused)
        .title(Line::styled(" Help: key bindings ", theme.title_focused))
        .title_bottom(Line::styled(close, theme.dim))
        .title_bottom(Line::styled(more, theme.dim).right_aligned());
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).style(theme.overlay),
        rect,
    );
}
