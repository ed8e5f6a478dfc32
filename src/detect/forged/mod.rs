//! The forged-token proof: a federated cloud sign-in for which the AD FS
//! servers logged no token issuance that fits it is a token AD FS never
//! minted. Entra ID's sign-in log names the federation issuer and the
//! client; the AD FS Security log records every token it issues (events
//! 1200) with the issuer it issues as and, mostly, the client's
//! address. A sign-in with no fitting issuance for its user near its time,
//! inside the time the AD FS logs cover, is a forgery; one outside that
//! time is said to be unjudged, never passed. What "fits" means is
//! `agree`'s: same issuer, same client where AD FS logged a public
//! address, one issuance for one sign-in.
//!
//! The logs of every AD FS server read are needed at a sign-in's time: a
//! token may come from any server of the farm. A server's log that starts
//! late, stops early, was cleared (1102), or falls silent while the rest
//! of the farm is busy leaves a gap (`coverage`), and sign-ins in a gap
//! are reported as unjudged with the gap named.
//!
//! Facts are kept small (`held`) and joined when findings are asked for,
//! so the cloud and on-premises files may come in any order.

mod agree;
mod coverage;
mod held;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::Finding;
use super::event::{Event, Kind, text_at};
use super::json::Json;
use super::record_id::RecordId;
use super::spill::Spill;
use agree::{Address, EgressSeen, Farm};
use coverage::{Coverage, Gap, Runs};
use held::{Names, PARTS, SPILL_AT, SignIn, Spilled, read_part};
use report::{ORPHAN_IDS, Orphans, Outside, iso, orphan_finding, uncovered_finding};

