//! Which times the AD FS logs read cover: each server's span, and the
//! gaps in it (a cleared log, a silence while the farm was busy, record
//! numbers missing). A sign-in in a gap cannot be judged.

use std::collections::BTreeMap;

use super::WITHIN_SECS;

/// A server silent this long while the rest of the farm logged at least
/// `busy_farm` events has lost events (or was out of the farm).
const SILENCE_SECS: i64 = 30 * 60;
const BUSY_FARM: usize = 10;

/// How many events the rest of a farm of `servers` must log while one
/// server is silent before the silence counts as a gap: enough that a
/// load balancer sending none of them to that server by chance is below
/// one in a million. (Ten, for two servers, happened by chance about once
/// a month of logs: one in a thousand per quiet half hour.)
fn busy_farm(servers: usize) -> usize {
    if servers < 2 {
        return BUSY_FARM;
    }
    let share = 1.0 / servers as f64;
    let needed = (1e-6f64).ln() / (1.0 - share).ln();
    BUSY_FARM.max(needed.ceil() as usize)
}

/// Runs of consecutive record numbers of one log: first number → (last
/// number, first time, last time).
#[derive(Debug, Default)]
pub(super) struct Runs {
    runs: BTreeMap<u64, (u64, i64, i64)>,
    records: u64,
}

impl Runs {
    pub(super) fn add(&mut self, n: u64, time: i64) {
        if let Some((start, (end, _, last))) = self.runs.range_mut(..=n).next_back() {
            if *end >= n {
                return; // read twice
            }
            if end.checked_add(1) == Some(n) {
                *end = n;
                *last = time;
                let start = *start;
                self.records += 1;
                self.join_next(start);
                return;
            }
        }
        self.records += 1;
        self.runs.insert(n, (n, time, time));
        self.join_next(n);
    }

    /// Joins the run starting at `start` with the one right after it.
    fn join_next(&mut self, start: u64) {
        let Some(&(end, _, _)) = self.runs.get(&start) else {
            return;
        };
        let Some(next) = end.checked_add(1) else {
            return;
        };
        if let Some((next_end, _, next_last)) = self.runs.remove(&next)
            && let Some(run) = self.runs.get_mut(&start)
        {
            run.0 = next_end;
            run.2 = next_last;
        }
    }

    /// The breaks of a log read whole (at most one break per 20 records;
    /// a filtered export breaks at almost every record and says nothing).
    pub(super) fn breaks(&self) -> Vec<(u64, u64, i64, i64)> {
        let breaks = self.runs.len().saturating_sub(1) as u64;
        if breaks == 0 || breaks * 20 > self.records {
            return Vec::new();
        }
        self.runs
            .iter()
            .zip(self.runs.iter().skip(1))
            .map(|((_, (end, _, last)), (next, (_, first, _)))| (end + 1, next - 1, *last, *first))
            .collect()
    }
}

/// Where a server's log holds no events it should: (from, to) in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Gap {
    pub(super) server: String,
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) why: &'static str,
    /// The log and record numbers missing, when numbers show the gap.
    pub(super) numbers: Option<(String, u64, u64)>,
}

/// What the AD FS logs read cover: each server's span and its gaps.
pub(super) struct Coverage {
    pub(super) spans: BTreeMap<String, (i64, i64)>,
    pub(super) gaps: Vec<Gap>,
}

impl Coverage {
    pub(super) fn of(
        logged: &BTreeMap<String, Vec<i64>>,
        cleared: &BTreeMap<String, Vec<i64>>,
    ) -> Self {
        let mut all: Vec<i64> = logged.values().flatten().copied().collect();
        all.sort_unstable();
        let count = |from: i64, to: i64| {
            all.partition_point(|t| *t < to) - all.partition_point(|t| *t <= from)
        };
        let busy = busy_farm(logged.len());
        let mut spans = BTreeMap::new();
        let mut gaps = Vec::new();
        for (server, times) in logged {
            let mut times = times.clone();
            times.sort_unstable();
            let (Some(first), Some(last)) = (times.first(), times.last()) else {
                continue;
            };
            spans.insert(server.clone(), (*first, *last));
            for pair in times.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if b - a > SILENCE_SECS && count(a, b) >= busy {
                    gaps.push(Gap {
                        server: server.clone(),
                        from: a,
                        to: b,
                        why: "silent while the rest of the farm issued tokens",
                        numbers: None,
                    });
                }
            }
            // Events before a clearing are gone unless read earlier.
            for c in cleared.get(server).into_iter().flatten() {
                let before = times.partition_point(|t| t < c);
                // Cleared before anything read: the log starts after it.
                let Some(from) = before.checked_sub(1).map(|i| times[i]) else {
                    continue;
                };
                gaps.push(Gap {
                    server: server.clone(),
                    from,
                    to: *c,
                    why: "its log was cleared (1102)",
                    numbers: None,
                });
            }
        }
        Self { spans, gaps }
    }

    /// Whether every server's log holds time `t`; if not, the first gap
    /// (or None when `t` is outside some server's span).
    pub(super) fn judge(&self, t: i64) -> Result<(), Option<usize>> {
        // The token may have been issued anywhere in [t - W, t + W]: all
        // of it must be in every server's log.
        let (early, late) = (t - WITHIN_SECS, t + WITHIN_SECS);
        for (from, to) in self.spans.values() {
            if early < *from || late > *to {
                return Err(None);
            }
        }
        match self.gaps.iter().position(|g| g.from < late && g.to > early) {
            Some(index) => Err(Some(index)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silence_is_a_gap_only_when_chance_cannot_explain_it() {
        assert_eq!(busy_farm(1), BUSY_FARM);
        // Two servers: twenty tokens all sent elsewhere is one in a million.
        assert_eq!(busy_farm(2), 20);
        assert!(0.5f64.powi(busy_farm(2) as i32) < 1e-6);
        assert!((2.0f64 / 3.0).powi(busy_farm(3) as i32) < 1e-6);
        assert!(busy_farm(4) > busy_farm(3));
    }
}
