//! Draw functions, one file per pane. They read `AppState` and never block,
//! touch the network or disk, or mutate state.

mod act;
mod bars;
mod confirm;
mod detail;
mod findings;
pub(crate) mod help;
pub mod layout;
mod notes;
mod pane;
mod prompt;
mod remediation;
mod signins;
mod timeline;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::style::Style;
use ratatui::text::Span;
use unicode_width::UnicodeWidthChar;

use super::state::{AppState, Mode, PaneId};
use super::theme::Theme;
use crate::model::SafeText;
use layout::PaneShape;

pub fn draw(frame: &mut Frame, state: &AppState, theme: &Theme) {
    let area = frame.area();
    let prompt = match &state.mode {
        Mode::Prompt(prompt) => Some(prompt),
        Mode::Normal
        | Mode::Help { .. }
        | Mode::ConfirmQuit
        | Mode::Editor(_)
        | Mode::Detail(_)
        | Mode::Timeline(_)
        | Mode::ShowSecret(_)
        | Mode::ConfirmDiscard(_) => None,
    };
    // The completions row also carries what is wrong with a filter.
    let completions = prompt.is_some_and(|p| p.completion.is_some() || p.problem.is_some());
    let screen = layout::screen(area, prompt.is_some(), completions);

    bars::draw_title(frame, screen.title, state, theme);
    for (pane, rect, shape) in layout::panes(screen.body, state.focus, state.zoomed) {
        let focused = pane == state.focus;
        match shape {
            PaneShape::Collapsed => {
                pane::draw_collapsed(frame, rect, state, theme, pane, &summary(state, pane))
            }
            PaneShape::Open => match pane {
                PaneId::Findings => findings::draw(frame, rect, state, theme, focused),
                PaneId::SignIns => signins::draw(frame, rect, state, theme, focused),
                PaneId::Remediation => remediation::draw(frame, rect, state, theme, focused),
                PaneId::Notes => notes::draw(frame, rect, state, theme, focused),
            },
        }
    }
    // An action being confirmed shows what it will do over the panes.
    if let (Some(p), Some(pending)) = (prompt, &state.pending_action)
        && p.kind == super::state::PromptKind::ConfirmAction
    {
        act::draw(frame, screen.body, pending, theme);
    }
    if let (Some(prompt), Some(rect)) = (prompt, screen.prompt) {
        prompt::draw(frame, rect, screen.completions, prompt, state, theme);
    }
    bars::draw_status(frame, screen.status, state, theme);

    match &state.mode {
        Mode::Help { scroll } => help::draw(frame, area, state, theme, *scroll),
        Mode::ConfirmQuit => confirm::draw_quit(frame, area, state, theme),
        Mode::ConfirmDiscard(_) => confirm::draw_discard(frame, area, state, theme),
        Mode::Detail(detail) => detail::draw(frame, screen.body, state, theme, detail),
        Mode::Timeline(view) => timeline::draw(frame, screen.body, state, theme, view),
        Mode::ShowSecret(shown) => confirm::draw_secret(frame, area, theme, &shown.0, &shown.1),
        Mode::Normal | Mode::Prompt(_) | Mode::Editor(_) => {}
    }
    if theme.ascii {
        keep_ascii(frame.buffer_mut());
    }
}

/// ASCII mode promises a screen of ASCII: whatever a pane or a tenant
/// string put on it that is not is shown as the nearest ASCII character.
fn keep_ascii(buffer: &mut ratatui::buffer::Buffer) {
    for cell in buffer.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() {
            continue;
        }
        let plain = match symbol.chars().next() {
            Some('·' | '‖' | '│' | '┃') => "|",
            Some('…') => "~",
            Some('→' | '▸') => ">",
            Some('●' | '•') => "*",
            Some('✓') => "+",
            Some('✗' | '×') => "x",
            Some('█' | '▇' | '▆') => "#",
            Some('▅' | '▄' | '▃') => "=",
            Some('▂' | '▁' | '░') => ".",
            Some('─' | '━') => "-",
            _ => "?",
        };
        cell.set_symbol(plain);
    }
}

/// [`untrusted`] for text sanitised on the spot: the spans own their text.
pub fn untrusted_owned(raw: &str, style: Style, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let text = SafeText::new(raw);
    untrusted(&text, style, theme, width)
        .into_iter()
        .map(|s| Span::styled(s.content.into_owned(), s.style))
        .collect()
}

/// Words laid into lines of at most `width` characters (a longer word
/// gets a line of its own).
fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_owned()),
        }
    }
    lines
}

/// The one-line summary a collapsed pane shows.
fn summary(state: &AppState, pane: PaneId) -> Cow<'static, str> {
    match pane {
        PaneId::Findings => findings::summary(state).into(),
        PaneId::SignIns => signins::summary(state).into(),
        PaneId::Remediation => remediation::summary(state).into(),
        PaneId::Notes => notes::summary(state).into(),
    }
}

/// Spans for a tenant- or file-supplied string, at most `width` columns:
/// the escapes `SafeText` wrote are drawn in the theme's escape style, so
/// they cannot be confused with look-alike text.
pub fn untrusted<'a>(
    text: &'a SafeText,
    style: Style,
    theme: &Theme,
    width: usize,
) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let mut left = width;
    let segments: Vec<(&str, bool)> = text.segments().collect();
    let total: usize = segments
        .iter()
        .map(|(run, _)| unicode_width::UnicodeWidthStr::width(*run))
        .sum();
    // When the text does not fit, one column is kept for the ellipsis.
    if total > width {
        left = width.saturating_sub(1);
    }
    for (run, escape) in segments {
        let run_style = if escape { theme.escape } else { style };
        let cut = truncate(run, left, "");
        let used = unicode_width::UnicodeWidthStr::width(cut.as_ref());
        let was_cut = cut.len() < run.len();
        spans.push(Span::styled(cut, run_style));
        left -= used.min(left);
        if was_cut {
            break;
        }
    }
    if total > width && width > 0 {
        spans.push(Span::styled(theme.symbols.ellipsis, theme.dim));
    }
    spans
}

/// Cuts `text` to at most `width` terminal columns, ending with `ellipsis`
/// when something was cut.
pub fn truncate<'a>(text: &'a str, width: usize, ellipsis: &str) -> Cow<'a, str> {
    if unicode_width::UnicodeWidthStr::width(text) <= width {
        return Cow::Borrowed(text);
    }
    let budget = width.saturating_sub(unicode_width::UnicodeWidthStr::width(ellipsis));
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > budget {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(ellipsis);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncates_by_columns() {
        assert_eq!(truncate("contoso", 10, "…"), "contoso");
        assert_eq!(truncate("contoso.onmicrosoft.com", 10, "…"), "contoso.o…");
        assert_eq!(truncate("日本語テナント", 7, "..."), "日本...");
    }
}
