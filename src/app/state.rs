//! Everything the console shows, as plain data. Only `update` mutates it;
//! the draw functions read it; nothing here does I/O.

use std::sync::Arc;

use jiff::Timestamp;
use ratatui_textarea::TextArea;

use super::feed::{Connection, SignInFeed, StreamStatus};
use super::keymap::{Keymap, Layer};
use super::notes::{NoteEditor, NoteRow};
use crate::model::SafeText;

/// The four panes, in focus order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaneId {
    Findings,
    SignIns,
    Remediation,
    Notes,
}

impl PaneId {
    pub const ALL: [PaneId; 4] = [
        PaneId::Findings,
        PaneId::SignIns,
        PaneId::Remediation,
        PaneId::Notes,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Findings => "Findings",
            PaneId::SignIns => "Sign-ins",
            PaneId::Remediation => "Remediation",
            PaneId::Notes => "Notes",
        }
    }

    /// The name used on the command line (`:focus signins`).
    pub fn name(self) -> &'static str {
        match self {
            PaneId::Findings => "findings",
            PaneId::SignIns => "signins",
            PaneId::Remediation => "remediation",
            PaneId::Notes => "notes",
        }
    }

    pub fn from_name(name: &str) -> Option<PaneId> {
        PaneId::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn next(self) -> PaneId {
        PaneId::ALL[(self.index() + 1) % 4]
    }

    pub fn prev(self) -> PaneId {
        PaneId::ALL[(self.index() + 3) % 4]
    }
}

/// Per-pane view state: the selected row and the filter. `len` is the number
/// of rows the pane holds; it stays 0 until a source feeds the pane.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaneState {
    pub selected: usize,
    pub len: usize,
    pub filter: Option<SafeText>,
}

/// Whether a case is open and whether its key is unlocked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CaseLock {
    #[default]
    NoCase,
    Locked(SafeText),
    Unlocked(SafeText),
}

/// What the console is connected to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    pub profile: Option<SafeText>,
    pub tenant: Option<SafeText>,
    pub connection: Connection,
    /// Every live stream, in the order they first reported.
    pub streams: Vec<StreamStatus>,
    pub case: CaseLock,
    /// A line about the case the notes pane shows: why it is locked, or
    /// that it is a throwaway demo case.
    pub case_detail: Option<SafeText>,
    /// The case is the demo's throwaway one, deleted on quit.
    pub throwaway_case: bool,
    /// Every stream's history is in and judged.
    pub caught_up: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Filter(PaneId),
    /// `STATE [@OWNER] REASON` for the selected finding.
    Triage,
    /// A reason to set aside the selected finding's detection and entity.
    Suppress,
    /// `STATE [@OWNER] [REASON]` for the selected checklist item.
    ItemState,
    /// The title of a new checklist item in the selected item's phase.
    ItemAdd,
    /// The name of the object a prepared action changes, typed to confirm.
    ConfirmAction,
}

/// Tab completion in progress: the candidates and which one is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<String>,
    pub index: usize,
}

#[derive(Clone, Debug)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: TextArea<'static>,
    pub completion: Option<Completion>,
    /// What is wrong with the filter typed so far, checked as it is typed.
    pub problem: Option<String>,
    /// Which earlier filter Up/Down shows (an index into the history).
    pub recalled: Option<usize>,
    /// What the line is about, fixed when the prompt opened (the finding a
    /// triage line judges), so new arrivals cannot change it.
    pub subject: Option<String>,
}

impl Prompt {
    pub fn new(kind: PromptKind, initial: &str) -> Self {
        let mut input = TextArea::new(vec![initial.to_owned()]);
        input.move_cursor(ratatui_textarea::CursorMove::End);
        // Styles that read with or without colour, set once, not per frame.
        input.set_cursor_line_style(ratatui::style::Style::new());
        input.set_cursor_style(
            ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::REVERSED),
        );
        Self {
            kind,
            input,
            completion: None,
            problem: None,
            recalled: None,
            subject: None,
        }
    }

    /// The single line typed so far.
    pub fn text(&self) -> &str {
        self.input.lines().first().map_or("", String::as_str)
    }
}

/// The top-most interaction mode; it picks the keymap layer.
#[derive(Clone, Debug)]
pub enum Mode {
    Normal,
    Help {
        scroll: u16,
    },
    Prompt(Box<Prompt>),
    ConfirmQuit,
    /// Writing a note.
    Editor(Box<NoteEditor>),
    /// Asked before unsaved note text is thrown away; keeps the draft.
    ConfirmDiscard(Box<NoteEditor>),
    /// A sign-in's detail over the feed.
    Detail(Box<Detail>),
    /// The timeline of the intrusion over the panes.
    Timeline(super::timeline::TimelineView),
    /// A new password, shown this once: for whom, and the password.
    /// (And the mode it was shown over.)
    ShowSecret(Box<(SafeText, crate::playbook::act::Secret, Mode)>),
}

