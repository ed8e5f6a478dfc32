//! Threat intelligence: indicator lists (CSV, STIX 2.1 bundles) matched
//! against every event and against directory snapshots. Each indicator
//! that matches becomes one finding carrying its source, confidence and
//! validity window; an event outside that window is counted apart, not as
//! a hit.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;

use jiff::Timestamp;
use serde_json::Value;

use super::event::{Event, values_at};
use super::{Entity, Finding};
use crate::model::Severity;
use crate::model::net::network;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    /// An address or a network (CIDR).
    Ip,
    /// A domain and everything under it.
    Domain,
    Url,
    /// A user principal name or mail address.
    User,
    /// An application (client) id.
    AppId,
    /// Text found in a user agent.
    UserAgent,
}

impl IndicatorKind {
    pub fn name(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "address",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "URL",
            IndicatorKind::User => "account",
            IndicatorKind::AppId => "application id",
            IndicatorKind::UserAgent => "user agent",
        }
    }

    /// A type as CSV files and STIX name it.
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Some(match t.as_str() {
            "ip" | "ipv4" | "ipv6" | "ipv4-addr" | "ipv6-addr" | "ip-address" | "address"
            | "cidr" | "ip-dst" | "ip-src" | "network" => IndicatorKind::Ip,
            "domain" | "domain-name" | "fqdn" | "hostname" | "host" => IndicatorKind::Domain,
            "url" | "uri" => IndicatorKind::Url,
            "user" | "upn" | "user-account" | "account" | "email" | "email-addr" | "mail" => {
                IndicatorKind::User
            }
            "app" | "appid" | "app-id" | "application" | "application-id" | "client-id"
            | "clientid" => IndicatorKind::AppId,
            "user-agent" | "useragent" | "ua" => IndicatorKind::UserAgent,
            _ => return None,
        })
    }

    /// What a bare value most likely is, for lists without a type column.
    fn guess(value: &str) -> Self {
        let v = value.trim();
        if network(v).is_some() {
            IndicatorKind::Ip
        } else if v.contains("://") {
            IndicatorKind::Url
        } else if v.contains('@') && !v.contains(' ') {
            IndicatorKind::User
        } else if is_guid(v) {
            IndicatorKind::AppId
        } else if !v.contains(' ') && !v.contains('/') && v.contains('.') {
            IndicatorKind::Domain
        } else {
            IndicatorKind::UserAgent
        }
    }

    /// The event fields a value of this kind is looked for in.
    fn fields(self) -> &'static [&'static str] {
        match self {
            IndicatorKind::Ip => &["ipAddress", "clientIp", "initiatedBy.user.ipAddress"],
            IndicatorKind::User | IndicatorKind::Domain => &[
                "userPrincipalName",
                "initiatedBy.user.userPrincipalName",
                "targetResources.userPrincipalName",
                "auditData.MailboxOwnerUPN",
            ],
            IndicatorKind::Url => &["tokenIssuerName"],
            IndicatorKind::AppId => &[
                "appId",
                "initiatedBy.app.appId",
                "auditData.AppId",
                "auditData.ClientAppId",
            ],
            IndicatorKind::UserAgent => &["userAgent", "auditData.ClientInfoString"],
        }
    }
}

fn is_guid(v: &str) -> bool {
    v.len() == 36
        && v.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

#[derive(Clone, Debug)]
pub struct Indicator {
    pub kind: IndicatorKind,
    /// As the list writes it.
    pub value: String,
    /// The indicator's name or description, when it has one.
    pub name: String,
    /// Who published it (a STIX identity, a CSV source column, the file).
    pub source: String,
    /// 0–100, when given.
    pub confidence: Option<u8>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
}

impl Indicator {
    fn valid_at(&self, t: Option<Timestamp>) -> bool {
        let Some(t) = t else { return true };
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t <= u)
    }

    /// High unless the list rates it lower.
    fn severity(&self) -> Severity {
        match self.confidence {
            None => Severity::High,
            Some(c) if c >= 70 => Severity::High,
            Some(c) if c >= 40 => Severity::Medium,
            Some(_) => Severity::Low,
        }
    }

    fn window(&self) -> String {
        let day = |t: Option<Timestamp>| t.map(|t| t.strftime("%Y-%m-%d").to_string());
        match (day(self.valid_from), day(self.valid_until)) {
            (None, None) => "no validity window".into(),
            (Some(f), None) => format!("valid from {f}"),
            (None, Some(u)) => format!("valid until {u}"),
            (Some(f), Some(u)) => format!("valid {f} to {u}"),
        }
    }
}

