//! The forged-token proof: a federated cloud sign-in for which the AD FS
//! servers logged no token issuance is a token AD FS never minted. Entra
//! ID's sign-in log names the federation issuer; the AD FS Security log
//! records every token it issues (events 1200 and 1202). A sign-in with no
//! issuance for its user near its time, inside the time the AD FS logs
//! cover, is a forgery; one outside that time is said to be unjudged, never
//! passed.
//!
//! The logs of every AD FS server read are needed at a sign-in's time: a
//! token may come from any server of the farm. A server's log that starts
//! late, stops early, was cleared (1102), or falls silent while the rest
//! of the farm is busy leaves a gap, and sign-ins in a gap are reported as
//! unjudged with the gap named.
//!
//! Facts are kept small and joined when findings are asked for, so the
//! cloud and on-premises files may come in any order.

use super::json::Json;
use super::record_id::RecordId;
use super::spill::{Block, Spill};
use std::collections::BTreeMap;

use super::event::{Event, Kind, text_at};
use super::{Entity, Finding};
use crate::model::Severity;

/// How far apart a token's issuance and its use may be (clock skew
/// between the AD FS farm and Entra ID included).
const WITHIN_SECS: i64 = 10 * 60;

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

/// Texts every record the join reads contains (for the scan's prefilter).
pub const READS: super::prefilter::Reads = &[
    (Kind::SignIn, "tokenIssuerType", "ADFederationServices"),
    (Kind::WindowsEvent, "", "AD FS"),
    (Kind::WindowsEvent, "", "1102"),
];

#[derive(Clone, Debug)]
pub enum Fact {
    /// A successful interactive sign-in with a token from a federation
    /// server.
    FederatedSignIn {
        user: String,
        upn: String,
        time: i64,
        id: String,
        ip: String,
    },
    /// AD FS issued a token (1200, 1202) for Microsoft Online to this user.
    Issuance {
        user: String,
        time: i64,
        server: String,
        /// The client's addresses as AD FS saw them.
        ips: Vec<String>,
    },
    /// Another AD FS audit event: the server's log holds this time.
    Logged { time: i64, server: String },
    /// A server's Security log was cleared (1102).
    Cleared { time: i64, server: String },
    /// Any event with its log's record number: a log whose numbers run on
    /// with few breaks was read whole, and its breaks are lost events.
    Record {
        server: String,
        channel: String,
        number: u64,
        time: i64,
    },
}

/// Runs of consecutive record numbers of one log: first number → (last
/// number, first time, last time).
#[derive(Debug, Default)]
struct Runs {
    runs: BTreeMap<u64, (u64, i64, i64)>,
    records: u64,
}

