//! What `update` does for the sign-ins pane: take new rows without losing
//! the row being read, apply filters, follow or pause, pivot and open the
//! detail. Pure functions of the state.

use super::action::Effect;
use super::feed::{Filter, Kind, SignInRow};
use super::state::{AppState, ChartOf, Detail, Mode, PaneId, Record};
use crate::model::SafeText;

/// How many filters the prompt remembers.
const HISTORY: usize = 50;

/// The row being read: its handle, and its id, which finds it again once
/// old rows have left the feed (and handles were renumbered).
pub type Reading = Option<(u32, String)>;

pub fn reading(state: &AppState) -> Reading {
    let handle = state.feed.handle(state.pane(PaneId::SignIns).selected)?;
    let id = state.feed.by_handle(handle)?.id().to_owned();
    Some((handle, id))
}

/// After the rows shown changed: the count follows, and the selection
/// stays on the row being read when it is still shown (else it stays in
/// place, within the rows).
pub fn reanchor(state: &mut AppState, reading: Reading) {
    let len = state.feed.shown_count();
    let found = reading
        .and_then(|(handle, id)| state.feed.locate(handle, &id))
        .and_then(|handle| state.feed.position(handle));
    let pane = state.pane_mut(PaneId::SignIns);
    pane.len = len;
    pane.selected = found.unwrap_or(pane.selected).min(len.saturating_sub(1));
}

/// New sign-ins: following, the selection stays on the newest; paused, it
/// stays on the row being read and the pane counts what arrived.
pub fn receive(state: &mut AppState, rows: Vec<SignInRow>) {
    let anchor = if state.feed_view.follow {
        None
    } else {
        reading(state)
    };
    let arrived = state.feed.insert(rows);
    if !state.feed_view.follow {
        state.feed_view.unseen += arrived.shown.len() as u64;
    }
    reanchor(state, anchor);
    if state.feed_view.follow {
        state.pane_mut(PaneId::SignIns).selected = 0;
    }
    if arrived.dropped {
        refresh_chart(state);
    } else {
        count_failures(state, &arrived.shown);
    }
}

/// Follow the newest (selection to the top) or pause where the cursor is.
pub fn set_follow(state: &mut AppState, follow: bool) {
    state.feed_view.follow = follow;
    state.feed_view.unseen = 0;
    if follow {
        state.pane_mut(PaneId::SignIns).selected = 0;
    }
}

/// Reads the filter typed so far: `None` when it is fine.
pub fn check(text: &str, state: &AppState) -> Option<String> {
    Filter::parse(text, state.now).err()
}

/// Applies a filter to the feed; a bad one is refused with its reason and
/// the old filter stays.
pub fn apply_filter(state: &mut AppState, text: &str) -> Result<(), String> {
    let text = text.trim();
    let filter = Filter::parse(text, state.now)?;
    let anchor = reading(state);
    state.feed.set_filter(Some(filter));
    remember(state, text);
    // The row being read stays selected when the filter keeps it; else the
    // newest row is.
    let kept = anchor
        .as_ref()
        .and_then(|(handle, id)| state.feed.locate(*handle, id))
        .and_then(|handle| state.feed.position(handle));
    let pane = state.pane_mut(PaneId::SignIns);
    pane.filter = (!text.is_empty()).then(|| SafeText::new(text));
    pane.selected = 0;
    reanchor(state, kept.and(anchor));
    let selected = state.pane(PaneId::SignIns).selected;
    // Reading a row below the newest: the feed pauses there.
    if selected > 0 {
        state.feed_view.follow = false;
        state.feed_view.unseen = 0;
    }
    refresh_chart(state);
    Ok(())
}

pub fn clear_filter(state: &mut AppState) {
    let anchor = reading(state);
    state.feed.set_filter(None);
    state.pane_mut(PaneId::SignIns).filter = None;
    reanchor(state, anchor);
    refresh_chart(state);
}

fn remember(state: &mut AppState, text: &str) {
    if text.is_empty() {
        return;
    }
    let history = &mut state.feed_view.history;
    history.retain(|h| h != text);
    history.push(text.to_owned());
    if history.len() > HISTORY {
        history.remove(0);
    }
}

/// Up (`back`) or Down through earlier filters; `None` past either end.
pub fn recall(state: &AppState, at: Option<usize>, back: bool) -> Option<(usize, String)> {
    let history = &state.feed_view.history;
    let index = match (at, back) {
        (None, true) => history.len().checked_sub(1)?,
        (None, false) => return None,
        (Some(i), true) => i.checked_sub(1)?,
        (Some(i), false) => Some(i + 1).filter(|&i| i < history.len())?,
    };
    Some((index, history[index].clone()))
}

