//! The sign-in feed as the console holds it: a million sign-ins in compact
//! rows (strings interned, no JSON kept), in time order, with the filter
//! and hidden streams applied. Plain data; `update` fills it, the sign-ins
//! pane draws the few rows on screen.

pub mod filter;
mod intern;
pub mod row;
mod status;

use std::collections::{BTreeMap, HashMap, HashSet};

pub use filter::Filter;
pub use intern::{Interner, Sym};
pub use row::{Access, Kind, Mfa, Risk, SignInRow, Stored};
pub use status::{Connection, HistoryStatus, StreamStatus, history_summary};

use crate::model::SafeText;

/// Rows kept. Past it the oldest tenth leave the view (the case keeps the
/// events themselves), and the pane says how many left.
pub const FEED_CAPACITY: usize = 2_000_000;

#[derive(Clone, Debug, Default)]
pub struct SignInFeed {
    /// In arrival order; a row's index is its handle until rows are dropped.
    rows: Vec<Stored>,
    /// Every row, oldest first (ties in arrival order).
    order: Vec<u32>,
    /// The event ids, end to end (`Stored::id` is an offset).
    ids: String,
    pub strings: Interner,
    filter: Option<Filter>,
    /// Kinds whose stream the responder turned off (bits of `Kind::bit`).
    hidden: u8,
    /// The rows shown when a filter or a hidden stream narrows the feed,
    /// oldest first.
    view: Vec<u32>,
    /// Event id to the findings it is evidence for.
    evidence: HashMap<Box<str>, Vec<String>>,
    /// Findings that only inform (MFA by claim in a federated tenant is
    /// every sign-in): their evidence is not flagged in the table.
    quiet: HashSet<String>,
    /// Sign-ins and failures per minute (minutes since the epoch), for the
    /// sparkline and the timeline, kept as rows arrive.
    minutes: BTreeMap<i64, Minute>,
    /// Rows that left to keep within the capacity.
    pub dropped: u64,
    /// A smaller capacity than [`FEED_CAPACITY`] (tests).
    limit: Option<usize>,
}

/// The cells of a row a responder can pivot on or copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cell {
    #[default]
    User,
    App,
    Ip,
    Country,
}

impl Cell {
    const ALL: [Cell; 4] = [Cell::User, Cell::App, Cell::Ip, Cell::Country];

    pub fn next(self) -> Cell {
        Cell::ALL[(self as usize + 1) % Cell::ALL.len()]
    }

    pub fn prev(self) -> Cell {
        Cell::ALL[(self as usize + Cell::ALL.len() - 1) % Cell::ALL.len()]
    }

    /// The filter field that selects rows with this cell's value.
    pub fn field(self) -> &'static str {
        match self {
            Cell::User => "user",
            Cell::App => "app",
            Cell::Ip => "ip",
            Cell::Country => "country",
        }
    }

    pub fn sym(self, row: &Stored) -> Sym {
        match self {
            Cell::User => row.principal,
            Cell::App => row.app,
            Cell::Ip => row.ip,
            Cell::Country => row.country,
        }
    }
}

/// Counts for one minute of the feed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minute {
    pub signins: u32,
    pub failures: u32,
}

/// What an insert did.
#[derive(Debug, Default)]
pub struct Inserted {
    /// Handles of the new rows that are shown (stale when `dropped`).
    pub shown: Vec<u32>,
    /// Old rows left to make room: every handle changed.
    pub dropped: bool,
}

/// One row on screen, with its strings.
#[derive(Clone, Copy)]
pub struct RowRef<'a> {
    pub row: &'a Stored,
    feed: &'a SignInFeed,
}

impl<'a> RowRef<'a> {
    pub fn id(&self) -> &'a str {
        self.feed.id_of(self.row)
    }

    pub fn text(&self, sym: Sym) -> &'a SafeText {
        self.feed.strings.get(sym)
    }

    /// The findings this sign-in is evidence for.
    pub fn findings(&self) -> &'a [String] {
        self.feed.evidence.get(self.id()).map_or(&[], Vec::as_slice)
    }

    /// Evidence for a finding that is more than informational.
    pub fn flagged(&self) -> bool {
        self.findings().iter().any(|f| !self.feed.quiet.contains(f))
    }
}

