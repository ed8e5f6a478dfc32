//! How the live streams and the connection to the tenant are doing, for
//! the status bar and the sign-ins pane's header.

use jiff::Timestamp;

use crate::model::SafeText;

/// How one live stream is doing, for the status bar and the pane header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStatus {
    pub name: &'static str,
    pub last_success: Option<Timestamp>,
    /// Seconds between the last poll and the newest event seen.
    pub lag_secs: Option<i64>,
    /// Polls failed in a row.
    pub failures: u32,
    pub last_error: Option<SafeText>,
    pub delivered: u64,
    /// Requests in the stream's budget window, and the window's limit.
    pub budget: Option<(usize, usize)>,
    /// How its history is coming in (absent: the stream has none).
    pub history: Option<HistoryStatus>,
}

/// A stream's history: the window, how far down it the pages have come,
/// and at what pace.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryStatus {
    /// Every page is in.
    pub done: bool,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The oldest event brought so far.
    pub covered_from: Option<Timestamp>,
    /// Events brought this run, and read back from the case.
    pub events: u64,
    pub stored: u64,
    /// Events per second this run, and the seconds left at that pace.
    pub rate: f64,
    pub eta_secs: Option<u64>,
    /// Seconds all streams waited for the request budget, and 429s seen.
    pub budget_wait_secs: u64,
    pub throttled: u64,
}

impl Eq for HistoryStatus {}

impl StreamStatus {
    pub fn healthy(&self) -> bool {
        self.failures == 0 && self.last_success.is_some()
    }
}

/// Where the console stands with the tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Connection {
    /// No profile to connect with.
    #[default]
    NotConfigured,
    Connecting,
    /// Waiting for a person to finish a device code sign-in.
    SignIn {
        url: SafeText,
        code: SafeText,
        expires: Timestamp,
    },
    Connected,
    /// Could not start at all (bad settings): the reason, in one line.
    Failed(SafeText),
}

impl Connection {
    /// For the log: the state without its details (a device code is not
    /// for the log).
    pub fn label(&self) -> &'static str {
        match self {
            Connection::NotConfigured => "not configured",
            Connection::Connecting => "connecting",
            Connection::SignIn { .. } => "waiting for sign-in",
            Connection::Connected => "connected",
            Connection::Failed(_) => "failed",
        }
    }
}
