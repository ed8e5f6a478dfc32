//! The live sign-in feed: a line of stream health, then the newest
//! sign-ins first. Only the rows on screen are laid out.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell as TableCell, Paragraph, Row, Sparkline, Table};

use super::pane;
use crate::app::feed::{Access, Cell, Connection, Kind, Mfa, RowRef, StreamStatus};
use crate::app::state::{AppState, ChartOf, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::SignIns, focused);
    if state.feed.is_empty() {
        return draw_waiting(frame, area, block, state, theme);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The rate sparkline where there is room for a table under it too.
    let spark = u16::from(inner.height >= 10 && inner.width >= 40);
    let [health, rate, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(spark),
        Constraint::Min(0),
    ])
    .areas(inner);
    let [streams, mode] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(mode_width(state))])
            .areas(health);
    frame.render_widget(
        Paragraph::new(health_line(
            &state.session.streams,
            state,
            theme,
            usize::from(streams.width),
        )),
        streams,
    );
    frame.render_widget(
        Paragraph::new(mode_line(state, theme)).right_aligned(),
        mode,
    );
    if spark == 1 {
        draw_rate(frame, rate, state, theme);
    }
    if state.feed.shown_count() == 0 {
        let why = "No sign-in matches the filter or the streams shown (Esc clears the filter; :stream shows a hidden stream).";
        frame.render_widget(
            Paragraph::new(Line::styled(why, theme.dim))
                .wrap(ratatui::widgets::Wrap { trim: true }),
            table,
        );
        return;
    }
    let table = match state.feed_view.chart {
        Some(of) => {
            // Beside the table where there is room, else under it.
            let (table, chart) = if table.width >= 110 {
                let [t, c] =
                    Layout::horizontal([Constraint::Min(0), Constraint::Length(42)]).areas(table);
                (t, c)
            } else {
                let rows = (state.feed_view.top.len() as u16 + 2).min(table.height / 2);
                let [t, c] =
                    Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(table);
                (t, c)
            };
            draw_chart(frame, chart, state, of, theme);
            table
        }
        None => table,
    };
    draw_table(frame, table, state, theme, focused);
}

/// Failures among the rows shown, by address or country, as bars.
fn draw_chart(frame: &mut Frame, area: Rect, state: &AppState, of: ChartOf, theme: &Theme) {
    let what = match of {
        ChartOf::Addresses => "failing addresses",
        ChartOf::Countries => "failing countries",
    };
    let mut lines = vec![Line::styled(format!("top {what} (b: next)"), theme.dim)];
    let top = &state.feed_view.top;
    if top.is_empty() {
        lines.push(Line::styled("no failed sign-ins shown", theme.dim));
    }
    let peak = top.first().map_or(1, |(_, n)| *n).max(1);
    let name_width = 18usize;
    let count_width = 7usize;
    let bar_room = usize::from(area.width).saturating_sub(name_width + count_width + 3);
    let full = if theme.ascii { "#" } else { "█" };
    for (value, n) in top {
        let bar = ((*n as f64 / peak as f64) * bar_room as f64).ceil() as usize;
        let mut spans = super::untrusted(value, theme.text, theme, name_width);
        let used: usize = spans
            .iter()
            .map(|s| unicode_width::UnicodeWidthStr::width(s.content.as_ref()))
            .sum();
        spans.push(Span::raw(" ".repeat(name_width.saturating_sub(used) + 1)));
        spans.push(Span::styled(full.repeat(bar.max(1)), theme.error));
        spans.push(Span::styled(format!(" {n}"), theme.text));
        lines.push(Line::from(spans));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `shown 12 of 340 · ● live` or `‖ paused · 5 new`.
fn mode_text(state: &AppState, ascii: bool) -> String {
    let feed = &state.feed;
    let count = if feed.shown_count() == feed.total() {
        format!("{}", feed.total())
    } else {
        format!("{} of {}", feed.shown_count(), feed.total())
    };
    let view = &state.feed_view;
    let (live, paused) = if ascii {
        ("LIVE", "PAUSED")
    } else {
        ("● live", "‖ paused")
    };
    if view.follow {
        format!(" {count} · {live}")
    } else if view.unseen > 0 {
        format!(" {count} · {paused} · {} new", view.unseen)
    } else {
        format!(" {count} · {paused}")
    }
}

fn mode_width(state: &AppState) -> u16 {
    unicode_width::UnicodeWidthStr::width(mode_text(state, false).as_str()) as u16 + 1
}

fn mode_line(state: &AppState, theme: &Theme) -> Line<'static> {
    let text = mode_text(state, theme.ascii);
    let style = if state.feed_view.follow {
        theme.ok
    } else {
        theme.warn
    };
    Line::styled(text, style)
}

/// Bars for sparklines: eighths, or plain characters in ASCII mode.
pub(super) fn bar_set(theme: &Theme) -> ratatui::symbols::bar::Set<'static> {
    if theme.ascii {
        ratatui::symbols::bar::Set {
            full: "#",
            seven_eighths: "#",
            three_quarters: "=",
            five_eighths: "=",
            half: "-",
            three_eighths: "-",
            one_quarter: ".",
            one_eighth: ".",
            empty: " ",
        }
    } else {
        ratatui::symbols::bar::NINE_LEVELS
    }
}

