//! Deciding, before values are built, whether anything could read a
//! record: building a record's values costs several times what finding a
//! text in it does, and most records of a large export are read by
//! nothing (a tenant's refresh-token sign-ins, mostly).
//!
//! Graph-shaped records are judged by the raw JSON of the fields the
//! readers look at (`high` is looked for in `riskLevelDuringSignIn`, not
//! in a whole sign-in, whose GUIDs and user agents hold anything). Records
//! of other shapes are judged by their whole text, by the texts of the
//! readers of the kinds their keys tell.

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use super::lazy::Skimmed;
use super::rule::Ready;
use super::{Extra, Kind};

/// What something beside the rules reads: records of a kind holding a
/// text in a top-level field (`""`: anywhere in the record).
pub type Reads = &'static [(Kind, &'static str, &'static str)];

/// What the joins and baselines read, beside the rules.
const JOINED: [Reads; 8] = [
    super::joins::READS,
    super::travel::READS,
    super::baseline::READS,
    super::forged::READS,
    super::acl::READS,
    super::krbtgt::READS,
    super::adfs_sync::READS,
    super::hosts::READS,
];

/// The top-level fields the joins and baselines look for their texts in.
pub fn joined_fields() -> impl Iterator<Item = &'static str> {
    JOINED
        .iter()
        .flat_map(|reads| reads.iter())
        .map(|(_, field, _)| *field)
        .filter(|f| !f.is_empty())
}

/// The kinds, in `event::classify`'s order of precedence.
const KINDS: [Kind; 6] = [
    Kind::Directory,
    Kind::WindowsEvent,
    Kind::Audit,
    Kind::Risk,
    Kind::MailAudit,
    Kind::SignIn,
];

/// Keys that tell a record's kind in its raw text (a record may hold the
/// keys of several: Graph's audit log records have `createdDateTime` too).
const KIND_KEYS: [(&str, Kind); 8] = [
    ("\"@warroom.source\"", Kind::Directory),
    ("\"EventID\"", Kind::WindowsEvent),
    ("\"activityDisplayName\"", Kind::Audit),
    ("\"riskEventType\"", Kind::Risk),
    ("\"riskType\"", Kind::Risk),
    ("\"auditLogRecordType\"", Kind::MailAudit),
    ("\"auditData\"", Kind::MailAudit),
    ("\"createdDateTime\"", Kind::SignIn),
];

fn slot(kind: Kind) -> usize {
    KINDS
        .iter()
        .position(|k| *k == kind)
        .expect("every kind is listed")
}

/// Sign-ins whose event types are not a list (Graph v1.0 has none) are
/// told service principal or not by fields no text shows (see
/// `baseline::service_principal_fact`): they are always read.
fn types_unlisted(raw: Option<&str>) -> bool {
    raw.is_none_or(|types| !types.starts_with('['))
}

/// Texts to look for, ignoring case; `None` when some reader has none
/// (then every record is read).
type Texts = Option<AhoCorasick>;

fn texts(all: Option<Vec<String>>) -> Texts {
    // A DFA: more memory, and the fastest search there is here.
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(all?)
        .ok()
}

/// Texts per field, one automaton per field, fields sorted (for a binary
/// search); `None` when an automaton cannot be built.
fn by_field(found: Vec<(String, Vec<String>)>) -> Option<Vec<(String, AhoCorasick)>> {
    let mut grouped: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (field, t) in found {
        grouped.entry(field).or_default().extend(t);
    }
    grouped
        .into_iter()
        .map(|(field, t)| Some((field, texts(Some(t))?)))
        .collect()
}

pub struct Prefilter {
    /// Per kind (`KINDS` order): texts for a record's whole line.
    lines: Vec<Texts>,
    /// Per kind: per top-level field (sorted), the texts its JSON may
    /// hold; `None` when every record of the kind is read.
    fields: Vec<Option<Vec<(String, AhoCorasick)>>>,
    /// Threat indicators, looked for in the whole line.
    indicators: Indicators,
    keys: Vec<Finder<'static>>,
    event_types: Finder<'static>,
    /// Per kind: texts one of which a record holds if any Sigma rule may
    /// match it.
    sigma: Vec<SigmaGate>,
}

enum SigmaGate {
    /// No Sigma rule can match, or none are loaded.
    Never,
    /// Some rule's detection names no text: every record is offered.
    Always,
    /// Per top-level field, the texts one of which it holds.
    Fields(Vec<(String, AhoCorasick)>),
}

