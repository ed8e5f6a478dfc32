//! `warroom case …` and `warroom notes …`: the case from scripts. Text a
//! responder wrote is printed through `SafeText`, like anything shown.

use std::io::Read;
use std::path::PathBuf;

use zeroize::Zeroizing;

use super::Setup;
use crate::case::keys::{self, Identity, Recipient, ask_passphrase};
use crate::case::record::Body;
use crate::case::{Case, CaseError};
use crate::cli::{CaseCommand, Cli, NotesCommand, RecipientsCommand};
use crate::model::SafeText;

/// What the case commands need to know about this run.
struct Context {
    pub data_dir: PathBuf,
    /// `--identity`, else `WARROOM_IDENTITY`.
    pub identity: Option<PathBuf>,
    /// `WARROOM_CASE`.
    pub default_case: Option<String>,
    /// How long an unlocked identity stays cached.
    pub unlock_ttl: std::time::Duration,
}

impl Context {
    fn identity_path(&self) -> PathBuf {
        keys::identity_path(self.identity.as_deref(), None, &self.data_dir)
    }

    fn identity(&self) -> Result<Identity, CaseError> {
        keys::load_identity(&self.identity_path(), &ask_passphrase, self.unlock_ttl)
    }

    fn case_name(&self, given: Option<&str>) -> Result<String, CaseError> {
        given
            .map(str::to_owned)
            .or_else(|| self.default_case.clone())
            .ok_or_else(|| {
                CaseError::Invalid(
                    "which case? name it with --case NAME or WARROOM_CASE (`warroom case list` shows them)"
                        .into(),
                )
            })
    }

    fn unlocked(&self, name: &str) -> Result<crate::case::Unlocked, CaseError> {
        let identity = self.identity()?;
        Case::find(&self.data_dir, name)?.unlock(&identity)
    }
}

/// What the case commands need: the data directory, the identity, the
/// default case and how long an unlocked identity stays cached.
fn context(cli: &Cli, setup: Setup) -> anyhow::Result<Context> {
    let config = setup.config?;
    let settings = config.settings(cli.profile.as_deref())?;
    super::join_session_keyring();
    Ok(Context {
        data_dir: setup.paths.data_dir.clone(),
        identity: cli.identity.clone().or_else(|| settings.identity.clone()),
        default_case: settings.case.clone(),
        unlock_ttl: config.file.case.unlock_ttl(),
    })
}

/// The case `name` (else `WARROOM_CASE`) unlocked with this responder's
/// identity, for commands that keep what they fetch in it; `None` when
/// no case is named.
pub fn unlocked(
    cli: &Cli,
    setup: &Setup,
    name: Option<&str>,
) -> anyhow::Result<Option<crate::case::Unlocked>> {
    let config = setup
        .config
        .as_ref()
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let settings = config.settings(cli.profile.as_deref())?;
    let Some(name) = name.map(str::to_owned).or(settings.case.clone()) else {
        return Ok(None);
    };
    super::join_session_keyring();
    let ctx = Context {
        data_dir: setup.paths.data_dir.clone(),
        identity: cli.identity.clone().or_else(|| settings.identity.clone()),
        default_case: Some(name.clone()),
        unlock_ttl: config.file.case.unlock_ttl(),
    };
    let case = ctx
        .unlocked(&name)
        .map_err(|e| anyhow::anyhow!("case {}: {e}", SafeText::new(&name)))?;
    Ok(Some(case))
}

/// `warroom case …`.
pub fn run_case(cli: &Cli, setup: Setup, command: &CaseCommand) -> anyhow::Result<u8> {
    Ok(case(&context(cli, setup)?, command))
}

/// `warroom identity …`.
pub fn run_identity(
    cli: &Cli,
    setup: Setup,
    command: &crate::cli::IdentityCommand,
) -> anyhow::Result<u8> {
    Ok(identity(&context(cli, setup)?, command))
}

/// `warroom notes …`.
pub fn run_notes(cli: &Cli, setup: Setup, command: &NotesCommand) -> anyhow::Result<u8> {
    Ok(notes(&context(cli, setup)?, command))
}