/// One indicator seen in one record.
#[derive(Clone, Debug)]
pub struct Hit {
    pub indicator: usize,
    pub field: &'static str,
    pub value: String,
}

/// A loaded list, indexed for matching.
#[derive(Debug, Default)]
pub struct IocList {
    pub indicators: Vec<Indicator>,
    exact: HashMap<(IndicatorKind, String), Vec<usize>>,
    /// Single addresses, looked up directly; networks, tried in turn.
    addresses: HashMap<IpAddr, Vec<usize>>,
    nets: Vec<(IpAddr, u8, usize)>,
    /// A domain matches itself and every name under it.
    domains: HashMap<String, Vec<usize>>,
    agents: Option<aho_corasick::AhoCorasick>,
    agent_ids: Vec<usize>,
}

impl IocList {
    /// Reads a CSV list or a STIX 2.1 bundle (by its content), and says
    /// what it left out and why.
    pub fn load(path: &Path) -> Result<(Self, Vec<String>), String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_start_matches('\u{feff}');
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (indicators, notes) = if text.trim_start().starts_with('{') {
            let bundle: Value = serde_json::from_str(text)
                .map_err(|e| format!("{}: not a STIX bundle ({e})", path.display()))?;
            from_stix(&bundle, &source)?
        } else {
            from_csv(text, &source)?
        };
        if indicators.is_empty() {
            return Err(format!(
                "{}: no indicator warroom can match ({})",
                path.display(),
                if notes.is_empty() {
                    "the list is empty".to_owned()
                } else {
                    notes.join("; ")
                }
            ));
        }
        Ok((Self::new(indicators), notes))
    }

    pub fn new(indicators: Vec<Indicator>) -> Self {
        let mut list = Self::default();
        let mut agents = Vec::new();
        for (i, ind) in indicators.iter().enumerate() {
            let value = ind.value.trim().to_lowercase();
            match ind.kind {
                IndicatorKind::Ip => match network(&value) {
                    Some((addr, bits))
                        if u32::from(bits) == if addr.is_ipv4() { 32 } else { 128 } =>
                    {
                        list.addresses
                            .entry(addr.to_canonical())
                            .or_default()
                            .push(i);
                    }
                    Some((net, bits)) => list.nets.push((net, bits, i)),
                    None => {}
                },
                IndicatorKind::Domain => list
                    .domains
                    .entry(value.trim_start_matches("*.").to_owned())
                    .or_default()
                    .push(i),
                IndicatorKind::UserAgent => {
                    agents.push(value);
                    list.agent_ids.push(i);
                }
                IndicatorKind::Url => {
                    list.exact
                        .entry((ind.kind, value.trim_end_matches('/').to_owned()))
                        .or_default()
                        .push(i);
                }
                IndicatorKind::User | IndicatorKind::AppId => {
                    list.exact.entry((ind.kind, value)).or_default().push(i);
                }
            }
        }
        list.agents = (!agents.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&agents)
                    .ok()
            })
            .flatten();
        list.indicators = indicators;
        list
    }

    /// Texts every matching record contains, for the scan's prefilter;
    /// `None` when a network cannot be written as text (then every
    /// record is read).
    pub fn literals(&self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for ind in &self.indicators {
            let v = ind.value.trim();
            match ind.kind {
                IndicatorKind::Ip => {
                    let (net, bits) = network(v)?;
                    match (net, bits) {
                        (IpAddr::V4(a), 32) => out.push(a.to_string()),
                        (IpAddr::V4(a), 24) => {
                            let o = a.octets();
                            out.push(format!("{}.{}.{}.", o[0], o[1], o[2]));
                        }
                        (IpAddr::V4(a), 16) => {
                            let o = a.octets();
                            out.push(format!("{}.{}.", o[0], o[1]));
                        }
                        // Other networks, and IPv6 (written many ways).
                        _ => return None,
                    }
                }
                IndicatorKind::Url => out.push(v.trim_end_matches('/').to_owned()),
                _ => out.push(v.trim_start_matches("*.").to_owned()),
            }
        }
        Some(out)
    }

    /// Top-level fields the matcher reads (for the scan's lazy parser).
    pub fn fields(&self) -> BTreeSet<String> {
        let kinds: BTreeSet<IndicatorKind> = self.indicators.iter().map(|i| i.kind).collect();
        kinds
            .iter()
            .flat_map(|k| k.fields().iter())
            .map(|f| f.split('.').next().unwrap_or(f).to_owned())
            .collect()
    }

    fn check(&self, kind: IndicatorKind, field: &'static str, text: &str, out: &mut Vec<Hit>) {
        let mut hit = |indicator: usize| {
            if !out.iter().any(|h| h.indicator == indicator) {
                out.push(Hit {
                    indicator,
                    field,
                    value: text.to_owned(),
                });
            }
        };
        let lower = text.trim().to_lowercase();
        match kind {
            IndicatorKind::Ip => {
                let bare = lower.trim_start_matches('[');
                let bare = bare.split(']').next().unwrap_or(bare);
                if let Ok(addr) = bare.parse::<IpAddr>().map(|a| a.to_canonical()) {
                    for i in self.addresses.get(&addr).into_iter().flatten() {
                        hit(*i);
                    }
                    for (net, bits, i) in &self.nets {
                        if crate::model::net::contains(*net, *bits, addr) {
                            hit(*i);
                        }
                    }
                }
            }
            IndicatorKind::User | IndicatorKind::AppId => {
                for i in self.exact.get(&(kind, lower.clone())).into_iter().flatten() {
                    hit(*i);
                }
                if kind == IndicatorKind::User {
                    // The account's domain against domain indicators.
                    if let Some((_, domain)) = lower.rsplit_once('@') {
                        self.domain(domain, &mut hit);
                    }
                }
            }
            IndicatorKind::Url => {
                let url = lower.trim_end_matches('/');
                for i in self
                    .exact
                    .get(&(kind, url.to_owned()))
                    .into_iter()
                    .flatten()
                {
                    hit(*i);
                }
                if let Some(host) = reqwest::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                {
                    self.domain(&host, &mut hit);
                }
            }
            IndicatorKind::UserAgent => {
                if let Some(ac) = &self.agents {
                    for m in ac.find_overlapping_iter(text) {
                        hit(self.agent_ids[m.pattern().as_usize()]);
                    }
                }
            }
            IndicatorKind::Domain => self.domain(&lower, &mut hit),
        }
    }

    fn domain(&self, host: &str, hit: &mut impl FnMut(usize)) {
        if self.domains.is_empty() {
            return;
        }
        // The host, then each name it sits under: a.b.evil.com, b.evil.com, …
        let mut rest = host;
        loop {
            for i in self.domains.get(rest).into_iter().flatten() {
                hit(*i);
            }
            match rest.split_once('.') {
                Some((_, parent)) if !parent.is_empty() => rest = parent,
                _ => break,
            }
        }
    }

    /// Every indicator one record matches.
    pub fn matches(&self, event: &Event) -> Vec<Hit> {
        let mut out = Vec::new();
        let mut found = Vec::new();
        for kind in [
            IndicatorKind::Ip,
            IndicatorKind::User,
            IndicatorKind::AppId,
            IndicatorKind::Url,
            IndicatorKind::UserAgent,
        ] {
            let wanted = match kind {
                IndicatorKind::Ip => !self.nets.is_empty() || !self.addresses.is_empty(),
                IndicatorKind::UserAgent => self.agents.is_some(),
                IndicatorKind::User => !self.domains.is_empty() || !self.exact.is_empty(),
                IndicatorKind::Url => !self.domains.is_empty() || !self.exact.is_empty(),
                _ => !self.exact.is_empty(),
            };
            if !wanted {
                continue;
            }
            for field in kind.fields() {
                found.clear();
                values_at(&event.value, field, &mut found);
                for v in &found {
                    if let Some(text) = v.as_str() {
                        self.check(kind, field, text, &mut out);
                    }
                }
            }
        }
        out
    }

    /// Indicators found in a directory snapshot: app ids of apps and
    /// service principals, accounts, domains, federation issuers.
    pub fn judge_snapshot(&self, snapshot: &super::posture::Snapshot) -> Vec<Finding> {
        use super::posture::Part;
        let mut matches = Matches {
            scope: "snapshot:",
            ..Matches::default()
        };
        let at = snapshot.taken_at;
        let mut look = |kind, field: &'static str, text: Option<&str>, id: &str| {
            let Some(text) = text else { return };
            let mut hits = Vec::new();
            self.check(kind, field, text, &mut hits);
            for hit in hits {
                matches.add(self, hit, at, id);
            }
        };
        for part in [Part::Applications, Part::ServicePrincipals] {
            for o in snapshot.list(part) {
                let id = o["id"].as_str().unwrap_or("");
                look(IndicatorKind::AppId, "appId", o["appId"].as_str(), id);
            }
        }
        for u in snapshot.list(Part::Users) {
            let id = u["id"].as_str().unwrap_or("");
            look(
                IndicatorKind::User,
                "userPrincipalName",
                u["userPrincipalName"].as_str(),
                id,
            );
            look(IndicatorKind::User, "mail", u["mail"].as_str(), id);
        }
        for d in snapshot.list(Part::Domains) {
            let id = d["id"].as_str().unwrap_or("");
            look(IndicatorKind::Domain, "domain", Some(id), id);
        }
        for (_, f) in &snapshot.federation {
            let id = f["id"].as_str().unwrap_or("");
            for field in [
                "issuerUri",
                "passiveSignInUri",
                "activeSignInUri",
                "metadataExchangeUri",
            ] {
                look(IndicatorKind::Url, field, f[field].as_str(), id);
            }
        }
        matches.findings(self)
    }
}