/// Whether a value, or any value or key inside it, holds one of the texts.
fn holds(value: &super::json::Json, texts: &AhoCorasick) -> bool {
    use super::json::Json;
    match value {
        Json::Null => false,
        Json::Bool(b) => texts.is_match(if *b { "true" } else { "false" }),
        Json::Number(n) => texts.is_match(&n.to_string()),
        Json::String(s) => texts.is_match(s.as_ref()),
        Json::Array(items) => items.iter().any(|v| holds(v, texts)),
        Json::Object(map) => map
            .iter()
            .any(|(k, v)| texts.is_match(k) || holds(v, texts)),
    }
}

enum Indicators {
    NoList,
    /// An indicator with no text to find (a network): every record is
    /// read.
    Everything,
    Texts(AhoCorasick),
}

impl Prefilter {
    pub fn new(rules: &[Ready], extra: Extra<'_>) -> Self {
        let indicator_texts: Option<Vec<String>> = match extra.iocs {
            None => Some(Vec::new()),
            Some(list) => list.literals(),
        };
        let indicators = match (&indicator_texts, extra.iocs) {
            (None, _) => Indicators::Everything,
            (Some(_), None) => Indicators::NoList,
            (Some(found), Some(_)) => match texts(Some(found.clone())) {
                Some(ac) => Indicators::Texts(ac),
                None => Indicators::Everything,
            },
        };
        let joined = |kind: Kind| {
            JOINED
                .iter()
                .flat_map(|reads| reads.iter())
                .filter(move |(k, _, _)| *k == kind)
                .map(|(_, field, text)| ((*field).to_owned(), vec![(*text).to_owned()]))
        };
        let per_field = |kind: Kind| -> Option<Vec<(String, Vec<String>)>> {
            let mut all: Vec<(String, Vec<String>)> = Vec::new();
            for rule in rules.iter().filter(|r| r.rule.kind == kind) {
                all.extend(rule.field_literals()?);
            }
            all.extend(joined(kind));
            if let Some(sigma) = extra.sigma {
                all.extend(sigma.texts(kind)?);
            }
            Some(all)
        };
        let lines = KINDS
            .iter()
            .map(|kind| {
                let mut all = indicator_texts.clone()?;
                all.extend(per_field(*kind)?.into_iter().flat_map(|(_, t)| t));
                texts(Some(all))
            })
            .collect();
        let fields = KINDS
            .iter()
            .map(|kind| by_field(per_field(*kind)?))
            .collect();
        let sigma = KINDS
            .iter()
            .map(|kind| match extra.sigma.map(|set| set.texts(*kind)) {
                None => SigmaGate::Never,
                Some(None) => SigmaGate::Always,
                Some(Some(found)) if found.is_empty() => SigmaGate::Never,
                // A keyword rule searches the whole record.
                Some(Some(found)) if found.iter().any(|(field, _)| field.is_empty()) => {
                    SigmaGate::Always
                }
                Some(Some(found)) => by_field(found).map_or(SigmaGate::Always, SigmaGate::Fields),
            })
            .collect();
        Self {
            sigma,
            lines,
            fields,
            indicators,
            keys: KIND_KEYS.iter().map(|(key, _)| Finder::new(key)).collect(),
            event_types: Finder::new(b"\"signInEventTypes\""),
        }
    }

    /// The kinds whose keys the text holds, as bits in `KINDS` order.
    fn kinds(&self, line: &[u8]) -> u8 {
        self.keys
            .iter()
            .zip(KIND_KEYS)
            .filter(|(key, _)| key.find(line).is_some())
            .fold(0, |bits, (_, (_, kind))| bits | (1 << slot(kind)))
    }

    /// Whether anything could read the record on this line, by its whole
    /// text. A record whose kind its keys do not tell (another shape) is
    /// always read. `Err(kind)`: nothing reads it; count it as `kind`.
    pub fn line(&self, line: &[u8]) -> Result<(), Kind> {
        let bits = self.kinds(line);
        let Some(first) = (0..KINDS.len()).find(|i| bits & (1 << i) != 0) else {
            return Ok(());
        };
        // Raw text cannot tell a list from other values here: a sign-in
        // with no event types key at all is read.
        if bits & (1 << slot(Kind::SignIn)) != 0 && self.event_types.find(line).is_none() {
            return Ok(());
        }
        let wanted = (0..KINDS.len()).any(|i| {
            bits & (1 << i) != 0 && self.lines[i].as_ref().is_none_or(|ac| ac.is_match(line))
        });
        if wanted { Ok(()) } else { Err(KINDS[first]) }
    }

    /// Whether some Sigma rule may match an event, by the texts of the
    /// fields the rules read (in Graph's shape, whatever the export).
    pub fn sigma_may_match(&self, event: &super::Event) -> bool {
        match &self.sigma[slot(event.kind)] {
            SigmaGate::Never => false,
            SigmaGate::Always => true,
            SigmaGate::Fields(fields) => fields
                .iter()
                .any(|(field, texts)| event.value.get(field).is_some_and(|v| holds(v, texts))),
        }
    }