impl Runs {
    fn add(&mut self, n: u64, time: i64) {
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
    fn breaks(&self) -> Vec<(u64, u64, i64, i64)> {
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

/// The account part of a name, as both sides can write it:
/// `megan.bowen@contoso.com` and `CONTOSO\megan.bowen` are `megan.bowen`.
fn account(name: &str) -> String {
    let name = name.trim();
    let name = name.rsplit('\\').next().unwrap_or(name);
    let name = name.split('@').next().unwrap_or(name);
    name.to_lowercase()
}

/// The text of `<tag>` in an AD FS audit's XML, as the event holds it:
/// a field of its own, or inside the audit XML it carries as text (which a
/// Log Analytics row escapes once more).
fn audit_field(v: &Json, tag: &str, own: &[&str]) -> Option<String> {
    for field in own {
        if let Some(text) = v.get(field).and_then(Json::as_str)
            && !text.trim().is_empty()
            && text.trim() != "-"
        {
            return Some(text.trim().to_owned());
        }
    }
    for field in [
        "EventData",
        "Message",
        "EventData_string",
        "XmlPayload",
        "Data",
    ] {
        let Some(text) = v.get(field).and_then(Json::as_str) else {
            continue;
        };
        for (open, close) in [
            (format!("<{tag}>"), format!("</{tag}>")),
            (format!("&lt;{tag}&gt;"), format!("&lt;/{tag}&gt;")),
        ] {
            if let Some(start) = text.find(&open) {
                let rest = &text[start + open.len()..];
                if let Some(end) = rest.find(&close) {
                    let value = rest[..end].trim().replace("&amp;", "&");
                    return Some(value);
                }
            }
        }
    }
    None
}

/// The user an AD FS audit names.
fn adfs_user(v: &Json) -> Option<String> {
    audit_field(
        v,
        "UserId",
        &[
            "UserId",
            "UserID",
            "Upn",
            "UPN",
            "userPrincipalName",
            "AccountName",
        ],
    )
}

/// What one event tells the join: its record number, and what it says of
/// a sign-in or a token.
pub fn facts(event: &Event) -> Vec<Fact> {
    let mut out = Vec::new();
    if let Some(record) = record_fact(event) {
        out.push(record);
    }
    out.extend(fact(event));
    out
}

fn record_fact(event: &Event) -> Option<Fact> {
    if event.kind != Kind::WindowsEvent {
        return None;
    }
    let v = &event.value;
    // Only logs read whole carry it (EVTX, event XML, Splunk text): a JSON
    // export's lines may be passed over by the scan's prefilter, and their
    // numbers would show breaks that are not there.
    let number = v
        .get(crate::source::import::windows::WHOLE_LOG_RECORD)?
        .as_u64()?;
    Some(Fact::Record {
        server: v.get("Computer")?.as_str()?.to_lowercase(),
        channel: v.get("Channel")?.as_str()?.to_owned(),
        number,
        time: event.time?.as_second(),
    })
}

fn fact(event: &Event) -> Option<Fact> {
    let v = &event.value;
    let time = event.time?.as_second();
    match event.kind {
        Kind::SignIn => {
            let issuer = v.get("tokenIssuerType")?.as_str()?;
            if !issuer.eq_ignore_ascii_case("ADFederationServices") {
                return None;
            }
            let ok = v
                .pointer("/status/errorCode")
                .is_some_and(|c| c.as_i64() == Some(0) || c.as_str() == Some("0"));
            // Refresh-token sign-ins reuse a session; only interactive
            // ones present a token the federation server just issued.
            let interactive = match v.get("isInteractive").and_then(Json::as_bool) {
                Some(b) => b,
                None => text_at(v, "signInEventTypes")
                    .is_none_or(|t| t.eq_ignore_ascii_case("interactiveUser")),
            };
            if !ok || !interactive {
                return None;
            }
            let upn = v.get("userPrincipalName")?.as_str()?.to_owned();
            Some(Fact::FederatedSignIn {
                user: account(&upn),
                upn,
                time,
                id: event.id.clone(),
                ip: v["ipAddress"].as_str().unwrap_or("").to_owned(),
            })
        }
        Kind::WindowsEvent => {
            let id = v.get("EventID")?.as_u64()?;
            let server = v.get("Computer")?.as_str()?.to_lowercase();
            let channel = v.get("Channel").and_then(Json::as_str);
            if id == 1102 && channel.is_some_and(|c| c.eq_ignore_ascii_case("Security")) {
                return Some(Fact::Cleared { time, server });
            }
            if !crate::source::import::windows::is_adfs(v) {
                return None;
            }
            // A token for another relying party says nothing of Entra ID's.
            let for_entra = audit_field(v, "RelyingParty", &["RelyingParty"])
                .is_none_or(|rp| rp.to_ascii_lowercase().contains("microsoftonline"));
            if (id == 1200 || id == 1202)
                && for_entra
                && let Some(user) = adfs_user(v)
            {
                let ips = ["IpAddress", "ForwardedIpAddress"]
                    .iter()
                    .filter_map(|tag| audit_field(v, tag, &[]))
                    .flat_map(|list| {
                        list.split(',')
                            .map(|ip| ip.trim().to_owned())
                            .filter(|ip| !ip.is_empty() && ip != "N/A")
                            .collect::<Vec<_>>()
                    })
                    .collect();
                return Some(Fact::Issuance {
                    user: account(&user),
                    time,
                    server,
                    ips,
                });
            }
            // The audit log itself, not the Admin log (kept far longer),
            // says which times the issuance record holds.
            let auditing = v
                .get("Provider")
                .and_then(Json::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case("AD FS Auditing"));
            auditing.then_some(Fact::Logged { time, server })
        }
        _ => None,
    }
}

/// One user's sign-ins no issuance matches.
struct Orphans {
    upn: String,
    count: u64,
    first: i64,
    last: i64,
    /// (time, id) of the earliest.
    ids: Vec<(i64, String)>,
    ips: Vec<String>,
}

/// Sign-ins listed per orphan finding (its count is exact).
const ORPHAN_IDS: usize = 50;

/// Sign-ins no issuance matched that the AD FS logs do not cover.
#[derive(Default)]
struct Outside {
    count: u64,
    first: i64,
    last: i64,
}

/// What judging the sign-ins found, part by part.
#[derive(Default)]
struct Judged<'a> {
    orphans: BTreeMap<&'a str, Orphans>,
    outside: Outside,
    in_gaps: BTreeMap<usize, u64>,
    /// Spilled sign-ins that could not be read back, and why.
    unread: Option<(u64, String)>,
}

/// A federated sign-in as the join keeps it until the end. Every one is
/// kept (an AD FS log later in the input may explain it), so it is kept
/// small: names by their number in `Names`, a GUID id as a number; and
/// past `SPILL_AT` they are written out (`Spilled`), so memory stays flat
/// however many a scan reads.
#[derive(Clone, Debug)]
struct SignIn {
    user: u32,
    upn: u32,
    ip: u32,
    time: i64,
    id: RecordId,
}

/// Sign-ins held in memory before they are written out (about 1 MiB).
const SPILL_AT: usize = 1 << 14;

/// Written-out sign-ins are sorted by user into this many parts, and read
/// back one part at a time: a user's sign-ins are all in one part.
const PARTS: usize = 16;

impl SignIn {
    fn part(&self) -> usize {
        self.user as usize % PARTS
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.user.to_le_bytes());
        out.extend_from_slice(&self.upn.to_le_bytes());
        out.extend_from_slice(&self.ip.to_le_bytes());
        out.extend_from_slice(&self.time.to_le_bytes());
        match &self.id {
            RecordId::Guid(n) => {
                out.push(0);
                out.extend_from_slice(&n.to_le_bytes());
            }
            RecordId::Text(t) => {
                out.push(1);
                out.extend_from_slice(&(t.len() as u32).to_le_bytes());
                out.extend_from_slice(t.as_bytes());
            }
        }
    }

    /// The next sign-in `encode` wrote, moving past it.
    fn decode(bytes: &mut &[u8]) -> Option<Self> {
        fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Option<&'b [u8]> {
            let (head, rest) = bytes.split_at_checked(n)?;
            *bytes = rest;
            Some(head)
        }
        let u32_at = |b: &mut &[u8]| Some(u32::from_le_bytes(take(b, 4)?.try_into().ok()?));
        let user = u32_at(bytes)?;
        let upn = u32_at(bytes)?;
        let ip = u32_at(bytes)?;
        let time = i64::from_le_bytes(take(bytes, 8)?.try_into().ok()?);
        let id = match take(bytes, 1)?[0] {
            0 => RecordId::Guid(u128::from_le_bytes(take(bytes, 16)?.try_into().ok()?)),
            _ => {
                let len = u32_at(bytes)? as usize;
                let text = std::str::from_utf8(take(bytes, len)?).ok()?;
                RecordId::Text(text.into())
            }
        };
        Some(Self {
            user,
            upn,
            ip,
            time,
            id,
        })
    }
}