/// What matched each indicator so far.
#[derive(Debug, Default)]
pub struct Matches {
    groups: BTreeMap<usize, Group>,
    /// Told apart in finding ids: matches in a snapshot are not the same
    /// finding as matches in events.
    scope: &'static str,
}

#[derive(Debug, Default)]
struct Group {
    seen: super::sightings::Sightings,
    /// Matches outside the indicator's validity window.
    outside: u64,
}

impl Matches {
    pub fn add(&mut self, list: &IocList, hit: Hit, time: Option<Timestamp>, id: &str) {
        let group = self.groups.entry(hit.indicator).or_default();
        if !list.indicators[hit.indicator].valid_at(time) {
            group.outside += 1;
            return;
        }
        group.seen.add(time, id, &[(hit.field, hit.value)]);
    }

    pub fn findings(&self, list: &IocList) -> Vec<Finding> {
        self.groups
            .iter()
            .map(|(i, g)| {
                let ind = &list.indicators[*i];
                let entities = g.seen.entities(Entity {
                    field: "indicator".into(),
                    value: ind.value.clone(),
                });
                let count = g.seen.count;
                let (first_seen, last_seen) = g.seen.span();
                let outside = match (count, g.outside) {
                    (_, 0) => String::new(),
                    (0, n) => format!(
                        "; all {n} fall outside its validity window, so they are not counted as hits (the list may have been published after the activity: look at them)"
                    ),
                    (_, n) => format!("; {n} more outside its validity window are not counted"),
                };
                // Only out-of-window records: worth a look, not an alarm.
                let severity = if count == 0 {
                    Severity::Info
                } else {
                    ind.severity()
                };
                Finding {
                    id: super::finding_id(
                        "ioc.match",
                        &format!(
                            "{}{:?}:{}:{}",
                            self.scope,
                            ind.kind,
                            ind.value.to_lowercase(),
                            ind.source
                        ),
                    ),
                    detection: "ioc.match".into(),
                    severity,
                    title: format!("Threat indicator seen: {} {}", ind.kind.name(), ind.value),
                    techniques: Vec::new(),
                    entities,
                    evidence: g.seen.evidence(),
                    count,
                    first_seen,
                    last_seen,
                    remediation: remediation(ind.kind),
                    explanation: format!(
                        "{count} record(s) match the {} indicator {}{} from {} (confidence {}, {}){outside}.",
                        ind.kind.name(),
                        ind.value,
                        if ind.name.is_empty() { String::new() } else { format!(" (\"{}\")", ind.name) },
                        ind.source,
                        ind.confidence.map_or_else(|| "not given".to_owned(), |c| c.to_string()),
                        ind.window(),
                    ),
                    rationale: "The team's threat intelligence names this value as the attacker's; every record that carries it is theirs until shown otherwise.".into(),
                    verdict: None,
                }
            })
            .collect()
    }
}

