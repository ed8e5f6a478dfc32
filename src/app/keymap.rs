//! The keymap as data: one table of `{layer, keys, action, description}`.
//! Dispatch and the help overlay are both built from it, so the help never
//! lies. Users override keys per action in the config file (`[keys.LAYER]
//! action = ["key", ...]`); a table with a duplicate or shadowed binding is
//! refused with a message that names it.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use crate::config::KeyOverride;

/// Which set of bindings is active; the top-most mode decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    Normal,
    Help,
    Prompt,
    Confirm,
    /// The note editor: everything typed is text except its bindings.
    Editor,
    /// A row's detail over its pane.
    Detail,
    /// The timeline over the panes.
    Timeline,
}

impl Layer {
    pub const ALL: [Layer; 7] = [
        Layer::Normal,
        Layer::Detail,
        Layer::Timeline,
        Layer::Help,
        Layer::Prompt,
        Layer::Confirm,
        Layer::Editor,
    ];

    /// The name used in the config file (`[keys.normal]`).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Normal => "normal",
            Layer::Help => "help",
            Layer::Prompt => "prompt",
            Layer::Confirm => "confirm",
            Layer::Editor => "editor",
            Layer::Detail => "detail",
            Layer::Timeline => "timeline",
        }
    }

    /// The heading in the help overlay.
    pub fn heading(self) -> &'static str {
        match self {
            Layer::Normal => "Panes",
            Layer::Help => "This help",
            Layer::Prompt => "Command line (:) and filter (/)",
            Layer::Confirm => "Confirmations",
            Layer::Editor => "Note editor",
            Layer::Detail => "Detail view (Enter on a row)",
            Layer::Timeline => "Timeline (t)",
        }
    }
}

/// One key with its modifiers, normalised so that `G` and `Shift-g` or
/// `BackTab` with or without Shift compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeySpec {
    code: KeyCode,
    mods: KeyModifiers,
}

