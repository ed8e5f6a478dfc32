//! What can happen to the console. An [`Action`] is a user intent bound to
//! keys; a [`Msg`] is anything that reaches `update` (actions, typed text,
//! the clock, task results); an [`Effect`] is what `update` asks the runtime
//! to do, since `update` itself never does I/O.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use super::feed::{Connection, SignInRow, StreamStatus};
use super::notes::NoteRow;
use super::state::PaneId;
use crate::model::SafeText;

/// A user intent. Every variant has a stable kebab-case name: the keymap,
/// the config file and the help overlay refer to actions by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    FocusNext,
    FocusPrev,
    Focus(PaneId),
    ToggleZoom,
    OpenHelp,
    OpenCommand,
    OpenFilter,
    Back,
    Quit,
    MoveDown,
    MoveUp,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Submit,
    Complete,
    CompletePrev,
    ConfirmYes,
    ConfirmNo,
    NewNote,
    AmendNote,
    Save,
    /// Sign-ins: follow the newest, or pause on the row being read.
    ToggleFollow,
    /// Open the selected row's detail.
    Open,
    /// Sign-ins: move the cell cursor (the value `pivot` and `copy` take).
    CellNext,
    CellPrev,
    /// Filter the feed on the selected cell's value.
    Pivot,
    /// Show the findings about the selected cell's value.
    PivotFindings,
    /// Copy the selected value (or the open detail) to the clipboard.
    Copy,
    /// Findings: record a triage decision on the selected finding.
    Triage,
    /// Findings: set aside this detection's findings about this entity.
    Suppress,
    /// The timeline of the intrusion.
    OpenTimeline,
    /// Timeline: a narrower or wider window.
    ZoomIn,
    ZoomOut,
    /// Sign-ins: a bar chart of the top failing addresses, then countries.
    Chart,
    /// Remediation: add an item of the team's own.
    AddItem,
    /// Findings: the checklist items the finding calls for.
    ShowRemediation,
    /// Remediation: do the selected item on the tenant (after a preview
    /// and a typed confirmation).
    Act,
}