/// Sign-ins written out, part by part.
#[derive(Debug)]
struct Spilled {
    spill: Spill,
    /// Per part: its blocks, and how many sign-ins they hold.
    parts: Vec<(Vec<Block>, u64)>,
}

/// Each distinct text once (users, names, addresses repeat across
/// sign-ins), by number.
#[derive(Debug, Default)]
struct Names {
    texts: Vec<String>,
    numbers: std::collections::HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Names {
    fn number(&mut self, text: String) -> u32 {
        if let Some(n) = self.numbers.get(&text) {
            return *n;
        }
        let n = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
        self.texts.push(text.clone());
        self.numbers.insert(text, n);
        n
    }

    fn text(&self, n: u32) -> &str {
        self.texts.get(n as usize).map_or("", String::as_str)
    }
}

#[derive(Debug, Default)]
pub struct Forged {
    /// Sign-ins not written out. Overlapping exports hold the same sign-in
    /// twice: copies are dropped when the sign-ins are judged, so a second
    /// copy does not look like a second, unissued token.
    signins: Vec<SignIn>,
    names: Names,
    spilled: Option<Spilled>,
    /// Writing out failed once (a full disk): the rest stays in memory.
    spill_failed: bool,
    /// Issuances (time, client addresses) by account.
    issued: BTreeMap<String, Vec<(i64, Vec<String>)>>,
    /// Times of every AD FS audit event, by server.
    logged: BTreeMap<String, Vec<i64>>,
    /// When each server's log was cleared.
    cleared: BTreeMap<String, Vec<i64>>,
    /// Record numbers of each (server, channel) log.
    records: BTreeMap<(String, String), Runs>,
}

/// Where a server's log holds no events it should: (from, to) in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Gap {
    server: String,
    from: i64,
    to: i64,
    why: &'static str,
    /// The log and record numbers missing, when numbers show the gap.
    numbers: Option<(String, u64, u64)>,
}