impl KeySpec {
    pub fn from_event(event: &KeyEvent) -> Self {
        let mut mods =
            event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        // The character already carries the shift state; BackTab implies it.
        if matches!(event.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        let code = match event.code {
            // Terminals disagree on the case of Ctrl-letter; bind lower case.
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Self { code, mods }
    }

    /// Parses `q`, `G`, `?`, `tab`, `shift-tab`, `esc`, `enter`, `space`,
    /// `up`, `pagedown`, `f1`, `ctrl-d`, `alt-x`...
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else if rest.chars().count() > 1 && lower.starts_with("shift-") {
                mods |= KeyModifiers::SHIFT;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !crate::model::is_dangerous(c) => {
                if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "tab" if mods.contains(KeyModifiers::SHIFT) => {
                    mods.remove(KeyModifiers::SHIFT);
                    KeyCode::BackTab
                }
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "esc" | "escape" => KeyCode::Esc,
                "enter" | "return" => KeyCode::Enter,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.starts_with('f') && f.len() > 1 => match f[1..].parse::<u8>() {
                    Ok(n @ 1..=12) => KeyCode::F(n),
                    _ => return Err(format!("unknown key \"{text}\"")),
                },
                _ => return Err(format!("unknown key \"{text}\"")),
            },
        };
        let event = KeyEvent::new(code, mods);
        Ok(Self::from_event(&event))
    }

    /// True for a key that types a character into a text field.
    fn is_text_input(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .mods
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub layer: Layer,
    pub keys: Vec<KeySpec>,
    pub action: Action,
    pub description: &'static str,
    /// The config file line that set these keys; `None` for defaults.
    pub line: Option<usize>,
}

impl Binding {
    /// `line 12: ` when the binding came from the config file.
    fn place(&self) -> String {
        self.line.map(|n| format!("line {n}: ")).unwrap_or_default()
    }
}

/// The default table. Order is the help overlay's order.
const DEFAULTS: &[(Layer, &[&str], Action, &str)] = {
    use super::state::PaneId;
    use Action::*;
    use Layer::*;
    &[
        (Normal, &["tab"], FocusNext, "Focus the next pane"),
        (Normal, &["shift-tab"], FocusPrev, "Focus the previous pane"),
        (Normal, &["1"], Focus(PaneId::Findings), "Focus Findings"),
        (Normal, &["2"], Focus(PaneId::SignIns), "Focus Sign-ins"),
        (
            Normal,
            &["3"],
            Focus(PaneId::Remediation),
            "Focus Remediation",
        ),
        (Normal, &["4"], Focus(PaneId::Notes), "Focus Notes"),
        (Normal, &["n"], NewNote, "Write a note to the case"),
        (
            Normal,
            &["a"],
            AmendNote,
            "Amend the selected note (a new record)",
        ),
        (
            Normal,
            &["z"],
            ToggleZoom,
            "Zoom the focused pane (again to restore)",
        ),
        (Normal, &["j", "down"], MoveDown, "Move down"),
        (Normal, &["k", "up"], MoveUp, "Move up"),
        (Normal, &["ctrl-d", "pagedown"], PageDown, "Page down"),
        (Normal, &["ctrl-u", "pageup"], PageUp, "Page up"),
        (Normal, &["g", "home"], Top, "Go to the top"),
        (Normal, &["G", "end"], Bottom, "Go to the bottom"),
        (
            Normal,
            &["enter"],
            Open,
            "Open: a sign-in's detail; a finding's events in the feed",
        ),
        (
            Normal,
            &["f"],
            ToggleFollow,
            "Sign-ins: follow the newest / pause here",
        ),
        (
            Normal,
            &["l", "right"],
            CellNext,
            "Sign-ins: next cell (user, app, IP, country)",
        ),
        (Normal, &["h", "left"], CellPrev, "Sign-ins: previous cell"),
        (
            Normal,
            &["p"],
            Pivot,
            "Sign-ins: filter on the cell; findings: related ones",
        ),
        (
            Normal,
            &["P"],
            PivotFindings,
            "Sign-ins: findings about the selected cell",
        ),
        (Normal, &["y"], Copy, "Copy the selected value (OSC 52)"),
        (
            Normal,
            &["s"],
            Triage,
            "Set state: a finding's triage, a checklist item's progress",
        ),
        (
            Normal,
            &["c"],
            ShowRemediation,
            "Findings: the checklist items the finding calls for",
        ),
        (
            Normal,
            &["x"],
            Act,
            "Remediation: do the item on the tenant (preview, typed confirmation)",
        ),
        (
            Normal,
            &["+"],
            AddItem,
            "Remediation: add an item to the selected item's phase",
        ),
        (
            Normal,
            &["S"],
            Suppress,
            "Findings: suppress this detection for this entity",
        ),
        (
            Normal,
            &["t"],
            OpenTimeline,
            "Timeline of the intrusion (sign-ins, failures, milestones)",
        ),
        (
            Normal,
            &["b"],
            Chart,
            "Sign-ins: top failing IPs, then countries, then off",
        ),
        (Normal, &["/"], OpenFilter, "Filter the focused pane"),
        (Normal, &[":"], OpenCommand, "Command line (Tab completes)"),
        (Normal, &["?", "f1"], OpenHelp, "This help"),
        (
            Normal,
            &["esc"],
            Back,
            "Back: leave zoom, then clear the pane filter",
        ),
        (
            Normal,
            &["q", "ctrl-c"],
            Quit,
            "Quit (asks first while work is in flight)",
        ),
        (Detail, &["j", "down"], MoveDown, "Scroll down"),
        (Detail, &["k", "up"], MoveUp, "Scroll up"),
        (
            Detail,
            &["ctrl-d", "pagedown", "space"],
            PageDown,
            "Page down",
        ),
        (Detail, &["ctrl-u", "pageup"], PageUp, "Page up"),
        (Detail, &["g", "home"], Top, "Top"),
        (Detail, &["G", "end"], Bottom, "Bottom"),
        (Detail, &["y"], Copy, "Copy the whole record (OSC 52)"),
        (
            Detail,
            &["p"],
            Pivot,
            "Filter the feed on this sign-in's user",
        ),
        (Detail, &["esc", "q", "enter"], Back, "Close"),
        (Timeline, &["h", "left"], CellPrev, "Earlier"),
        (Timeline, &["l", "right"], CellNext, "Later"),
        (
            Timeline,
            &["+", "="],
            ZoomIn,
            "Zoom in (about the selected mark)",
        ),
        (Timeline, &["-"], ZoomOut, "Zoom out"),
        (Timeline, &["j", "down"], MoveDown, "Next mark"),
        (Timeline, &["k", "up"], MoveUp, "Previous mark"),
        (
            Timeline,
            &["enter"],
            Open,
            "The mark's evidence (feed or finding)",
        ),
        (Timeline, &["esc", "q", "t"], Back, "Close"),
        (Help, &["j", "down"], MoveDown, "Scroll down"),
        (Help, &["k", "up"], MoveUp, "Scroll up"),
        (
            Help,
            &["ctrl-d", "pagedown", "space"],
            PageDown,
            "Page down",
        ),
        (Help, &["ctrl-u", "pageup"], PageUp, "Page up"),
        (Help, &["g", "home"], Top, "Top"),
        (Help, &["G", "end"], Bottom, "Bottom"),
        (Help, &["esc", "?", "q"], Back, "Close help"),
        (
            Prompt,
            &["enter"],
            Submit,
            "Run the command / apply the filter",
        ),
        (
            Prompt,
            &["tab"],
            Complete,
            "Complete (again for the next match)",
        ),
        (Prompt, &["shift-tab"], CompletePrev, "Previous completion"),
        (Prompt, &["esc", "ctrl-c"], Back, "Cancel"),
        (Prompt, &["up"], MoveUp, "Filter: an earlier filter"),
        (Prompt, &["down"], MoveDown, "Filter: a later filter"),
        (Confirm, &["y"], ConfirmYes, "Yes"),
        (Confirm, &["n", "esc"], ConfirmNo, "No"),
        (
            Editor,
            &["ctrl-s"],
            Save,
            "Save the note (encrypted, to the case)",
        ),
        (
            Editor,
            &["esc"],
            Back,
            "Close (asks when there is unsaved text)",
        ),
    ]
};

/// Actions that must stay reachable, or a user could lock themselves in.
const REQUIRED: &[(Layer, Action)] = &[
    (Layer::Normal, Action::Quit),
    (Layer::Help, Action::Back),
    (Layer::Detail, Action::Back),
    (Layer::Timeline, Action::Back),
    (Layer::Prompt, Action::Back),
    (Layer::Prompt, Action::Submit),
    (Layer::Confirm, Action::ConfirmNo),
    (Layer::Editor, Action::Save),
    (Layer::Editor, Action::Back),
];

/// One line of the help overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HelpRow {
    Heading(&'static str),
    Binding {
        keys: String,
        description: &'static str,
    },
    Blank,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
    index: HashMap<(Layer, KeySpec), Action>,
    help: Vec<HelpRow>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::from_bindings(default_bindings()).expect("the default keymap is valid (tested)")
    }
}

fn default_bindings() -> Vec<Binding> {
    DEFAULTS
        .iter()
        .map(|(layer, keys, action, description)| Binding {
            layer: *layer,
            keys: keys
                .iter()
                .map(|k| KeySpec::parse(k).expect("default key names parse (tested)"))
                .collect(),
            action: *action,
            description,
            line: None,
        })
        .collect()
}

impl Keymap {
    /// Builds a keymap, refusing duplicate, shadowed or missing bindings.
    pub fn from_bindings(bindings: Vec<Binding>) -> Result<Self, String> {
        let mut index = HashMap::new();
        let mut owner: HashMap<(Layer, KeySpec), &Binding> = HashMap::new();
        let mut problems = Vec::new();
        for b in &bindings {
            for key in &b.keys {
                if matches!(b.layer, Layer::Prompt | Layer::Editor) && key.is_text_input() {
                    problems.push(format!(
                        "{}[keys.{}] {}: \"{key}\" would swallow typing; use a Ctrl or Alt key",
                        b.place(),
                        b.layer.name(),
                        b.action.name()
                    ));
                }
                index.insert((b.layer, *key), b.action);
                if let Some(other) = owner.insert((b.layer, *key), b)
                    && other.action != b.action
                {
                    let place = if b.line.is_some() {
                        b.place()
                    } else {
                        other.place()
                    };
                    problems.push(format!(
                        "{place}[keys.{}] \"{key}\" is bound to both {} and {}",
                        b.layer.name(),
                        other.action.name(),
                        b.action.name()
                    ));
                }
            }
        }
        for (layer, action) in REQUIRED {
            let reachable = bindings
                .iter()
                .any(|b| b.layer == *layer && b.action == *action && !b.keys.is_empty());
            if !reachable {
                problems.push(format!(
                    "[keys.{}] {} must keep at least one key",
                    layer.name(),
                    action.name()
                ));
            }
        }
        if problems.is_empty() {
            let help = help_rows(&bindings);
            Ok(Self {
                bindings,
                index,
                help,
            })
        } else {
            Err(problems.join("; "))
        }
    }

