//! What a Sigma rule reads, worked out from its detection before any
//! record is seen, so a scan need not read every record whole for it:
//!
//! - the top-level fields it may look at (the lazy parse builds only
//!   those);
//! - texts one of which any record it matches must hold (the prefilter
//!   passes over records holding none).
//!
//! Both are necessary conditions only: when a rule's detection cannot be
//! reduced to them (a negation on its own, a regular expression, an
//! encoding modifier, a computed field), the answer is "anything", and
//! every record of the rule's kind is read. Texts are searched in raw
//! JSON, ignoring ASCII case, as Sigma matches by default; only runs of
//! characters no JSON writer escapes are used.

use std::collections::{BTreeMap, BTreeSet};

use rsigma_parser::ast::{ConditionExpr, Detection, DetectionItem, Quantifier, SelectorPattern};
use rsigma_parser::value::{SigmaValue, StringPart};
use rsigma_parser::{Modifier, SigmaRule};

use super::Service;
use super::view::FieldMap;

/// Per top-level field (`""`: anywhere in the record), texts one of which
/// a matching record holds.
pub type Texts = Vec<(String, Vec<String>)>;

/// Shortest text worth looking for: shorter ones are in most records.
const MIN_TEXT: usize = 3;

/// Characters that stand in raw JSON as they are in the value, whatever
/// wrote it (PowerShell escapes `<>&'` as `\u003c`…; quotes and
/// backslashes are escaped by all; non-ASCII may be).
fn plain_char(c: char) -> bool {
    c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\\' | '<' | '>' | '&' | '\'')
}

/// The longest run of plain characters in a text, if long enough.
fn longest_run(text: &str) -> Option<String> {
    text.split(|c: char| !plain_char(c))
        .max_by_key(|run| run.len())
        .filter(|run| run.len() >= MIN_TEXT)
        .map(str::to_owned)
}

/// A text every value matching `value` holds, if there is one.
fn value_text(value: &SigmaValue) -> Option<String> {
    match value {
        SigmaValue::String(s) => s
            .parts
            .iter()
            .filter_map(|p| match p {
                StringPart::Plain(text) => longest_run(text),
                StringPart::Special(_) => None,
            })
            .max_by_key(String::len),
        SigmaValue::Integer(n) => Some(n.to_string()).filter(|t| t.len() >= MIN_TEXT),
        SigmaValue::Float(_) | SigmaValue::Bool(_) | SigmaValue::Null => None,
    }
}

/// Modifiers under which the value's text stands in the record as written.
fn literal_modifiers(item: &DetectionItem) -> bool {
    item.field.modifiers.iter().all(|m| {
        matches!(
            m,
            Modifier::Contains
                | Modifier::StartsWith
                | Modifier::EndsWith
                | Modifier::All
                | Modifier::Cased
        )
    })
}

/// `name`, and the same with its first letter in the other case: rules
/// name fields as Log Analytics does, records as Graph does.
fn spellings(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let mut chars = name.chars();
    if let Some(first) = chars.next() {
        let rest = chars.as_str();
        out.push(format!("{}{rest}", first.to_ascii_lowercase()));
        out.push(format!("{}{rest}", first.to_ascii_uppercase()));
    }
    out.sort();
    out.dedup();
    out
}

/// The paths a Sigma field name is read from (the field map's, or the
/// name as written, which may hold dots itself:
/// `ConsentContext.IsAdminConsent`).
fn paths(service: Service, name: &str) -> Vec<String> {
    match FieldMap::shared().paths(service, name) {
        Some(paths) => paths.to_vec(),
        None if name.contains('.') => vec![name.to_owned(), format!("@key:{name}")],
        None => vec![name.to_owned()],
    }
}

/// The top-level fields a path is read from: its first segment (or, for
/// `@key:`, the whole name as one key); for a value made from the record,
/// the fields it is made from.
fn top_fields(path: &str) -> Vec<String> {
    match path {
        "@outcome" => spellings("status"),
        "@protocol" => super::view::PROTOCOL_FIELDS
            .iter()
            .flat_map(|f| spellings(f))
            .collect(),
        _ => match path.strip_prefix("@key:") {
            Some(key) => spellings(key),
            None => spellings(path.split('.').next().unwrap_or(path)),
        },
    }
}