/// What the AD FS logs read cover: each server's span and its gaps.
struct Coverage {
    spans: BTreeMap<String, (i64, i64)>,
    gaps: Vec<Gap>,
}

impl Coverage {
    fn of(logged: &BTreeMap<String, Vec<i64>>, cleared: &BTreeMap<String, Vec<i64>>) -> Self {
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
    fn judge(&self, t: i64) -> Result<(), Option<usize>> {
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

impl Forged {
    pub fn add(&mut self, fact: Fact) {
        match fact {
            Fact::FederatedSignIn {
                user,
                upn,
                time,
                id,
                ip,
            } => {
                let signin = SignIn {
                    user: self.names.number(user),
                    upn: self.names.number(upn),
                    ip: self.names.number(ip),
                    time,
                    id: RecordId::new(id),
                };
                self.signins.push(signin);
                if self.signins.len() >= SPILL_AT && !self.spill_failed {
                    self.spill_out();
                }
            }
            Fact::Issuance {
                user,
                time,
                server,
                ips,
            } => {
                self.issued.entry(user).or_default().push((time, ips));
                self.logged.entry(server).or_default().push(time);
            }
            Fact::Logged { time, server } => self.logged.entry(server).or_default().push(time),
            Fact::Cleared { time, server } => self.cleared.entry(server).or_default().push(time),
            Fact::Record {
                server,
                channel,
                number,
                time,
            } => self
                .records
                .entry((server, channel))
                .or_default()
                .add(number, time),
        }
    }

    /// Which sign-ins an issuance explains. Each token AD FS issued is
    /// presented once, so one issuance explains one sign-in: first those
    /// where AD FS saw the sign-in's own address, then the nearest in time.
    /// (A forged sign-in beside a genuine one of the same user cannot hide
    /// behind the genuine one's token.) Sign-ins in time order each take
    /// the earliest issuance left in their window.
    fn match_issuances(&self, all: &[SignIn]) -> Vec<bool> {
        let mut matched = vec![false; all.len()];
        let mut by_user: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, signin) in all.iter().enumerate() {
            by_user
                .entry(self.names.text(signin.user))
                .or_default()
                .push(i);
        }
        for (user, mut signins) in by_user {
            let Some(issued) = self.issued.get(user) else {
                continue;
            };
            let mut issued: Vec<&(i64, Vec<String>)> = issued.iter().collect();
            issued.sort_by_key(|(t, _)| *t);
            let mut used = vec![false; issued.len()];
            signins.sort_by_key(|i| all[*i].time);
            for same_address in [true, false] {
                for &i in &signins {
                    if matched[i] {
                        continue;
                    }
                    let (t, ip) = (all[i].time, self.names.text(all[i].ip));
                    let start = issued.partition_point(|(x, _)| *x < t - WITHIN_SECS);
                    let best = (start..issued.len())
                        .take_while(|j| issued[*j].0 <= t + WITHIN_SECS)
                        .filter(|j| !used[*j])
                        // The earliest one left: with windows of one width,
                        // taking it never leaves a later sign-in unmatched
                        // that could have been matched.
                        .find(|j| !same_address || issued[*j].1.iter().any(|a| a == ip));
                    if let Some(j) = best {
                        used[j] = true;
                        matched[i] = true;
                    }
                }
            }
        }
        matched
    }

    /// Orphan sign-ins per user (critical), and the sign-ins the AD FS
    /// logs do not cover (said, not passed). Nothing when no AD FS
    /// issuance was read at all: there is nothing to join with.
    pub fn findings(&self) -> Vec<Finding> {
        if self.issued.is_empty() {
            return Vec::new();
        }
        let mut coverage = Coverage::of(&self.logged, &self.cleared);
        // Missing record numbers say exactly what was lost: named first.
        let mut numbered = Vec::new();
        for ((server, channel), runs) in &self.records {
            if !coverage.spans.contains_key(server) {
                continue;
            }
            for (from_n, to_n, from, to) in runs.breaks() {
                numbered.push(Gap {
                    server: server.clone(),
                    from,
                    to,
                    why: if from_n == to_n {
                        "a record is missing"
                    } else {
                        "records are missing"
                    },
                    numbers: Some((channel.clone(), from_n, to_n)),
                });
            }
        }
        coverage.gaps.splice(0..0, numbered);
        let mut judged = Judged::default();
        match &self.spilled {
            None => self.judge(self.signins.clone(), &coverage, &mut judged),
            Some(spilled) => {
                for (part, (blocks, count)) in spilled.parts.iter().enumerate() {
                    let mut signins: Vec<SignIn> = self
                        .signins
                        .iter()
                        .filter(|s| s.part() == part)
                        .cloned()
                        .collect();
                    match read_part(&spilled.spill, blocks) {
                        Ok(read) => signins.extend(read),
                        Err(why) => {
                            let unread = judged.unread.get_or_insert((0, why));
                            unread.0 += count;
                        }
                    }
                    self.judge(signins, &coverage, &mut judged);
                }
            }
        }
        let Judged {
            orphans,
            outside,
            in_gaps,
            unread,
        } = judged;
        let servers: Vec<String> = coverage
            .spans
            .iter()
            .map(|(server, (from, to))| format!("{server} {} to {}", iso(*from), iso(*to)))
            .collect();
        let read = format!(
            "the AD FS logs read ({}) cover the time",
            servers.join("; ")
        );
        let mut out: Vec<Finding> = orphans
            .into_iter()
            .map(|(user, o)| orphan_finding(user, o, &read, self.issued.contains_key(user)))
            .collect();
        if outside.count > 0 || !in_gaps.is_empty() || unread.is_some() {
            out.push(uncovered_finding(
                &outside, &in_gaps, unread, &coverage, &servers,
            ));
        }
        out
    }

    /// Writes the sign-ins held in memory out, each to its user's part.
    fn spill_out(&mut self) {
        if self.spilled.is_none() {
            match Spill::new() {
                Ok(spill) => {
                    self.spilled = Some(Spilled {
                        spill,
                        parts: vec![(Vec::new(), 0); PARTS],
                    });
                }
                Err(e) => {
                    tracing::warn!("forged-token join: sign-ins stay in memory ({e})");
                    self.spill_failed = true;
                    return;
                }
            }
        }
        let Some(spilled) = self.spilled.as_mut() else {
            return;
        };
        let mut parts: Vec<(Vec<u8>, u64)> = vec![(Vec::new(), 0); PARTS];
        for signin in &self.signins {
            let (bytes, count) = &mut parts[signin.part()];
            signin.encode(bytes);
            *count += 1;
        }
        for (part, (bytes, count)) in parts.into_iter().enumerate() {
            if count == 0 {
                continue;
            }
            match spilled.spill.write(&bytes) {
                Ok(block) => {
                    spilled.parts[part].0.push(block);
                    spilled.parts[part].1 += count;
                }
                Err(e) => {
                    // What was written is read back too; its copies in
                    // memory are dropped as any copy is.
                    tracing::warn!("forged-token join: sign-ins stay in memory ({e})");
                    self.spill_failed = true;
                    return;
                }
            }
        }
        self.signins.clear();
    }

    /// Matches one part's sign-ins (every sign-in of their users) with the
    /// issuances, and notes the orphans and what the logs do not cover.
    fn judge<'a>(&'a self, mut signins: Vec<SignIn>, coverage: &Coverage, judged: &mut Judged<'a>) {
        signins.sort_by(|a, b| a.id.cmp(&b.id));
        signins.dedup_by(|a, b| a.id == b.id);
        let matched = self.match_issuances(&signins);
        for (i, signin) in signins.iter().enumerate() {
            if matched[i] {
                continue;
            }
            let time = signin.time;
            match coverage.judge(time) {
                Ok(()) => {}
                Err(None) => {
                    let outside = &mut judged.outside;
                    if outside.count == 0 {
                        (outside.first, outside.last) = (time, time);
                    }
                    outside.count += 1;
                    outside.first = outside.first.min(time);
                    outside.last = outside.last.max(time);
                    continue;
                }
                Err(Some(index)) => {
                    *judged.in_gaps.entry(index).or_default() += 1;
                    continue;
                }
            }
            let (user, ip) = (self.names.text(signin.user), self.names.text(signin.ip));
            let entry = judged.orphans.entry(user).or_insert_with(|| Orphans {
                upn: self.names.text(signin.upn).to_owned(),
                count: 0,
                first: time,
                last: time,
                ids: Vec::new(),
                ips: Vec::new(),
            });
            entry.count += 1;
            entry.first = entry.first.min(time);
            entry.last = entry.last.max(time);
            entry.ids.push((time, signin.id.text()));
            if entry.ids.len() >= 2 * ORPHAN_IDS {
                entry.ids.sort();
                entry.ids.truncate(ORPHAN_IDS);
            }
            if !ip.is_empty() && !entry.ips.iter().any(|known| known == ip) && entry.ips.len() < 10
            {
                entry.ips.push(ip.to_owned());
            }
        }
    }
}

/// One part's written-out sign-ins.
fn read_part(spill: &Spill, blocks: &[Block]) -> Result<Vec<SignIn>, String> {
    let mut out = Vec::new();
    for block in blocks {
        let plain = spill.read(*block).map_err(|e| e.to_string())?;
        let mut rest: &[u8] = &plain;
        while !rest.is_empty() {
            let signin = SignIn::decode(&mut rest)
                .ok_or_else(|| "a spilled block does not decode".to_owned())?;
            out.push(signin);
        }
    }
    Ok(out)
}

use crate::model::de::graph_time_secs as iso;

/// A user's orphan sign-ins: forged (critical) when AD FS issued this
/// account other tokens; when it never did, AD FS may know the user by
/// another name (its `DOMAIN\\sAMAccountName` is not the UPN's first part),
/// so the finding is high and says so.
fn orphan_finding(user: &str, o: Orphans, read: &str, known_to_adfs: bool) -> Finding {
    let Orphans {
        upn,
        count,
        first,
        last,
        mut ids,
        ips,
    } = o;
    ids.sort();
    let ids: Vec<String> = ids.into_iter().take(ORPHAN_IDS).map(|(_, id)| id).collect();
    let mut entities = vec![Entity {
        field: "userPrincipalName".into(),
        value: upn.clone(),
    }];
    entities.extend(ips.iter().map(|ip| Entity {
        field: "ipAddress".into(),
        value: ip.clone(),
    }));
    let (detection, severity, title, caveat) = if known_to_adfs {
        (
            "onprem.forged-token",
            Severity::Critical,
            "Federated sign-in with a token AD FS never issued",
            String::new(),
        )
    } else {
        (
            "onprem.forged-token-unknown-user",
            Severity::High,
            "Federated sign-in of a user AD FS never issued a token to",
            format!(
                " AD FS issued no token to any account named {user} in all the logs read: if AD FS knows this user by another account name, compare by hand; otherwise these are forged too."
            ),
        )
    };
    Finding {
        id: super::finding_id(detection, user),
        detection: detection.into(),
        severity,
        title: title.into(),
        techniques: vec!["T1606.002".into()],
        entities,
        evidence: ids,
        count,
        first_seen: Some(iso(first)),
        last_seen: Some(iso(last)),
        remediation: [
            "revoke-sessions",
            "rotate-token-signing-certificate-twice",
            "remove-trust",
            "review-federation-trust",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        explanation: format!(
            "{count} federated sign-in(s) of {upn} from {} were never issued by the AD FS servers: no token issuance (1200/1202) for {user} within {} minutes of each, and {read} of each without a gap. These tokens were forged (orphan sign-ins). If the farm has servers whose logs were not read, read them too before calling this proof.{caveat}",
            if ips.is_empty() {
                "unknown addresses".to_owned()
            } else {
                ips.join(", ")
            },
            WITHIN_SECS / 60
        ),
        rationale: "AD FS logs every token it issues. A federated sign-in Entra ID accepted with no matching issuance was signed by someone else holding the token-signing key: a Golden SAML token.".into(),
        verdict: None,
    }
}

fn uncovered_finding(
    outside: &Outside,
    in_gaps: &BTreeMap<usize, u64>,
    unread: Option<(u64, String)>,
    coverage: &Coverage,
    servers: &[String],
) -> Finding {
    let mut parts = Vec::new();
    if outside.count > 0 {
        parts.push(format!(
            "{} fall outside the time every AD FS server's log covers ({first_out} to {last_out}; logs read: {})",
            outside.count,
            servers.join("; "),
            first_out = iso(outside.first),
            last_out = iso(outside.last),
        ));
    }
    if let Some((n, why)) = &unread {
        parts.push(format!(
            "{n} could not be read back from the scan's sealed spill file ({why})"
        ));
    }
    for (index, n) in in_gaps {
        let gap = &coverage.gaps[*index];
        let why = match &gap.numbers {
            Some((channel, a, b)) => format!("{}: {channel} record numbers {a} to {b}", gap.why),
            None => gap.why.to_owned(),
        };
        parts.push(format!(
            "{n} fall in a gap in {}'s log from {} to {} ({why})",
            gap.server,
            iso(gap.from),
            iso(gap.to),
        ));
    }
    let total =
        outside.count + in_gaps.values().sum::<u64>() + unread.as_ref().map_or(0, |(n, _)| *n);
    let times = (outside.count > 0)
        .then_some([outside.first, outside.last])
        .into_iter()
        .flatten()
        .chain(in_gaps.keys().map(|i| coverage.gaps[*i].from))
        .chain(in_gaps.keys().map(|i| coverage.gaps[*i].to));
    let span = times.fold(None, |span: Option<(i64, i64)>, t| {
        Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))))
    });
    let entities = in_gaps
        .keys()
        .map(|i| Entity {
            field: "Computer".into(),
            value: coverage.gaps[*i].server.clone(),
        })
        .collect();
    Finding {
        id: super::finding_id("onprem.forged-token-uncovered", ""),
        detection: "onprem.forged-token-uncovered".into(),
        severity: Severity::Medium,
        title: "Federated sign-ins the AD FS logs do not cover".into(),
        techniques: vec!["T1606.002".into()],
        entities,
        evidence: Vec::new(),
        count: total,
        first_seen: span.map(|(first, _)| iso(first)),
        last_seen: span.map(|(_, last)| iso(last)),
        remediation: vec!["collect-logs".into()],
        explanation: format!(
            "{total} federated sign-in(s) with no issuance found cannot be judged: {}. Whether AD FS issued their tokens cannot be told; collect the AD FS Security logs of every farm server for those times.",
            parts.join("; ")
        ),
        rationale: "Missing logs are not evidence of innocence: a forged token only shows against the issuance log of the time it was used, on every server that could have issued it.".into(),
        verdict: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Event<'static> {
        Event::new(v, || "x".into()).unwrap()
    }

    fn signin(id: &str, upn: &str, time: &str) -> Event<'static> {
        event(
            json!({"id": id, "createdDateTime": time, "userPrincipalName": upn,
            "ipAddress": "203.0.113.66", "tokenIssuerType": "ADFederationServices",
            "isInteractive": true, "status": {"errorCode": 0}}),
        )
    }

    fn issuance(user: &str, time: &str) -> Event<'static> {
        event(
            json!({"EventID": 1200, "TimeGenerated": time, "Computer": "ADFS01",
            "Channel": "Security", "EventSourceName": "AD FS Auditing", "UserId": user}),
        )
    }

    #[test]
    fn a_sign_in_without_an_issuance_is_forged_and_uncovered_time_is_said() {
        let mut forged = Forged::default();
        for e in [
            signin("genuine", "megan.bowen@contoso.com", "2026-11-30T10:00:30Z"),
            // The same sign-in from an overlapping export: one token.
            signin("genuine", "megan.bowen@contoso.com", "2026-11-30T10:00:30Z"),
            // Beside the genuine one, within the window: the one issuance
            // explains one sign-in only.
            signin("beside", "megan.bowen@contoso.com", "2026-11-30T10:03:00Z"),
            signin(
                "patti-ok",
                "patti.fernandez@contoso.com",
                "2026-11-30T10:30:00Z",
            ),
            signin(
                "forged",
                "patti.fernandez@contoso.com",
                "2026-11-30T11:00:00Z",
            ),
            signin(
                "stranger",
                "adele.vance@contoso.com",
                "2026-11-30T11:10:00Z",
            ),
            signin("late", "megan.bowen@contoso.com", "2026-12-03T11:00:00Z"),
            issuance("CONTOSO\\megan.bowen", "2026-11-30T10:00:00Z"),
            issuance("patti.fernandez@contoso.com", "2026-11-30T10:29:55Z"),
            issuance("lynne.robbins@contoso.com", "2026-11-30T09:00:00Z"),
            issuance("lynne.robbins@contoso.com", "2026-11-30T12:00:00Z"),
        ] {
            for f in facts(&e) {
                forged.add(f);
            }
        }
        let findings = forged.findings();
        let by = |id: &str| {
            findings
                .iter()
                .filter(|f| f.detection == id)
                .collect::<Vec<_>>()
        };
        let orphans = by("onprem.forged-token");
        assert_eq!(orphans.len(), 2, "{findings:#?}");
        let named: Vec<&str> = orphans
            .iter()
            .flat_map(|f| f.evidence.iter().map(String::as_str))
            .collect();
        assert!(
            named.contains(&"beside") && named.contains(&"forged"),
            "{named:?}"
        );
        assert!(
            orphans
                .iter()
                .all(|f| f.explanation.contains("never issued"))
        );
        // A user AD FS never issued anything to: high, with the caveat.
        let stranger = by("onprem.forged-token-unknown-user");
        assert_eq!(stranger.len(), 1);
        assert_eq!(stranger[0].evidence, ["stranger"]);
        assert!(stranger[0].explanation.contains("another account name"));
        let uncovered = by("onprem.forged-token-uncovered");
        assert_eq!(uncovered[0].count, 1);
    }

    #[test]
    fn a_gap_in_a_log_read_whole_is_named_and_judges_nothing() {
        let mut forged = Forged::default();
        let record = |n: u64, time: &str| {
            event(
                json!({"EventID": 1200, "TimeGenerated": time, "Computer": "ADFS01",
                "Channel": "Security", "EventSourceName": "AD FS Auditing", "UserId": "CORP\\x",
                "@warroom.record": n}),
            )
        };
        // Records 1 to 30 a minute apart from 08:00, 31 to 39 lost, then
        // 40 to 69 from 14:00.
        let at = |h: u32, m: u32| format!("2026-11-30T{h:02}:{m:02}:00Z");
        let mut events: Vec<Event> = (0..30).map(|i| record(i + 1, &at(8, i as u32))).collect();
        events.extend((0..30).map(|i| record(i + 40, &at(14, i as u32))));
        events.push(signin("in-gap", "x@contoso.com", "2026-11-30T11:00:00Z"));
        for e in events {
            for f in facts(&e) {
                forged.add(f);
            }
        }
        let findings = forged.findings();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].detection, "onprem.forged-token-uncovered");
        assert!(
            findings[0]
                .explanation
                .contains("records are missing: Security record numbers 31 to 39"),
            "{}",
            findings[0].explanation
        );
    }

    /// Past `SPILL_AT` sign-ins go to the sealed spill file and come back
    /// part by part: the findings are those of a join held all in memory,
    /// copies of a sign-in still count once, and the first copy of a
    /// sign-in may be written out while the second is still in memory.
    #[test]
    fn spilled_sign_ins_are_judged_as_if_all_were_in_memory() {
        let base = 1_790_000_000i64;
        let (mut facts, mut copies) = (Vec::new(), Vec::new());
        let n = SPILL_AT + SPILL_AT / 2;
        for i in 0..n as i64 {
            let user = format!("user{}", i % 301);
            let time = base + i * 7;
            let id = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
            facts.push(Fact::FederatedSignIn {
                user: user.clone(),
                upn: format!("{user}@contoso.com"),
                time,
                id: id.clone(),
                ip: format!("198.51.100.{}", i % 200),
            });
            // Every fourth sign-in has no issuance (301 users: each has
            // some); one in a hundred is read twice, the copy far later
            // in the input.
            if i % 4 != 0 {
                facts.push(Fact::Issuance {
                    user,
                    time,
                    server: "adfs1".into(),
                    ips: vec![format!("198.51.100.{}", i % 200)],
                });
            }
            if i % 100 == 0 {
                copies.push(Fact::FederatedSignIn {
                    user: format!("user{}", i % 301),
                    upn: format!("user{}@contoso.com", i % 301),
                    time,
                    id,
                    ip: format!("198.51.100.{}", i % 200),
                });
            }
        }
        facts.extend(copies);
        facts.push(Fact::Logged {
            time: base - 3_600,
            server: "adfs1".into(),
        });
        facts.push(Fact::Logged {
            time: base + n as i64 * 7 + 3_600,
            server: "adfs1".into(),
        });
        let mut spilled = Forged::default();
        let mut held = Forged {
            spill_failed: true,
            ..Forged::default()
        };
        for fact in facts {
            spilled.add(fact.clone());
            held.add(fact);
        }
        assert!(spilled.spilled.is_some() && held.spilled.is_none());
        assert!(spilled.signins.len() < SPILL_AT);
        let a = serde_json::to_value(spilled.findings()).unwrap();
        let b = serde_json::to_value(held.findings()).unwrap();
        assert_eq!(a, b);
        let forged: u64 = held
            .findings()
            .iter()
            .filter(|f| f.detection == "onprem.forged-token")
            .map(|f| f.count)
            .sum();
        assert_eq!(forged, (n as u64).div_ceil(4), "each unissued sign-in once");
    }

    #[test]
    fn a_silence_is_a_gap_only_when_chance_cannot_explain_it() {
        assert_eq!(busy_farm(1), BUSY_FARM);
        // Two servers: twenty tokens all sent elsewhere is one in a million.
        assert_eq!(busy_farm(2), 20);
        assert!(0.5f64.powi(busy_farm(2) as i32) < 1e-6);
        assert!((2.0f64 / 3.0).powi(busy_farm(3) as i32) < 1e-6);
        assert!(busy_farm(4) > busy_farm(3));
    }

    #[test]
    fn without_adfs_logs_nothing_is_claimed() {
        let mut forged = Forged::default();
        for f in facts(&signin(
            "s",
            "megan.bowen@contoso.com",
            "2026-11-30T10:00:30Z",
        )) {
            forged.add(f);
        }
        assert!(forged.findings().is_empty());
    }
}
