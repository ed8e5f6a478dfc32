//! The title line (what this console is looking at, which mode) and the
//! status bar (tenant, stream health, case lock state, UTC clock, messages).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Action;
use crate::app::keymap::Layer;
use crate::app::state::{AppState, CaseLock, Mode, PromptKind, StreamHealth, ToastLevel};
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
        Mode::Prompt(_) => "FILTER",
        Mode::ConfirmQuit => "CONFIRM",
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
    let right = format!("{clock}{help}");

    let right_width = right.chars().count() as u16;
    let left = match &state.toast {
        Some(toast) => {
            let style = match toast.level {
                ToastLevel::Info => theme.status_bar,
                ToastLevel::Error => theme.error,
            };
            let mut spans = vec![Span::raw(" ")];
            spans.extend(super::untrusted(
                &toast.text,
                style,
                theme,
                usize::from(area.width),
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
    let stream = match &state.session.stream {
        StreamHealth::NotConnected => Span::raw(format!("{} no stream", sym.down)),
        StreamHealth::Live { per_minute } => {
            Span::styled(format!("{} live {per_minute}/min", sym.live), theme.ok)
        }
        StreamHealth::Throttled { retry_in_secs } => Span::styled(
            format!("{} throttled {retry_in_secs}s", sym.live),
            theme.warn,
        ),
        StreamHealth::Failed(reason) => {
            Span::styled(format!("{} stream failed: {reason}", sym.fail), theme.error)
        }
    };
    let case = match &state.session.case {
        CaseLock::NoCase => Span::raw("no case"),
        CaseLock::Locked(name) => Span::styled(format!("case {name} locked"), theme.warn),
        CaseLock::Unlocked(name) => Span::raw(format!("case {name} open")),
    };
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
