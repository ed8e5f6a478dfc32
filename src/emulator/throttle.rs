//! Graph's documented service limits, per app and tenant: the identity and
//! access reports (sign-ins, audits) allow 5 requests per 10 seconds and
//! answer 429 with `Retry-After`; Identity Protection allows 1 request per
//! second and answers 429 without it. The Log Analytics query API allows
//! 200 requests per 30 seconds per caller and answers 429 with `Retry-After`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    Reports,
    IdentityProtection,
    LogAnalytics,
}

impl Class {
    fn limit(self) -> (usize, Duration) {
        match self {
            Class::Reports => (5, Duration::from_secs(10)),
            Class::IdentityProtection => (1, Duration::from_secs(1)),
            Class::LogAnalytics => (200, Duration::from_secs(30)),
        }
    }
}

/// A refused request: when to retry, if Graph would say.
#[derive(Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_secs: Option<u64>,
}

#[derive(Debug, Default)]
pub struct Throttle {
    disabled: bool,
    windows: Mutex<HashMap<(String, Class), VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(enabled: bool) -> Self {
        Self {
            disabled: !enabled,
            windows: Mutex::default(),
        }
    }

    /// Admits one request of `app` in `class` at `now`, or refuses it.
    pub fn admit(&self, app: &str, class: Class, now: Instant) -> Result<(), Throttled> {
        if self.disabled {
            return Ok(());
        }
        let (limit, window) = class.limit();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let seen = windows.entry((app.to_owned(), class)).or_default();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            seen.pop_front();
        }
        if seen.len() < limit {
            seen.push_back(now);
            return Ok(());
        }
        let retry_after_secs = match class {
            Class::Reports | Class::LogAnalytics => {
                let oldest = seen.front().copied().unwrap_or(now);
                let wait = window.saturating_sub(now.duration_since(oldest));
                Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            }
            Class::IdentityProtection => None,
        };
        Err(Throttled { retry_after_secs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_allow_five_per_ten_seconds() {
        let t = Throttle::new(true);
        let start = Instant::now();
        for i in 0..5 {
            assert_eq!(
                t.admit(
                    "app",
                    Class::Reports,
                    start + Duration::from_millis(i * 100)
                ),
                Ok(())
            );
        }
        let refused = t
            .admit("app", Class::Reports, start + Duration::from_secs(2))
            .unwrap_err();
        assert_eq!(refused.retry_after_secs, Some(8));
        assert_eq!(
            t.admit("other-app", Class::Reports, start),
            Ok(()),
            "limits are per app"
        );
        assert_eq!(
            t.admit("app", Class::Reports, start + Duration::from_secs(10)),
            Ok(())
        );
    }

    #[test]
    fn identity_protection_gives_no_retry_after() {
        let t = Throttle::new(true);
        let start = Instant::now();
        assert_eq!(t.admit("app", Class::IdentityProtection, start), Ok(()));
        let refused = t.admit(
            "app",
            Class::IdentityProtection,
            start + Duration::from_millis(300),
        );
        assert_eq!(
            refused,
            Err(Throttled {
                retry_after_secs: None
            })
        );
        assert_eq!(
            t.admit(
                "app",
                Class::IdentityProtection,
                start + Duration::from_secs(1)
            ),
            Ok(())
        );
    }

    #[test]
    fn disabled_admits_everything() {
        let t = Throttle::new(false);
        for _ in 0..100 {
            assert_eq!(
                t.admit("app", Class::IdentityProtection, Instant::now()),
                Ok(())
            );
        }
    }
}
