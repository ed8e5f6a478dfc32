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

/// While history comes in, one phrase for all streams: how much of the
/// window is covered (the stream furthest behind), events, pace, time
/// left, and waits for the request budget. `None` once it is all in.
pub fn history_summary(streams: &[StreamStatus]) -> Option<Vec<String>> {
    let histories: Vec<&HistoryStatus> =
        streams.iter().filter_map(|s| s.history.as_ref()).collect();
    if histories.is_empty() || histories.iter().all(|h| h.done) {
        return None;
    }
    let day = 86_400.0;
    let window = histories
        .iter()
        .map(|h| (h.to.as_second() - h.from.as_second()) as f64 / day)
        .fold(0.0, f64::max);
    let covered = histories
        .iter()
        .map(|h| {
            let reached = if h.done {
                h.from
            } else {
                h.covered_from.unwrap_or(h.to)
            };
            (h.to.as_second() - reached.as_second()) as f64 / day
        })
        .fold(f64::INFINITY, f64::min)
        .max(0.0);
    let events: u64 = histories.iter().map(|h| h.events).sum();
    let rate: f64 = histories.iter().filter(|h| !h.done).map(|h| h.rate).sum();
    let left = histories.iter().filter_map(|h| h.eta_secs).max();
    // Most telling first: a narrow screen keeps the first parts.
    let mut parts = vec![
        format!(
            "history {covered:.0} of {}",
            crate::model::counted(window.round() as u64, "day")
        ),
        crate::model::counted(events, "event"),
    ];
    if let Some(secs) = left {
        parts.push(format!(
            "about {} left",
            crate::model::duration::describe(jiff::SignedDuration::from_secs(secs.max(1) as i64))
        ));
    }
    parts.push(format!("{rate:.0}/s"));
    let (waited, throttled) = histories
        .iter()
        .map(|h| (h.budget_wait_secs, h.throttled))
        .max()
        .unwrap_or_default();
    if waited > 0 || throttled > 0 {
        let mut wait = format!("waited {waited} s for the budget");
        if throttled > 0 {
            wait.push_str(&format!(", {throttled} × 429"));
        }
        parts.push(wait);
    }
    Some(parts)
}

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