/// How far apart a token's issuance and its use may be (clock skew
/// between the AD FS farm and Entra ID included).
const WITHIN_SECS: i64 = 10 * 60;

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
        /// The token's issuer as Entra ID recorded it (`tokenIssuerName`).
        issuer: String,
    },
    /// AD FS issued a token (1200) for Microsoft Online to this user.
    Issuance {
        user: String,
        time: i64,
        server: String,
        /// The client's addresses as AD FS saw them.
        ips: Vec<String>,
        /// The issuer identifier the farm issued under (`<Server>`).
        issuer: Option<String>,
        /// Addresses of the farm's proxies this request passed through.
        proxies: Vec<String>,
        /// The request came from inside the network: its address is not
        /// compared with the sign-in's.
        intranet: bool,
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
        .get(crate::model::record::windows::WHOLE_LOG_RECORD)?
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
            // A sign-in that presented a refresh token carried no new AD FS
            // token, whatever the user's domain.
            let refreshed = v
                .get("incomingTokenType")
                .and_then(Json::as_str)
                .is_some_and(|t| {
                    t.eq_ignore_ascii_case("refreshToken")
                        || t.eq_ignore_ascii_case("primaryRefreshToken")
                });
            if !ok || !interactive || refreshed {
                return None;
            }
            let upn = v.get("userPrincipalName")?.as_str()?.to_owned();
            Some(Fact::FederatedSignIn {
                user: account(&upn),
                upn,
                time,
                id: event.id.clone(),
                ip: v["ipAddress"].as_str().unwrap_or("").to_owned(),
                issuer: v["tokenIssuerName"].as_str().unwrap_or("").to_owned(),
            })
        }
        Kind::WindowsEvent => {
            let id = v.get("EventID")?.as_u64()?;
            let server = v.get("Computer")?.as_str()?.to_lowercase();
            let channel = v.get("Channel").and_then(Json::as_str);
            if id == 1102 && channel.is_some_and(|c| c.eq_ignore_ascii_case("Security")) {
                return Some(Fact::Cleared { time, server });
            }
            if !crate::model::record::windows::is_adfs(v) {
                return None;
            }
            // A token for another relying party says nothing of Entra ID's.
            let for_entra = audit_field(v, "RelyingParty", &["RelyingParty"])
                .is_none_or(|rp| rp.to_ascii_lowercase().contains("microsoftonline"));
            // 1200 is a token issued; 1202 (fresh credentials validated)
            // comes beside a 1200 for the same sign-in, so counting it too
            // would give a forged sign-in a spare issuance to hide behind.
            if id == 1200
                && for_entra
                && let Some(user) = adfs_user(v)
            {
                let list = |tags: &[&str]| -> Vec<String> {
                    tags.iter()
                        .filter_map(|tag| audit_field(v, tag, &[]))
                        .flat_map(|list| {
                            list.split(',')
                                .map(|ip| ip.trim().to_owned())
                                .filter(|ip| !ip.is_empty() && ip != "N/A")
                                .collect::<Vec<_>>()
                        })
                        .collect()
                };
                // The address a proxy presents is the farm's, not the
                // client's; so is the network-level peer of a proxied
                // request.
                let proxied =
                    audit_field(v, "ProxyServer", &[]).is_some_and(|p| !p.is_empty() && p != "N/A");
                let mut proxies = list(&["ProxyIpAddress"]);
                if proxied {
                    proxies.extend(list(&["NetworkIpAddress"]));
                }
                return Some(Fact::Issuance {
                    user: account(&user),
                    time,
                    server,
                    ips: list(&["IpAddress", "ForwardedIpAddress"]),
                    // Inside the network AD FS sees an address Entra ID
                    // never does (even a public one used internally).
                    intranet: audit_field(v, "NetworkLocation", &[])
                        .is_some_and(|l| l.eq_ignore_ascii_case("Intranet")),
                    issuer: audit_field(v, "Server", &[]).filter(|s| s != "N/A"),
                    proxies,
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

/// A token issuance as the join keeps it.
#[derive(Debug)]
struct Issued {
    time: i64,
    /// The server that logged it, by number in `Names`.
    server: u32,
    /// The client's addresses as AD FS logged them.
    ips: Vec<String>,
    /// From inside the network: the addresses are not compared.
    intranet: bool,
}

/// What judging the sign-ins found, part by part.
#[derive(Default)]
struct Judged<'a> {
    orphans: BTreeMap<&'a str, Orphans>,
    outside: Outside,
    in_gaps: BTreeMap<usize, u64>,
    /// Sign-ins whose only nearby issuance left went to another client.
    elsewhere: BTreeMap<&'a str, Orphans>,
    /// Sign-ins of users too busy to match within the search's bounds.
    overflow: u64,
    /// Spilled sign-ins that could not be read back, and why.
    unread: Option<(u64, String)>,
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
    /// Issuances by account.
    issued: BTreeMap<String, Vec<Issued>>,
    /// Hosts of the issuer identifiers the farm issued under.
    farm_issuers: BTreeSet<String>,
    /// Addresses the farm's proxies presented.
    proxies: BTreeSet<IpAddr>,
    /// Times of every AD FS audit event, by server.
    logged: BTreeMap<String, Vec<i64>>,
    /// When each server's log was cleared.
    cleared: BTreeMap<String, Vec<i64>>,
    /// Record numbers of each (server, channel) log.
    records: BTreeMap<(String, String), Runs>,
}

/// What became of a sign-in once matched with its user's issuances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// An issuance that fits it.
    Explained,
    /// None fits, and a free one nearby went to another client.
    Elsewhere,
    /// None fits, and none nearby is free for it: forged (if the logs
    /// cover its time).
    Forged,
    /// The search for a fitting issuance was cut short: unjudged.
    CutShort,
}

/// Why an issuance near a sign-in does not explain it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Misfit {
    /// The sign-in's token names an issuer the farm does not issue as.
    Issuer,
    /// AD FS saw another client.
    Address,
}

/// One user's sign-ins and issuances, in time order, with what the
/// comparison needs worked out once.
struct UserView<'a> {
    signins: Vec<&'a SignIn>,
    issued: Vec<&'a Issued>,
    signin_times: Vec<i64>,
    issued_times: Vec<i64>,
    signin_ips: Vec<Option<IpAddr>>,
    issuer_ok: Vec<Option<bool>>,
    clients: Vec<Vec<IpAddr>>,
}

