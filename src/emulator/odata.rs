//! The part of OData `$filter` that the Graph log endpoints accept:
//! comparisons joined by `and`, `any()` over a collection, and `or` between
//! `any()` clauses. Anything else is refused the way Graph refuses it, with
//! a 400 that names the clause.

const MAX_FILTER_LENGTH: usize = 4096;
const MAX_NESTING: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(text: &str) -> Option<Op> {
        Some(match text.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    /// `field op value`
    Cmp {
        field: String,
        op: Op,
        value: String,
    },
    /// `field/any(t: t op 'a' or t op 'b')`
    Any {
        field: String,
        alternatives: Vec<(Op, String)>,
    },
    /// `(clause or clause)`
    Or(Vec<Clause>),
}

/// Parses a `$filter` into clauses that must all hold.
pub fn parse(filter: &str) -> Result<Vec<Clause>, String> {
    // Graph refuses long and deeply nested filters; so do we, before any
    // recursion.
    if filter.len() > MAX_FILTER_LENGTH {
        return Err(format!(
            "The filter is longer than {MAX_FILTER_LENGTH} characters."
        ));
    }
    let mut depth = 0usize;
    for c in filter.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > MAX_NESTING {
            return Err("The filter nests parentheses too deeply.".into());
        }
    }
    split_top(filter, " and ")
        .into_iter()
        .map(|part| parse_clause(strip_parens(part.trim())))
        .collect()
}

fn parse_clause(text: &str) -> Result<Clause, String> {
    let alternatives = split_top(text, " or ");
    if alternatives.len() > 1 {
        return alternatives
            .into_iter()
            .map(|a| parse_clause(strip_parens(a.trim())))
            .collect::<Result<Vec<_>, _>>()
            .map(Clause::Or);
    }
    if let Some(at) = text.find("/any(") {
        let field = text[..at].trim().to_owned();
        let inner = text[at + 5..]
            .strip_suffix(')')
            .ok_or_else(|| format!("Invalid filter clause: {text}"))?;
        let (var, body) = inner
            .split_once(':')
            .ok_or_else(|| format!("Invalid filter clause: {text}"))?;
        let var = var.trim();
        let mut alternatives = Vec::new();
        for alt in split_top(body, " or ") {
            let mut words = alt.trim().splitn(3, ' ');
            let (Some(v), Some(op), Some(value)) = (words.next(), words.next(), words.next())
            else {
                return Err(format!("Invalid filter clause: {text}"));
            };
            let op = Op::parse(op)
                .filter(|_| v == var)
                .ok_or_else(|| format!("Invalid filter clause: {text}"))?;
            alternatives.push((op, unquote(value.trim())?));
        }
        return Ok(Clause::Any {
            field,
            alternatives,
        });
    }
    let mut words = text.splitn(3, ' ');
    let (Some(field), Some(op), Some(value)) = (words.next(), words.next(), words.next()) else {
        return Err(format!("Invalid filter clause: {text}"));
    };
    let op = Op::parse(op).ok_or_else(|| format!("Invalid filter clause: {text}"))?;
    Ok(Clause::Cmp {
        field: field.to_owned(),
        op,
        value: unquote(value.trim())?,
    })
}

/// `'it''s'` → `it's`; bare literals (dates, numbers) pass unchanged.
fn unquote(value: &str) -> Result<String, String> {
    match value.strip_prefix('\'') {
        Some(rest) => rest
            .strip_suffix('\'')
            .map(|s| s.replace("''", "'"))
            .ok_or_else(|| format!("Unterminated string literal: {value}")),
        None => Ok(value.to_owned()),
    }
}

fn strip_parens(text: &str) -> &str {
    let t = text.trim();
    if t.starts_with('(') && t.ends_with(')') && matching_close(t) == Some(t.len() - 1) {
        strip_parens(&t[1..t.len() - 1])
    } else {
        t
    }
}

/// Where the parenthesis opening `text` closes.
fn matching_close(text: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on `sep` (case-insensitive) outside quotes and parentheses.
fn split_top<'a>(text: &'a str, sep: &str) -> Vec<&'a str> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start, mut i) = (0i32, false, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            _ if !quoted && depth == 0 && lower.as_bytes()[i..].starts_with(sep.as_bytes()) => {
                parts.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_shapes() {
        let clauses = parse("createdDateTime ge 2026-11-01T00:00:00Z and signInEventTypes/any(t: t eq 'nonInteractiveUser')").unwrap();
        assert_eq!(
            clauses,
            vec![
                Clause::Cmp {
                    field: "createdDateTime".into(),
                    op: Op::Ge,
                    value: "2026-11-01T00:00:00Z".into()
                },
                Clause::Any {
                    field: "signInEventTypes".into(),
                    alternatives: vec![(Op::Eq, "nonInteractiveUser".into())]
                },
            ]
        );
        let or = parse("(signInEventTypes/any(t: t eq 'servicePrincipal') or signInEventTypes/any(t: t eq 'managedIdentity'))").unwrap();
        assert!(matches!(&or[0], Clause::Or(v) if v.len() == 2));
        let inner_or = parse("signInEventTypes/any(t: t eq 'a' or t eq 'b')").unwrap();
        assert!(
            matches!(&inner_or[0], Clause::Any { alternatives, .. } if alternatives.len() == 2)
        );
        let quoted = parse("userPrincipalName eq 'o''neil@contoso.com'").unwrap();
        assert!(matches!(&quoted[0], Clause::Cmp { value, .. } if value == "o'neil@contoso.com"));
    }

    #[test]
    fn hostile_filters_are_refused_not_fatal() {
        assert!(parse("userPrincipalName eq 'é' and displayName eq 'ü'").is_ok());
        assert!(parse("é and ü or ö").is_err());
        assert!(parse(&"(".repeat(10_000)).is_err());
        assert!(parse(&"a".repeat(5_000)).is_err());
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse("createdDateTime between x").is_err());
        assert!(parse("startswith(userPrincipalName,'a')").is_err());
        assert!(parse("userId eq 'unterminated").is_err());
    }
}