/// Runs a `case` command; returns the exit status.
fn case(ctx: &Context, command: &CaseCommand) -> u8 {
    report(match command {
        CaseCommand::New { name, recipient } => new(ctx, name, recipient),
        CaseCommand::List => list(ctx),
        CaseCommand::Verify { name } => verify(ctx, name),
        CaseCommand::AddEvents { name, files } => add_events(ctx, name, files),
        CaseCommand::Recipients(RecipientsCommand::List { name }) => {
            Case::find(&ctx.data_dir, name).map(|case| {
                for r in &case.header.recipients {
                    println!("{}", SafeText::new(r));
                }
                0
            })
        }
        CaseCommand::Recipients(RecipientsCommand::Add { name, keys }) => {
            change_recipients(ctx, name, keys, true)
        }
        CaseCommand::Recipients(RecipientsCommand::Remove { name, keys }) => {
            change_recipients(ctx, name, keys, false)
        }
        CaseCommand::Export {
            name,
            format,
            out,
            recipient,
        } => export(ctx, name, format, out.as_deref(), recipient),
        CaseCommand::Import { bundle, name } => import(ctx, bundle, name.as_deref()),
    })
}

/// Runs an `identity` command; returns the exit status.
fn identity(ctx: &Context, command: &crate::cli::IdentityCommand) -> u8 {
    use crate::cli::IdentityCommand;
    report(match command {
        IdentityCommand::New => new_identity(ctx),
        IdentityCommand::Show => ctx.identity().and_then(|id| {
            if id.public.is_empty() {
                return Err(CaseError::Key(format!(
                    "no public key is known for {}",
                    id.path.display()
                )));
            }
            for public in &id.public {
                println!("{public}");
            }
            Ok(0)
        }),
    })
}

fn new_identity(ctx: &Context) -> Result<u8, CaseError> {
    use age::secrecy::ExposeSecret;
    let path = ctx.identity_path();
    let ask = |prompt: &str| {
        ask_passphrase(prompt).ok_or_else(|| {
            CaseError::Key("a passphrase is asked on the terminal, and there is none".into())
        })
    };
    let first = ask(&format!("New passphrase for {}: ", path.display()))?;
    if first.expose_secret().chars().count() < 12 {
        return Err(CaseError::Key(
            "use a passphrase of at least 12 characters; nothing was written".into(),
        ));
    }
    let second = ask("The same passphrase again: ")?;
    if first.expose_secret() != second.expose_secret() {
        return Err(CaseError::Key(
            "the passphrases differ; nothing was written".into(),
        ));
    }
    let public = keys::create_identity(&path, first)?;
    println!("{public}");
    eprintln!(
        "warroom: identity written to {} (passphrase-protected, age scrypt); give the line above to your team for `case new --recipient`",
        path.display()
    );
    Ok(0)
}

/// Runs a `notes` command; returns the exit status.
fn notes(ctx: &Context, command: &NotesCommand) -> u8 {
    report(match command {
        NotesCommand::Add { case, tag, link } => add_note(ctx, case.as_deref(), tag, link),
        NotesCommand::List { case } => list_notes(ctx, case.as_deref()),
    })
}

fn report(result: Result<u8, CaseError>) -> u8 {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("warroom: {e}");
            1
        }
    }
}

fn new(ctx: &Context, name: &str, given: &[String]) -> Result<u8, CaseError> {
    let recipients: Vec<Recipient> = if given.is_empty() {
        // Readable by this responder alone until the team is added.
        let identity = ctx.identity()?;
        if identity.public.is_empty() {
            return Err(CaseError::Key(format!(
                "no public key is known for {}; name the recipients with --recipient",
                identity.path.display()
            )));
        }
        identity
            .public
            .iter()
            .map(|p| Recipient::parse(p))
            .collect::<Result<_, _>>()?
    } else {
        given
            .iter()
            .map(|r| Recipient::parse(r))
            .collect::<Result<_, _>>()?
    };
    let count = recipients.len();
    let case = Case::create(&ctx.data_dir, name, recipients)?;
    println!("{}", case.dir.display());
    eprintln!(
        "warroom: case {name} created, readable by {count} recipient{}",
        if count == 1 { "" } else { "s" }
    );
    Ok(0)
}

fn import(ctx: &Context, bundle: &std::path::Path, name: Option<&str>) -> Result<u8, CaseError> {
    let sealed =
        std::fs::read(bundle).map_err(|e| CaseError::Io(format!("{}: {e}", bundle.display())))?;
    let identity = ctx.identity()?;
    let case = crate::case::export::import(&ctx.data_dir, &sealed, &identity, name)?;
    eprintln!(
        "warroom: case {} imported, readable by {} recipients",
        case.header.name,
        case.header.recipients.len()
    );
    Ok(0)
}