    /// The default table with the config file's `[keys.LAYER]` overrides:
    /// each named action gets exactly the keys given.
    pub fn with_overrides(overrides: &[KeyOverride]) -> Result<Self, String> {
        let mut bindings = default_bindings();
        for o in overrides {
            let at = o.line.map(|n| format!("line {n}: ")).unwrap_or_default();
            let (layer_name, action_name) = (&o.layer, &o.action);
            let layer = Layer::ALL
                .into_iter()
                .find(|l| l.name() == layer_name)
                .ok_or_else(|| {
                    format!(
                        "{at}[keys.{layer_name}]: unknown layer (normal, detail, timeline, help, prompt, confirm, editor)"
                    )
                })?;
            let keys = o
                .keys
                .iter()
                .map(|k| KeySpec::parse(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{at}[keys.{layer_name}] {action_name}: {e}"))?;
            let binding = bindings
                .iter_mut()
                .find(|b| b.layer == layer && b.action.name() == action_name)
                .ok_or_else(|| {
                    format!("{at}[keys.{layer_name}] {action_name}: no such action in this layer")
                })?;
            binding.keys = keys;
            binding.line = o.line;
        }
        Self::from_bindings(bindings)
    }

    pub fn resolve(&self, layer: Layer, event: &KeyEvent) -> Option<Action> {
        self.index
            .get(&(layer, KeySpec::from_event(event)))
            .copied()
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The help overlay's lines, grouped by layer, built once.
    pub fn help_rows(&self) -> &[HelpRow] {
        &self.help
    }

    /// The first key bound to `action` in `layer`, for hints like "? help".
    pub fn hint(&self, layer: Layer, action: Action) -> Option<KeySpec> {
        self.bindings
            .iter()
            .find(|b| b.layer == layer && b.action == action)
            .and_then(|b| b.keys.first().copied())
    }
}

fn help_rows(bindings: &[Binding]) -> Vec<HelpRow> {
    let mut rows = Vec::new();
    for layer in Layer::ALL {
        if !rows.is_empty() {
            rows.push(HelpRow::Blank);
        }
        rows.push(HelpRow::Heading(layer.heading()));
        for b in bindings.iter().filter(|b| b.layer == layer) {
            let keys = if b.keys.is_empty() {
                "(unbound)".to_owned()
            } else {
                b.keys
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            rows.push(HelpRow::Binding {
                keys,
                description: b.description,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, mods, KeyEventKind::Press)
    }

    #[test]
    fn default_keymap_has_no_duplicate_or_shadowed_binding() {
        Keymap::from_bindings(default_bindings()).expect("defaults are valid");
    }

    fn one(layer: &str, action: &str, keys: &[&str]) -> Vec<KeyOverride> {
        vec![KeyOverride {
            layer: layer.to_owned(),
            action: action.to_owned(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            line: Some(7),
        }]
    }

    #[test]
    fn duplicate_binding_is_refused_with_its_line() {
        let err = Keymap::with_overrides(&one("normal", "zoom", &["q"])).unwrap_err();
        assert!(
            err.contains("line 7: [keys.normal] \"q\" is bound to both"),
            "{err}"
        );
        assert!(err.contains("zoom") && err.contains("quit"), "{err}");
    }

    #[test]
    fn printable_key_in_prompt_is_refused() {
        let err = Keymap::with_overrides(&one("prompt", "complete", &["x"])).unwrap_err();
        assert!(err.contains("would swallow typing"), "{err}");
    }

    #[test]
    fn quit_cannot_be_unbound() {
        let err = Keymap::with_overrides(&one("normal", "quit", &[])).unwrap_err();
        assert!(err.contains("quit must keep at least one key"), "{err}");
    }

    #[test]
    fn bidi_override_cannot_be_a_key() {
        let err = Keymap::with_overrides(&one("normal", "zoom", &["\u{202e}"])).unwrap_err();
        assert!(err.contains("unknown key"), "{err}");
    }

    #[test]
    fn override_replaces_keys() {
        let map = Keymap::with_overrides(&one("normal", "quit", &["ctrl-q"])).unwrap();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.resolve(Layer::Normal, &q), None);
        let ctrl_q = key(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map.resolve(Layer::Normal, &ctrl_q), Some(Action::Quit));
    }

    #[test]
    fn unknown_names_are_reported() {
        for (layer, action, k, want) in [
            (
                "normal",
                "fly",
                "x",
                "line 7: [keys.normal] fly: no such action",
            ),
            ("nowhere", "quit", "x", "unknown layer"),
            ("normal", "quit", "hyper-x", "unknown key"),
        ] {
            let err = Keymap::with_overrides(&one(layer, action, &[k])).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn shifted_letters_and_backtab_normalise() {
        let map = Keymap::default();
        let shift_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(map.resolve(Layer::Normal, &shift_g), Some(Action::Bottom));
        let backtab = key(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            map.resolve(Layer::Normal, &backtab),
            Some(Action::FocusPrev)
        );
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(
            map.resolve(Layer::Normal, &question),
            Some(Action::OpenHelp)
        );
        let ctrl_upper_c = key(
            KeyCode::Char('C'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(
            map.resolve(Layer::Normal, &ctrl_upper_c),
            Some(Action::Quit)
        );
    }

    #[test]
    fn vim_and_arrow_keys_both_move() {
        let map = Keymap::default();
        for (code, want) in [
            (KeyCode::Char('j'), Action::MoveDown),
            (KeyCode::Down, Action::MoveDown),
            (KeyCode::Char('k'), Action::MoveUp),
            (KeyCode::Up, Action::MoveUp),
        ] {
            assert_eq!(
                map.resolve(Layer::Normal, &key(code, KeyModifiers::NONE)),
                Some(want)
            );
        }
    }

    #[test]
    fn every_action_name_round_trips() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(action));
        }
    }

    #[test]
    fn key_names_display_as_parsed() {
        for name in [
            "q",
            "G",
            "?",
            "Tab",
            "Shift-Tab",
            "Esc",
            "Ctrl-d",
            "PgDn",
            "F1",
            "Space",
        ] {
            assert_eq!(KeySpec::parse(name).unwrap().to_string(), name);
        }
    }
}
