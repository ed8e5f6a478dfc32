//! The live sign-in feed: a line of stream health, then the newest
//! sign-ins first. Only the rows on screen are laid out.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::pane;
use crate::app::feed::{Connection, SignInRow, StreamStatus};
use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::SignIns, focused);
    if state.feed.is_empty() {
        return draw_waiting(frame, area, block, state, theme);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [health, table] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(health_line(&state.session.streams, theme)),
        health,
    );
    draw_table(frame, table, state, theme);
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

/// `user ✓ 1203 · sp ✗ 0 · … · reports budget 3/5`.
fn health_line<'a>(streams: &'a [StreamStatus], theme: &Theme) -> Line<'a> {
    let sym = theme.symbols;
    let mut spans = Vec::new();
    for (i, s) in streams.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sym.separator, theme.dim));
        }
        let (mark, style) = if s.failures > 0 {
            (sym.fail, theme.error)
        } else if s.last_success.is_some() {
            (sym.ok, theme.ok)
        } else {
            (sym.down, theme.dim)
        };
        spans.push(Span::styled(
            format!("{} {mark} {}", short_name(s.name), s.delivered),
            style,
        ));
    }
    if let Some((used, limit)) = streams.iter().find_map(|s| s.budget) {
        spans.push(Span::styled(sym.separator, theme.dim));
        spans.push(Span::styled(
            format!("reports budget {used}/{limit}"),
            theme.dim,
        ));
    }
    Line::from(spans)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Time,
    Kind,
    Who,
    App,
    Ip,
    Where,
    Result,
    Flags,
}

impl Column {
    fn header(self) -> &'static str {
        match self {
            Column::Time => "time",
            Column::Kind => "type",
            Column::Who => "who",
            Column::App => "app",
            Column::Ip => "ip",
            Column::Where => "where",
            Column::Result => "result",
            Column::Flags => "",
        }
    }
}

/// Columns and their widths for a pane `width` columns wide: the date and
/// location only where there is room; the rest shared 3:2:1 by who, app
/// and where.
fn columns(width: u16) -> Vec<(Column, u16)> {
    let wide = width >= 100;
    let mut fixed = vec![
        (Column::Time, if wide { 14 } else { 8 }),
        (Column::Kind, 6),
        (Column::Ip, 15),
        (Column::Result, 6),
        (Column::Flags, 2),
    ];
    let shares: &[(Column, u16)] = if wide {
        &[(Column::Who, 3), (Column::App, 2), (Column::Where, 1)]
    } else {
        &[(Column::Who, 3), (Column::App, 2)]
    };
    let count = (fixed.len() + shares.len()) as u16;
    let taken: u16 = fixed.iter().map(|(_, w)| w).sum::<u16>() + count - 1;
    let free = width.saturating_sub(taken);
    let total: u16 = shares.iter().map(|(_, s)| s).sum();
    let mut out: Vec<(Column, u16)> = Vec::with_capacity(count as usize);
    out.extend(fixed.drain(..2));
    let mut given = 0;
    for (i, (column, share)) in shares.iter().enumerate() {
        let w = if i + 1 == shares.len() {
            free - given
        } else {
            free * share / total
        };
        given += w;
        out.push((*column, w));
        if *column == Column::App {
            out.push(fixed.remove(0));
        }
    }
    out.extend(fixed);
    out
}

fn draw_table(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let visible = usize::from(area.height.saturating_sub(1));
    if visible == 0 {
        return;
    }
    let selected = state.pane(PaneId::SignIns).selected;
    // Keep the selection on screen without remembering a scroll offset.
    let offset = (selected + 1).saturating_sub(visible);
    let columns = columns(area.width);
    let wide = area.width >= 100;
    let rows = state
        .feed
        .iter()
        .skip(offset)
        .take(visible)
        .enumerate()
        .map(|(i, row)| {
            let style = if offset + i == selected {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Row::new(
                columns
                    .iter()
                    .map(|(c, w)| cell(row, *c, usize::from(*w), wide, theme)),
            )
            .style(style)
        });
    let header = Row::new(
        columns
            .iter()
            .map(|(c, _)| Cell::from(Span::styled(c.header(), theme.dim))),
    );
    let widths = columns.iter().map(|(_, w)| Constraint::Length(*w));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

fn cell<'a>(
    row: &'a SignInRow,
    column: Column,
    width: usize,
    wide: bool,
    theme: &Theme,
) -> Cell<'a> {
    let text = |t| Cell::from(Line::from(super::untrusted(t, theme.text, theme, width)));
    match column {
        Column::Time => {
            let format = if wide { "%m-%d %H:%M:%S" } else { "%H:%M:%S" };
            Cell::from(row.time.strftime(format).to_string())
        }
        Column::Kind => Cell::from(row.kind.short()),
        Column::Who => text(&row.principal),
        Column::App => text(&row.app),
        Column::Ip => text(&row.ip),
        Column::Where => text(&row.location),
        Column::Result if row.failed() => {
            Cell::from(Span::styled(row.error_code.to_string(), theme.error))
        }
        Column::Result => Cell::from(Span::styled("ok", theme.ok)),
        // Readable without colour: R risky, M MFA satisfied by a claim.
        Column::Flags => Cell::from(Span::styled(
            format!(
                "{}{}",
                if row.risky() { "R" } else { "" },
                if row.mfa_by_claim { "M" } else { "" }
            ),
            theme.warn,
        )),
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
        format!("{} sign-ins, {condition}", state.feed.len())
    }
}
