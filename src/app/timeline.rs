//! The timeline of the intrusion: sign-ins and failures per minute over the
//! whole time the feed holds, with the milestones marked (each finding of
//! medium severity or worse where it was first seen, and each triage
//! decision where it was made). Pure functions of the state: `update` moves
//! the window and the selected mark, the timeline view draws them.

use super::state::AppState;
use crate::model::Severity;

/// A point worth marking on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Minutes since the epoch.
    pub minute: i64,
    pub what: MarkKind,
    /// The finding it is about.
    pub finding: String,
    pub title: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A finding first seen here.
    Finding(Severity),
    /// A triage decision recorded here.
    Triage,
}

/// The window shown, in minutes since the epoch (both ends included), and
/// the selected mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineView {
    pub from: i64,
    pub to: i64,
    pub mark: usize,
}

/// The narrowest window: an hour.
const MIN_WIDTH: i64 = 60;

fn minute_of(text: &str) -> Option<i64> {
    let at = crate::model::de::parse_time(text)?;
    Some(at.as_second().div_euclid(60))
}

/// Every mark, oldest first.
pub fn marks(state: &AppState) -> Vec<Mark> {
    let mut marks: Vec<Mark> = state
        .findings
        .iter()
        .filter(|f| f.severity <= Severity::Medium && state.triage.suppressed(f).is_none())
        .filter_map(|f| {
            Some(Mark {
                minute: minute_of(f.first_seen.as_deref()?)?,
                what: MarkKind::Finding(f.severity),
                finding: f.id.clone(),
                title: f.title.clone(),
            })
        })
        .collect();
    for (finding, decision) in state.triage.decisions() {
        let Some(minute) = minute_of(&decision.time) else {
            continue;
        };
        let title = state
            .findings
            .iter()
            .find(|f| &f.id == finding)
            .map_or_else(
                || crate::model::SafeText::new(finding).to_string(),
                |f| f.title.clone(),
            );
        marks.push(Mark {
            minute,
            what: MarkKind::Triage,
            finding: finding.clone(),
            title: format!("triaged {}: {title}", decision.verdict.name()),
        });
    }
    marks.sort_by(|a, b| (a.minute, &a.finding).cmp(&(b.minute, &b.finding)));
    marks
}

/// The whole range: the feed's sign-ins and every mark.
pub fn full_span(state: &AppState, marks: &[Mark]) -> Option<(i64, i64)> {
    let feed = state.feed.minute_span();
    let points = marks.iter().map(|m| m.minute);
    let low = points.clone().chain(feed.map(|f| f.0)).min()?;
    let high = points.chain(feed.map(|f| f.1)).max()?;
    Some((low, high.max(low + MIN_WIDTH - 1)))
}

/// A view of the whole range, the first mark selected.
pub fn open(state: &AppState) -> Option<TimelineView> {
    let marks = marks(state);
    let (from, to) = full_span(state, &marks)?;
    Some(TimelineView { from, to, mark: 0 })
}

/// Halves (`in_`) or doubles the window, about the selected mark when it
/// is in view, else about the middle; never past the whole range.
pub fn zoom(view: &mut TimelineView, state: &AppState, in_: bool) {
    let marks = marks(state);
    let Some((low, high)) = full_span(state, &marks) else {
        return;
    };
    let width = view.to - view.from + 1;
    let centre = marks
        .get(view.mark)
        .map(|m| m.minute)
        .filter(|m| (view.from..=view.to).contains(m))
        .unwrap_or(view.from + width / 2);
    let width = if in_ {
        (width / 2).max(MIN_WIDTH)
    } else {
        (width * 2).min(high - low + 1)
    };
    place(view, centre - width / 2, width, low, high);
}

/// Moves the window a quarter of its width earlier or later.
pub fn pan(view: &mut TimelineView, state: &AppState, later: bool) {
    let marks = marks(state);
    let Some((low, high)) = full_span(state, &marks) else {
        return;
    };
    let width = view.to - view.from + 1;
    let step = (width / 4).max(1);
    let from = if later {
        view.from + step
    } else {
        view.from - step
    };
    place(view, from, width, low, high);
}

fn place(view: &mut TimelineView, from: i64, width: i64, low: i64, high: i64) {
    let from = from.clamp(low, (high - width + 1).max(low));
    view.from = from;
    view.to = (from + width - 1).min(high);
}

/// Selects the next or previous mark and brings it into view.
pub fn step_mark(view: &mut TimelineView, state: &AppState, forward: bool) {
    let marks = marks(state);
    if marks.is_empty() {
        return;
    }
    // The marks may have changed under the view: stay within them.
    let at = view.mark.min(marks.len() - 1);
    view.mark = if forward {
        (at + 1).min(marks.len() - 1)
    } else {
        at.saturating_sub(1)
    };
    let minute = marks[view.mark].minute;
    if !(view.from..=view.to).contains(&minute) {
        let Some((low, high)) = full_span(state, &marks) else {
            return;
        };
        let width = view.to - view.from + 1;
        place(view, minute - width / 2, width, low, high);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(from: i64, to: i64) -> TimelineView {
        TimelineView { from, to, mark: 0 }
    }

    #[test]
    fn the_window_stays_inside_the_range() {
        let mut v = view(0, 999);
        place(&mut v, -50, 200, 0, 999);
        assert_eq!((v.from, v.to), (0, 199));
        place(&mut v, 950, 200, 0, 999);
        assert_eq!((v.from, v.to), (800, 999));
        place(&mut v, 0, 5000, 0, 999);
        assert_eq!((v.from, v.to), (0, 999));
    }
}