/// The selected cell's value as a filter term (`user:"adele@contoso.com"`).
fn pivot_term(state: &AppState) -> Option<String> {
    let row = state.feed.get(state.pane(PaneId::SignIns).selected)?;
    let cell = state.feed_view.cell;
    let value = row.text(cell.sym(row.row)).as_str();
    if value.is_empty() {
        return None;
    }
    let quoted = value.replace('"', "");
    Some(format!("{}:\"{quoted}\"", cell.field()))
}

/// Filters the feed on the selected cell's value.
pub fn pivot(state: &mut AppState) -> Result<(), String> {
    let term = pivot_term(state).ok_or("nothing to pivot on in this cell")?;
    apply_filter(state, &term)
}

/// Shows the findings pane filtered to the selected cell's value.
pub fn pivot_findings(state: &mut AppState) -> Result<(), String> {
    let row = state
        .feed
        .get(state.pane(PaneId::SignIns).selected)
        .ok_or("no sign-in selected")?;
    let value = row.text(state.feed_view.cell.sym(row.row)).clone();
    if value.is_empty() {
        return Err("nothing to look up in this cell".into());
    }
    // Quoted, so an address or a name with spaces is one term.
    let quoted = format!("\"{}\"", value.as_str().replace('"', ""));
    state.pane_mut(PaneId::Findings).filter = Some(SafeText::new(&quoted));
    super::findings::refresh(state, None);
    state.focus = PaneId::Findings;
    Ok(())
}

/// The selected cell's value, for the clipboard.
pub fn selected_value(state: &AppState) -> Option<String> {
    let row = state.feed.get(state.pane(PaneId::SignIns).selected)?;
    let value = row.text(state.feed_view.cell.sym(row.row));
    (!value.is_empty()).then(|| value.to_string())
}

/// Opens the selected sign-in's detail and asks for its whole record.
pub fn open_detail(state: &mut AppState) -> Vec<Effect> {
    let selected = state.pane(PaneId::SignIns).selected;
    let (Some(handle), Some(row)) = (state.feed.handle(selected), state.feed.get(selected)) else {
        return vec![];
    };
    let id = row.id().to_owned();
    state.mode = Mode::Detail(Box::new(Detail {
        handle,
        id: id.clone(),
        scroll: 0,
        record: Record::Loading,
    }));
    vec![Effect::Render, Effect::FetchSignIn(id)]
}

/// The record the tenant returned for an open detail.
pub fn record_arrived(state: &mut AppState, id: &str, record: Result<String, SafeText>) {
    let Mode::Detail(detail) = &mut state.mode else {
        return;
    };
    if detail.id != id {
        return;
    }
    detail.record = match record {
        Ok(json) => Record::Loaded(json.lines().map(SafeText::new).collect()),
        Err(reason) => Record::Failed(reason),
    };
}

/// Turns one stream's rows off or on.
pub fn toggle_stream(state: &mut AppState, kind: Kind) -> bool {
    let hide = !state.feed.hidden(kind);
    let anchor = reading(state);
    state.feed.set_hidden(kind, hide);
    reanchor(state, anchor);
    refresh_chart(state);
    hide
}

/// Off, then the top failing addresses, then countries, then off.
pub fn cycle_chart(state: &mut AppState) {
    state.feed_view.chart = match state.feed_view.chart {
        None => Some(ChartOf::Addresses),
        Some(ChartOf::Addresses) => Some(ChartOf::Countries),
        Some(ChartOf::Countries) => None,
    };
    refresh_chart(state);
}

/// Bars in the failures chart.
const TOP: usize = 8;

/// Counts failures among all the rows shown by address or country; only
/// while the chart is open, and only when the rows shown change as a whole
/// (new arrivals are added by `count_failures`).
pub fn refresh_chart(state: &mut AppState) {
    state.feed_view.chart_counts.clear();
    let shown: Vec<u32> = match state.feed_view.chart {
        Some(_) => (0..state.feed.shown_count())
            .filter_map(|p| state.feed.handle(p))
            .collect(),
        None => Vec::new(),
    };
    count_failures(state, &shown);
}

/// Adds the failures among these rows to the chart's counts.
fn count_failures(state: &mut AppState, handles: &[u32]) {
    let Some(of) = state.feed_view.chart else {
        state.feed_view.top.clear();
        return;
    };
    for &handle in handles {
        let Some(row) = state.feed.by_handle(handle) else {
            continue;
        };
        if !row.row.failed() {
            continue;
        }
        let sym = match of {
            ChartOf::Addresses => row.row.ip,
            ChartOf::Countries => row.row.country,
        };
        *state.feed_view.chart_counts.entry(sym).or_default() += 1;
    }
    let mut top: Vec<(u32, u64)> = state
        .feed_view
        .chart_counts
        .iter()
        .map(|(&sym, &n)| (sym, n))
        .collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    top.truncate(TOP);
    state.feed_view.top = top
        .into_iter()
        .map(|(sym, n)| (state.feed.strings.get(sym).clone(), n))
        .collect();
}
