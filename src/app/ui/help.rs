//! The help overlay, built from the keymap so it always matches dispatch,
//! then a legend of what the panes' marks and the filters' fields mean.
//! Long descriptions wrap under their own column, never cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::layout;
use crate::app::Action;
use crate::app::keymap::{HelpRow, Keymap, Layer};
use crate::app::state::AppState;
use crate::app::theme::Theme;

/// Width of the keys column.
const KEYS_WIDTH: usize = 26;

/// What the marks on screen mean, and what the filters read: (term, what
/// it means), under the legend's headings.
const LEGEND: &[(&str, &[(&str, &str)])] = &[
    (
        "Findings: marks",
        &[
            ("CRIT HIGH MED LOW INFO", "severity"),
            (
                "NEW INV CONF BNGN FP",
                "the team's verdict: new, investigating, confirmed, benign, false positive",
            ),
            (
                "SUPP",
                "suppressed (shown only when the filter says `suppressed`)",
            ),
            ("×N", "how many events the finding rests on"),
            (
                "snap",
                "from a directory snapshot (the posture review), not from events",
            ),
            (
                "[emergency]",
                "an emergency (break-glass) account: the plan does not lock it out on its own",
            ),
        ],
    ),
    (
        "Findings: filter",
        &[
            (
                "words",
                "each must appear in the severity, verdict, title, rule, explanation, entities or id; -word must not",
            ),
            ("suppressed", "shows suppressed findings too"),
        ],
    ),
    (
        "Sign-ins: flags",
        &[
            ("F", "evidence of a finding (above informational)"),
            ("R", "risky (Identity Protection)"),
            (
                "M",
                "MFA by a claim in the token (the federation server says MFA was done)",
            ),
            ("L", "legacy protocol: no MFA possible"),
            ("E", "an emergency (break-glass) account"),
            ("claim", "in the MFA column: the same as M"),
        ],
    ),
    (
        "Sign-ins: filter",
        &[
            (
                "word",
                "anywhere in the row; -word excludes; \"two words\" quotes",
            ),
            ("user: app: resource:", "text in that column"),
            (
                "city: client: country:",
                "text in that column (country: a code)",
            ),
            ("ip:", "an address or a network (ip:203.0.113.0/24)"),
            ("asn:", "a network number (asn:64500)"),
            ("status:", "ok or fail; error: an error code"),
            ("risk:", "any, none, low, medium, high"),
            ("mfa:", "claim, yes, no"),
            ("type:", "user, nonint, sp, mi"),
            ("ca:", "conditional access: pass, fail, none"),
            ("legacy:", "yes or no"),
            (
                "since: until:",
                "an age (30m, 2h, 7d), a date, or a time (2026-11-25T10:00Z)",
            ),
            ("finding:", "yes or no: evidence of a finding"),
            ("id:", "a sign-in's id"),
        ],
    ),
];

/// One line of the help, wrapped, before styling.
enum Row<'a> {
    Heading(&'a str),
    Blank,
    /// A key (or a term) and a line of what it does; continuation lines
    /// leave the left column empty.
    Pair {
        left: &'a str,
        right: String,
        key: bool,
    },
}

/// Every line of the help for an overlay `width` columns wide inside: the
/// keymap's bindings, then the legend.
fn rows(keymap: &Keymap, width: usize) -> Vec<Row<'_>> {
    let room = width.saturating_sub(KEYS_WIDTH + 2).max(10);
    let mut out = Vec::new();
    for row in keymap.help_rows() {
        match row {
            HelpRow::Heading(text) => out.push(Row::Heading(text)),
            HelpRow::Blank => out.push(Row::Blank),
            HelpRow::Binding { keys, description } => pair(&mut out, keys, description, true, room),
        }
    }
    for (heading, pairs) in LEGEND {
        out.push(Row::Blank);
        out.push(Row::Heading(heading));
        for (term, text) in *pairs {
            pair(&mut out, term, text, false, room);
        }
    }
    out
}

/// A term and what it means, the meaning wrapped into `room` columns.
fn pair<'a>(out: &mut Vec<Row<'a>>, term: &'a str, text: &str, key: bool, room: usize) {
    for (i, right) in super::wrap_words(text, room).into_iter().enumerate() {
        let left = if i == 0 { term } else { "" };
        out.push(Row::Pair { left, right, key });
    }
}

/// How many lines the help has on a screen `columns` wide (for scrolling).
pub fn line_count(keymap: &Keymap, columns: u16) -> usize {
    let inner = layout::help_area(Rect::new(0, 0, columns, 10))
        .width
        .saturating_sub(2);
    rows(keymap, usize::from(inner)).len()
}

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, scroll: u16) {
    let rect = layout::help_area(area);
    let heading = theme
        .title
        .add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    let all: Vec<Line> = rows(&state.keymap, usize::from(rect.width.saturating_sub(2)))
        .into_iter()
        .map(|row| match row {
            Row::Heading(text) => Line::styled(text, heading),
            Row::Blank => Line::raw(""),
            Row::Pair { left, right, key } => {
                let style: Style = if key { theme.key } else { theme.text };
                Line::from(vec![
                    Span::styled(format!("  {left:<KEYS_WIDTH$}"), style),
                    Span::styled(right, theme.text),
                ])
            }
        })
        .collect();
    let total = all.len();
    let visible = layout::help_visible_rows(area.height);
    let shown: Vec<Line> = all
        .into_iter()
        .skip(usize::from(scroll))
        .take(visible)
        .collect();
    let hint = |action| {
        state
            .keymap
            .hint(Layer::Help, action)
            .map_or_else(|| "(unbound)".to_owned(), |k| k.to_string())
    };
    let more = if usize::from(scroll) + visible < total {
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
        .title(Line::styled(" Help: keys and marks ", theme.title_focused))
        .title_bottom(Line::styled(close, theme.dim))
        .title_bottom(Line::styled(more, theme.dim).right_aligned());
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(shown).block(block).style(theme.overlay),
        rect,
    );
}
