//! An event built from a rule's own values, written where warroom keeps
//! each field (the field map read backwards), so a test can prove every
//! rule matches what it describes once it has gone through warroom's
//! model. Wildcards become a letter; `contains|all` values are joined.

use rsigma_parser::ast::{ConditionExpr, Detection, Modifier, Quantifier, SelectorPattern};
use rsigma_parser::value::{SigmaValue, SpecialChar, StringPart};
use serde_json::{Map, Value, json};

use super::view::FieldMap;
use super::{RuleInfo, Service};

/// The record, in Graph's shape, that `rule` should match.
pub fn example(rule: &RuleInfo) -> Result<Value, String> {
    let detections = &rule.rule.detection;
    let condition = detections
        .conditions
        .first()
        .ok_or("the rule has no condition")?;
    let mut names: Vec<String> = Vec::new();
    wanted(condition, &detections.named, &mut names);
    if names.is_empty() {
        return Err("the condition asks for no selection".into());
    }
    let mut fields: Vec<(String, Value)> = Vec::new();
    for name in &names {
        let detection = detections
            .named
            .get(name)
            .ok_or_else(|| format!("the condition names {name}, which the rule lacks"))?;
        fill(detection, &mut fields)?;
    }
    // Two selections on one field (`contains 'domain'`, `contains 'add'`)
    // are met by one value holding both.
    let mut merged: Vec<(String, Value)> = Vec::new();
    for (field, value) in fields {
        match merged.iter_mut().find(|(f, _)| *f == field) {
            Some((_, Value::String(old))) if value.is_string() => {
                old.push(' ');
                old.push_str(value.as_str().unwrap_or(""));
            }
            _ => merged.push((field, value)),
        }
    }
    let mut event = Value::Object(Map::new());
    for (field, value) in merged {
        place(rule.service, &field, value, &mut event)?;
    }
    mark(rule.service, &mut event);
    Ok(event)
}

/// The selections a condition needs to be true.
fn wanted(
    expr: &ConditionExpr,
    named: &std::collections::HashMap<String, Detection>,
    out: &mut Vec<String>,
) {
    match expr {
        ConditionExpr::And(parts) => parts.iter().for_each(|p| wanted(p, named, out)),
        ConditionExpr::Or(parts) => {
            if let Some(first) = parts.first() {
                wanted(first, named, out);
            }
        }
        ConditionExpr::Not(_) => {}
        ConditionExpr::Identifier(name) => out.push(name.clone()),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut matching: Vec<&String> = named
                .keys()
                .filter(|k| match pattern {
                    SelectorPattern::Them => true,
                    SelectorPattern::Pattern(p) => glob(p, k),
                })
                .collect();
            matching.sort();
            let take = match quantifier {
                Quantifier::All => matching.len(),
                Quantifier::Any => 1,
                Quantifier::Count(n) => *n as usize,
            };
            out.extend(matching.into_iter().take(take).cloned());
        }
    }
}

/// `selection_*` against a detection's name.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        }
    }
}

fn fill(detection: &Detection, out: &mut Vec<(String, Value)>) -> Result<(), String> {
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                let field = item
                    .field
                    .name
                    .clone()
                    .ok_or("a field-less value inside a mapping")?;
                let value = if item.field.has_modifier(Modifier::All) {
                    let texts: Vec<String> = item.values.iter().map(text_of).collect();
                    Value::from(texts.join(" "))
                } else {
                    item.values.first().map(json_of).unwrap_or(Value::Null)
                };
                out.push((field, value));
            }
            Ok(())
        }
        Detection::AnyOf(options) => match options.first() {
            Some(first) => fill(first, out),
            None => Err("an empty list of alternatives".into()),
        },
        Detection::Keywords(_) => Err("a keyword rule (no field to place a value in)".into()),
        _ => Err("an array-member block, which these logs do not need".into()),
    }
}