/// Sign-ins and failures per minute up to the newest, one bar a minute.
fn draw_rate(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let Some((_, newest)) = state.feed.minute_span() else {
        return;
    };
    let (total_label, fail_label) = ("in/min ", " fail/min ");
    let labels = (total_label.len() + fail_label.len()) as u16;
    let half = area.width.saturating_sub(labels) / 2;
    let minutes = state.feed.per_minute(newest - i64::from(half) + 1, newest);
    let signins: Vec<u64> = minutes.iter().map(|m| u64::from(m.signins)).collect();
    let failures: Vec<u64> = minutes.iter().map(|m| u64::from(m.failures)).collect();
    // Each on its own scale: a handful of failures must still show.
    let peak = |data: &[u64]| data.iter().max().copied().unwrap_or(0).max(1);
    let [l1, s1, l2, s2] = Layout::horizontal([
        Constraint::Length(total_label.len() as u16),
        Constraint::Length(half),
        Constraint::Length(fail_label.len() as u16),
        Constraint::Length(half),
    ])
    .areas(area);
    let bar_set = bar_set(theme);
    frame.render_widget(Paragraph::new(Span::styled(total_label, theme.dim)), l1);
    frame.render_widget(
        Sparkline::default()
            .data(&signins)
            .max(peak(&signins))
            .bar_set(bar_set.clone())
            .style(theme.ok),
        s1,
    );
    frame.render_widget(Paragraph::new(Span::styled(fail_label, theme.dim)), l2);
    frame.render_widget(
        Sparkline::default()
            .data(&failures)
            .max(peak(&failures))
            .bar_set(bar_set)
            .style(theme.error),
        s2,
    );
}

fn draw_waiting(
    frame: &mut Frame,
    area: Rect,
    block: ratatui::widgets::Block<'_>,
    state: &AppState,
    theme: &Theme,
) {
    let owned;
    let (headline, details): (&str, Vec<&str>) = match &state.session.connection {
        Connection::NotConfigured => (
            "No sign-in stream.",
            vec![
                "The feed shows interactive, non-interactive, service-principal and managed-identity sign-ins as they arrive.",
                "No tenant configured: `warroom config path` shows where the profile goes; `warroom demo` shows the console against an emulated tenant.",
            ],
        ),
        Connection::Connecting => ("Connecting to Microsoft Graph…", vec![]),
        Connection::SignIn { url, code, expires } => {
            owned = format!(
                "To sign in, open {url} and enter the code {code} (valid until {}). The code is on your clipboard where the terminal allows it.",
                expires.strftime("%H:%M:%SZ")
            );
            ("Waiting for you to sign in.", vec![owned.as_str()])
        }
        Connection::Failed(reason) => {
            owned = reason.to_string();
            (
                "Cannot connect to Microsoft Graph.",
                vec![
                    owned.as_str(),
                    "Fix the profile (`warroom config show`) and start the console again.",
                ],
            )
        }
        Connection::Connected => {
            owned = stream_lines(&state.session.streams);
            (
                "No sign-ins in the window yet.",
                vec![
                    "New sign-ins appear here as the streams bring them.",
                    owned.as_str(),
                ],
            )
        }
    };
    pane::draw_empty(frame, area, block, theme, headline, &details);
}

