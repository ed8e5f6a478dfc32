//! The command line, as fixed by the contract in DESIGN.md. Parsing only;
//! `main.rs` dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "warroom",
    version,
    about = "Terminal console for recovering a Microsoft Entra ID / Microsoft 365 / AD FS tenant after an identity compromise",
    after_help = "Run with no command to open the console on the configured profile."
)]
pub struct Cli {
    /// Connection profile from the config file (default: `default_profile`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Config file to use instead of the one in the platform config directory.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// age identity file (or SSH private key) that opens cases; default
    /// $WARROOM_IDENTITY, then the identity in the data directory.
    #[arg(long, global = true, value_name = "FILE")]
    pub identity: Option<PathBuf>,

    /// Checklist template to use instead of the built-in recovery plan
    /// (TOML, as `assets/playbooks/identity-compromise.toml`).
    #[arg(long, global = true, value_name = "FILE")]
    pub playbook: Option<PathBuf>,

    /// Plain ASCII borders and symbols, for terminals without Unicode.
    #[arg(long, global = true)]
    pub ascii: bool,

    /// Threat indicators (CSV or a STIX 2.1 bundle) the console matches
    /// against the live feed and the directory.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,

    /// A directory of Sigma rules the console runs over the live feed.
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<PathBuf>,

    /// Evidence files (AD FS and domain controller event logs, exports)
    /// the console's detections read beside the live feed; repeatable.
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,

    /// How much history the console fetches before it follows live, such
    /// as 30d or 12h (default: the configuration's `[case] history`, else
    /// 30 days with a case and 1 day without).
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,

    /// Draw the first frame, leave, and print how long it took (start-up benchmark).
    #[arg(long, hide = true)]
    pub bench_startup: bool,