fn remediation(kind: IndicatorKind) -> Vec<String> {
    let items: &[&str] = match kind {
        IndicatorKind::Ip => &["block-attacker-addresses", "revoke-sessions"],
        IndicatorKind::User => &["revoke-sessions", "reset-passwords"],
        IndicatorKind::AppId => &["review-app-permissions", "remove-risky-grants"],
        IndicatorKind::Domain | IndicatorKind::Url => &["review-federation-trust"],
        IndicatorKind::UserAgent => &["revoke-sessions"],
    };
    items.iter().map(|s| s.to_string()).collect()
}

fn confidence(text: &str) -> Option<u8> {
    let t = text.trim().to_ascii_lowercase();
    match t.as_str() {
        "high" => Some(85),
        "medium" => Some(50),
        "low" => Some(15),
        _ => t
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .map(|c| c.clamp(0.0, 100.0) as u8),
    }
}

/// A time as lists write it; a date alone is its UTC midnight, or the
/// last second of that day for the end of a window.
fn list_time(text: &str, end_of_day: bool) -> Option<Timestamp> {
    if let Some(t) = crate::model::de::parse_time(text) {
        return Some(t);
    }
    let start = crate::model::de::utc_midnight(text)?;
    if end_of_day {
        start
            .checked_add(jiff::SignedDuration::from_secs(86_399))
            .ok()
    } else {
        Some(start)
    }
}