/// One plain line per stream, for the waiting state.
fn stream_lines(streams: &[StreamStatus]) -> String {
    streams
        .iter()
        .map(|s| match &s.last_error {
            Some(e) if s.failures > 0 => format!("{}: failing ({e})", s.name),
            _ if s.last_success.is_some() => format!("{}: ok", s.name),
            _ => format!("{}: starting", s.name),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The stream names as the narrow health line shows them.
fn short_name(name: &str) -> &str {
    match name {
        "interactive" => "user",
        "noninteractive" => "nonint",
        "serviceprincipal" => "sp",
        "managedidentity" => "mi",
        other => other,
    }
}

/// `user ✓ 1203 · sp ✗ 0 · … · reports budget 3/5`, after the history's
/// progress while it comes in; a stream the responder hid says so. Parts
/// that do not fit in `width` are left out, least telling first (never cut
/// mid-word into the text beside it).
fn health_line<'a>(
    streams: &'a [StreamStatus],
    state: &AppState,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    let sym = theme.symbols;
    // (rank: lower is kept longer, text, style), in reading order.
    let mut parts: Vec<(u8, String, Style)> = Vec::new();
    if let Some(history) = crate::app::feed::history_summary(streams) {
        for (i, text) in history.into_iter().enumerate() {
            let rank = match i {
                0 => 0,
                1 | 2 => 2,
                _ => 4,
            };
            parts.push((rank, text, theme.warn));
        }
    }
    for s in streams {
        let hidden = Kind::ALL
            .iter()
            .any(|k| k.stream() == s.name && state.feed.hidden(*k));
        let (mark, style) = if s.failures > 0 {
            (sym.fail, theme.error)
        } else if s.last_success.is_some() {
            (sym.ok, theme.ok)
        } else {
            (sym.down, theme.dim)
        };
        let name = short_name(s.name);
        if hidden {
            parts.push((1, format!("{name} hidden"), theme.dim));
        } else {
            // A failing stream is the last thing to leave the line.
            let rank = if s.failures > 0 { 0 } else { 1 };
            parts.push((rank, format!("{name} {mark} {}", s.delivered), style));
        }
    }
    if let Some((used, limit)) = streams.iter().find_map(|s| s.budget) {
        parts.push((3, format!("reports budget {used}/{limit}"), theme.dim));
    }
    let sep = sym.separator.chars().count();
    let fits = |parts: &[(u8, String, Style)]| {
        let text: usize = parts.iter().map(|(_, t, _)| t.chars().count()).sum();
        text + sep * parts.len().saturating_sub(1) <= width
    };
    for drop in (1..=4).rev() {
        if fits(&parts) {
            break;
        }
        parts.retain(|(rank, ..)| *rank < drop);
    }
    let mut spans = Vec::new();
    for (i, (_, text, style)) in parts.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sym.separator, theme.dim));
        }
        spans.push(Span::styled(text, style));
    }
    Line::from(spans)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Time,
    Kind,
    Who,
    App,
    Resource,
    Ip,
    Where,
    Asn,
    Client,
    Mfa,
    Access,
    Result,
    Risk,
    Flags,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Time => "time (UTC)",
            Column::Kind => "type",
            Column::Who => "who",
            Column::App => "app",
            Column::Resource => "resource",
            Column::Ip => "ip",
            Column::Where => "where",
            Column::Asn => "asn",
            Column::Client => "client",
            Column::Mfa => "auth",
            Column::Access => "ca",
            Column::Result => "result",
            Column::Risk => "risk",
            Column::Flags => "",
        }
    }

    /// The pivot cell this column shows, if any.
    fn cell(self) -> Option<Cell> {
        match self {
            Column::Who => Some(Cell::User),
            Column::App => Some(Cell::App),
            Column::Ip => Some(Cell::Ip),
            Column::Where => Some(Cell::Country),
            _ => None,
        }
    }
}