    /// Panic after the first frame (tests that the terminal is restored).
    #[arg(long, hide = true)]
    pub panic_after_first_frame: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Console against an in-process emulated tenant; no set-up needed.
    Demo(DemoArgs),
    /// Serve the emulated tenant over HTTP (Graph-compatible).
    Emulator(EmulatorArgs),
    /// Acquire and cache a token for the profile.
    Login,
    /// Pull logs to NDJSON (Graph camelCase, UTF-8).
    Pull(PullArgs),
    /// Run the detections over exported log files, without the console.
    Scan(ScanArgs),
    /// The console's live pipeline without a screen: fetch history, follow
    /// live, and write findings as they appear and change.
    Watch(WatchArgs),
    /// Judge a directory snapshot (pulled live when no FILE is given).
    Posture(PostureArgs),
    /// The recovery plan the findings of files call for: which accounts,
    /// credentials and grants to act on, and why.
    Plan(PlanArgs),
    /// List every detection that runs: id, title, source (built in, or
    /// Sigma with its author), what it reads, ATT&CK, severity.
    Rules(RulesArgs),
    /// The catalogue as KQL queries, for a Log Analytics workspace
    /// (Microsoft Sentinel).
    Kql(KqlArgs),
    /// Run the catalogue where the logs live (a Log Analytics workspace)
    /// and bring back findings only.
    Hunt(HuntArgs),
    /// Check this jump box: terminal, keyring, core dumps, config, directories, clock.
    Doctor,
    /// Drop every secret warroom caches in the keyring (sign-ins, unlocked identities) now.
    Lock,
    /// Your age identity: create one protected by a passphrase, or show its public key.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Create, list, verify and export encrypted cases.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Add and list case notes.
    #[command(subcommand)]
    Notes(NotesCommand),
    /// Show where the config file lives and what is in force.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long)]
    pub scenario: Option<String>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Playback speed of the live part of the scenario.
    #[arg(long)]
    pub speed: Option<f64>,
    /// Lay the emulated story out as if it were this moment (RFC 3339)
    /// instead of now.
    #[arg(long, value_name = "TS", env = "WARROOM_EMULATOR_NOW")]
    pub now: Option<jiff::Timestamp>,
    /// Keep notes and triage in this case instead of a throwaway one
    /// (`WARROOM_CASE` is not read here: demo data stays out of real cases
    /// unless asked for by name).
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
    /// Checklist actions only show what they would send (the emulated
    /// tenant is changed by default).
    #[arg(long)]
    pub dry_run: bool,
    /// Threat indicators (CSV or a STIX 2.1 bundle) to match live.
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    /// A directory of Sigma rules to run over the live feed.
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<PathBuf>,
    /// Evidence files read beside the live feed (the emulator's
    /// `--export-onprem` output, say); repeatable.
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,
    /// Read the scenario's own on-premises logs too (its AD FS farm's
    /// token issuance and its domain controller), as `--export-onprem`
    /// writes them.
    #[arg(long)]
    pub onprem: bool,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,
    /// golden-saml, clean or hostile.
    #[arg(long, default_value = "golden-saml")]
    pub scenario: String,
    #[arg(long, default_value_t = crate::emulator::DEFAULT_SEED)]
    pub seed: u64,
    /// Background sign-ins across all four kinds.
    #[arg(long, value_name = "N", default_value_t = crate::emulator::DEFAULT_SIGNINS)]
    pub signins: u64,
    /// Days of history, ending now.
    #[arg(long, value_name = "N", default_value_t = crate::emulator::DEFAULT_DAYS)]
    pub days: u32,
    /// Lay the story out as if it were this moment (RFC 3339, e.g.
    /// 2026-12-06T16:00:00Z) instead of now: a seed then gives the same
    /// tenant whatever the hour it is run at.
    #[arg(long, value_name = "TS", env = "WARROOM_EMULATOR_NOW")]
    pub now: Option<jiff::Timestamp>,
    /// Keep new sign-ins and audits arriving in real time.
    #[arg(long)]
    pub live: bool,
    /// With --live: new sign-ins per minute.
    #[arg(long, value_name = "N", default_value_t = 240)]
    pub live_rate: u32,
    /// Injected failures, KIND:RATE,...: 429, 500, 503, 504, slow, reset,
    /// malformed, page-token (e.g. 429:0.05,reset:0.01).
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
    /// Serve without Graph's request limits.
    #[arg(long)]
    pub no_throttle: bool,
    /// Lifetime of access tokens, in seconds (to exercise refresh).
    #[arg(long, value_name = "SECS", default_value_t = 3599)]
    pub token_lifetime: u64,
    /// Seconds after which a device code counts as approved by the user.
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub device_approve_after: u64,
    /// The polling interval the device code flow asks clients for, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub device_poll_interval: u64,
    /// Write the scenario's on-premises evidence (AD FS and domain
    /// controller event logs, consistent with the cloud side) into DIR.
    #[arg(long, value_name = "DIR")]
    pub export_onprem: Option<PathBuf>,
    /// A certificate (PEM or DER) the responder app accepts signed client
    /// assertions for, as if uploaded to its registration.
    #[arg(long, value_name = "FILE")]
    pub responder_certificate: Option<PathBuf>,
    /// Rows a Log Analytics query returns before its result is cut with a
    /// partial-result error (the service's limit: 500,000).
    #[arg(long, value_name = "N", default_value_t = 500_000)]
    pub workspace_row_cap: usize,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// How far back to pull, e.g. 7d or 12h.
    #[arg(long, value_name = "DUR", conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    #[arg(long, value_name = "TS", requires = "to")]
    pub from: Option<String>,
    #[arg(long, value_name = "TS", requires = "from")]
    pub to: Option<String>,
    /// Comma-separated: interactive, noninteractive, serviceprincipal,
    /// managedidentity, audit, risk, ual, directory (default: all).
    #[arg(long, value_name = "LIST")]
    pub streams: Option<String>,
    /// Split the time range into windows of this size (e.g. 1d), each
    /// paged and resumed on its own. Every window costs at least one
    /// request, so the default is one window.
    #[arg(long, value_name = "DUR")]
    pub window: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Pull from this Log Analytics workspace (its id) instead of Graph:
    /// the same streams as the tables that hold them, as rows.
    #[arg(long, value_name = "ID")]
    pub workspace: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// How much history to fetch first, e.g. 30d or 12h (default: the
    /// configuration's `[case] history`, else 30 days with a case and 1
    /// day without).
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
    /// Stop once history is in and judged, and print the findings as they
    /// stand (with `--format json`, one array shaped like `scan`'s).
    #[arg(long)]
    pub until_caught_up: bool,
    /// ndjson: one line per finding as it appears or changes. The other
    /// formats print once, and need `--until-caught-up`.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: Format,
    /// Keep the events and checkpoints in this case (default:
    /// `WARROOM_CASE`); without one, they live in memory for this run.
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
    /// Take no directory snapshot (no posture findings).
    #[arg(long)]
    pub no_posture: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Markdown,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print every record as warroom reads it (NDJSON, in the common
    /// shape, with its kind) instead of looking for findings.
    #[arg(long)]
    pub records: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Files from `warroom pull` (and on-premises exports); without any,
    /// the tenant is read as `watch` reads it, until history is in.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// With no files: how much history to read, e.g. 30d (default as
    /// `watch`).
    #[arg(long, value_name = "DUR")]
    pub since: Option<String>,
    /// table, json or markdown (ndjson prints json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Take the team's triage and item states from this case (and, with
    /// no files, keep and resume the tenant's history in it).
    #[arg(long, value_name = "NAME")]
    pub case: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KqlFormat {
    /// Each query under a comment naming its rule.
    Kql,
    /// One array of {id, title, query, tables}.
    Json,
    /// Microsoft Sentinel scheduled analytic rules (YAML documents).
    Sentinel,
}

#[derive(Debug, Args)]
pub struct KqlArgs {
    #[arg(long, value_enum, default_value = "kql")]
    pub format: KqlFormat,
    /// The lookback each query covers, as KQL writes it (30d, 12h).
    #[arg(long, value_name = "DUR", default_value = "30d")]
    pub since: String,
    /// With `--format sentinel`: one `<rule id>.yaml` file per rule in
    /// this directory, instead of a stream on standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct HuntArgs {
    /// The Log Analytics workspace id (a GUID; the emulator prints its own).
    #[arg(long, value_name = "ID", required = true)]
    pub workspace: String,
    /// How far back to hunt, e.g. 30d or 12h.
    #[arg(long, value_name = "DUR", default_value = "30d")]
    pub since: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Sigma rules to list beside the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub sigma: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PostureArgs {
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[arg(long, value_name = "OLD")]
    pub against: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[arg(long, value_name = "FILE")]
    pub ioc: Option<PathBuf>,
    /// List every check (id, area, title, what it reads, the anchors that
    /// have it, the recovery phase it serves) instead of judging.
    #[arg(long)]
    pub checks: bool,
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Create a case encrypted to the given recipients.
    New {
        name: String,
        /// age1… or an SSH public key line; repeat for each responder.
        #[arg(long, value_name = "KEY")]
        recipient: Vec<String>,
    },
    List,
    /// Keep the events of files from `warroom pull` in the case, so the
    /// console and `watch` open them at once and do not fetch them again.
    AddEvents {
        name: String,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Check the journal's chain, every event segment against its hash,
    /// and that no event is held twice.
    Verify {
        name: String,
    },
    /// Write the case out: md or json (decrypted, for the report), events
    /// (the pulled events as NDJSON, decrypted, for `scan` or other tools)
    /// or bundle (encrypted, for a teammate's `case import`).
    Export {
        name: String,
        #[arg(long, value_name = "md|json|events|bundle")]
        format: String,
        /// Where to write (`-` for standard output); never overwritten.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Bundle only: who can open it (default: the case's recipients).
        #[arg(long, value_name = "KEY")]
        recipient: Vec<String>,
    },
    /// Create a case from a bundle made by `case export --format bundle`.
    Import {
        bundle: PathBuf,
        /// Name for the case here (default: the name in the bundle).
        #[arg(long)]
        name: Option<String>,
    },
    #[command(subcommand)]
    Recipients(RecipientsCommand),
}

#[derive(Debug, Subcommand)]
pub enum RecipientsCommand {
    Add { name: String, keys: Vec<String> },
    Remove { name: String, keys: Vec<String> },
    List { name: String },
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create an identity protected by a passphrase (at --identity, or the
    /// data directory); prints its public key for `case new --recipient`.
    New,
    /// Print the public key of the identity.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum NotesCommand {
    /// Add a note read from standard input; prints the record id.
    Add {
        #[arg(long)]
        case: Option<String>,
        #[arg(long)]
        tag: Vec<String>,
        /// What the note is about: an event (signin:ID), an entity, a
        /// finding or a checklist item; repeat for several.
        #[arg(long)]
        link: Vec<String>,
    },
    List {
        #[arg(long)]
        case: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config file's path.
    Path,
    /// Print the settings in force (secrets masked).
    Show,
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Demo(_) => "demo",
            Command::Emulator(_) => "emulator",
            Command::Login => "login",
            Command::Pull(_) => "pull",
            Command::Scan(_) => "scan",
            Command::Watch(_) => "watch",
            Command::Posture(_) => "posture",
            Command::Plan(_) => "plan",
            Command::Rules(_) => "rules",
            Command::Kql(_) => "kql",
            Command::Hunt(_) => "hunt",
            Command::Doctor => "doctor",
            Command::Lock => "lock",
            Command::Identity(_) => "identity",
            Command::Case(_) => "case",
            Command::Notes(_) => "notes",
            Command::Config(_) => "config",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn contract_shapes_parse() {
        for args in [
            vec![
                "warroom",
                "demo",
                "--scenario",
                "golden-saml",
                "--seed",
                "7",
                "--speed",
                "2",
            ],
            vec![
                "warroom",
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--signins",
                "1000",
                "--live",
            ],
            vec![
                "warroom",
                "pull",
                "--since",
                "7d",
                "--streams",
                "audit,risk",
                "--out",
                "x.ndjson",
            ],
            vec!["warroom", "scan", "a.json", "b.csv", "--format", "json"],
            vec!["warroom", "posture", "--against", "old.json"],
            vec![
                "warroom",
                "case",
                "new",
                "IR-1",
                "--recipient",
                "age1x",
                "--recipient",
                "ssh-ed25519 AAAA",
            ],
            vec!["warroom", "case", "recipients", "add", "IR-1", "age1y"],
            vec!["warroom", "notes", "add", "--case", "IR-1", "--tag", "fed"],
            vec!["warroom", "config", "show"],
            vec!["warroom", "--ascii", "--profile", "p"],
        ] {
            Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }
}
