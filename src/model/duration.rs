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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("90m"), Ok(5_400));
        assert!(parse_duration("7 weeks").is_err());
    }
}
