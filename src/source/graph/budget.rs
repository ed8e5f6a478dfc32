//! Request budgets per Graph API family, shared by every task that talks to
//! Graph, so steady-state pulls stay inside the documented limits and draw
//! no 429 at all: identity and access reports allow 5 requests per 10
//! seconds per app and tenant, Identity Protection 1 per second.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The API families with documented limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Sign-ins and directory audits.
    Reports,
    IdentityProtection,
    /// Users, apps, domains...: limited by resource units, far above what a
    /// pull needs; left unbudgeted.
    Directory,
}

/// A sliding window: at most `limit` requests in any `window`.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    window: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sent: VecDeque<Instant>,
    /// Set after a 429: nobody sends before this.
    paused_until: Option<Instant>,
}

/// Small safety margin over the service's window: clocks on both ends.
const MARGIN: Duration = Duration::from_millis(120);

impl Budget {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window: window + MARGIN,
            state: Mutex::default(),
        }
    }

    pub fn for_family(family: Family) -> Option<Self> {
        match family {
            Family::Reports => Some(Self::new(5, Duration::from_secs(10))),
            Family::IdentityProtection => Some(Self::new(1, Duration::from_secs(1))),
            Family::Directory => None,
        }
    }

    /// Waits for a slot and takes it; returns how long it waited.
    pub async fn acquire(&self) -> Duration {
        let started = Instant::now();
        loop {
            let wake = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while s
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window)
                {
                    s.sent.pop_front();
                }
                match s.paused_until {
                    Some(until) if until > now => until,
                    _ if s.sent.len() < self.limit => {
                        s.sent.push_back(now);
                        return now.duration_since(started);
                    }
                    _ => s.sent.front().map_or(now, |t| *t + self.window),
                }
            };
            tokio::time::sleep_until(wake).await;
        }
    }

    /// Requests sent in the current window, and the window's limit.
    pub fn in_use(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let recent = s
            .sent
            .iter()
            .filter(|t| now.duration_since(**t) < self.window)
            .count();
        (recent, self.limit)
    }

    /// After a 429: hold every request of this family for `wait`.
    pub fn pause(&self, wait: Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        s.paused_until = Some(s.paused_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn five_per_ten_seconds() {
        let budget = Budget::for_family(Family::Reports).unwrap();
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(budget.acquire().await, Duration::ZERO);
        }
        let waited = budget.acquire().await;
        assert!(waited >= Duration::from_secs(10), "{waited:?}");
        assert!(Instant::now().duration_since(start) < Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_everyone() {
        let budget = Budget::for_family(Family::IdentityProtection).unwrap();
        budget.pause(Duration::from_secs(30));
        let waited = budget.acquire().await;
        assert!(waited >= Duration::from_secs(30));
    }
}
