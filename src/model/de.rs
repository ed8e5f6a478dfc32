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
    text.parse::<Timestamp>()
        .ok()
        .or_else(|| {
            // No zone (`2023-09-20T04:05:03`, `2025-01-15 09:30:20.123`): UTC.
            format!("{text}Z").parse::<Timestamp>().ok()
        })
        .or_else(|| parse_localised(text))
}

/// A date alone (`2026-11-30`) as its midnight, UTC.
pub fn utc_midnight(text: &str) -> Option<Timestamp> {
    let date: jiff::civil::Date = text.trim().parse().ok()?;
    Some(date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp())
}

/// Any time `parse_time` reads, rewritten as Graph writes it.
pub fn iso_from(text: &str) -> Option<String> {
    parse_time(text).map(iso_time)
}

/// A time in RFC 3339 UTC with its fraction of a second, as Graph writes
/// `createdDateTime`.
pub fn iso_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

/// The localised forms exports write times in: `10/2/2026, 3:52:10.114 AM`
/// (month first when there is an AM/PM, as the US locale writes it),
/// `2/10/2026 15:52:10` (day first without one, unless the second number
/// cannot be a month), `2.10.2026 15:52:10` (day first). The order is
/// decided per value: a file whose rows mix locales is not told apart.
/// Two-digit years are refused rather than guessed.
fn parse_localised(text: &str) -> Option<Timestamp> {
    // Some locales put a no-break space before AM/PM.
    let text = text.replace(['\u{a0}', '\u{202f}'], " ");
    let (date, rest) = text.split_once([' ', ','])?;
    let rest = rest.trim_start_matches([',', ' ']);
    let (clock, meridiem) = match rest.rsplit_once(' ') {
        Some((clock, m)) if m.eq_ignore_ascii_case("AM") || m.eq_ignore_ascii_case("PM") => {
            (clock.trim(), Some(m.eq_ignore_ascii_case("PM")))
        }
        _ => (rest.trim(), None),
    };
    let dotted = date.contains('.');
    let parts: Vec<u32> = date
        .split(['/', '.', '-'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, year] = parts[..] else { return None };
    if year < 1000 {
        return None;
    }
    let (month, day) = if dotted {
        (b, a)
    } else if meridiem.is_some() {
        if a > 12 { (b, a) } else { (a, b) }
    } else if b > 12 {
        (a, b)
    } else {
        (b, a)
    };
    let mut pieces = clock.split(':');
    let mut hour: u32 = pieces.next()?.parse().ok()?;
    let minute: u32 = pieces.next()?.parse().ok()?;
    let seconds = pieces.next().unwrap_or("0");
    let (second, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let second: u32 = second.parse().ok()?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match meridiem {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let fraction = if fraction.is_empty() {
        String::new()
    } else {
        format!(".{fraction}")
    };
    let iso = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z");
    iso.parse().ok()
}

/// A time as Graph writes it in lists and filters: UTC, to the second
/// (`2026-11-25T12:04:15Z`).
pub fn graph_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Seconds since the epoch as Graph writes times (empty when out of range).
pub fn graph_time_secs(t: i64) -> String {
    Timestamp::from_second(t)
        .map(graph_time)
        .unwrap_or_default()
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
