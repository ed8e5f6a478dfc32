//! The timeline over the panes: sign-ins and failures per column of time,
//! the milestones marked under them with a key (1–9, a–z), a time axis,
//! and the list of marks with the selected one highlighted.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Sparkline};

use super::layout;
use crate::app::Action;
use crate::app::keymap::Layer;
use crate::app::state::AppState;
use crate::app::theme::Theme;
use crate::app::timeline::{Mark, MarkKind, TimelineView, marks};
use crate::model::Severity;

/// Width of the row labels.
const LABEL: u16 = 10;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, view: &TimelineView) {
    let (margin_x, margin_y) = if area.width >= 100 { (4, 2) } else { (0, 0) };
    let rect = layout::centered(
        area,
        area.width.saturating_sub(margin_x),
        area.height.saturating_sub(margin_y),
    );
    let minutes = (view.to - view.from + 1).max(1);
    let chart_width = rect.width.saturating_sub(2 + LABEL).max(1);
    let columns = i64::from(chart_width).min(minutes);
    let per_column = minutes as f64 / columns as f64;
    let title = format!(
        " Timeline · {} → {} UTC · a column is {} ",
        stamp(view.from, minutes),
        stamp(view.to, minutes),
        span_text((per_column * 60.0).round() as i64),
    );
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Timeline, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    let keys = format!(
        " {}/{} pan · {}/{} zoom · {}/{} mark · {} evidence · {} close ",
        hint(Action::CellPrev),
        hint(Action::CellNext),
        hint(Action::ZoomIn),
        hint(Action::ZoomOut),
        hint(Action::MoveDown),
        hint(Action::MoveUp),
        hint(Action::Open),
        hint(Action::Back),
    );
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(theme.border_focused)
        .title(Line::styled(title, theme.title_focused))
        .title_bottom(Line::styled(keys, theme.dim));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block.style(theme.overlay), rect);

    let tall = inner.height.saturating_sub(4);
    let (signin_rows, failure_rows) = ((tall / 3).clamp(1, 8), (tall / 6).clamp(1, 4));
    let [signins, failures, mark_row, axis, _, list] = Layout::vertical([
        Constraint::Length(signin_rows),
        Constraint::Length(failure_rows),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);

    let counts = state.feed.per_column(view.from, view.to, columns as usize);
    let totals: Vec<u64> = counts.iter().map(|m| u64::from(m.signins)).collect();
    let fails: Vec<u64> = counts.iter().map(|m| u64::from(m.failures)).collect();
    let chart = |row: Rect| {
        let [label, plot] =
            Layout::horizontal([Constraint::Length(LABEL), Constraint::Min(0)]).areas(row);
        (label, plot)
    };
    let bars = super::signins::bar_set(theme);
    let (label, plot) = chart(signins);
    let peak = totals.iter().max().copied().unwrap_or(0);
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled("sign-ins", theme.dim),
            Line::styled(format!("{peak} max"), theme.dim),
        ]),
        label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&totals)
            .max(peak.max(1))
            .bar_set(bars.clone())
            .style(theme.ok),
        plot,
    );
    let (label, plot) = chart(failures);
    let peak = fails.iter().max().copied().unwrap_or(0);
    frame.render_widget(Paragraph::new(Span::styled("failures", theme.dim)), label);
    frame.render_widget(
        Sparkline::default()
            .data(&fails)
            .max(peak.max(1))
            .bar_set(bars)
            .style(theme.error),
        plot,
    );

    let all = marks(state);
    let (label, plot) = chart(mark_row);
    frame.render_widget(Paragraph::new(Span::styled("marks", theme.dim)), label);
    frame.render_widget(
        Paragraph::new(mark_line(&all, view, columns, per_column, theme)),
        plot,
    );
    let (_, plot) = chart(axis);
    frame.render_widget(
        Paragraph::new(Line::styled(
            axis_line(view, columns, per_column, minutes),
            theme.dim,
        )),
        plot,
    );
    draw_list(frame, list, &all, view, theme);
}