impl SignInFeed {
    /// A feed that keeps at most `rows` (tests; the console uses
    /// [`FEED_CAPACITY`]).
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            limit: Some(rows.max(10)),
            ..Self::default()
        }
    }

    fn capacity(&self) -> usize {
        self.limit.unwrap_or(FEED_CAPACITY)
    }

    /// Rows shown (after the filter and hidden streams).
    pub fn shown_count(&self) -> usize {
        self.shown().len()
    }

    /// Rows held, shown or not.
    pub fn total(&self) -> usize {
        self.rows.len()
    }

    /// No sign-in has arrived at all.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn narrowed(&self) -> bool {
        self.filter.is_some() || self.hidden != 0
    }

    fn shown(&self) -> &[u32] {
        if self.narrowed() {
            &self.view
        } else {
            &self.order
        }
    }

    /// The row at `position` on screen, the newest at 0.
    pub fn get(&self, position: usize) -> Option<RowRef<'_>> {
        let index = self.handle(position)?;
        Some(RowRef {
            row: &self.rows[index as usize],
            feed: self,
        })
    }

    /// The row a handle names, shown or not.
    pub fn by_handle(&self, handle: u32) -> Option<RowRef<'_>> {
        Some(RowRef {
            row: self.rows.get(handle as usize)?,
            feed: self,
        })
    }

    /// A handle on the row at `position` that survives new arrivals.
    pub fn handle(&self, position: usize) -> Option<u32> {
        let shown = self.shown();
        let at = shown.len().checked_sub(position + 1)?;
        Some(shown[at])
    }

    /// Where the row with this handle is now shown, if it is.
    pub fn position(&self, handle: u32) -> Option<usize> {
        let micros = self.rows.get(handle as usize)?.micros;
        let shown = self.shown();
        let first = shown.partition_point(|&i| self.rows[i as usize].micros < micros);
        let at = shown[first..]
            .iter()
            .take_while(|&&i| self.rows[i as usize].micros == micros)
            .position(|&i| i == handle)?;
        Some(shown.len() - 1 - (first + at))
    }

    /// The rows shown, newest first (for sparklines and copies).
    pub fn iter(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.shown().iter().rev().map(|&i| RowRef {
            row: &self.rows[i as usize],
            feed: self,
        })
    }

    /// Every row held, oldest first, whether shown or not.
    pub fn all(&self) -> impl DoubleEndedIterator<Item = &Stored> + ExactSizeIterator {
        self.order.iter().map(|&i| &self.rows[i as usize])
    }

    pub fn id_of(&self, row: &Stored) -> &str {
        let start = row.id as usize;
        &self.ids[start..start + usize::from(row.id_len)]
    }

    /// Per-minute counts from `first` to `last` (minutes since the epoch),
    /// gaps included as zeros.
    pub fn per_minute(&self, first: i64, last: i64) -> Vec<Minute> {
        let mut out = vec![Minute::default(); usize::try_from(last - first + 1).unwrap_or(0)];
        for (&minute, counts) in self.minutes.range(first..=last) {
            out[(minute - first) as usize] = *counts;
        }
        out
    }

    /// Counts summed into `columns` equal spans of `first..=last` (minutes
    /// since the epoch); reads only the minutes that have sign-ins, so any
    /// span costs the same.
    pub fn per_column(&self, first: i64, last: i64, columns: usize) -> Vec<Minute> {
        let mut out = vec![Minute::default(); columns];
        let span = (last - first + 1).max(1) as f64;
        for (&minute, counts) in self.minutes.range(first..=last) {
            let column = (((minute - first) as f64 / span) * columns as f64) as usize;
            let cell = &mut out[column.min(columns.saturating_sub(1))];
            cell.signins += counts.signins;
            cell.failures += counts.failures;
        }
        out
    }

    /// The minutes of the oldest and newest sign-in held.
    pub fn minute_span(&self) -> Option<(i64, i64)> {
        let first = self.minutes.first_key_value()?.0;
        let last = self.minutes.last_key_value()?.0;
        Some((*first, *last))
    }

    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    /// The handle of the row with this id: `handle` when it still names
    /// it, else found by id (after old rows left, handles are renumbered).
    pub fn locate(&self, handle: u32, id: &str) -> Option<u32> {
        if self.by_handle(handle).is_some_and(|r| r.id() == id) {
            return Some(handle);
        }
        (0..self.rows.len() as u32).find(|&h| self.id_of(&self.rows[h as usize]) == id)
    }

    /// Takes sign-ins in any order; says which of them are shown, and
    /// whether old rows left to make room (handles then changed).
    pub fn insert(&mut self, batch: Vec<SignInRow>) -> Inserted {
        let start = self.rows.len();
        self.rows.reserve(batch.len());
        for row in &batch {
            let id = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
            let mut stored = Stored::new(row, id, &mut self.strings);
            let id = row.id.as_str();
            let mut end = usize::from(stored.id_len);
            while !id.is_char_boundary(end) {
                end -= 1;
            }
            stored.id_len = end as u16;
            self.ids.push_str(&id[..end]);
            let minute = self
                .minutes
                .entry(stored.micros.div_euclid(60_000_000))
                .or_default();
            minute.signins += 1;
            minute.failures += u32::from(stored.failed());
            self.rows.push(stored);
        }
        let mut fresh: Vec<u32> = (start as u32..self.rows.len() as u32).collect();
        fresh.sort_by_key(|&i| self.rows[i as usize].micros);
        merge(&mut self.order, &fresh, &self.rows);
        let shown = if self.narrowed() {
            let keep = self.judge(&fresh);
            merge(&mut self.view, &keep, &self.rows);
            keep
        } else {
            fresh
        };
        let dropped = self.rows.len() > self.capacity();
        if dropped {
            self.drop_oldest();
        }
        Inserted { shown, dropped }
    }

    /// Applies a filter (or none) to every row held.
    pub fn set_filter(&mut self, filter: Option<Filter>) {
        self.filter = filter.filter(|f| !f.is_empty());
        self.refilter();
    }

    pub fn hidden(&self, kind: Kind) -> bool {
        self.hidden & kind.bit() != 0
    }

    /// Shows or hides the rows one stream delivers.
    pub fn set_hidden(&mut self, kind: Kind, hidden: bool) {
        if hidden {
            self.hidden |= kind.bit();
        } else {
            self.hidden &= !kind.bit();
        }
        self.refilter();
    }

    /// Which events are evidence for which findings: each finding's id,
    /// whether it only informs, and its evidence.
    pub fn set_evidence(
        &mut self,
        findings: impl IntoIterator<Item = (String, bool, Vec<SafeText>)>,
    ) {
        self.evidence.clear();
        self.quiet.clear();
        for (finding, quiet, events) in findings {
            if quiet {
                self.quiet.insert(finding.clone());
            }
            for event in events {
                self.evidence
                    .entry(event.as_str().into())
                    .or_default()
                    .push(finding.clone());
            }
        }
        if self.filter.as_ref().is_some_and(Filter::reads_findings) {
            self.refilter();
        }
    }

    fn refilter(&mut self) {
        self.view = if self.narrowed() {
            let order = std::mem::take(&mut self.order);
            let kept = self.judge(&order);
            self.order = order;
            kept
        } else {
            Vec::new()
        };
    }

    /// The rows among `candidates` the filter and stream toggles keep.
    fn judge(&mut self, candidates: &[u32]) -> Vec<u32> {
        let Self {
            rows,
            ids,
            strings,
            filter,
            hidden,
            evidence,
            ..
        } = self;
        let findings = filter.as_ref().is_some_and(Filter::reads_findings);
        candidates
            .iter()
            .copied()
            .filter(|&i| {
                let row = &rows[i as usize];
                if *hidden & row.kind.bit() != 0 {
                    return false;
                }
                let Some(filter) = filter.as_mut() else {
                    return true;
                };
                let start = row.id as usize;
                let id = &ids[start..start + usize::from(row.id_len)];
                let evidence_of = if findings {
                    evidence.get(id).map_or(&[][..], Vec::as_slice)
                } else {
                    &[]
                };
                let cx = filter::Context {
                    strings,
                    id,
                    evidence_of,
                };
                filter.matches(row, &cx)
            })
            .collect()
    }

    /// Keeps the newest nine tenths of the capacity.
    fn drop_oldest(&mut self) {
        let cut = self.order.len() - self.capacity() * 9 / 10;
        for &i in &self.order[..cut] {
            let row = self.rows[i as usize];
            let minute = row.micros.div_euclid(60_000_000);
            if let Some(counts) = self.minutes.get_mut(&minute) {
                counts.signins -= 1;
                counts.failures -= u32::from(row.failed());
                if counts.signins == 0 {
                    self.minutes.remove(&minute);
                }
            }
        }
        let mut rows = Vec::with_capacity(self.capacity());
        let mut ids = String::with_capacity(self.ids.len());
        // Strings only the dropped rows used go too: a night-long session
        // must not grow without bound.
        let mut strings = Interner::default();
        let mut renamed: HashMap<Sym, Sym> = HashMap::new();
        let old = &self.strings;
        let mut keep = |sym: Sym| {
            *renamed
                .entry(sym)
                .or_insert_with(|| strings.intern(old.get(sym)))
        };
        for &i in &self.order[cut..] {
            let mut row = self.rows[i as usize];
            let id = self.id_of(&row);
            let at = ids.len() as u32;
            ids.push_str(id);
            row.id = at;
            for sym in [
                &mut row.principal,
                &mut row.app,
                &mut row.resource,
                &mut row.ip,
                &mut row.country,
                &mut row.city,
                &mut row.client,
                &mut row.mfa_method,
            ] {
                *sym = keep(*sym);
            }
            rows.push(row);
        }
        self.strings = strings;
        if let Some(filter) = self.filter.as_mut() {
            filter.forget_symbols();
        }
        self.rows = rows;
        self.ids = ids;
        self.order = (0..self.rows.len() as u32).collect();
        self.dropped += cut as u64;
        self.refilter();
    }

    /// Bytes the feed holds (rows, order, view, ids, strings), for the
    /// memory benchmark.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Stored>()
            + (self.order.capacity() + self.view.capacity()) * 4
            + self.ids.capacity()
            + self.strings.heap_bytes()
    }
}

