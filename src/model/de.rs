//! Lenient readers for what real exports and documentation examples send:
//! numbers as strings, `null` where a string belongs, timestamps with or
//! without a zone or fraction, placeholders like "String (timestamp)".

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A timestamp, or `None` when the value is missing or not a time.
pub fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => parse_time(&s),
        _ => None,
    })
}

/// Graph writes UTC with `Z`; exports sometimes drop the zone.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    text.parse::<Timestamp>().ok().or_else(|| {
        // No zone: read as UTC.
        format!("{text}Z").parse::<Timestamp>().ok()
    })
}

/// A time as Graph writes it in lists and filters: UTC, to the second
/// (`2026-11-25T12:04:15Z`).
pub fn graph_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A number that may arrive as a JSON number or as a numeric string.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A boolean that may arrive as `true`, `"True"` or `"false"`.
pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

/// A list that may be `null`, missing, or a single object.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        Many(Vec<T>),
        // Before `One`: types that read `null` as a value must not make it one.
        Null(()),
        One(T),
    }
    Ok(match OneOrMany::<T>::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::Null(()) => Vec::new(),
        OneOrMany::One(t) => vec![t],
    })
}

/// A nested object that may be `null`: read as its default.
pub fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