fn export(
    ctx: &Context,
    name: &str,
    format: &str,
    out: Option<&std::path::Path>,
    recipients: &[String],
) -> Result<u8, CaseError> {
    use crate::case::export;
    let Some(out) = out else {
        return Err(CaseError::Invalid(
            "say where the export goes: --out FILE (or --out - for standard output); a decrypted export is plaintext"
                .into(),
        ));
    };
    let case = ctx.unlocked(name)?;
    // Pulled events travel in a bundle; a report lists them, not their
    // contents.
    let collected = export::collect(&case, matches!(format, "bundle" | "events"))?;
    let bytes = match format {
        "md" | "markdown" => export::markdown(&collected),
        "json" => export::json(&collected),
        "events" => export::events_ndjson(&collected),
        "bundle" => {
            let texts = if recipients.is_empty() {
                case.case.header.recipients.clone()
            } else {
                recipients.to_vec()
            };
            let parsed = texts
                .iter()
                .map(|t| Recipient::parse(t))
                .collect::<Result<Vec<_>, _>>()?;
            export::bundle(&collected, &parsed)?
        }
        other => {
            return Err(CaseError::Invalid(format!(
                "unknown export format \"{}\" (md, json, events or bundle)",
                SafeText::new(other)
            )));
        }
    };
    if out.as_os_str() == "-" {
        use std::io::Write;
        std::io::stdout().write_all(&bytes)?;
        return Ok(0);
    }
    crate::case::store::write_new_private(out, &bytes).map_err(|e| {
        CaseError::Io(format!(
            "{}: {e} (an export never overwrites a file)",
            out.display()
        ))
    })?;
    eprintln!(
        "warroom: case {name} exported to {} ({} records{})",
        out.display(),
        collected.records.len(),
        if format == "bundle" {
            ", encrypted"
        } else if format == "events" {
            ", its pulled events decrypted: keep it safe"
        } else {
            ", decrypted: keep it safe"
        }
    );
    Ok(0)
}

