//! The line a person types to record a decision about a finding or a
//! checklist item: `STATE [@OWNER] [REASON…]`.

/// A decision as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision<S> {
    pub state: S,
    /// Who owns it from now on (without the `@`); empty when not said.
    pub owner: String,
    pub reason: String,
}

/// Reads a decision line. `names` lists the states for the error message;
/// states for which `needs_reason` holds are refused without a reason.
pub fn parse<S: Copy>(
    text: &str,
    names: &[&str],
    state: impl Fn(&str) -> Option<S>,
    needs_reason: impl Fn(S) -> Option<&'static str>,
) -> Result<Decision<S>, String> {
    let usage = format!("start with the state: {}", names.join(", "));
    let mut words = text.split_whitespace();
    let first = words.next().ok_or_else(|| usage.clone())?;
    let chosen = state(first).ok_or_else(|| format!("\"{first}\" is no state; {usage}"))?;
    let mut rest: Vec<&str> = words.collect();
    let owner = match rest.first() {
        Some(word) if word.starts_with('@') && word.len() > 1 => {
            let owner = word[1..].to_owned();
            rest.remove(0);
            owner
        }
        _ => String::new(),
    };
    let reason = rest.join(" ");
    if let Some(name) = needs_reason(chosen)
        && reason.is_empty()
    {
        return Err(format!("say why it is {name}: the reason goes in the case"));
    }
    Ok(Decision {
        state: chosen,
        owner,
        reason,
    })
}

/// Completions for a decision line's first word, from the state names.
pub fn complete(text: &str, names: &[&str]) -> Vec<String> {
    if text.contains(' ') {
        return Vec::new();
    }
    let typed = text.to_ascii_lowercase();
    names
        .iter()
        .filter(|name| name.starts_with(&typed))
        .map(|name| format!("{name} "))
        .collect()
}