impl Action {
    /// Every action, for name lookups and for the help overlay's order.
    pub const ALL: [Action; 42] = [
        Action::FocusNext,
        Action::FocusPrev,
        Action::Focus(PaneId::Findings),
        Action::Focus(PaneId::SignIns),
        Action::Focus(PaneId::Remediation),
        Action::Focus(PaneId::Notes),
        Action::ToggleZoom,
        Action::OpenHelp,
        Action::OpenCommand,
        Action::OpenFilter,
        Action::Back,
        Action::Quit,
        Action::MoveDown,
        Action::MoveUp,
        Action::PageDown,
        Action::PageUp,
        Action::Top,
        Action::Bottom,
        Action::Submit,
        Action::Complete,
        Action::CompletePrev,
        Action::ConfirmYes,
        Action::ConfirmNo,
        Action::NewNote,
        Action::AmendNote,
        Action::Save,
        Action::ToggleFollow,
        Action::Open,
        Action::CellNext,
        Action::CellPrev,
        Action::Pivot,
        Action::PivotFindings,
        Action::Copy,
        Action::Triage,
        Action::Suppress,
        Action::OpenTimeline,
        Action::ZoomIn,
        Action::ZoomOut,
        Action::Chart,
        Action::AddItem,
        Action::ShowRemediation,
        Action::Act,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::FocusNext => "focus-next",
            Action::FocusPrev => "focus-prev",
            Action::Focus(PaneId::Findings) => "focus-findings",
            Action::Focus(PaneId::SignIns) => "focus-signins",
            Action::Focus(PaneId::Remediation) => "focus-remediation",
            Action::Focus(PaneId::Notes) => "focus-notes",
            Action::ToggleZoom => "zoom",
            Action::OpenHelp => "help",
            Action::OpenCommand => "command",
            Action::OpenFilter => "filter",
            Action::Back => "back",
            Action::Quit => "quit",
            Action::MoveDown => "move-down",
            Action::MoveUp => "move-up",
            Action::PageDown => "page-down",
            Action::PageUp => "page-up",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Submit => "submit",
            Action::Complete => "complete",
            Action::CompletePrev => "complete-prev",
            Action::ConfirmYes => "confirm-yes",
            Action::ConfirmNo => "confirm-no",
            Action::NewNote => "new-note",
            Action::AmendNote => "amend-note",
            Action::Save => "save",
            Action::ToggleFollow => "follow",
            Action::Open => "open",
            Action::CellNext => "cell-next",
            Action::CellPrev => "cell-prev",
            Action::Pivot => "pivot",
            Action::PivotFindings => "pivot-findings",
            Action::Copy => "copy",
            Action::Triage => "triage",
            Action::Suppress => "suppress",
            Action::OpenTimeline => "timeline",
            Action::ZoomIn => "zoom-in",
            Action::ZoomOut => "zoom-out",
            Action::Chart => "chart",
            Action::AddItem => "add-item",
            Action::ShowRemediation => "show-remediation",
            Action::Act => "act",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

/// Why the console is shutting down without the user asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownReason {
    /// SIGHUP: the SSH session or terminal went away.
    Hangup,
    Interrupt,
    Terminate,
    /// SIGQUIT.
    Quit,
    /// The terminal's input stream ended or failed.
    TerminalLost,
}

impl ShutdownReason {
    /// The conventional exit status for a process stopped this way.
    pub fn exit_code(self) -> u8 {
        match self {
            ShutdownReason::Hangup => 129,
            ShutdownReason::Interrupt => 130,
            ShutdownReason::Terminate => 143,
            ShutdownReason::Quit => 131,
            ShutdownReason::TerminalLost => 1,
        }
    }
}

/// Anything that reaches `update`.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    Action(Action),
    /// A key typed into a prompt that no binding claimed (text editing).
    PromptKey(KeyEvent),
    /// Bracketed paste: arrives whole, so a pasted IOC list is one message.
    Paste(String),
    /// The wall clock, once a second.
    Tick(Timestamp),
    /// The terminal changed size (columns, rows): redraw.
    Resize(u16, u16),
    Shutdown(ShutdownReason),
    /// Where the console stands with the tenant.
    Connection(Connection),
    /// New sign-ins from the live feed (any order; placed by time).
    SignIns(Vec<SignInRow>),
    /// A live stream's health after a poll.
    Stream(StreamStatus),
    /// Every stream's history is in and judged.
    CaughtUp,
    /// Emergency accounts a directory snapshot shows.
    Emergency(std::collections::BTreeSet<String>),
    /// Every finding the live detections hold now, most severe first.
    Findings(Vec<super::findings::FindingRow>),
    /// A note is in the journal (durably).
    NoteSaved(NoteRow),
    /// A note could not be saved; the editor keeps it.
    NoteFailed(SafeText),
    /// Background work went wrong in a way the responder must know.
    Problem(SafeText),
    /// A sign-in's whole record, read again from the tenant for the detail
    /// view: the event id and the pretty-printed JSON, or why it could not
    /// be read.
    SignInRecord(String, Result<String, SafeText>),
    /// A triage record is in the journal (durably).
    Journaled(crate::case::record::Record),
    /// A triage record could not be written; nothing changed.
    /// (The kind of record, as `Body::kind` names it.)
    JournalFailed(&'static str, SafeText),
    /// A checklist action read from the tenant, ready to confirm; or why
    /// it cannot be prepared.
    /// (The checklist item it is for.)
    ActionPrepared(
        String,
        Result<Box<crate::playbook::act::Prepared>, SafeText>,
    ),
    /// A confirmed action was sent (once) and the object read again.
    ActionDone(Box<crate::playbook::act::Executed>),
}

/// What `update` asks the runtime to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// State changed: draw a frame (coalesced and rate-capped by the runtime).
    Render,
    /// Leave the event loop, restore the terminal and exit with this status.
    Exit(u8),
    /// Put this text on the local clipboard (OSC 52), where the terminal
    /// allows it.
    Copy(String),
    /// Append a note to the case journal; answered by `NoteSaved` or
    /// `NoteFailed`.
    SaveNote {
        text: String,
        tags: Vec<String>,
        /// The note this one amends.
        supersedes: Option<String>,
        links: Vec<String>,
    },
    /// Read one sign-in's whole record from the tenant (the feed keeps no
    /// JSON); answered by `SignInRecord`.
    FetchSignIn(String),
    /// Append a triage record to the case journal; answered by `Journaled`
    /// or `JournalFailed`.
    Journal(crate::case::record::Body),
    /// Read the object of a checklist action and build its request;
    /// answered by `ActionPrepared`. Sends nothing.
    PrepareAction(crate::playbook::act::Target),
    /// Send a confirmed action once; answered by `ActionDone`.
    ExecuteAction(Box<crate::playbook::act::Prepared>),
}