fn list(ctx: &Context) -> Result<u8, CaseError> {
    let cases = Case::list(&ctx.data_dir);
    if cases.is_empty() {
        eprintln!(
            "warroom: no cases under {}",
            Case::root(&ctx.data_dir).display()
        );
    }
    for case in cases {
        match case {
            Ok(case) => println!(
                "{}\tcreated {}\t{} recipient{}",
                case.header.name,
                case.header.created,
                case.header.recipients.len(),
                if case.header.recipients.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
            Err((name, e)) => println!("{name}\tunreadable: {e}"),
        }
    }
    Ok(0)
}

/// `case add-events NAME FILE…`: a pull's events kept in the case.
fn add_events(ctx: &Context, name: &str, files: &[PathBuf]) -> Result<u8, CaseError> {
    let case = ctx.unlocked(name)?;
    let mut code = 0;
    for file in files {
        let shown = SafeText::new(&file.display().to_string());
        match crate::watch::checkpoint::add_pulled(&case, file) {
            Ok(added) => {
                let kept: Vec<String> = added
                    .kept
                    .iter()
                    .map(|(s, n)| format!("{} {n}", s.name()))
                    .collect();
                println!(
                    "case {name}: {shown}: kept {}; {} already held, {} directory objects left to the console's own snapshot, {} of no stream a pull writes",
                    if kept.is_empty() {
                        "nothing new".to_owned()
                    } else {
                        kept.join(", ")
                    },
                    added.repeats,
                    added.directory,
                    added.unknown
                );
                if !added.not_marked.is_empty() {
                    let names: Vec<&str> = added.not_marked.iter().map(|s| s.name()).collect();
                    println!(
                        "case {name}: {} had history marked already: the console fetches theirs as before, and keeps no event twice",
                        names.join(", ")
                    );
                }
            }
            Err(e) => {
                println!(
                    "case {name}: {shown}: {}; nothing more was kept from it",
                    SafeText::new(&e)
                );
                code = 1;
            }
        }
    }
    Ok(code)
}

fn verify(ctx: &Context, name: &str) -> Result<u8, CaseError> {
    let case = ctx.unlocked(name)?;
    let contents = case.read()?;
    let n = contents.records.len();
    if let Some(damage) = contents.damage {
        println!("case {name}: {}", CaseError::Damaged(damage));
        return Ok(1);
    }
    if let Some(bytes) = contents.torn {
        println!(
            "case {name}: the last record is torn ({bytes} bytes cut short by a crash during a write); it is set aside at the next write, and the {n} records before it are intact"
        );
        return Ok(1);
    }
    let mut events = 0;
    let mut ids = std::collections::HashSet::new();
    let mut twice = 0;
    for record in &contents.records {
        match case.load_events(record) {
            Ok(batch) => {
                events += batch.len();
                for event in &batch {
                    if let Some(id) = event_key(event)
                        && !ids.insert(id)
                    {
                        twice += 1;
                    }
                }
            }
            Err(e) => {
                println!("case {name}: {e}");
                return Ok(1);
            }
        }
    }
    if contents.unreadable > 0 {
        println!(
            "case {name}: {} records open but are not records this warroom can read",
            contents.unreadable
        );
        return Ok(1);
    }
    if twice > 0 {
        println!(
            "case {name}: {n} records, chain intact; {events} pulled events, of which {twice} are held twice (the same id in two segments)"
        );
        return Ok(1);
    }
    println!(
        "case {name}: {n} records, chain intact; {events} pulled events in their segments, none twice"
    );
    Ok(0)
}

/// What makes a pulled event itself: Graph's `id`, or a Unified Audit Log
/// record's `Id`. A directory snapshot's object is itself within its
/// listing and its snapshot (every user's password method has one fixed
/// id, and each snapshot lists the directory again). Events with no id are
/// not compared.
fn event_key(event: &serde_json::Value) -> Option<String> {
    let id = ["id", "Id"].iter().find_map(|k| event[*k].as_str())?;
    Some(match event["@warroom.snapshotAt"].as_str() {
        Some(at) => format!(
            "{at} {} {id}",
            event["@warroom.source"].as_str().unwrap_or_default()
        ),
        None => id.to_owned(),
    })
}

fn change_recipients(
    ctx: &Context,
    name: &str,
    keys: &[String],
    add: bool,
) -> Result<u8, CaseError> {
    if keys.is_empty() {
        return Err(CaseError::Invalid("name at least one key".into()));
    }
    let case = ctx.unlocked(name)?;
    let mut texts = case.case.header.recipients.clone();
    for key in keys {
        Recipient::parse(key)?;
        let key = key.trim().to_owned();
        if add {
            if !texts.contains(&key) {
                texts.push(key);
            }
        } else if let Some(i) = texts.iter().position(|t| same_key(t, &key)) {
            texts.remove(i);
        } else {
            return Err(CaseError::Invalid(format!(
                "{} is not a recipient of case {name}",
                SafeText::new(&key)
            )));
        }
    }
    let recipients = texts
        .iter()
        .map(|t| Recipient::parse(t))
        .collect::<Result<Vec<_>, _>>()?;
    let count = recipients.len();
    // Removing someone replaces the key: they must not read what follows.
    case.set_recipients(recipients, !add)?;
    eprintln!(
        "warroom: case {name} is now readable by {count} recipient{}{}",
        if count == 1 { "" } else { "s" },
        if add {
            ""
        } else {
            "; the data key was replaced and every record sealed again"
        }
    );
    Ok(0)
}

/// SSH key lines match on type and key, whatever the comment says.
fn same_key(a: &str, b: &str) -> bool {
    let core = |s: &str| s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    core(a) == core(b)
}

fn add_note(
    ctx: &Context,
    case: Option<&str>,
    tags: &[String],
    links: &[String],
) -> Result<u8, CaseError> {
    let name = ctx.case_name(case)?;
    let mut bytes = Zeroizing::new(Vec::new());
    std::io::stdin().read_to_end(&mut bytes)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CaseError::Invalid("the note is not UTF-8 text".into()))?
        .trim_end()
        .to_owned();
    if text.trim().is_empty() {
        return Err(CaseError::Invalid(
            "the note is empty (its text is read from standard input)".into(),
        ));
    }
    let case = ctx.unlocked(&name)?;
    let record = case.append(Body::Note {
        text,
        tags: tags.to_vec(),
        links: links.to_vec(),
        supersedes: None,
    })?;
    // Printed only once the record is on disk.
    println!("{}", record.id);
    Ok(0)
}

fn list_notes(ctx: &Context, case: Option<&str>) -> Result<u8, CaseError> {
    let name = ctx.case_name(case)?;
    let case = ctx.unlocked(&name)?;
    let contents = case.read()?;
    for record in contents.records.iter().rev() {
        let Body::Note {
            text,
            tags,
            links,
            supersedes,
        } = &record.body
        else {
            continue;
        };
        let mut head = format!(
            "{}  {}  {}",
            record.time,
            SafeText::new(&record.author),
            record.id
        );
        if !tags.is_empty() {
            head.push_str(&format!("  [{}]", SafeText::new(&tags.join(", "))));
        }
        if let Some(old) = supersedes {
            head.push_str(&format!("  (amends {})", SafeText::new(old)));
        }
        if !links.is_empty() {
            head.push_str(&format!("  about {}", SafeText::new(&links.join(", "))));
        }
        println!("{head}");
        for line in text.lines() {
            println!("    {}", SafeText::new(line));
        }
    }
    if let Some(damage) = contents.damage {
        eprintln!("warroom: {}", CaseError::Damaged(damage));
        return Ok(1);
    }
    if contents.torn.is_some() {
        eprintln!(
            "warroom: the last record was cut short by a crash and is not shown; it is set aside at the next write"
        );
    }
    Ok(0)
}
