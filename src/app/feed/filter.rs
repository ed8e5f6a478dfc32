//! The feed's filter language: free text and `field:value` terms, all of
//! which must hold; `-` before a term negates it; double quotes keep spaces
//! (`user:"Adele Vance"`).
//!
//! Text terms are judged once per distinct string (the feed interns its
//! strings), so a filter over a million rows costs a few array reads a row.

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};

use super::intern::{Interner, Sym};
use super::row::{Access, Kind, Mfa, Risk, Stored};

/// The fields a term can name, for the error message and completion.
pub const FIELDS: &[(&str, &str)] = &[
    ("user:", "user or service principal (part of the name)"),
    ("app:", "application (part of the name)"),
    ("resource:", "resource signed in to"),
    ("ip:", "address, prefix (10.1.) or CIDR (10.0.0.0/8)"),
    ("country:", "two-letter country or region"),
    ("city:", "city (part of the name)"),
    ("asn:", "autonomous system number"),
    ("client:", "client app or user agent (part)"),
    ("status:", "fail or ok"),
    ("error:", "Entra ID error code, e.g. 50126"),
    ("risk:", "none, low, medium, high, or any (medium and up)"),
    ("mfa:", "claim (satisfied by a token claim), yes, no"),
    ("type:", "user, nonint, sp, mi"),
    ("ca:", "conditional access: pass, fail, none"),
    ("legacy:", "yes or no (legacy protocol)"),
    ("since:", "30m, 2h, 7d, or a time such as 2026-11-25T10:00Z"),
    ("until:", "like since:"),
    (
        "finding:",
        "yes, no, or a finding's id: evidence of findings",
    ),
    ("id:", "the event's id"),
];

/// A parsed filter, ready to judge rows.
#[derive(Clone, Debug)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

#[derive(Clone, Debug)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Clone, Debug)]
enum Test {
    /// Lower-cased text looked for in every text column.
    Anywhere(Needle),
    Text(Column, Needle),
    Country(String),
    Ip(IpTest, SymCache),
    Asn(u32),
    Failed(bool),
    Error(i32),
    Risk(Risk),
    Risky,
    Mfa(&'static [Mfa]),
    Kind(Kind),
    Access(Access),
    Legacy(bool),
    Since(i64),
    Until(i64),
    /// Evidence of any finding (`true`) or of none.
    Evidence(bool),
    EvidenceOf(String),
    Id(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Principal,
    App,
    Resource,
    City,
    Client,
}

/// Lower-cased text and, per symbol, whether it contains it (0 unknown,
/// 1 no, 2 yes).
#[derive(Clone, Debug)]
struct Needle {
    text: String,
    cache: SymCache,
}

#[derive(Clone, Debug, Default)]
struct SymCache(Vec<u8>);

impl SymCache {
    fn get(&mut self, sym: Sym, judge: impl FnOnce() -> bool) -> bool {
        let i = sym as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, 0);
        }
        if self.0[i] == 0 {
            self.0[i] = if judge() { 2 } else { 1 };
        }
        self.0[i] == 2
    }
}

impl Needle {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_lowercase(),
            cache: SymCache::default(),
        }
    }

    fn holds(&mut self, sym: Sym, strings: &Interner) -> bool {
        let text = &self.text;
        self.cache
            .get(sym, || contains_folded(strings.get(sym).as_str(), text))
    }
}

fn contains_folded(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() {
        // No allocation for the usual ASCII name.
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

/// What an `ip:` term accepts.
#[derive(Clone, Debug)]
enum IpTest {
    Network(IpAddr, u8),
    /// Text the address starts with (`10.1.`), lower-cased.
    Prefix(String),
}

impl IpTest {
    fn parse(value: &str) -> Result<Self, String> {
        let bad =
            || format!("ip:{value} is not an address, a prefix (10.1.) or a network (10.0.0.0/8)");
        if let Some((address, bits)) = value.split_once('/') {
            let address: IpAddr = address.parse().map_err(|_| bad())?;
            let bits: u8 = bits.parse().map_err(|_| bad())?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(format!("ip:{value}: a prefix length is at most {max}"));
            }
            return Ok(IpTest::Network(address, bits));
        }
        if let Ok(address) = value.parse::<IpAddr>() {
            let bits = if address.is_ipv4() { 32 } else { 128 };
            return Ok(IpTest::Network(address, bits));
        }
        let plausible = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '.' || c == ':');
        if plausible {
            Ok(IpTest::Prefix(value.to_ascii_lowercase()))
        } else {
            Err(bad())
        }
    }

    fn holds(&self, text: &str) -> bool {
        match self {
            IpTest::Prefix(prefix) => text.to_ascii_lowercase().starts_with(prefix.as_str()),
            IpTest::Network(network, bits) => match text.parse::<IpAddr>() {
                Ok(address) => crate::model::net::contains(*network, *bits, address),
                Err(_) => false,
            },
        }
    }
}

