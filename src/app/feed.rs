//! The sign-in feed as the console holds it: compact rows, newest first,
//! and the health of every live stream. Plain data; `update` fills it, the
//! sign-ins pane draws it.

use std::collections::VecDeque;

use jiff::Timestamp;

use crate::model::{SafeText, SignIn, SignInKind};

/// Rows kept for the feed. Older rows leave the view (the pull and the
/// case keep the events themselves), and the pane says how many left.
pub const FEED_CAPACITY: usize = 200_000;

/// The kind of sign-in, as one short column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Interactive,
    NonInteractive,
    ServicePrincipal,
    ManagedIdentity,
    Other,
}

impl Kind {
    pub fn short(self) -> &'static str {
        match self {
            Kind::Interactive => "user",
            Kind::NonInteractive => "nonint",
            Kind::ServicePrincipal => "sp",
            Kind::ManagedIdentity => "mi",
            Kind::Other => "?",
        }
    }
}

/// What one line of the feed shows; every string is already sanitised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInRow {
    /// Graph's id of the event (what notes link to).
    pub id: SafeText,
    pub time: Timestamp,
    pub kind: Kind,
    /// The user's principal name, or the service principal's name.
    pub principal: SafeText,
    pub app: SafeText,
    pub ip: SafeText,
    pub location: SafeText,
    /// 0 for success.
    pub error_code: i64,
    pub mfa_by_claim: bool,
    /// `none`, `low`, `medium`, `high` or empty.
    pub risk: SafeText,
}

impl SignInRow {
    pub fn from_signin(s: &SignIn) -> Option<Self> {
        let kind = match s.kind() {
            SignInKind::Interactive => Kind::Interactive,
            SignInKind::NonInteractive => Kind::NonInteractive,
            SignInKind::ServicePrincipal => Kind::ServicePrincipal,
            SignInKind::ManagedIdentity => Kind::ManagedIdentity,
            SignInKind::Other(_) => Kind::Other,
        };
        let principal = [
            &s.user_principal_name,
            &s.service_principal_name,
            &s.user_display_name,
        ]
        .into_iter()
        .find(|t| !t.as_str().is_empty())
        .cloned()
        .unwrap_or_default();
        let location = match (
            s.location.country_or_region.as_str(),
            s.location.city.as_str(),
        ) {
            ("", _) => SafeText::default(),
            (country, "") => SafeText::new(country),
            (country, city) => SafeText::new(&format!("{country} {city}")),
        };
        Some(Self {
            id: s.id.clone(),
            time: s.created_date_time?,
            kind,
            principal,
            app: s.app_display_name.clone(),
            ip: s.ip_address.clone(),
            location,
            error_code: s.status.error_code.unwrap_or(0),
            mfa_by_claim: s.mfa_by_claim(),
            risk: s.risk_level_during_sign_in.clone(),
        })
    }

    pub fn failed(&self) -> bool {
        self.error_code != 0
    }

    pub fn risky(&self) -> bool {
        matches!(self.risk.as_str(), "medium" | "high")
    }
}

/// Rows newest first, at most [`FEED_CAPACITY`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignInFeed {
    rows: VecDeque<SignInRow>,
    /// Rows that left the view to keep within the capacity.
    pub dropped: u64,
}

impl SignInFeed {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&SignInRow> {
        self.rows.get(index)
    }

    pub fn iter(&self) -> impl Iterator<Item = &SignInRow> {
        self.rows.iter()
    }

    /// Adds rows in time order; returns how many landed above `index`
    /// (so a paused selection can stay on its row).
    pub fn insert(&mut self, rows: Vec<SignInRow>, index: usize) -> usize {
        let (mut above, mut selected) = (0, index);
        for row in rows {
            // Newest first: the first position whose row is older.
            let at = self.rows.partition_point(|r| r.time >= row.time);
            if at <= selected {
                above += 1;
                selected += 1;
            }
            self.rows.insert(at, row);
        }
        while self.rows.len() > FEED_CAPACITY {
            self.rows.pop_back();
            self.dropped += 1;
        }
        above
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(secs: i64) -> SignInRow {
        SignInRow {
            id: SafeText::new("e"),
            time: Timestamp::from_second(secs).unwrap(),
            kind: Kind::Interactive,
            principal: SafeText::new("u"),
            app: SafeText::default(),
            ip: SafeText::default(),
            location: SafeText::default(),
            error_code: 0,
            mfa_by_claim: false,
            risk: SafeText::default(),
        }
    }

    #[test]
    fn rows_stay_newest_first_and_late_ones_find_their_place() {
        let mut feed = SignInFeed::default();
        feed.insert(vec![row(30), row(20)], 0);
        let above = feed.insert(vec![row(40), row(25), row(10)], 1);
        let times: Vec<i64> = feed.iter().map(|r| r.time.as_second()).collect();
        assert_eq!(times, vec![40, 30, 25, 20, 10]);
        // 40 and 25 landed above the selected row (20, at index 1).
        assert_eq!(above, 2);
        assert_eq!(feed.get(1 + above).unwrap().time.as_second(), 20);
    }
}
