//! The confirmation of a checklist action, over the panes: the object it
//! changes, the exact request, the object as the tenant has it now, and
//! what to type to send it. Everything from the tenant is drawn escaped.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout;
use crate::app::theme::Theme;
use crate::model::SafeText;
use crate::playbook::act::Prepared;

pub fn draw(frame: &mut Frame, area: Rect, prepared: &Prepared, theme: &Theme) {
    let (margin_x, margin_y) = if area.width >= 100 { (8, 2) } else { (0, 0) };
    let rect = layout::centered(
        area,
        area.width.saturating_sub(margin_x),
        area.height.saturating_sub(margin_y),
    );
    let width = usize::from(rect.width.saturating_sub(2));
    let safe = |text: &str| SafeText::new(text);
    let mut lines = Vec::new();
    let (title, style) = if prepared.dry_run {
        (" Dry run: this is what would be sent ", theme.title_focused)
    } else {
        (" Change the tenant? ", theme.error)
    };
    let mut head = vec![Span::styled(format!("{} ", prepared.kind), theme.dim)];
    head.extend(super::untrusted_owned(
        &prepared.object_name,
        theme.title,
        theme,
        width,
    ));
    lines.push(Line::from(head));
    lines.push(Line::from(
        std::iter::once(Span::styled("id ", theme.dim))
            .chain(super::untrusted_owned(
                &prepared.object_id,
                theme.text,
                theme,
                width,
            ))
            .collect::<Vec<_>>(),
    ));
    // What to do comes first: on a small screen the rest may not fit.
    lines.push(Line::raw(""));
    let ask = if prepared.dry_run {
        "The profile does not allow writes (writes = true in the profile turns them on): Enter records this preview in the case; nothing is sent.".to_owned()
    } else {
        format!(
            "Type {} and Enter to send it; Esc sends nothing. Request, answer and the object before and after go in the case journal.",
            safe(prepared.confirm_word())
        )
    };
    lines.push(Line::styled(ask, theme.warn));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Request, sent once (never repeated by itself):",
        theme.dim,
    ));
    for line in prepared.request_text().lines() {
        lines.push(Line::from(super::untrusted_owned(
            line,
            theme.key,
            theme,
            usize::MAX,
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Now, as read from the tenant:", theme.dim));
    let before = serde_json::to_string_pretty(&prepared.before).unwrap_or_default();
    for line in before.lines() {
        lines.push(Line::from(super::untrusted_owned(
            line,
            theme.text,
            theme,
            usize::MAX,
        )));
    }
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(style)
        .title(Line::styled(title, style));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(theme.overlay)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