    /// Whether anything could read a Graph-shaped record of `kind`, by
    /// the raw JSON of its fields (`line`: the record's whole text).
    pub fn record(&self, kind: Kind, record: &Skimmed<'_>, line: &[u8]) -> bool {
        if kind == Kind::SignIn && types_unlisted(record.raw("signInEventTypes")) {
            return true;
        }
        match &self.indicators {
            Indicators::NoList => {}
            Indicators::Everything => return true,
            Indicators::Texts(ac) if ac.is_match(line) => return true,
            Indicators::Texts(_) => {}
        }
        let Some(fields) = &self.fields[slot(kind)] else {
            return true;
        };
        let anywhere = fields
            .iter()
            .find(|(field, _)| field.is_empty())
            .is_some_and(|(_, ac)| ac.is_match(line));
        anywhere
            || record.fields().any(|(key, raw)| {
                fields
                    .binary_search_by(|(field, _)| field.as_str().cmp(key))
                    .is_ok_and(|at| fields[at].1.is_match(raw))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefilter() -> Prefilter {
        Prefilter::new(
            &super::super::rule::built_in().expect("rules load"),
            Extra::default(),
        )
    }

    fn judged(line: &str) -> bool {
        let p = prefilter();
        let needed = super::super::lazy::Needed::everything();
        let record = super::super::lazy::skim(line, &needed).expect("JSON");
        let kind = super::super::event::classify_keys(|k| record.has(k)).expect("a kind");
        p.record(kind, &record, line.as_bytes())
    }

    #[test]
    fn a_sign_in_nothing_reads_is_passed_over_whatever_its_other_fields_hold() {
        // Rules' texts (a risk level, a legacy protocol, an error code) in
        // a field no rule reads them from.
        let line = r#"{"id":"1","createdDateTime":"2026-12-01T00:00:00Z","status":{"errorCode":0},"tokenIssuerType":"AzureAD","signInEventTypes":["nonInteractiveUser"],"userAgent":"high SMTP 50126","authenticationDetails":[{"authenticationStepResultDetail":"MFA successfully completed"}]}"#;
        assert!(!judged(line));
    }

    #[test]
    fn each_reader_s_text_in_its_own_field_gets_a_sign_in_read() {
        let base = r#"{"id":"1","createdDateTime":"2026-12-01T00:00:00Z","appId":"a","signInEventTypes":["nonInteractiveUser"],"#;
        for field in [
            r#""riskLevelDuringSignIn":"high""#,
            r#""status":{"errorCode":50126}"#,
            r#""tokenIssuerType":"ADFederationServices""#,
            r#""authenticationDetails":[{"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token"}]"#,
            // A refresh token's claim: the user's everyday networks.
            r#""authenticationDetails":[{"authenticationStepResultDetail":"First factor requirement satisfied by claim in the token"}]"#,
            r#""clientAppUsed":"IMAP4""#,
        ] {
            assert!(judged(&format!("{base}{field}}}")), "{field}");
        }
        let service = r#"{"id":"1","createdDateTime":"2026-12-01T00:00:00Z","signInEventTypes":["servicePrincipal"],"status":{"errorCode":0}}"#;
        assert!(judged(service));
        // Graph v1.0: no event types, so no telling without parsing.
        let v1 = r#"{"id":"1","createdDateTime":"2026-12-01T00:00:00Z","servicePrincipalId":"x","status":{"errorCode":0}}"#;
        assert!(judged(v1));
        let unlisted = r#"{"id":"1","createdDateTime":"2026-12-01T00:00:00Z","signInEventTypes":null,"servicePrincipalId":"x","status":{"errorCode":0}}"#;
        assert!(judged(unlisted));
    }

    #[test]
    fn an_event_id_in_a_sign_in_is_no_reason_to_read_it() {
        let p = prefilter();
        // 4662 is a Windows rule's event id; here it is part of a GUID.
        let signin = br#"{"id":"4662","createdDateTime":"x","status":{"errorCode":0},"signInEventTypes":["nonInteractiveUser"]}"#;
        assert_eq!(p.line(signin), Err(Kind::SignIn));
        let event = br#"{"EventID":4662,"TimeCreated":"x","Channel":"Security","Properties":"1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"}"#;
        assert_eq!(p.line(event), Ok(()));
        // A Graph v1.0 sign-in (no event types) is read whatever it holds.
        let v1 = br#"{"id":"1","createdDateTime":"x","servicePrincipalId":"s","status":{"errorCode":0}}"#;
        assert_eq!(p.line(v1), Ok(()));
        // A shape whose keys say no kind is read.
        assert_eq!(p.line(br#"{"TimeGenerated":"x"}"#), Ok(()));
    }
}
