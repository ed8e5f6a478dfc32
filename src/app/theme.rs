//! Semantic styles and symbols. This is the only file that names a colour.
//!
//! Colours are the terminal's own ANSI palette, so they follow the user's
//! terminal theme. Every meaning also has a non-colour signal (bold, reverse,
//! dim, a label or a symbol), so the mono theme (`NO_COLOR`) reads the same.
//! ASCII mode swaps box drawing and symbols for plain characters.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;

use crate::config::ThemeName;
use crate::model::Severity;

/// Symbols that have a plain-ASCII fallback.
#[derive(Clone, Copy, Debug)]
pub struct Symbols {
    pub live: &'static str,
    pub down: &'static str,
    pub ok: &'static str,
    pub fail: &'static str,
    pub separator: &'static str,
    pub collapsed: &'static str,
    pub ellipsis: &'static str,
}

const UNICODE_SYMBOLS: Symbols = Symbols {
    live: "●",
    down: "○",
    ok: "✓",
    fail: "✗",
    separator: " · ",
    collapsed: "▸",
    ellipsis: "…",
};

const ASCII_SYMBOLS: Symbols = Symbols {
    live: "*",
    down: "o",
    ok: "ok",
    fail: "x",
    separator: " | ",
    collapsed: ">",
    ellipsis: "...",
};

/// Plain borders for terminals without box drawing.
const ASCII_BORDER: border::Set<'static> = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// The focused pane's border in ASCII mode: visible without colour.
const ASCII_BORDER_FOCUSED: border::Set<'static> = border::Set {
    top_left: "#",
    top_right: "#",
    bottom_left: "#",
    bottom_right: "#",
    vertical_left: "#",
    vertical_right: "#",
    horizontal_top: "=",
    horizontal_bottom: "=",
};

#[derive(Clone, Debug)]
pub struct Theme {
    pub name: ThemeName,
    pub ascii: bool,
    pub border: Style,
    pub border_focused: Style,
    pub title: Style,
    pub title_focused: Style,
    pub text: Style,
    pub dim: Style,
    pub key: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    pub title_bar: Style,
    pub status_bar: Style,
    pub overlay: Style,
    /// Escapes standing in for control or bidi characters in tenant text.
    pub escape: Style,
    severity: [Style; 5],
    pub symbols: Symbols,
    pub border_set: border::Set<'static>,
    pub border_set_focused: border::Set<'static>,
}

impl Theme {
    /// The theme for this terminal: `NO_COLOR` (any non-empty value, per
    /// no-color.org) forces mono whatever the config says.
    pub fn for_terminal(name: ThemeName, ascii: bool, no_color: bool) -> Self {
        let name = if no_color { ThemeName::Mono } else { name };
        let mut theme = match name {
            ThemeName::Dark => Self::dark(),
            ThemeName::Mono => Self::mono(),
        };
        if ascii {
            theme.ascii = true;
            theme.symbols = ASCII_SYMBOLS;
            theme.border_set = ASCII_BORDER;
            theme.border_set_focused = ASCII_BORDER_FOCUSED;
        }
        theme
    }

    /// True when `NO_COLOR` asks for no colour.
    pub fn no_color_requested() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }

    fn dark() -> Self {
        let bold = Modifier::BOLD;
        Self {
            name: ThemeName::Dark,
            ascii: false,
            border: Style::new().fg(Color::DarkGray),
            border_focused: Style::new().fg(Color::Cyan).add_modifier(bold),
            title: Style::new().fg(Color::Gray),
            title_focused: Style::new().fg(Color::Cyan).add_modifier(bold),
            text: Style::new(),
            dim: Style::new().fg(Color::DarkGray),
            key: Style::new().fg(Color::Yellow).add_modifier(bold),
            ok: Style::new().fg(Color::Green),
            warn: Style::new().fg(Color::Yellow),
            error: Style::new().fg(Color::LightRed).add_modifier(bold),
            title_bar: Style::new().fg(Color::Black).bg(Color::Cyan),
            status_bar: Style::new().fg(Color::White).bg(Color::DarkGray),
            overlay: Style::new(),
            escape: Style::new()
                .fg(Color::Magenta)
                .add_modifier(Modifier::REVERSED),
            severity: [
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(bold),
                Style::new().fg(Color::LightRed).add_modifier(bold),
                Style::new().fg(Color::Yellow),
                Style::new().fg(Color::Blue),
                Style::new().fg(Color::DarkGray),
            ],
            symbols: UNICODE_SYMBOLS,
            border_set: border::PLAIN,
            border_set_focused: border::THICK,
        }
    }

    fn mono() -> Self {
        let plain = Style::new();
        Self {
            name: ThemeName::Mono,
            ascii: false,
            border: plain,
            border_focused: plain.add_modifier(Modifier::BOLD),
            title: plain,
            title_focused: plain.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            text: plain,
            dim: plain.add_modifier(Modifier::DIM),
            key: plain.add_modifier(Modifier::BOLD),
            ok: plain,
            warn: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD | Modifier::REVERSED),
            title_bar: plain.add_modifier(Modifier::REVERSED),
            status_bar: plain.add_modifier(Modifier::REVERSED),
            overlay: plain,
            escape: plain.add_modifier(Modifier::REVERSED | Modifier::ITALIC),
            severity: [
                plain.add_modifier(Modifier::BOLD | Modifier::REVERSED),
                plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
                plain.add_modifier(Modifier::BOLD),
                plain,
                plain.add_modifier(Modifier::DIM),
            ],
            symbols: UNICODE_SYMBOLS,
            border_set: border::PLAIN,
            border_set_focused: border::THICK,
        }
    }

    pub fn severity(&self, severity: Severity) -> Style {
        self.severity[severity as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mono_uses_no_colour_and_keeps_severities_apart() {
        let theme = Theme::for_terminal(ThemeName::Dark, false, true);
        let styles: Vec<Style> = Severity::ALL.iter().map(|s| theme.severity(*s)).collect();
        for style in &styles {
            assert_eq!(style.fg, None);
            assert_eq!(style.bg, None);
        }
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a, b, "two severities look alike without colour");
            }
        }
    }
}