/// Columns and their widths for a pane `width` columns wide: more detail
/// where there is room; the text columns share what is left.
fn columns(width: u16) -> Vec<(Column, u16)> {
    use Column::*;
    type Widths = Vec<(Column, u16)>;
    let (fixed, shares): (Widths, Widths) = if width >= 150 {
        (
            vec![
                (Time, 14),
                (Kind, 6),
                (Ip, 15),
                (Asn, 7),
                (Mfa, 5),
                (Access, 4),
                (Result, 7),
                (Risk, 6),
                (Flags, 4),
            ],
            vec![(Who, 4), (App, 3), (Resource, 3), (Where, 2), (Client, 2)],
        )
    } else if width >= 100 {
        (
            vec![
                (Time, 14),
                (Kind, 6),
                (Ip, 15),
                (Mfa, 5),
                (Result, 7),
                (Flags, 4),
            ],
            vec![(Who, 3), (App, 2), (Where, 1)],
        )
    } else {
        (
            vec![(Time, 8), (Kind, 6), (Ip, 15), (Result, 7), (Flags, 4)],
            vec![(Who, 3), (App, 2)],
        )
    };
    let count = (fixed.len() + shares.len()) as u16;
    let taken: u16 = fixed.iter().map(|(_, w)| w).sum::<u16>() + count - 1;
    let free = width.saturating_sub(taken);
    let total: u16 = shares.iter().map(|(_, s)| s).sum();
    let mut widths: Vec<(Column, u16)> = fixed;
    let mut given = 0;
    for (i, (column, share)) in shares.iter().enumerate() {
        let w = if i + 1 == shares.len() {
            free - given
        } else {
            free * share / total
        };
        given += w;
        widths.push((*column, w));
    }
    // Shown in reading order, not in the order widths were worked out.
    let place = [
        Time, Kind, Who, App, Resource, Ip, Where, Asn, Client, Mfa, Access, Result, Risk, Flags,
    ];
    widths.sort_by_key(|(c, _)| place.iter().position(|p| p == c));
    widths
}