/// A CSV list: a header row naming at least the value column
/// (`value`, `indicator`, `ioc`, `observable`); `type`, `source`,
/// `confidence`, `valid_from`, `valid_until` and `description` are read
/// where present. Without a type the value's shape decides.
fn from_csv(text: &str, file: &str) -> Result<(Vec<Indicator>, Vec<String>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{file}: not a CSV list ({e})"))?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h.as_str()));
    let value_col = col(&["value", "indicator", "ioc", "observable", "indicator_value"])
        .ok_or_else(|| {
            format!("{file}: no value column (name one value, indicator, ioc or observable)")
        })?;
    let type_col = col(&[
        "type",
        "indicator_type",
        "kind",
        "ioc_type",
        "observable_type",
    ]);
    let source_col = col(&["source", "feed", "provider", "author", "created_by"]);
    let confidence_col = col(&["confidence", "score"]);
    // Not `first_seen` or `created`: when a value was first seen is not
    // when it stopped being innocent.
    let from_col = col(&["valid_from"]);
    let until_col = col(&["valid_until", "expiration", "expires", "expiry"]);
    let name_col = col(&["description", "name", "comment", "title"]);
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (n, row) in reader.records().enumerate() {
        let line = n + 2;
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                notes.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let get = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(value) = get(Some(value_col)) else {
            continue;
        };
        let kind = match get(type_col) {
            Some(t) => match IndicatorKind::parse(t) {
                Some(kind) => kind,
                None => {
                    notes.push(format!("line {line}: type {t} is not one warroom matches"));
                    continue;
                }
            },
            None => IndicatorKind::guess(value),
        };
        if kind == IndicatorKind::Ip && network(value).is_none() {
            notes.push(format!("line {line}: {value} is not an address or network"));
            continue;
        }
        let time = |c, end_of_day| get(c).and_then(|t| list_time(t, end_of_day));
        out.push(Indicator {
            kind,
            value: value.to_owned(),
            name: get(name_col).unwrap_or("").to_owned(),
            source: get(source_col).unwrap_or(file).to_owned(),
            confidence: get(confidence_col).and_then(confidence),
            valid_from: time(from_col, false),
            valid_until: time(until_col, true),
        });
    }
    Ok((out, notes))
}