/// The key a mark shows in the marks row and the list.
fn key(index: usize) -> char {
    const KEYS: &[u8] = b"123456789abcdefghijklmnopqrstuvwxyz";
    KEYS.get(index).map_or('*', |&b| char::from(b))
}

fn mark_style(mark: &Mark, theme: &Theme) -> Style {
    match mark.what {
        MarkKind::Finding(Severity::Critical | Severity::High) => theme.error,
        MarkKind::Finding(_) => theme.warn,
        MarkKind::Triage => theme.key,
    }
}

fn mark_line<'a>(
    all: &[Mark],
    view: &TimelineView,
    columns: i64,
    per_column: f64,
    theme: &Theme,
) -> Line<'a> {
    // Per column: the key shown, its style, and whether it is selected.
    let mut cells: Vec<Option<(char, Style, bool)>> = vec![None; columns as usize];
    for (i, mark) in all.iter().enumerate() {
        if !(view.from..=view.to).contains(&mark.minute) {
            continue;
        }
        let column =
            (((mark.minute - view.from) as f64 / per_column) as usize).min(cells.len() - 1);
        let mut style = mark_style(mark, theme);
        if i == view.mark {
            style = style.add_modifier(Modifier::REVERSED);
        }
        let selected = i == view.mark;
        cells[column] = match cells[column] {
            // Two marks in one column: the selected one shows, else `+`.
            Some(kept @ (_, _, true)) => Some(kept),
            Some(_) if !selected => Some(('+', style, false)),
            _ => Some((key(i), style, selected)),
        };
    }
    Line::from(
        cells
            .into_iter()
            .map(|c| match c {
                Some((k, style, _)) => Span::styled(k.to_string(), style),
                None => Span::raw(" "),
            })
            .collect::<Vec<_>>(),
    )
}

/// Time labels every 14 columns.
fn axis_line(view: &TimelineView, columns: i64, per_column: f64, minutes: i64) -> String {
    let mut text = String::new();
    let mut column = 0i64;
    while column + 12 <= columns {
        let minute = view.from + (column as f64 * per_column) as i64;
        let label = format!("{:<14}", format!("|{}", stamp(minute, minutes)));
        text.push_str(&label);
        column += 14;
    }
    text
}

fn draw_list(frame: &mut Frame, area: Rect, all: &[Mark], view: &TimelineView, theme: &Theme) {
    if all.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "No milestones yet: findings of medium severity or worse, and triage decisions, are marked here.",
                theme.dim,
            )),
            area,
        );
        return;
    }
    let rows = usize::from(area.height).max(1);
    let offset = (view.mark + 1).saturating_sub(rows);
    let lines: Vec<Line> = all
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, mark)| {
            let when = jiff::Timestamp::from_second(mark.minute * 60)
                .map(|t| t.strftime("%m-%d %H:%M").to_string())
                .unwrap_or_default();
            let what = match mark.what {
                MarkKind::Finding(severity) => severity.label(),
                MarkKind::Triage => "TRIA",
            };
            let line = Line::from(vec![
                Span::styled(format!(" {} ", key(i)), mark_style(mark, theme)),
                Span::styled(format!("{when} "), theme.dim),
                Span::styled(format!("{what} "), mark_style(mark, theme)),
                Span::styled(mark.title.clone(), theme.text),
            ]);
            if i == view.mark {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// A minute as a label: with the date when the window spans days.
fn stamp(minute: i64, window: i64) -> String {
    let format = if window > 24 * 60 {
        "%m-%d %H:%M"
    } else {
        "%H:%M"
    };
    jiff::Timestamp::from_second(minute * 60)
        .map(|t| t.strftime(format).to_string())
        .unwrap_or_default()
}

/// `2h48m`, `15m`, `40s`.
fn span_text(seconds: i64) -> String {
    match seconds {
        s if s >= 3600 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