/// The sign-in detail view: the row's fields at once, its whole record
/// once the tenant returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detail {
    /// The feed row's handle (see `SignInFeed::handle`).
    pub handle: u32,
    pub id: String,
    pub scroll: u16,
    pub record: Record,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Loading,
    /// Pretty-printed JSON, one sanitised line each.
    Loaded(Vec<SafeText>),
    Failed(SafeText),
}

/// The sign-ins pane beyond its selection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedView {
    /// Newest on top and the selection stays there; off when paused.
    pub follow: bool,
    /// Sign-ins shown since the feed was paused.
    pub unseen: u64,
    /// The cell `pivot` and `copy` take.
    pub cell: crate::app::feed::Cell,
    /// Filters applied, oldest first, for Up/Down in the filter prompt.
    pub history: Vec<String>,
    /// The failures chart beside the table, when open.
    pub chart: Option<ChartOf>,
    /// Its bars: value and failures among the rows shown, most first.
    pub top: Vec<(SafeText, u64)>,
    /// Failures per address or country symbol among the rows shown, kept
    /// up as rows arrive while the chart is open.
    pub chart_counts: std::collections::HashMap<u32, u64>,
}

/// What the failures chart counts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChartOf {
    Addresses,
    Countries,
}

impl FeedView {
    /// What a key in the panes can change and the pane shows (the chart's
    /// counts follow from `chart`; the history shows only in the prompt).
    pub fn look(&self) -> (bool, u64, crate::app::feed::Cell, Option<ChartOf>) {
        (self.follow, self.unseen, self.cell, self.chart)
    }
}

impl Default for FeedView {
    fn default() -> Self {
        Self {
            follow: true,
            unseen: 0,
            cell: Default::default(),
            history: Vec::new(),
            chart: None,
            top: Vec::new(),
            chart_counts: Default::default(),
        }
    }
}

impl Mode {
    pub fn layer(&self) -> Layer {
        match self {
            Mode::Normal => Layer::Normal,
            Mode::Help { .. } => Layer::Help,
            Mode::Prompt(_) => Layer::Prompt,
            Mode::ConfirmQuit | Mode::ConfirmDiscard(_) | Mode::ShowSecret(_) => Layer::Confirm,
            Mode::Editor(_) => Layer::Editor,
            Mode::Detail(_) => Layer::Detail,
            Mode::Timeline(_) => Layer::Timeline,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Error,
}

/// A short message in the status bar that goes away by itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub text: SafeText,
    pub until: Timestamp,
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub focus: PaneId,
    pub zoomed: bool,
    pub mode: Mode,
    pub panes: [PaneState; 4],
    pub session: Session,
    /// Wall clock as of the last tick; drawing never reads the clock itself.
    pub now: Timestamp,
    /// Work that quitting would interrupt (pulls, writes, journal flushes).
    pub in_flight: Vec<SafeText>,
    pub toast: Option<Toast>,
    pub feed: SignInFeed,
    pub feed_view: FeedView,
    /// What the detections concluded from the live feed, most severe first.
    pub findings: Vec<super::findings::FindingRow>,
    /// Triage decisions and suppressions, from the case journal.
    pub triage: super::triage::TriageBook,
    /// The remediation checklist.
    pub plan: crate::playbook::Plan,
    /// The action being confirmed (shown over the panes while the prompt
    /// asks for its object's name).
    pub pending_action: Option<Box<crate::playbook::act::Prepared>>,
    /// Checklist items with an action being read, confirmed or sent: one
    /// at a time per item, and answers for anything else are dropped.
    pub acting: std::collections::BTreeSet<String>,
    /// Of those, the ones whose preview is awaited (one preview per `x`).
    pub preparing: std::collections::BTreeSet<String>,
    /// The case's notes, newest first.
    pub notes: Vec<NoteRow>,
    pub keymap: Arc<Keymap>,
    /// Terminal size (columns, rows), kept for page sizes and help scrolling.
    pub screen: (u16, u16),
}

impl AppState {
    pub fn new(keymap: Arc<Keymap>, session: Session, now: Timestamp) -> Self {
        Self {
            focus: PaneId::Findings,
            zoomed: false,
            mode: Mode::Normal,
            panes: Default::default(),
            session,
            now,
            in_flight: Vec::new(),
            toast: None,
            feed: SignInFeed::default(),
            feed_view: FeedView::default(),
            findings: Vec::new(),
            triage: Default::default(),
            plan: crate::playbook::Plan::new(crate::playbook::Template::shared()),
            pending_action: None,
            acting: Default::default(),
            preparing: Default::default(),
            notes: Vec::new(),
            keymap,
            screen: (80, 24),
        }
    }

    pub fn pane(&self, id: PaneId) -> &PaneState {
        &self.panes[id.index()]
    }

    pub fn pane_mut(&mut self, id: PaneId) -> &mut PaneState {
        &mut self.panes[id.index()]
    }

    pub fn layer(&self) -> Layer {
        self.mode.layer()
    }
}
