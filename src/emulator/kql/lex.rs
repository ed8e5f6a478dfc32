//! KQL text to tokens: names (with the dashed operator names such as
//! `mv-apply`), string literals in every quoting KQL allows, numbers,
//! timespans (`30d`, `180s`) and operators.

use super::KqlError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Name(String),
    Str(String),
    Long(i64),
    Real(f64),
    /// A timespan, in 100-nanosecond ticks.
    Span(i64),
    /// Punctuation and symbolic operators (`|`, `==`, `=~`, `..`, …).
    Sym(&'static str),
}

/// Dashed names KQL reads as one word.
const DASHED: &[&str] = &[
    "mv-apply",
    "mv-expand",
    "project-away",
    "project-rename",
    "project-keep",
    "project-reorder",
];

const SYMBOLS: &[&str] = &[
    "==", "!=", "<>", "<=", ">=", "=~", "!~", "..", "|", "(", ")", "[", "]", "{", "}", ",", ";",
    ".", "=", "<", ">", "+", "-", "*", "/", "%", ":", "!", "$",
];

/// Ticks per unit of the timespan suffixes KQL accepts.
fn span_unit(unit: &str) -> Option<i64> {
    Some(match unit {
        "d" | "day" | "days" => 864_000_000_000,
        "h" | "hr" | "hrs" | "hour" | "hours" => 36_000_000_000,
        "m" | "min" | "minute" | "minutes" => 600_000_000,
        "s" | "sec" | "second" | "seconds" => 10_000_000,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => 10_000,
        "microsecond" | "microseconds" => 10,
        "tick" | "ticks" => 1,
        _ => return None,
    })
}

/// How deep brackets may nest: the parser and evaluator recurse once a
/// level, and a client's query must not exhaust the stack.
const MAX_NESTING: usize = 64;

pub fn tokens(text: &str) -> Result<Vec<(Tok, usize)>, KqlError> {
    let toks = lex(text)?;
    let mut depth = 0usize;
    for (tok, at) in &toks {
        match tok {
            Tok::Sym("(" | "[" | "{") => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(KqlError::syntax(format!(
                        "brackets nest more than {MAX_NESTING} deep (at character {at})"
                    )));
                }
            }
            Tok::Sym(")" | "]" | "}") => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(toks)
}

fn lex(text: &str) -> Result<Vec<(Tok, usize)>, KqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // Comments run to the end of the line.
        if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        // `datetime(2026-11-08T02:44:46Z)`: the text inside is the literal.
        let after_datetime =
            matches!(out.last(), Some((Tok::Name(n), _)) if n.eq_ignore_ascii_case("datetime"));
        if c == '(' && after_datetime && !matches!(chars.get(i + 1), Some('"' | '\'')) {
            let Some(close) = chars[i..].iter().position(|ch| *ch == ')') else {
                return Err(KqlError::syntax(format!("unclosed datetime( at {start}")));
            };
            out.push((Tok::Sym("("), start));
            out.push((
                Tok::Str(
                    chars[i + 1..i + close]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_owned(),
                ),
                start + 1,
            ));
            out.push((Tok::Sym(")"), start + close));
            i += close + 1;
            continue;
        }
        // Strings: "…" and '…' with escapes; @"…" and @'…' verbatim.
        let verbatim = (c == '@' || c == 'h' || c == 'H')
            && matches!(chars.get(i + 1), Some('"') | Some('\''));
        if c == '"' || c == '\'' || verbatim {
            let at = if verbatim { i + 1 } else { i };
            let quote = chars[at];
            let raw = c == '@';
            let mut s = String::new();
            let mut j = at + 1;
            loop {
                let Some(&ch) = chars.get(j) else {
                    return Err(KqlError::syntax(format!(
                        "unterminated string literal at {start}"
                    )));
                };
                if ch == quote {
                    // `""` inside a verbatim string is one quote.
                    if raw && chars.get(j + 1) == Some(&quote) {
                        s.push(quote);
                        j += 2;
                        continue;
                    }
                    j += 1;
                    break;
                }
                if ch == '\\' && !raw {
                    let next = chars.get(j + 1).copied().unwrap_or('\\');
                    s.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        other => other,
                    });
                    j += 2;
                    continue;
                }
                s.push(ch);
                j += 1;
            }
            out.push((Tok::Str(s), start));
            i = j;
            continue;
        }
        if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                // `1..2` is a range, not a number.
                if chars[j] == '.' && chars.get(j + 1) == Some(&'.') {
                    break;
                }
                j += 1;
            }
            let digits: String = chars[i..j].iter().collect();
            let mut k = j;
            while k < chars.len() && chars[k].is_ascii_alphabetic() {
                k += 1;
            }
            let unit: String = chars[j..k].iter().collect();
            if !unit.is_empty() {
                let ticks = span_unit(&unit.to_lowercase()).ok_or_else(|| {
                    KqlError::syntax(format!("unknown timespan unit '{unit}' at {start}"))
                })?;
                let n: f64 = digits
                    .parse()
                    .map_err(|_| KqlError::syntax(format!("bad number at {start}")))?;
                out.push((Tok::Span((n * ticks as f64) as i64), start));
            } else if digits.contains('.') {
                let n = digits
                    .parse()
                    .map_err(|_| KqlError::syntax(format!("bad number at {start}")))?;
                out.push((Tok::Real(n), start));
            } else {
                let n = digits
                    .parse()
                    .map_err(|_| KqlError::syntax(format!("number too large at {start}")))?;
                out.push((Tok::Long(n), start));
            }
            i = k;
            continue;
        }
        if word(c) {
            let mut j = i;
            while j < chars.len() && word(chars[j]) {
                j += 1;
            }
            let mut name: String = chars[i..j].iter().collect();
            // `mv-apply`, `project-away`: one word.
            if chars.get(j) == Some(&'-') {
                let mut k = j + 1;
                while k < chars.len() && word(chars[k]) {
                    k += 1;
                }
                let joined = format!("{name}-{}", chars[j + 1..k].iter().collect::<String>());
                if DASHED.contains(&joined.to_lowercase().as_str()) {
                    name = joined;
                    j = k;
                }
            }
            // `in~`, `has_any`: the tilde belongs to the name.
            if chars.get(j) == Some(&'~') {
                name.push('~');
                j += 1;
            }
            out.push((Tok::Name(name), start));
            i = j;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let sym = SYMBOLS
            .iter()
            .find(|s| rest.starts_with(**s))
            .ok_or_else(|| KqlError::syntax(format!("unexpected character '{c}' at {start}")))?;
        // `!contains`, `!in~`: a negated operator name.
        if *sym == "!" && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) {
            let mut j = i + 1;
            while j < chars.len() && word(chars[j]) {
                j += 1;
            }
            let mut name: String = chars[i..j].iter().collect();
            if chars.get(j) == Some(&'~') {
                name.push('~');
                j += 1;
            }
            out.push((Tok::Name(name), start));
            i = j;
            continue;
        }
        out.push((Tok::Sym(sym), start));
        i += sym.len();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_literals_are_read_whole() {
        let toks = tokens("T | where TimeGenerated between (datetime(2026-11-08T02:44:46Z) .. datetime(2026-12-08))").unwrap();
        assert!(
            toks.iter()
                .any(|(t, _)| *t == Tok::Str("2026-11-08T02:44:46Z".into())),
            "{toks:?}"
        );
    }
}