/// Every top-level field a rule may read; `None`: any (a keyword search).
pub fn fields(rule: &SigmaRule, service: Service) -> Option<BTreeSet<String>> {
    fn walk(d: &Detection, service: Service, out: &mut BTreeSet<String>) -> Option<()> {
        match d {
            Detection::AllOf(items) => {
                for item in items {
                    let name = item.field.name.as_deref()?;
                    for path in paths(service, name) {
                        out.extend(top_fields(&path));
                    }
                }
                Some(())
            }
            Detection::AnyOf(all) => all.iter().try_for_each(|d| walk(d, service, out)),
            _ => None,
        }
    }
    let mut out = BTreeSet::new();
    for d in rule.detection.named.values() {
        walk(d, service, &mut out)?;
    }
    Some(out)
}

/// Texts one of which every record the rule matches holds; `None` when
/// the detection does not say.
pub fn texts(rule: &SigmaRule, service: Service) -> Option<Texts> {
    let named = &rule.detection.named;
    // A rule with several conditions matches when any does.
    let mut all = Vec::new();
    for condition in &rule.detection.conditions {
        all.extend(condition_texts(condition, named, service)?);
    }
    (!all.is_empty()).then_some(all)
}

fn condition_texts(
    c: &ConditionExpr,
    named: &std::collections::HashMap<String, Detection>,
    service: Service,
) -> Option<Texts> {
    match c {
        ConditionExpr::Identifier(name) => detection_texts(named.get(name)?, service),
        // Every part must hold: the part with the fewest texts says most.
        ConditionExpr::And(parts) => parts
            .iter()
            .filter_map(|p| condition_texts(p, named, service))
            .min_by_key(count),
        // Any part may hold: each must say, and all their texts count.
        ConditionExpr::Or(parts) => union(parts.iter().map(|p| condition_texts(p, named, service))),
        ConditionExpr::Not(_) => None,
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let chosen: Vec<&Detection> = named
                .iter()
                .filter(|(name, _)| selects(pattern, name))
                .map(|(_, d)| d)
                .collect();
            if chosen.is_empty() {
                return None;
            }
            let each = chosen.iter().map(|d| detection_texts(d, service));
            match quantifier {
                Quantifier::All => each.flatten().min_by_key(count),
                Quantifier::Any | Quantifier::Count(_) => union(each),
            }
        }
    }
}

fn selects(pattern: &SelectorPattern, name: &str) -> bool {
    match pattern {
        SelectorPattern::Them => !name.starts_with('_'),
        SelectorPattern::Pattern(p) => match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        },
    }
}

/// Values most records of their kind hold (Graph's everyday enum values):
/// of a rule's required parts, one naming only these says little.
const COMMON: [&str; 10] = [
    "singlefactorauthentication",
    "multifactorauthentication",
    "success",
    "failure",
    "notapplied",
    "false",
    "true",
    "none",
    "browser",
    "mobile apps and desktop clients",
];

/// How many records the texts would let through, roughly: of an `and`,
/// the part with the least is the one to look for.
fn count(texts: &Texts) -> usize {
    texts
        .iter()
        .flat_map(|(_, t)| t)
        .map(|t| {
            if COMMON.contains(&t.to_ascii_lowercase().as_str()) {
                100
            } else {
                1
            }
        })
        .sum()
}

/// All the alternatives' texts, if every alternative has some.
fn union(parts: impl Iterator<Item = Option<Texts>>) -> Option<Texts> {
    let mut out = Vec::new();
    for part in parts {
        out.extend(part?);
    }
    Some(out)
}

fn detection_texts(d: &Detection, service: Service) -> Option<Texts> {
    match d {
        Detection::AllOf(items) => items
            .iter()
            .filter_map(|item| item_texts(item, service))
            .min_by_key(count),
        Detection::AnyOf(all) => union(all.iter().map(|d| detection_texts(d, service))),
        Detection::Keywords(values) => {
            let texts: Option<Vec<String>> = values.iter().map(value_text).collect();
            Some(vec![(String::new(), texts?)])
        }
        _ => None,
    }
}

