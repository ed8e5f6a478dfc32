//! Durations as people write them on the command line and in rules.

/// `7d`, `12h`, `30m` → seconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = number
        .parse()
        .map_err(|_| format!("\"{text}\": write a number and a unit, e.g. 7d, 12h or 30m"))?;
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("\"{text}\": the unit must be d, h, m or s")),
    };
    n.checked_mul(seconds)
        .ok_or_else(|| format!("\"{text}\" is too long ago"))
}

/// A span in the largest whole unit that fits: "30 days", "12 hours",
/// "90 minutes" (for sentences about history windows).
pub fn describe(span: jiff::SignedDuration) -> String {
    let secs = span.as_secs().max(0) as u64;
    let (n, unit) = if secs >= 86_400 && secs.is_multiple_of(86_400) {
        (secs / 86_400, "day")
    } else if secs >= 3_600 && secs.is_multiple_of(3_600) {
        (secs / 3_600, "hour")
    } else if secs >= 60 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    super::counted(n, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_words() {
        assert_eq!(describe(jiff::SignedDuration::from_hours(24)), "1 day");
        assert_eq!(describe(jiff::SignedDuration::from_hours(36)), "36 hours");
        assert_eq!(
            describe(jiff::SignedDuration::from_secs(5_400)),
            "90 minutes"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert!(parse_duration("7 weeks").is_err());
    }
}
