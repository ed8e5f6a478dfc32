//! A sign-in's detail over the console: every field the feed keeps, the
//! findings it is evidence for, and the whole record as the tenant returns
//! it, pretty-printed and scrollable. Every tenant string is drawn escaped.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout;
use crate::app::Action;
use crate::app::feed::{Mfa, RowRef};
use crate::app::keymap::Layer;
use crate::app::state::{AppState, Detail, Record};
use crate::app::theme::Theme;
use crate::model::SafeText;

/// Width of the field names.
const LABEL: usize = 10;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, detail: &Detail) {
    // A margin where there is room to spare; the whole body otherwise.
    let (margin_x, margin_y) = if area.width >= 100 { (4, 2) } else { (0, 0) };
    let rect = layout::centered(
        area,
        area.width.saturating_sub(margin_x),
        area.height.saturating_sub(margin_y),
    );
    let width = usize::from(rect.width.saturating_sub(2));
    let value_width = width.saturating_sub(LABEL + 1).max(8);
    let mut lines: Vec<Line> = Vec::new();
    // A handle can name another row once old rows have left the feed.
    let row = state
        .feed
        .by_handle(detail.handle)
        .filter(|r| r.id() == detail.id);
    match row {
        Some(row) => fields(&mut lines, row, state, theme, value_width),
        None => lines.push(Line::styled(
            "This sign-in has left the feed (older rows leave past its capacity).",
            theme.dim,
        )),
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Whole record, as the tenant returns it",
        theme.title,
    ));
    match &detail.record {
        Record::Loading => lines.push(Line::styled("reading it from the tenant…", theme.dim)),
        Record::Failed(reason) => {
            let mut spans = vec![Span::styled("not read: ", theme.error)];
            spans.extend(super::untrusted(reason, theme.text, theme, value_width));
            lines.push(Line::from(spans));
        }
        Record::Loaded(json) => {
            lines.extend(
                json.iter()
                    .map(|l| Line::from(super::untrusted(l, theme.text, theme, width))),
            );
        }
    }
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Detail, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    let keys = format!(
        " {} closes · {} copies the record · {} filters on the user ",
        hint(Action::Back),
        hint(Action::Copy),
        hint(Action::Pivot)
    );
    let block = Block::bordered()
        .border_set(theme.border_set_focused)
        .border_style(theme.border_focused)
        .title(Line::styled(" Sign-in detail ", theme.title_focused))
        .title_bottom(Line::styled(keys, theme.dim));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .style(theme.overlay)
            .wrap(Wrap { trim: false })
            .scroll((detail.scroll, 0)),
        rect,
    );
}

fn fields<'a>(
    lines: &mut Vec<Line<'a>>,
    row: RowRef<'a>,
    state: &'a AppState,
    theme: &Theme,
    width: usize,
) {
    let r = row.row;
    let label = |name: &str| Span::styled(format!("{name:<LABEL$} "), theme.dim);
    let mut plain = |name: &str, value: String| {
        lines.push(Line::from(vec![
            label(name),
            Span::styled(value, theme.text),
        ]));
    };
    plain(
        "time",
        r.time().strftime("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
    );
    plain("type", r.kind.stream().to_owned());
    let tenant = [
        ("event id", SafeText::new(row.id())),
        ("who", row.text(r.principal).clone()),
        ("app", row.text(r.app).clone()),
        ("resource", row.text(r.resource).clone()),
        ("ip", row.text(r.ip).clone()),
        ("country", row.text(r.country).clone()),
        ("city", row.text(r.city).clone()),
        ("client", row.text(r.client).clone()),
    ];
    for (name, value) in tenant {
        let mut spans = vec![label(name)];
        spans.extend(
            super::untrusted(&value, theme.text, theme, width)
                .into_iter()
                .map(|s| Span::styled(s.content.into_owned(), s.style)),
        );
        lines.push(Line::from(spans));
    }
    let mut plain = |name: &str, value: String, style| {
        lines.push(Line::from(vec![label(name), Span::styled(value, style)]));
    };
    if r.asn != 0 {
        plain("network", format!("AS{}", r.asn), theme.text);
    }
    let legacy = if r.legacy {
        "legacy protocol: no MFA possible"
    } else {
        "modern authentication"
    };
    plain(
        "protocol",
        legacy.to_owned(),
        if r.legacy { theme.warn } else { theme.text },
    );
    let method = row.text(r.mfa_method);
    let auth = match r.mfa {
        Mfa::Claim => {
            "MFA satisfied by a claim in the token: the federation server's word (a forged SAML token shows the same)".to_owned()
        }
        Mfa::MultiFactor if !method.is_empty() => format!("multi-factor ({method})"),
        Mfa::MultiFactor => "multi-factor".to_owned(),
        Mfa::SingleFactor => "single factor".to_owned(),
        Mfa::Unknown => "not reported".to_owned(),
    };
    plain("auth", auth, theme.text);
    let access = match r.access.label() {
        "" => "not reported",
        "none" => "no policy applied",
        "pass" => "passed",
        _ => "failed",
    };
    plain("ca", access.to_owned(), theme.text);
    let (result, style) = if r.failed() {
        (format!("failed, error {}", r.error_code), theme.error)
    } else {
        ("succeeded".to_owned(), theme.ok)
    };
    plain("result", result, style);
    let risk = match r.risk.label() {
        "" => "not reported",
        other => other,
    };
    plain(
        "risk",
        risk.to_owned(),
        if r.risky() { theme.error } else { theme.text },
    );
    let findings = row.findings();
    if findings.is_empty() {
        plain("findings", "evidence for no finding".to_owned(), theme.dim);
    }
    for (i, id) in findings.iter().enumerate() {
        let name = if i == 0 { "findings" } else { "" };
        let title = state.findings.iter().find(|f| &f.id == id).map_or_else(
            || id.clone(),
            |f| format!("{} {} ({id})", f.severity.label().trim(), f.title),
        );
        plain(name, title, theme.error);
    }
}
