//! What every pane shares: its framed block with number, title and filter,
//! its collapsed one-line form, and its empty state.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;

/// The pane's frame: ` 1 Findings ` on the left, the filter on the right.
pub fn block<'a>(state: &'a AppState, theme: &Theme, pane: PaneId, focused: bool) -> Block<'a> {
    let (border_style, title_style, set) = if focused {
        (
            theme.border_focused,
            theme.title_focused,
            theme.border_set_focused,
        )
    } else {
        (theme.border, theme.title, theme.border_set)
    };
    let number = pane.index() + 1;
    let mut block = Block::bordered()
        .border_set(set)
        .border_style(border_style)
        .title(Line::from(vec![
            Span::styled(format!(" {number} "), theme.key),
            Span::styled(format!("{} ", pane.title()), title_style),
        ]));
    if let Some(filter) = &state.pane(pane).filter {
        let mut spans = vec![Span::styled(" / ", theme.key)];
        spans.extend(super::untrusted(filter, theme.text, theme, 40));
        spans.push(Span::raw(" "));
        block = block.title(Line::from(spans).right_aligned());
    }
    block
}

pub fn draw_collapsed(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    theme: &Theme,
    pane: PaneId,
    summary: &str,
) {
    let mut spans = vec![
        Span::styled(format!("{} ", theme.symbols.collapsed), theme.dim),
        Span::styled(format!("{} ", pane.index() + 1), theme.key),
        Span::styled(pane.title(), theme.title),
        Span::styled(theme.symbols.separator, theme.dim),
        Span::styled(summary, theme.dim),
    ];
    if let Some(filter) = &state.pane(pane).filter {
        spans.push(Span::styled(" / ", theme.key));
        spans.extend(super::untrusted(filter, theme.text, theme, 40));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The rows of a list that fit in `rows` lines, scrolled so the selected
/// one shows, drawn reversed.
pub fn list_window<'a, T>(
    items: &'a [T],
    selected: usize,
    rows: u16,
    line: impl Fn(&'a T) -> Line<'a>,
) -> Vec<Line<'a>> {
    let offset = (selected + 1).saturating_sub(usize::from(rows));
    items
        .iter()
        .enumerate()
        .skip(offset)
        .take(usize::from(rows))
        .map(|(i, item)| {
            let drawn = line(item);
            if i == selected {
                drawn.style(Style::new().add_modifier(ratatui::style::Modifier::REVERSED))
            } else {
                drawn
            }
        })
        .collect()
}

/// An open pane with nothing to show yet: say so honestly, and say why.
pub fn draw_empty(
    frame: &mut Frame,
    area: Rect,
    block: Block<'_>,
    theme: &Theme,
    headline: &str,
    details: &[&str],
) {
    let mut lines = vec![Line::styled(headline, theme.text), Line::raw("")];
    lines.extend(details.iter().map(|d| Line::styled(*d, theme.dim)));
    let paragraph = Paragraph::new(lines)
        .block(block.padding(ratatui::widgets::Padding::horizontal(1)))
        .wrap(Wrap { trim: true })
        .style(Style::new());
    frame.render_widget(paragraph, area);
}