/// A STIX 2.1 bundle: its `indicator` objects with STIX patterns on
/// `ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `user-account`,
/// `email-addr`, a user agent (the HTTP request's `User-Agent` header)
/// and application ids (any object property named like `app_id` or
/// `client_id`). Comparisons joined by OR are each an indicator; AND and
/// other operators are reported, not guessed.
fn from_stix(bundle: &Value, file: &str) -> Result<(Vec<Indicator>, Vec<String>), String> {
    let objects = match bundle {
        Value::Object(map) if map.get("type").and_then(Value::as_str) == Some("bundle") => map
            .get("objects")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{file}: a bundle without objects"))?,
        _ => {
            return Err(format!(
                "{file}: JSON, but not a STIX bundle (no \"type\": \"bundle\")"
            ));
        }
    };
    let identities: HashMap<&str, &str> = objects
        .iter()
        .filter(|o| o["type"] == "identity")
        .filter_map(|o| Some((o["id"].as_str()?, o["name"].as_str()?)))
        .collect();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for o in objects.iter().filter(|o| o["type"] == "indicator") {
        let id = o["id"].as_str().unwrap_or("an indicator");
        if o["revoked"].as_bool() == Some(true) {
            notes.push(format!("{id}: revoked"));
            continue;
        }
        if o["pattern_type"].as_str().is_some_and(|t| t != "stix") {
            notes.push(format!(
                "{id}: a {} pattern, not STIX",
                o["pattern_type"].as_str().unwrap_or("?")
            ));
            continue;
        }
        let Some(pattern) = o["pattern"].as_str() else {
            notes.push(format!("{id}: no pattern"));
            continue;
        };
        let comparisons = match stix_comparisons(pattern) {
            Ok(c) => c,
            Err(why) => {
                notes.push(format!("{id}: {why}"));
                continue;
            }
        };
        let source = o["created_by_ref"]
            .as_str()
            .and_then(|r| identities.get(r).copied())
            .unwrap_or(file);
        let time = |k: &str| o[k].as_str().and_then(crate::model::de::parse_time);
        for (kind, value) in comparisons {
            out.push(Indicator {
                kind,
                value,
                name: o["name"]
                    .as_str()
                    .or_else(|| o["description"].as_str())
                    .unwrap_or("")
                    .to_owned(),
                source: source.to_owned(),
                confidence: o["confidence"].as_u64().map(|c| c.min(100) as u8),
                valid_from: time("valid_from"),
                valid_until: time("valid_until"),
            });
        }
    }
    Ok((out, notes))
}

/// `[ipv4-addr:value = '1.2.3.4' OR domain-name:value = 'x.com']` →
/// the (kind, value) of each comparison.
fn stix_comparisons(pattern: &str) -> Result<Vec<(IndicatorKind, String)>, String> {
    let inner = pattern.trim();
    if inner.contains(" AND ")
        || inner.contains("FOLLOWEDBY")
        || inner.contains("] OR [") && inner.contains("AND")
    {
        return Err("the pattern joins conditions with AND or FOLLOWEDBY; only single values and OR are matched".into());
    }
    let mut out = Vec::new();
    for part in split_or(inner) {
        let part = part
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim();
        let Some((path, value)) = part.split_once('=') else {
            return Err(format!("\"{part}\" is not a comparison with ="));
        };
        let path = path.trim();
        if path.ends_with('!')
            || path.ends_with('<')
            || path.ends_with('>')
            || path.to_ascii_uppercase().ends_with(" NOT")
        {
            return Err(format!("\"{part}\" is not an equality"));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(|| {
                format!("\"{part}\" compares with something other than a quoted string")
            })?
            .replace("\\'", "'")
            .replace("\\\\", "\\");
        let (object, property) = path
            .split_once(':')
            .ok_or_else(|| format!("\"{path}\" names no object"))?;
        let property = property.to_ascii_lowercase();
        let kind = match object.trim() {
            "ipv4-addr" | "ipv6-addr" => IndicatorKind::Ip,
            "domain-name" => IndicatorKind::Domain,
            "url" => IndicatorKind::Url,
            "email-addr" => IndicatorKind::User,
            "user-account"
                if matches!(
                    property.as_str(),
                    "account_login" | "user_id" | "display_name"
                ) =>
            {
                IndicatorKind::User
            }
            "network-traffic" if property.contains("user-agent") => IndicatorKind::UserAgent,
            _ if property.contains("app_id")
                || property.contains("appid")
                || property.contains("client_id") =>
            {
                IndicatorKind::AppId
            }
            other => {
                return Err(format!(
                    "{other}:{property} is not a kind of value warroom matches"
                ));
            }
        };
        if kind == IndicatorKind::Ip && network(&value).is_none() {
            return Err(format!("{value} is not an address or network"));
        }
        out.push((kind, value));
    }
    Ok(out)
}

/// The comparisons of a pattern joined by OR, ignoring OR inside quotes.
fn split_or(pattern: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'\'' => quoted = !quoted,
            b' ' if !quoted && pattern[i..].starts_with(" OR ") => {
                parts.push(&pattern[start..i]);
                start = i + 4;
                i += 3;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&pattern[start..]);
    parts
}

#[cfg(test)]
mod tests;