fn draw_table(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let visible = usize::from(area.height.saturating_sub(1));
    if visible == 0 {
        return;
    }
    let selected = state.pane(PaneId::SignIns).selected;
    // Keep the selection on screen without remembering a scroll offset.
    let offset = (selected + 1).saturating_sub(visible);
    let columns = columns(area.width);
    let wide = area.width >= 100;
    let cursor = focused.then_some(state.feed_view.cell);
    let rows = (offset..offset + visible)
        .map_while(|position| state.feed.get(position).map(|row| (position, row)))
        .map(|(position, row)| {
            let chosen = position == selected;
            let style = if chosen {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            let emergency = state
                .plan
                .is_emergency(row.text(row.row.principal).as_str());
            Row::new(columns.iter().map(|(c, w)| {
                let drawn = cell(row, *c, usize::from(*w), wide, emergency, theme);
                // The pivot cell of the selected row is underlined.
                if chosen && c.cell().is_some() && c.cell() == cursor {
                    drawn.style(Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD))
                } else {
                    drawn
                }
            }))
            .style(style)
        });
    let header = Row::new(columns.iter().map(|(c, _)| {
        let name = if *c == Column::Time && !wide {
            "time"
        } else {
            c.header()
        };
        TableCell::from(Span::styled(name, theme.dim))
    }));
    let widths = columns.iter().map(|(_, w)| Constraint::Length(*w));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

fn cell<'a>(
    row: RowRef<'a>,
    column: Column,
    width: usize,
    wide: bool,
    emergency: bool,
    theme: &Theme,
) -> TableCell<'a> {
    let text = |sym| {
        TableCell::from(Line::from(super::untrusted(
            row.text(sym),
            theme.text,
            theme,
            width,
        )))
    };
    let r = row.row;
    match column {
        Column::Time => {
            let format = if wide { "%m-%d %H:%M:%S" } else { "%H:%M:%S" };
            TableCell::from(r.time().strftime(format).to_string())
        }
        Column::Kind => TableCell::from(r.kind.short()),
        Column::Who => text(r.principal),
        Column::App => text(r.app),
        Column::Resource => text(r.resource),
        Column::Ip => text(r.ip),
        Column::Where => {
            let (country, city) = (row.text(r.country), row.text(r.city));
            if city.is_empty() {
                text(r.country)
            } else {
                let place = crate::model::SafeText::new(&format!("{country} {city}"));
                TableCell::from(Line::from(
                    super::untrusted(&place, theme.text, theme, width)
                        .into_iter()
                        .map(|s| Span::styled(s.content.into_owned(), s.style))
                        .collect::<Vec<_>>(),
                ))
            }
        }
        Column::Asn if r.asn == 0 => TableCell::from(""),
        Column::Asn => TableCell::from(format!("AS{}", r.asn)),
        Column::Client => text(r.client),
        // A claim is every sign-in where AD FS does MFA: plain text; the
        // forged ones are flagged by their findings.
        Column::Mfa => TableCell::from(r.mfa.label()),
        Column::Access => match r.access {
            Access::Failure => TableCell::from(Span::styled("FAIL", theme.error)),
            other => TableCell::from(Span::styled(other.label(), theme.dim)),
        },
        Column::Result if r.failed() => {
            TableCell::from(Span::styled(r.error_code.to_string(), theme.error))
        }
        Column::Result => TableCell::from(Span::styled("ok", theme.ok)),
        Column::Risk if r.risky() => TableCell::from(Span::styled(r.risk.label(), theme.error)),
        Column::Risk => TableCell::from(Span::styled(r.risk.label(), theme.dim)),
        // Readable without colour: F evidence of a finding (above
        // informational), R risky, M MFA by a claim in the token, L legacy
        // protocol, E an emergency account.
        Column::Flags => {
            let flagged = row.flagged();
            let flags = format!(
                "{}{}{}{}{}",
                if flagged { "F" } else { "" },
                if r.risky() { "R" } else { "" },
                if r.mfa == Mfa::Claim { "M" } else { "" },
                if r.legacy { "L" } else { "" },
                if emergency { "E" } else { "" },
            );
            let style = if flagged { theme.error } else { theme.warn };
            TableCell::from(Span::styled(flags, style))
        }
    }
}

/// What the collapsed pane says.
pub fn summary(state: &AppState) -> String {
    let streams = &state.session.streams;
    let failing = streams.iter().filter(|s| s.failures > 0).count();
    let condition = match &state.session.connection {
        Connection::NotConfigured => "no stream".to_owned(),
        Connection::Connecting => "connecting".to_owned(),
        Connection::SignIn { .. } => "waiting for sign-in".to_owned(),
        Connection::Failed(_) => "cannot connect".to_owned(),
        Connection::Connected if failing > 0 => {
            format!("{failing} of {} streams failing", streams.len())
        }
        Connection::Connected => "live".to_owned(),
    };
    if state.feed.is_empty() {
        condition
    } else {
        format!("{} sign-ins, {condition}", state.feed.total())
    }
}
