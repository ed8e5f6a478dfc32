//! The title line (what this console is looking at, which mode) and the
//! status bar (tenant, stream health, case lock state, UTC clock, messages).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Action;
use crate::app::feed::Connection;
use crate::app::keymap::Layer;
use crate::app::state::{AppState, CaseLock, Mode, PromptKind, ToastLevel};
use crate::app::theme::Theme;

pub fn draw_title(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let sep = theme.symbols.separator;
    let mut left = vec![Span::raw(" warroom")];
    if let Some(profile) = &state.session.profile {
        left.push(Span::raw(sep));
        left.push(Span::raw("profile "));
        left.extend(super::untrusted(profile, Style::new(), theme, 40));
    }
    let mode = match &state.mode {
        Mode::Normal => "NORMAL",
        Mode::Help { .. } => "HELP",
        Mode::Prompt(p) if p.kind == PromptKind::Command => "COMMAND",
        Mode::Prompt(p) if matches!(p.kind, PromptKind::Triage | PromptKind::Suppress) => "TRIAGE",
        Mode::Prompt(p) if matches!(p.kind, PromptKind::ItemState | PromptKind::ItemAdd) => {
            "CHECKLIST"
        }
        Mode::Prompt(p) if p.kind == PromptKind::ConfirmAction => "CONFIRM",
        Mode::Prompt(_) => "FILTER",
        Mode::ConfirmQuit | Mode::ConfirmDiscard(_) | Mode::ShowSecret(_) => "CONFIRM",
        Mode::Editor(_) => "NOTE",
        Mode::Detail(_) => "DETAIL",
        Mode::Timeline(_) => "TIMELINE",
    };
    let right = if state.zoomed {
        format!("ZOOM {mode} ")
    } else {
        format!("{mode} ")
    };
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(right.len() as u16)])
        .areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.title_bar), l);
    frame.render_widget(Paragraph::new(right).style(theme.title_bar), r);
}

pub fn draw_status(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let sep = theme.symbols.separator;
    let clock = state.now.strftime("%H:%M:%SZ").to_string();
    let help = state
        .keymap
        .hint(Layer::Normal, Action::OpenHelp)
        .map(|k| format!("{sep}{k} help "))
        .unwrap_or_else(|| " ".to_owned());
    // The plan's phase and progress where there is room.
    let plan = if area.width >= 150 {
        format!("plan {}{sep}", super::remediation::summary(state))
    } else {
        String::new()
    };
    let right = format!("{plan}{clock}{help}");

    let mut right_width = right.chars().count() as u16;
    let left = match &state.toast {
        Some(toast) => {
            let style = match toast.level {
                ToastLevel::Info => theme.status_bar,
                ToastLevel::Error => theme.error,
            };
            // A message longer than the room beside the clock takes the
            // whole bar (it goes away by itself), then ends in an ellipsis.
            let text_width = unicode_width::UnicodeWidthStr::width(toast.text.as_str()) as u16;
            if text_width + 1 > area.width.saturating_sub(right_width) {
                right_width = 0;
            }
            let mut spans = vec![Span::raw(" ")];
            spans.extend(super::untrusted(
                &toast.text,
                style,
                theme,
                usize::from(area.width.saturating_sub(right_width + 1)),
            ));
            Line::from(spans)
        }
        None => session_line(state, theme, area.width.saturating_sub(right_width)),
    };
    let [l, r] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width)]).areas(area);
    frame.render_widget(Paragraph::new(left).style(theme.status_bar), l);
    frame.render_widget(Paragraph::new(right).style(theme.status_bar), r);
}

/// Tenant, stream and case. The stream and case states are short and always
/// shown; the tenant name gets what room is left and is cut with an ellipsis.
fn session_line<'a>(state: &'a AppState, theme: &Theme, width: u16) -> Line<'a> {
    let sym = theme.symbols;
    let case = match &state.session.case {
        CaseLock::NoCase => Span::raw("no case"),
        CaseLock::Locked(name) => Span::styled(format!("case {name} locked"), theme.warn),
        CaseLock::Unlocked(name) => Span::raw(format!("case {name} open")),
    };
    // The stream's trouble gets what is left after the case and a
    // shortened tenant name.
    let stream_room = usize::from(width)
        .saturating_sub(
            " tenant ".len() + 12 + 2 * sym.separator.chars().count() + case.width() + 1,
        )
        .max(12);
    let stream = stream_span(state, theme, stream_room);
    let fixed =
        " tenant ".len() + 2 * sym.separator.chars().count() + stream.width() + case.width() + 1;
    let room = usize::from(width).saturating_sub(fixed).max(8);
    let mut spans = vec![Span::raw(" tenant ")];
    match &state.session.tenant {
        Some(tenant) => spans.extend(super::untrusted(tenant, Style::new(), theme, room)),
        None => spans.push(Span::raw("(none)")),
    }
    spans.extend([
        Span::raw(sym.separator),
        stream,
        Span::raw(sym.separator),
        case,
    ]);
    Line::from(spans)
}

/// The connection and the streams in a few words: all well, or the first
/// trouble in one line a responder can act on.
fn stream_span(state: &AppState, theme: &Theme, room: usize) -> Span<'static> {
    let sym = theme.symbols;
    let cut = |text: String| super::truncate(&text, room.min(72), sym.ellipsis).into_owned();
    match &state.session.connection {
        Connection::NotConfigured => Span::raw(format!("{} no stream", sym.down)),
        Connection::Connecting => Span::styled(format!("{} connecting", sym.live), theme.warn),
        Connection::SignIn { code, .. } => Span::styled(
            cut(format!("{} sign in with code {code}", sym.live)),
            theme.warn,
        ),
        Connection::Failed(reason) => {
            Span::styled(cut(format!("{} {reason}", sym.fail)), theme.error)
        }
        Connection::Connected => {
            let streams = &state.session.streams;
            let live = streams.iter().filter(|s| s.healthy()).count();
            if streams.is_empty() {
                return Span::styled(format!("{} connected", sym.live), theme.ok);
            }
            match streams.iter().find(|s| s.failures > 0) {
                Some(failing) => Span::styled(
                    cut(format!(
                        "{} {live}/{} live; {}: {}",
                        sym.fail,
                        streams.len(),
                        failing.name,
                        failing
                            .last_error
                            .as_ref()
                            .map_or("failing".to_owned(), |e| e.to_string())
                    )),
                    theme.error,
                ),
                None => {
                    // How stale the feed is: the stream heard from longest ago.
                    let oldest = streams.iter().filter_map(|s| s.last_success).min();
                    let age = oldest.map_or(String::new(), |t| {
                        let secs = state.now.as_second() - t.as_second();
                        format!(" {} ago", short_duration(secs))
                    });
                    Span::styled(
                        format!("{} live {live}/{}{age}", sym.live, streams.len()),
                        theme.ok,
                    )
                }
            }
        }
    }
}

/// `42s`, `7m`, `3h`, `2d`.
fn short_duration(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7_200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3_600),
        s => format!("{}d", s / 86_400),
    }
}