fn text_of(value: &SigmaValue) -> String {
    match value {
        SigmaValue::String(s) => s
            .parts
            .iter()
            .map(|p| match p {
                StringPart::Plain(text) => text.as_str(),
                StringPart::Special(SpecialChar::WildcardMulti | SpecialChar::WildcardSingle) => {
                    "x"
                }
            })
            .collect(),
        SigmaValue::Integer(i) => i.to_string(),
        SigmaValue::Float(f) => f.to_string(),
        SigmaValue::Bool(b) => b.to_string(),
        SigmaValue::Null => String::new(),
    }
}

fn json_of(value: &SigmaValue) -> Value {
    match value {
        SigmaValue::String(_) => Value::from(text_of(value)),
        SigmaValue::Integer(i) => Value::from(*i),
        SigmaValue::Float(f) => Value::from(*f),
        SigmaValue::Bool(b) => Value::from(*b),
        SigmaValue::Null => Value::Null,
    }
}

/// Writes `value` where warroom keeps the Sigma `field`.
fn place(service: Service, field: &str, value: Value, event: &mut Value) -> Result<(), String> {
    let written_as = [field.to_owned()];
    let paths = FieldMap::shared()
        .paths(service, field)
        .unwrap_or(&written_as);
    let text = value.as_str().map(str::to_lowercase);
    // A fragment of Graph's JSON (`"displayName":"UserType",…`) is an
    // object in the record: it goes where objects are kept.
    if let Some(object) = value
        .as_str()
        .and_then(|t| serde_json::from_str::<Value>(&format!("{{{t}}}")).ok())
        && let Some(path) = paths.last()
        && paths.len() > 1
    {
        set(event, path, Value::Array(vec![object]));
        return Ok(());
    }
    for path in paths {
        match path.as_str() {
            "@outcome" => {
                let code = match text.as_deref() {
                    Some("success") => 0,
                    Some("failure") => 50126,
                    _ => continue,
                };
                set(event, "status.errorCode", json!(code));
                return Ok(());
            }
            "@protocol" => {
                let protocol = match text.as_deref() {
                    Some("device code") => "deviceCode",
                    Some("ropc") => "ropc",
                    _ => continue,
                };
                set(event, "authenticationProtocol", json!(protocol));
                return Ok(());
            }
            path => {
                set(event, path, value);
                return Ok(());
            }
        }
    }
    Err(format!(
        "{field}: no place in warroom's records holds {value}"
    ))
}

fn set(event: &mut Value, path: &str, value: Value) {
    let mut at = event;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let map = at.as_object_mut().expect("made an object above");
        if i + 1 == segments.len() {
            map.insert((*segment).to_owned(), value);
            return;
        }
        at = map
            .entry((*segment).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The fields that make warroom read the record as the rule's kind.
fn mark(service: Service, event: &mut Value) {
    let map = event.as_object_mut().expect("events are objects");
    map.insert("id".into(), json!("sigma-example"));
    match service {
        Service::SignIns => {
            map.insert("createdDateTime".into(), json!("2026-11-30T10:00:00Z"));
            map.entry("status").or_insert_with(|| json!({}));
        }
        Service::Audits => {
            map.insert("activityDateTime".into(), json!("2026-11-30T10:00:00Z"));
            map.entry("activityDisplayName")
                .or_insert_with(|| json!("example"));
        }
        Service::RiskDetections => {
            map.insert("detectedDateTime".into(), json!("2026-11-30T10:00:00Z"));
            map.entry("riskEventType")
                .or_insert_with(|| json!("example"));
            map.entry("riskLevel").or_insert_with(|| json!("high"));
        }
        Service::M365Audit => {
            map.insert("createdDateTime".into(), json!("2026-11-30T10:00:00Z"));
            map.entry("operation").or_insert_with(|| json!("example"));
            map.entry("auditData").or_insert_with(|| json!({}));
        }
        Service::Windows(i) => {
            map.insert("TimeCreated".into(), json!("2026-11-30T10:00:00Z"));
            map.insert("Channel".into(), json!(super::WINDOWS[i].1));
            map.entry("EventID").or_insert_with(|| json!(0));
            map.entry("Computer")
                .or_insert_with(|| json!("example.contoso.local"));
        }
    }
}