/// The texts of one field's values (any one of which matches), under
/// each top-level field the field is read from.
fn item_texts(item: &DetectionItem, service: Service) -> Option<Texts> {
    if !literal_modifiers(item) || item.values.is_empty() {
        return None;
    }
    let values: Vec<String> = item.values.iter().map(value_text).collect::<Option<_>>()?;
    let Some(name) = &item.field.name else {
        return Some(vec![(String::new(), values)]);
    };
    let mut by_field: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for path in paths(service, name) {
        let texts: Vec<String> = match path.as_str() {
            // Made: "Success" or "Failure". A value neither could hold
            // cannot match it; one that could, no raw text tells.
            "@outcome" => {
                let could = |v: &String| {
                    let v = v.to_ascii_lowercase();
                    "success".contains(&v) || "failure".contains(&v)
                };
                if values.iter().any(could) {
                    return None;
                }
                continue;
            }
            // Made from Graph's protocol names; the raw name is offered too.
            "@protocol" => {
                let mut texts = values.clone();
                for v in &values {
                    let v = v.to_ascii_lowercase();
                    texts.extend(
                        super::view::PROTOCOLS
                            .iter()
                            .filter(|(_, shown)| shown.to_ascii_lowercase().contains(&v))
                            .map(|(graph, _)| (*graph).to_owned()),
                    );
                }
                texts
            }
            _ => values.clone(),
        };
        for field in top_fields(&path) {
            by_field
                .entry(field)
                .or_default()
                .extend(texts.iter().cloned());
        }
    }
    if by_field.is_empty() {
        return None;
    }
    for texts in by_field.values_mut() {
        texts.sort();
        texts.dedup();
    }
    Some(by_field.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> SigmaRule {
        let mut c = rsigma_parser::parse_sigma_yaml(yaml).unwrap();
        c.rules.remove(0)
    }

    const HEAD: &str = "title: t\nlogsource:\n  product: azure\n  service: signinlogs\n";

    fn texts_of(detection: &str) -> Option<Texts> {
        texts(&rule(&format!("{HEAD}{detection}")), Service::SignIns)
    }

    #[test]
    fn the_narrowest_selection_and_every_alternative_are_taken() {
        let t = texts_of(
            "detection:\n  selection:\n    userAgent|contains: 'azurehound'\n    ResultType: 0\n  condition: selection\n",
        )
        .unwrap();
        assert!(t.iter().all(|(_, v)| v == &["azurehound"]), "{t:?}");
        assert!(t.iter().any(|(f, _)| f == "userAgent"), "{t:?}");
        let t = texts_of(
            "detection:\n  a:\n    ResultType: 50097\n  b:\n    ResultType: 50155\n  condition: 1 of a or b\n",
        )
        .unwrap();
        let all: BTreeSet<&String> = t.iter().flat_map(|(_, v)| v).collect();
        assert_eq!(all.len(), 2, "{t:?}");
        // The error code is read from `status`.
        assert!(
            t.iter().all(|(f, _)| f.eq_ignore_ascii_case("status")),
            "{t:?}"
        );
    }

    #[test]
    fn what_no_text_can_tell_reads_everything() {
        // Only a negation; a computed field; a regular expression.
        assert!(texts_of("detection:\n  f:\n    ResultType: 0\n  condition: not f\n").is_none());
        assert!(texts_of("detection:\n  s:\n    Status: 'Success'\n  condition: s\n").is_none());
        // A text "Success"/"Failure" could not hold is looked for where else
        // the field is read from.
        let t = texts_of("detection:\n  s:\n    Status|contains: 'MFA Denied'\n  condition: s\n")
            .unwrap();
        assert!(
            t.iter()
                .all(|(f, v)| f.eq_ignore_ascii_case("status") && v == &["MFA Denied"]),
            "{t:?}"
        );
        // The portal's protocol names are looked for as Graph writes them.
        let t = texts_of("detection:\n  s:\n    properties.message: Device Code\n  condition: s\n")
            .unwrap();
        assert!(t.iter().any(|(f, v)| f == "authenticationProtocol" && v.contains(&"deviceCode".to_owned())), "{t:?}");
        assert!(texts_of("detection:\n  s:\n    userAgent|re: 'a.*b'\n  condition: s\n").is_none());
        // Wildcards and backslashes leave the plain run between them.
        let t =
            texts_of("detection:\n  s:\n    userAgent: '*python-requests\\\\x*'\n  condition: s\n")
                .unwrap();
        assert!(t.iter().all(|(_, v)| v == &["python-requests"]), "{t:?}");
    }

    #[test]
    fn fields_read_follow_the_field_map() {
        let r = rule(&format!(
            "{HEAD}detection:\n  s:\n    Status: 'Success'\n    DeviceDetail.trusttype: ''\n  condition: s\n"
        ));
        let f = fields(&r, Service::SignIns).unwrap();
        assert!(f.contains("status") && f.contains("deviceDetail"), "{f:?}");
        let k = rule(&format!(
            "{HEAD}detection:\n  k:\n    - 'evil'\n  condition: k\n"
        ));
        assert!(fields(&k, Service::SignIns).is_none());
    }
}