/// What a row is judged against besides itself.
pub struct Context<'a> {
    pub strings: &'a Interner,
    /// The event's id.
    pub id: &'a str,
    /// The ids of the findings this event is evidence for.
    pub evidence_of: &'a [String],
}

impl Filter {
    /// Reads a filter; `now` anchors `since:2h`. The error says which term
    /// is wrong and what it wants.
    pub fn parse(text: &str, now: Timestamp) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in words(text)? {
            let (negated, word) = match word.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest.to_owned()),
                _ => (false, word),
            };
            terms.push(Term {
                negated,
                test: test(&word, now)?,
            });
        }
        Ok(Filter {
            text: text.trim().to_owned(),
            terms,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether it reads which findings an event is evidence for (so a
    /// change of findings must run it again).
    pub fn reads_findings(&self) -> bool {
        self.terms
            .iter()
            .any(|t| matches!(t.test, Test::Evidence(_) | Test::EvidenceOf(_)))
    }

    /// The feed renumbered its strings: what was learnt per symbol goes.
    pub fn forget_symbols(&mut self) {
        for term in &mut self.terms {
            match &mut term.test {
                Test::Anywhere(needle) | Test::Text(_, needle) => {
                    needle.cache = SymCache::default()
                }
                Test::Ip(_, cache) => *cache = SymCache::default(),
                _ => {}
            }
        }
    }

    pub fn matches(&mut self, row: &Stored, cx: &Context<'_>) -> bool {
        self.terms
            .iter_mut()
            .all(|term| term.test.holds(row, cx) != term.negated)
    }
}

impl Test {
    fn holds(&mut self, row: &Stored, cx: &Context<'_>) -> bool {
        let strings = cx.strings;
        match self {
            Test::Anywhere(needle) => {
                [
                    row.principal,
                    row.app,
                    row.resource,
                    row.ip,
                    row.country,
                    row.city,
                    row.client,
                ]
                .into_iter()
                .any(|sym| needle.holds(sym, strings))
                    || contains_folded(cx.id, &needle.text)
            }
            Test::Text(column, needle) => {
                let sym = match column {
                    Column::Principal => row.principal,
                    Column::App => row.app,
                    Column::Resource => row.resource,
                    Column::City => row.city,
                    Column::Client => row.client,
                };
                needle.holds(sym, strings)
            }
            Test::Country(code) => strings.get(row.country).as_str().eq_ignore_ascii_case(code),
            Test::Ip(test, cache) => cache.get(row.ip, || test.holds(strings.get(row.ip).as_str())),
            Test::Asn(asn) => row.asn == *asn,
            Test::Failed(failed) => row.failed() == *failed,
            Test::Error(code) => row.error_code == *code,
            Test::Risk(risk) => row.risk == *risk,
            Test::Risky => row.risky(),
            Test::Mfa(kinds) => kinds.contains(&row.mfa),
            Test::Kind(kind) => row.kind == *kind,
            Test::Access(access) => row.access == *access,
            Test::Legacy(legacy) => row.legacy == *legacy,
            Test::Since(micros) => row.micros >= *micros,
            Test::Until(micros) => row.micros <= *micros,
            Test::Evidence(wanted) => cx.evidence_of.is_empty() != *wanted,
            Test::EvidenceOf(finding) => cx.evidence_of.iter().any(|f| f == finding),
            Test::Id(id) => cx.id == id,
        }
    }
}

/// Splits on spaces outside double quotes; the quotes go.
pub(crate) fn words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err("a double quote is not closed".into());
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

fn test(word: &str, now: Timestamp) -> Result<Test, String> {
    let Some((field, value)) = word.split_once(':') else {
        return Ok(Test::Anywhere(Needle::new(word)));
    };
    // `2001:db8::1` and `cafe::1` are addresses, not fields.
    if field.is_empty()
        || !field.chars().all(|c| c.is_ascii_alphabetic())
        || word.parse::<IpAddr>().is_ok()
    {
        return Ok(Test::Anywhere(Needle::new(word)));
    }
    let field = field.to_ascii_lowercase();
    if value.is_empty() {
        return Err(format!("{field}: wants a value: {}", describe(&field)));
    }
    let lower = value.to_ascii_lowercase();
    let choice = |options: &str| format!("{field}:{value}? it is one of {options}");
    Ok(match field.as_str() {
        "user" | "who" => Test::Text(Column::Principal, Needle::new(value)),
        "app" => Test::Text(Column::App, Needle::new(value)),
        "resource" => Test::Text(Column::Resource, Needle::new(value)),
        "city" => Test::Text(Column::City, Needle::new(value)),
        "client" => Test::Text(Column::Client, Needle::new(value)),
        "country" => Test::Country(value.to_owned()),
        "ip" => Test::Ip(IpTest::parse(value)?, SymCache::default()),
        "asn" => Test::Asn(
            lower
                .trim_start_matches("as")
                .parse()
                .map_err(|_| format!("asn:{value} is not a number such as 64511 or AS64511"))?,
        ),
        "status" => match lower.as_str() {
            "fail" | "failed" | "failure" => Test::Failed(true),
            "ok" | "success" | "succeeded" => Test::Failed(false),
            _ => return Err(choice("fail, ok")),
        },
        "error" => Test::Error(
            value
                .parse()
                .map_err(|_| format!("error:{value} is not an error code such as 50126"))?,
        ),
        "risk" => match lower.as_str() {
            "any" | "risky" => Test::Risky,
            "none" | "low" | "medium" | "high" => Test::Risk(Risk::parse(&lower)),
            _ => return Err(choice("none, low, medium, high, any")),
        },
        "mfa" => match lower.as_str() {
            "claim" => Test::Mfa(&[Mfa::Claim]),
            "yes" | "multi" | "mfa" => Test::Mfa(&[Mfa::MultiFactor, Mfa::Claim]),
            "no" | "single" | "1fa" => Test::Mfa(&[Mfa::SingleFactor]),
            _ => return Err(choice("claim, yes, no")),
        },
        "type" => Test::Kind(Kind::parse(&lower).ok_or_else(|| choice("user, nonint, sp, mi"))?),
        "ca" => match lower.as_str() {
            "pass" | "success" => Test::Access(Access::Success),
            "fail" | "failure" => Test::Access(Access::Failure),
            "none" | "notapplied" => Test::Access(Access::NotApplied),
            _ => return Err(choice("pass, fail, none")),
        },
        "legacy" => match lower.as_str() {
            "yes" | "true" => Test::Legacy(true),
            "no" | "false" => Test::Legacy(false),
            _ => return Err(choice("yes, no")),
        },
        "since" => Test::Since(instant(&field, value, now)?),
        "until" => Test::Until(instant(&field, value, now)? + rest_of(value)),
        "finding" => match lower.as_str() {
            "yes" | "any" => Test::Evidence(true),
            "no" | "none" => Test::Evidence(false),
            _ => Test::EvidenceOf(value.to_owned()),
        },
        "id" => Test::Id(value.to_owned()),
        _ => {
            let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
            return Err(format!(
                "no field {field}: (the fields are {})",
                known.join(" ")
            ));
        }
    })
}

fn describe(field: &str) -> &'static str {
    FIELDS
        .iter()
        .find(|(f, _)| f.trim_end_matches(':') == field)
        .map_or("", |(_, what)| what)
}

/// `until:` includes the whole of the last unit written: the rest of the
/// minute for `10:00`, of the day for a date alone (in microseconds).
fn rest_of(value: &str) -> i64 {
    let time = value
        .split_once('T')
        .or_else(|| value.split_once(' '))
        .map(|(_, t)| t.trim_end_matches('Z'));
    match time {
        None if value.len() == 10 && value.as_bytes().get(4) == Some(&b'-') => 86_400_000_000 - 1,
        Some(t) if t.matches(':').count() == 1 => 60_000_000 - 1,
        _ => 0,
    }
}

/// `30m`, `2h`, `7d` before `now`, or an absolute time.
fn instant(field: &str, value: &str, now: Timestamp) -> Result<i64, String> {
    let bad =
        || format!("{field}:{value} is not a duration (30m, 2h, 7d) or a time (2026-11-25T10:00Z)");
    let units = [
        ("s", 1),
        ("m", 60),
        ("h", 3600),
        ("d", 86_400),
        ("w", 604_800),
    ];
    for (unit, seconds) in units {
        if let Some(number) = value.strip_suffix(unit)
            && let Ok(n) = number.parse::<u32>()
        {
            let n = i64::from(n);
            let ago = SignedDuration::from_secs(n.saturating_mul(seconds));
            let at = now.checked_sub(ago).map_err(|_| bad())?;
            return Ok(at.as_microsecond());
        }
    }
    // A date alone is its midnight, UTC.
    if let Some(midnight) = crate::model::de::utc_midnight(value) {
        return Ok(midnight.as_microsecond());
    }
    let at = crate::model::de::parse_time(value).ok_or_else(bad)?;
    Ok(at.as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::feed::row::SignInRow;
    use crate::model::SafeText;

    fn now() -> Timestamp {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    fn stored(row: SignInRow, strings: &mut Interner) -> Stored {
        Stored::new(&row, 0, strings)
    }

    fn judge(filter: &str, row: SignInRow) -> bool {
        let mut strings = Interner::default();
        let id = row.id.to_string();
        let row = stored(row, &mut strings);
        let cx = Context {
            strings: &strings,
            id: &id,
            evidence_of: &[],
        };
        Filter::parse(filter, now()).unwrap().matches(&row, &cx)
    }

    fn adele() -> SignInRow {
        SignInRow {
            id: SafeText::new("0b1c"),
            time: "2026-11-25T11:00:00Z".parse().unwrap(),
            principal: SafeText::new("Adele.Vance@contoso.com"),
            app: SafeText::new("Office 365 Exchange Online"),
            ip: SafeText::new("185.220.101.7"),
            country: SafeText::new("NL"),
            asn: 64511,
            error_code: 50126,
            risk: Risk::High,
            mfa: Mfa::Claim,
            kind: Kind::Interactive,
            ..Default::default()
        }
    }

    #[test]
    fn fields_free_text_and_negation() {
        assert!(judge("adele", adele()));
        assert!(judge("user:ADELE app:exchange", adele()));
        assert!(!judge("-user:adele", adele()));
        assert!(judge("status:fail error:50126 risk:high risk:any", adele()));
        assert!(judge(
            "mfa:claim mfa:yes type:user country:nl asn:AS64511",
            adele()
        ));
        assert!(!judge("type:sp", adele()));
        assert!(judge(
            "since:2h -since:30m until:2026-11-25T11:30Z",
            adele()
        ));
        // The minute written is included whole, the day too.
        assert!(judge("until:2026-11-25T11:00Z", adele()));
        assert!(judge("until:2026-11-25", adele()));
        assert!(!judge("until:2026-11-24", adele()));
        assert!(!judge("until:2026-11-25T10:59Z", adele()));
        assert!(judge("0b1c id:0b1c finding:no", adele()));
        assert!(judge("user:\"adele.vance@contoso\"", adele()));
    }

    #[test]
    fn addresses_match_by_network_prefix_or_exactly() {
        assert!(judge("ip:185.220.0.0/16", adele()));
        assert!(judge("ip:185.220.", adele()));
        assert!(judge("ip:185.220.101.7", adele()));
        assert!(!judge("ip:10.0.0.0/8", adele()));
        let v6 = SignInRow {
            ip: SafeText::new("2001:db8::7"),
            ..adele()
        };
        assert!(judge("ip:2001:db8::/32", v6.clone()));
        assert!(judge("2001:db8::7", v6.clone()));
        assert!(!judge("ip:2001:db9::/32", v6));
    }

    #[test]
    fn a_bad_term_says_what_it_wants() {
        let err = |text| Filter::parse(text, now()).unwrap_err();
        assert!(err("colour:red").contains("no field colour:"));
        assert!(err("status:maybe").contains("fail, ok"));
        assert!(err("error:abc").contains("50126"));
        assert!(err("ip:nowhere").contains("10.0.0.0/8"));
        assert!(err("ip:10.0.0.0/40").contains("at most 32"));
        assert!(err("since:yesterday").contains("30m"));
        assert!(err("user:").contains("wants a value"));
        assert!(err("user:\"adele").contains("quote"));
        assert!(err("since:-2h").contains("30m"));
        // An address that starts with letters is free text, not a field.
        assert!(Filter::parse("cafe::1", now()).is_ok());
    }
}
