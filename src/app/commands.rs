//! The `:` command line: the table of commands, parsing and Tab completion.
//! Like the keymap, the table is data, so completion and `:help` agree.

use super::state::PaneId;

/// What a command takes after its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    Pane,
    Text,
}

/// Which command a table row is; matched exhaustively by `parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Focus,
    Zoom,
    Filter,
    ClearFilter,
    Stream,
    Help,
    Quit,
}

pub struct CommandSpec {
    pub kind: Kind,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub arg: Arg,
    pub usage: &'static str,
    pub description: &'static str,
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        kind: Kind::Focus,
        name: "focus",
        aliases: &[],
        arg: Arg::Pane,
        usage: "focus findings|signins|remediation|notes",
        description: "Focus a pane",
    },
    CommandSpec {
        kind: Kind::Zoom,
        name: "zoom",
        aliases: &[],
        arg: Arg::None,
        usage: "zoom",
        description: "Zoom the focused pane, or restore the layout",
    },
    CommandSpec {
        kind: Kind::Filter,
        name: "filter",
        aliases: &[],
        arg: Arg::Text,
        usage: "filter TEXT",
        description: "Filter the focused pane",
    },
    CommandSpec {
        kind: Kind::ClearFilter,
        name: "clear-filter",
        aliases: &[],
        arg: Arg::None,
        usage: "clear-filter",
        description: "Remove the focused pane's filter",
    },
    CommandSpec {
        kind: Kind::Stream,
        name: "stream",
        aliases: &[],
        arg: Arg::Text,
        usage: "stream user|nonint|sp|mi",
        description: "Hide or show one stream's sign-ins in the feed",
    },
    CommandSpec {
        kind: Kind::Help,
        name: "help",
        aliases: &[],
        arg: Arg::None,
        usage: "help",
        description: "Show every key binding",
    },
    CommandSpec {
        kind: Kind::Quit,
        name: "quit",
        aliases: &["q"],
        arg: Arg::None,
        usage: "quit",
        description: "Quit (asks first while work is in flight)",
    },
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Focus(PaneId),
    Zoom,
    Filter(String),
    ClearFilter,
    Stream(crate::app::feed::Kind),
    Help,
    Quit,
}

fn spec(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// Parses one command line. The error says what to type instead.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    let Some(spec) = spec(name) else {
        // A pane's name alone goes to it (`:signins`).
        if rest.is_empty()
            && let Some(pane) = PaneId::from_name(name)
        {
            return Ok(Command::Focus(pane));
        }
        return Err(format!("unknown command \"{name}\" (Tab lists commands)"));
    };
    match (spec.arg, rest.is_empty()) {
        (Arg::None, false) => return Err(format!("{} takes no argument", spec.name)),
        (Arg::Pane | Arg::Text, true) => return Err(format!("usage: {}", spec.usage)),
        _ => {}
    }
    Ok(match spec.kind {
        Kind::Focus => Command::Focus(
            PaneId::from_name(rest)
                .ok_or_else(|| format!("no pane \"{rest}\"; usage: {}", spec.usage))?,
        ),
        Kind::Zoom => Command::Zoom,
        Kind::Filter => Command::Filter(rest.to_owned()),
        Kind::ClearFilter => Command::ClearFilter,
        Kind::Stream => Command::Stream(
            crate::app::feed::Kind::parse(rest)
                .ok_or_else(|| format!("no stream \"{rest}\"; usage: {}", spec.usage))?,
        ),
        Kind::Help => Command::Help,
        Kind::Quit => Command::Quit,
    })
}

/// Whole-line completions for what has been typed so far.
pub fn complete(line: &str) -> Vec<String> {
    match line.split_once(' ') {
        None => COMMANDS
            .iter()
            .filter(|c| c.name.starts_with(line))
            .map(|c| match c.arg {
                Arg::None => c.name.to_owned(),
                Arg::Pane | Arg::Text => format!("{} ", c.name),
            })
            .collect(),
        Some((name, arg)) => match spec(name).map(|s| s.arg) {
            Some(Arg::Pane) => PaneId::ALL
                .iter()
                .filter(|p| p.name().starts_with(arg.trim_start()))
                .map(|p| format!("{name} {}", p.name()))
                .collect(),
            _ if name == "stream" => ["user", "nonint", "sp", "mi"]
                .iter()
                .filter(|k| k.starts_with(arg.trim_start()))
                .map(|k| format!("{name} {k}"))
                .collect(),
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("focus signins"), Ok(Command::Focus(PaneId::SignIns)));
        assert_eq!(parse("signins"), Ok(Command::Focus(PaneId::SignIns)));
        assert_eq!(parse("notes"), Ok(Command::Focus(PaneId::Notes)));
        assert!(parse("signins now").is_err());
        assert_eq!(parse("  zoom "), Ok(Command::Zoom));
        assert_eq!(
            parse("filter adele@contoso"),
            Ok(Command::Filter("adele@contoso".into()))
        );
        assert_eq!(parse("clear-filter"), Ok(Command::ClearFilter));
        assert_eq!(parse("help"), Ok(Command::Help));
        assert_eq!(
            parse("stream sp"),
            Ok(Command::Stream(crate::app::feed::Kind::ServicePrincipal))
        );
        assert!(parse("stream moon").unwrap_err().contains("no stream"));
        assert_eq!(complete("stream n"), vec!["stream nonint".to_string()]);
        assert_eq!(parse("q"), Ok(Command::Quit));
    }

    #[test]
    fn errors_say_what_to_do() {
        assert_eq!(
            parse("fly"),
            Err("unknown command \"fly\" (Tab lists commands)".into())
        );
        assert!(parse("focus").unwrap_err().starts_with("usage: focus"));
        assert!(
            parse("focus moon")
                .unwrap_err()
                .contains("no pane \"moon\"")
        );
        assert_eq!(parse("zoom in"), Err("zoom takes no argument".into()));
    }

    #[test]
    fn completes_names_then_arguments() {
        assert_eq!(complete("f"), vec!["focus ", "filter "]);
        assert_eq!(complete("q"), vec!["quit"]);
        assert_eq!(complete("focus s"), vec!["focus signins"]);
        assert_eq!(complete("focus ").len(), 4);
        assert!(complete("filter x").is_empty());
        assert_eq!(complete("").len(), COMMANDS.len());
    }
}
