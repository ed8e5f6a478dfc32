//! What `update` does for the remediation pane: which items show (its
//! filter), which one is selected, and the journal record a state line or a
//! new item makes. Pure functions of the state.

use super::state::{AppState, PaneId, PromptKind};
use crate::case::record::Body;
use crate::playbook::plan::{Item, Status, parse_state_line};

/// The items the pane shows, as indexes: those whose title, state or key
/// holds every word of the filter; `finding:ID` shows the items that
/// finding calls for.
pub fn visible(state: &AppState) -> Vec<usize> {
    let filter = state
        .pane(PaneId::Remediation)
        .filter
        .as_ref()
        .map(|f| f.as_str().to_lowercase());
    if let Some(id) = filter.as_deref().and_then(|f| f.strip_prefix("finding:")) {
        return for_finding(state, id.trim());
    }
    state
        .plan
        .items()
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            filter.as_deref().is_none_or(|f| {
                let text = format!(
                    "{} {} {}",
                    item.title.as_str().to_lowercase(),
                    item.status.name(),
                    item.key.to_lowercase()
                );
                f.split_whitespace().all(|w| text.contains(w))
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// The items a finding calls for: its concrete items, and the template
/// items it names.
fn for_finding(state: &AppState, id: &str) -> Vec<usize> {
    let remediation: Vec<String> = state
        .findings
        .iter()
        .find(|f| f.id.eq_ignore_ascii_case(id))
        .map(|f| f.remediation.clone())
        .unwrap_or_default();
    state
        .plan
        .items()
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            item.findings.iter().any(|f| f.eq_ignore_ascii_case(id))
                || (item.parent.is_none() && remediation.contains(&item.key))
        })
        .map(|(i, _)| i)
        .collect()
}

pub fn selected(state: &AppState) -> Option<&Item> {
    let shown = visible(state);
    let at = *shown.get(state.pane(PaneId::Remediation).selected)?;
    state.plan.items().get(at)
}

/// After the plan or its filter changed: the count follows, and the
/// selection stays on the item `reading` (by key) when it still shows.
pub fn refresh(state: &mut AppState, reading: Option<String>) {
    let shown = visible(state);
    let found =
        reading.and_then(|key| shown.iter().position(|&i| state.plan.items()[i].key == key));
    let pane = state.pane_mut(PaneId::Remediation);
    pane.len = shown.len();
    pane.selected = found
        .unwrap_or(pane.selected)
        .min(shown.len().saturating_sub(1));
}

/// Needs a case to keep the record in.
pub fn can_record(state: &AppState) -> Result<(), String> {
    if !matches!(state.session.case, super::state::CaseLock::Unlocked(_)) {
        return Err(
            "no case open: the checklist is kept in the case (start with --case NAME)".into(),
        );
    }
    selected(state)
        .map(|_| ())
        .ok_or_else(|| "no item selected".into())
}

/// The journal record for a state line (`done @carol …`) on the item
/// `subject`, or a new item titled `text` in the phase `subject`. An item
/// is not started or done before its dependencies and waits allow.
pub fn journal_body(
    state: &AppState,
    kind: PromptKind,
    subject: &str,
    text: &str,
) -> Result<Body, String> {
    if kind == PromptKind::ItemAdd {
        let title = text.trim();
        if title.is_empty() {
            return Err("give the item a title".into());
        }
        return Ok(Body::ItemAdded {
            phase: subject.to_owned(),
            title: title.to_owned(),
        });
    }
    let item = state
        .plan
        .items()
        .iter()
        .find(|i| i.key == subject)
        .ok_or("that item is no longer in the checklist; nothing was recorded")?;
    let line = parse_state_line(text)?;
    let extras = crate::playbook::plan::split_extras(&line.reason, state.now)?;
    let mut overridden = String::new();
    if matches!(line.state, Status::InProgress | Status::Done) {
        let blockers = state.plan.blockers(item, state.now);
        // A wait keeps a safe order (the krbtgt resets): no going around it.
        let waiting = state.plan.wait_left(item, state.now).is_some();
        if !blockers.is_empty() {
            if waiting || !extras.overriding {
                if waiting {
                    return Err(format!("not yet: {}", blockers.join("; ")));
                }
                return Err(format!(
                    "not yet: {}; to go ahead anyway: {} override REASON",
                    blockers.join("; "),
                    line.state.name()
                ));
            }
            if extras.reason.is_empty() {
                return Err("say why you go ahead: the reason goes in the case".into());
            }
            overridden = blockers.join("; ");
        }
    }
    Ok(Body::ItemState {
        item: item.key.clone(),
        state: line.state.name().to_owned(),
        reason: extras.reason,
        owner: line.owner,
        at: extras.at.map(|t| t.to_string()).unwrap_or_default(),
        overridden,
    })
}

/// Completions for the state line's first word.
pub fn complete(text: &str) -> Vec<String> {
    let names: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
    crate::model::decision::complete(text, &names)
}

/// What the selected item would do on the tenant, or why it cannot.
pub fn action_target(state: &AppState) -> Result<crate::playbook::act::Target, String> {
    let item = selected(state).ok_or("no item selected")?;
    let action = state
        .plan
        .spec(item)
        .and_then(|spec| spec.action)
        .ok_or("this item is done by hand: record it with s")?;
    let value = item
        .target
        .as_ref()
        .ok_or("select one of the item's concrete lines: it names the object to act on")?;
    if item.status == Status::Done {
        return Err("this item is done already".into());
    }
    let blockers = state.plan.blockers(item, state.now);
    if !blockers.is_empty() {
        return Err(format!("not yet: {}", blockers.join("; ")));
    }
    Ok(crate::playbook::act::Target {
        item: item.key.clone(),
        action,
        value: value.to_string(),
    })
}

fn json_text(value: &serde_json::Value) -> String {
    if value.is_null() {
        String::new()
    } else {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }
}

/// The journal record of an action: what was sent, what came back, the
/// object before and after.
pub fn action_record(done: &crate::playbook::act::Executed) -> Body {
    use crate::source::graph::client::WriteOutcome;
    let (outcome, status, response) = match &done.outcome {
        WriteOutcome::Done { status, body } => ("done", *status, json_text(body)),
        WriteOutcome::Refused {
            status,
            code,
            message,
        } => ("refused", *status, format!("{code}: {message}")),
        WriteOutcome::Unknown { reason } => ("unknown", 0, reason.clone()),
    };
    let after = done.after.as_ref().map(json_text).unwrap_or_default();
    record(
        &done.prepared,
        outcome,
        status,
        response,
        after,
        done.verified,
        &done.summary,
    )
}

/// The record of a dry run: what would have been sent; nothing was.
pub fn dry_run_record(p: &crate::playbook::act::Prepared) -> Body {
    let summary = "dry run: previewed, nothing was sent (the profile does not allow writes)";
    record(
        p,
        "dry-run",
        0,
        String::new(),
        String::new(),
        false,
        summary,
    )
}

/// Written before an action is sent, so a crash or a lost connection
/// still leaves the journal saying what was about to change.
pub fn sending_record(p: &crate::playbook::act::Prepared) -> Body {
    let summary =
        "about to be sent once; the answer and the object after follow in the next record";
    record(
        p,
        "sending",
        0,
        String::new(),
        String::new(),
        false,
        summary,
    )
}

fn record(
    p: &crate::playbook::act::Prepared,
    outcome: &str,
    status: u16,
    response: String,
    after: String,
    verified: bool,
    summary: &str,
) -> Body {
    Body::Action {
        item: p.item.clone(),
        action: format!("{:?}", p.action),
        object_id: p.object_id.clone(),
        object_name: p.object_name.clone(),
        method: p.method.to_string(),
        url: p.url.clone(),
        request: p.body.as_ref().map(json_text).unwrap_or_default(),
        outcome: outcome.into(),
        status,
        response,
        before: json_text(&p.before),
        after,
        verified,
        summary: summary.into(),
    }
}