/// Merges `fresh` (oldest first) into `seq` (oldest first). New rows are
/// mostly the newest, so usually this appends.
fn merge(seq: &mut Vec<u32>, fresh: &[u32], rows: &[Stored]) {
    let key = |i: u32| rows[i as usize].micros;
    let Some(&first) = fresh.first() else {
        return;
    };
    let at = seq.partition_point(|&i| key(i) <= key(first));
    if at == seq.len() {
        seq.extend_from_slice(fresh);
        return;
    }
    let tail = seq.split_off(at);
    seq.reserve(tail.len() + fresh.len());
    let (mut a, mut b) = (0, 0);
    while a < tail.len() && b < fresh.len() {
        if key(tail[a]) <= key(fresh[b]) {
            seq.push(tail[a]);
            a += 1;
        } else {
            seq.push(fresh[b]);
            b += 1;
        }
    }
    seq.extend_from_slice(&tail[a..]);
    seq.extend_from_slice(&fresh[b..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn row(secs: i64, who: &str) -> SignInRow {
        SignInRow {
            id: SafeText::new(&format!("e{secs}")),
            time: Timestamp::from_second(secs).unwrap(),
            principal: SafeText::new(who),
            ..Default::default()
        }
    }

    fn times(feed: &SignInFeed) -> Vec<i64> {
        feed.iter().map(|r| r.row.micros / 1_000_000).collect()
    }

    #[test]
    fn rows_stay_newest_first_and_late_ones_find_their_place() {
        let mut feed = SignInFeed::default();
        feed.insert(vec![row(30, "a"), row(20, "b")]);
        let reading = feed.handle(1).unwrap();
        feed.insert(vec![row(40, "c"), row(25, "d"), row(10, "e")]);
        assert_eq!(times(&feed), vec![40, 30, 25, 20, 10]);
        // The row being read (20) moved down by the two newer ones.
        assert_eq!(feed.position(reading), Some(3));
        assert_eq!(feed.get(3).unwrap().id(), "e20");
    }

    #[test]
    fn the_filter_holds_for_rows_that_arrive_later() {
        let mut feed = SignInFeed::default();
        feed.insert(vec![row(1, "adele"), row(2, "megan")]);
        let now = Timestamp::from_second(100).unwrap();
        feed.set_filter(Some(Filter::parse("user:adele", now).unwrap()));
        assert_eq!(feed.shown_count(), 1);
        assert_eq!(
            feed.insert(vec![row(3, "adele"), row(4, "megan")])
                .shown
                .len(),
            1
        );
        assert_eq!(times(&feed), vec![3, 1]);
        assert_eq!(feed.total(), 4);
        feed.set_filter(None);
        assert_eq!(times(&feed), vec![4, 3, 2, 1]);
    }

    #[test]
    fn a_hidden_stream_leaves_the_view_until_shown_again() {
        let mut feed = SignInFeed::default();
        let mut sp = row(2, "app");
        sp.kind = Kind::ServicePrincipal;
        feed.insert(vec![row(1, "adele"), sp]);
        feed.set_hidden(Kind::ServicePrincipal, true);
        assert_eq!(times(&feed), vec![1]);
        feed.set_hidden(Kind::ServicePrincipal, false);
        assert_eq!(times(&feed), vec![2, 1]);
    }

    #[test]
    fn old_rows_leave_with_their_strings_and_the_filter_still_holds() {
        let mut feed = SignInFeed::with_capacity(10);
        let now = Timestamp::from_second(1000).unwrap();
        feed.set_filter(Some(Filter::parse("user:keep", now).unwrap()));
        let batch = |from: i64, who: &str| {
            (from..from + 6)
                .map(|s| row(s, &format!("{who}{s}")))
                .collect()
        };
        feed.insert(batch(0, "gone"));
        feed.insert(batch(100, "keep"));
        // 12 rows over a capacity of 10: the oldest leave, down to 9.
        assert_eq!(feed.total(), 9);
        assert_eq!(feed.dropped, 3);
        assert!(
            feed.strings.len() < 13,
            "strings of dropped rows stay: {}",
            feed.strings.len()
        );
        // The filter judged symbols that were renumbered: it must judge again.
        assert_eq!(times(&feed), vec![105, 104, 103, 102, 101, 100]);
        feed.insert(vec![row(200, "keep-late"), row(201, "other")]);
        assert_eq!(times(&feed)[0], 200);
        assert!(feed.all().all(|r| {
            feed.strings
                .get(r.principal)
                .as_str()
                .starts_with(['g', 'k', 'o'])
        }));
    }

    #[test]
    fn evidence_links_rows_to_findings() {
        let mut feed = SignInFeed::default();
        feed.insert(vec![row(1, "adele"), row(2, "megan")]);
        let now = Timestamp::from_second(100).unwrap();
        feed.set_filter(Some(Filter::parse("finding:yes", now).unwrap()));
        assert_eq!(feed.shown_count(), 0);
        feed.set_evidence([("f1".to_owned(), false, vec![SafeText::new("e2")])]);
        assert_eq!(times(&feed), vec![2]);
        assert_eq!(feed.get(0).unwrap().findings(), ["f1".to_owned()]);
        assert!(feed.get(0).unwrap().flagged());
    }
}