impl UserView<'_> {
    /// Whether issuance `j` fits sign-in `i`, and how well (0 at the
    /// sign-in's own address).
    fn verdict(&self, farm: &Farm, i: usize, j: usize) -> Result<u8, Misfit> {
        if self.issuer_ok[i] == Some(false) {
            return Err(Misfit::Issuer);
        }
        match farm.address(&self.clients[j], self.signin_ips[i]) {
            Address::Same => Ok(0),
            Address::Egress | Address::Unknown => Ok(1),
            Address::Differs => Err(Misfit::Address),
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
                issuer,
            } => {
                let signin = SignIn {
                    user: self.names.number(user),
                    upn: self.names.number(upn),
                    ip: self.names.number(ip),
                    issuer: self.names.number(issuer),
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
                issuer,
                proxies,
                intranet,
            } => {
                if let Some(host) = issuer.as_deref().and_then(agree::issuer_host) {
                    self.farm_issuers.insert(host);
                }
                self.proxies
                    .extend(proxies.iter().filter_map(|ip| agree::comparable(ip)));
                let issued = Issued {
                    time,
                    server: self.names.number(server.clone()),
                    ips,
                    intranet,
                };
                self.issued.entry(user).or_default().push(issued);
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
        let mut farm = Farm {
            issuers: self.farm_issuers.clone(),
            proxies: self.proxies.clone(),
            egress: BTreeSet::new(),
        };
        // First the whole input says which exits pair up, then each user's
        // sign-ins are judged with that known.
        let mut seen = EgressSeen::default();
        self.each_part(&mut None, |signins| {
            for view in self.users(&signins, &farm) {
                learn_egress(&view, &mut seen);
            }
        });
        farm.egress = seen.learned();
        let mut judged = Judged::default();
        let mut unread = None;
        self.each_part(&mut unread, |signins| {
            self.judge(&signins, &farm, &coverage, &mut judged)
        });
        judged.unread = unread;
        let Judged {
            orphans,
            outside,
            in_gaps,
            elsewhere,
            overflow,
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
        out.extend(
            elsewhere
                .into_iter()
                .map(|(user, o)| report::elsewhere_finding(user, o, &read)),
        );
        if outside.count > 0 || !in_gaps.is_empty() || unread.is_some() || overflow > 0 {
            out.push(uncovered_finding(
                &outside, &in_gaps, unread, overflow, &coverage, &servers,
            ));
        }
        out
    }

    /// Calls `each` with the sign-ins of one part at a time (every sign-in
    /// of its users, each once), noting in `unread` what could not be read
    /// back from the spill file.
    fn each_part(&self, unread: &mut Option<(u64, String)>, mut each: impl FnMut(Vec<SignIn>)) {
        let once = |mut signins: Vec<SignIn>| {
            signins.sort_by(|a, b| a.id.cmp(&b.id));
            signins.dedup_by(|a, b| a.id == b.id);
            signins
        };
        let Some(spilled) = &self.spilled else {
            each(once(self.signins.clone()));
            return;
        };
        for (part, (blocks, count)) in spilled.parts.iter().enumerate() {
            let mut signins: Vec<SignIn> = self
                .signins
                .iter()
                .filter(|s| s.part() == part)
                .cloned()
                .collect();
            match read_part(&spilled.spill, blocks) {
                Ok(read) => signins.extend(read),
                Err(why) => unread.get_or_insert((0, why)).0 += count,
            }
            each(once(signins));
        }
    }

    /// The sign-ins of each user with issuances, beside those issuances.
    fn users<'a>(&'a self, signins: &'a [SignIn], farm: &Farm) -> Vec<UserView<'a>> {
        let mut by_user: BTreeMap<u32, Vec<&SignIn>> = BTreeMap::new();
        for signin in signins {
            by_user.entry(signin.user).or_default().push(signin);
        }
        let mut out = Vec::new();
        for (user, mut signins) in by_user {
            let Some(issued) = self.issued.get(self.names.text(user)) else {
                continue;
            };
            signins.sort_by_key(|s| s.time);
            let mut issued: Vec<&Issued> = issued.iter().collect();
            issued.sort_by_key(|x| x.time);
            out.push(UserView {
                signin_times: signins.iter().map(|s| s.time).collect(),
                issued_times: issued.iter().map(|x| x.time).collect(),
                signin_ips: signins
                    .iter()
                    .map(|s| agree::comparable(self.names.text(s.ip)))
                    .collect(),
                issuer_ok: signins
                    .iter()
                    .map(|s| farm.issuer_agrees(self.names.text(s.issuer), self.names.text(s.upn)))
                    .collect(),
                clients: issued
                    .iter()
                    .map(|x| {
                        if x.intranet {
                            Vec::new()
                        } else {
                            farm.clients(&x.ips)
                        }
                    })
                    .collect(),
                signins,
                issued,
            });
        }
        out
    }

    /// Matches one part's sign-ins (every sign-in of their users) with the
    /// issuances, and notes the orphans and what the logs do not cover.
    fn judge<'a>(
        &'a self,
        signins: &[SignIn],
        farm: &Farm,
        coverage: &Coverage,
        judged: &mut Judged<'a>,
    ) {
        let mut fates: BTreeMap<&RecordId, Fate> = BTreeMap::new();
        let mut misfits: BTreeMap<&RecordId, String> = BTreeMap::new();
        let views = self.users(signins, farm);
        for view in &views {
            let (taken, cut) = agree::assign(&view.signin_times, &view.issued_times, |i, j| {
                view.verdict(farm, i, j).ok()
            });
            let mut owner = vec![None; view.issued.len()];
            for (i, j) in taken.iter().enumerate() {
                if let Some(j) = j {
                    owner[*j] = Some(i);
                }
            }
            for (i, j) in taken.iter().enumerate() {
                let id = &view.signins[i].id;
                let fate = if j.is_some() {
                    Fate::Explained
                } else if cut[i] {
                    Fate::CutShort
                } else if agree::window(&view.issued_times, view.signin_times[i])
                    .any(|j| owner[j].is_none() && view.verdict(farm, i, j) == Err(Misfit::Address))
                {
                    Fate::Elsewhere
                } else {
                    Fate::Forged
                };
                if matches!(fate, Fate::Elsewhere | Fate::Forged)
                    && let Some(why) = self.misfit(view, farm, i, &owner)
                {
                    misfits.insert(id, why);
                }
                fates.insert(id, fate);
            }
        }
        for signin in signins {
            // A user AD FS issued nothing to has no view: forged.
            let fate = fates.get(&signin.id).copied().unwrap_or(Fate::Forged);
            match fate {
                Fate::Explained => continue,
                Fate::CutShort => {
                    judged.overflow += 1;
                    continue;
                }
                Fate::Elsewhere | Fate::Forged => {}
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
            let group = if fate == Fate::Elsewhere {
                &mut judged.elsewhere
            } else {
                &mut judged.orphans
            };
            let entry = group.entry(user).or_insert_with(|| Orphans {
                upn: self.names.text(signin.upn).to_owned(),
                count: 0,
                first: time,
                last: time,
                ids: Vec::new(),
                ips: Vec::new(),
                misfits: Vec::new(),
            });
            entry.count += 1;
            entry.first = entry.first.min(time);
            entry.last = entry.last.max(time);
            entry.ids.push((time, signin.id.text()));
            if entry.ids.len() >= 2 * ORPHAN_IDS {
                entry.ids.sort();
                entry.ids.truncate(ORPHAN_IDS);
            }
            if let Some(why) = misfits.remove(&signin.id) {
                entry.misfits.push((time, why));
                if entry.misfits.len() >= 2 * report::MISFITS {
                    entry.misfits.sort();
                    entry.misfits.truncate(report::MISFITS);
                }
            }
            if !ip.is_empty() && !entry.ips.iter().any(|known| known == ip) && entry.ips.len() < 10
            {
                entry.ips.push(ip.to_owned());
            }
        }
    }

    /// Why the issuance nearest an unexplained sign-in does not explain it,
    /// in words; None when AD FS issued this user nothing near it.
    fn misfit(
        &self,
        view: &UserView,
        farm: &Farm,
        i: usize,
        owner: &[Option<usize>],
    ) -> Option<String> {
        let t = view.signin_times[i];
        let j = agree::window(&view.issued_times, t)
            .min_by_key(|j| (view.issued_times[*j] - t).abs())?;
        let (signin, issued) = (view.signins[i], view.issued[j]);
        let text = |n: u32| self.names.text(n);
        let issuer = match text(signin.issuer) {
            "" => "no issuer named".to_owned(),
            name => format!(
                "issuer {}",
                agree::issuer_host(name).unwrap_or_else(|| name.to_owned())
            ),
        };
        let why = match view.verdict(farm, i, j) {
            Err(Misfit::Issuer) => format!(
                "the farm issues as {}, or as the user's own domain",
                farm.issuers.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            Err(Misfit::Address) => "AD FS saw another client".to_owned(),
            Ok(_) => match owner[j] {
                Some(k) => format!(
                    "that token is the one presented at {} from {}",
                    iso(view.signin_times[k]),
                    or_unknown(text(view.signins[k].ip))
                ),
                None => return None,
            },
        };
        let mut ips: Vec<&str> = issued.ips.iter().map(String::as_str).collect();
        ips.dedup();
        Some(format!(
            "AD FS ({}) issued a token to {} at {} from {}; this sign-in at {} came from {} with {issuer} ({why})",
            text(issued.server),
            text(signin.user),
            iso(issued.time),
            if ips.is_empty() {
                "an address it did not log".to_owned()
            } else {
                ips.join(", ")
            },
            iso(t),
            or_unknown(text(signin.ip)),
        ))
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
}

fn or_unknown(ip: &str) -> &str {
    if ip.is_empty() {
        "an unknown address"
    } else {
        ip
    }
}

/// Notes the exits of sign-ins only one issuance could explain, when that
/// issuance could explain no other sign-in, and the two name different
/// public addresses of one family.
fn learn_egress(view: &UserView, seen: &mut EgressSeen) {
    for (i, &t) in view.signin_times.iter().enumerate() {
        if view.issuer_ok[i] == Some(false) {
            continue;
        }
        let Some(ip) = view.signin_ips[i] else {
            continue;
        };
        let near = agree::window(&view.issued_times, t);
        if near.len() != 1 {
            continue;
        }
        let j = near.start;
        if agree::window(&view.signin_times, view.issued_times[j]).len() != 1 {
            continue;
        }
        let clients = &view.clients[j];
        if clients
            .iter()
            .any(|c| agree::same_client(*c, ip) == Some(true))
        {
            continue;
        }
        for client in clients {
            if agree::same_client(*client, ip) == Some(false) {
                seen.see((*client, ip), view.signins[i].user, t);
            }
        }
    }
}

#[cfg(test)]
mod tests;
