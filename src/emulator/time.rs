//! Time in the emulated tenant: milliseconds since the Unix epoch, written
//! the way Graph writes `DateTimeOffset` values.

use jiff::Timestamp;

pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// `2026-11-25T12:04:15Z`: UTC, second precision, as Graph lists show.
pub fn iso(ms: i64) -> String {
    crate::model::de::graph_time(Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// Parses an OData `DateTimeOffset` literal (`2026-11-25T12:04:15Z`, with
/// or without fractional seconds or an offset).
pub fn parse(text: &str) -> Option<i64> {
    text.parse::<Timestamp>().ok().map(|t| t.as_millisecond())
}

pub fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}
