//! Findings as the console holds them: what the detection engine
//! concluded from the live feed, with every tenant-supplied string made
//! safe to draw. Plain data; the live task fills it, `update` keeps it and
//! the findings pane draws it.

use super::triage::TriageBook;
use crate::case::record::Body;
pub use crate::model::finding::FindingRow;
use crate::model::{SafeText, Severity};

impl FindingRow {
    /// Every word of the filter (`-word` negated) appears in the finding's
    /// severity, triage state, title, rule, explanation, entities or id, in
    /// any case.
    pub fn matches(&self, filter: &str, book: &TriageBook) -> bool {
        let mut text = format!(
            "{} {} {} {} {} {}",
            self.severity.label().trim(),
            book.verdict(&self.id).name(),
            self.title,
            self.detection,
            self.explanation,
            self.id
        );
        if book.suppressed(self).is_some() {
            text.push_str(" suppressed");
        }
        for (field, value) in &self.entities {
            text.push_str(&format!(" {field}:{value}"));
        }
        let text = text.to_lowercase();
        // An unclosed quote reads as if closed at the end.
        let words = crate::app::feed::filter::words(filter)
            .or_else(|_| crate::app::feed::filter::words(&format!("{filter}\"")))
            .unwrap_or_default();
        words.iter().all(|word| match word.strip_prefix('-') {
            Some(not) if !not.is_empty() => !text.contains(&not.to_lowercase()),
            _ => text.contains(&word.to_lowercase()),
        })
    }
}

/// The findings the pane shows, as indexes: those the filter keeps, and
/// suppressed ones only when the filter asks for them (`suppressed`).
pub fn visible(
    findings: &[FindingRow],
    filter: Option<&SafeText>,
    book: &TriageBook,
) -> Vec<usize> {
    let wants_suppressed = filter.is_some_and(|f| f.as_str().to_lowercase().contains("suppressed"));
    findings
        .iter()
        .enumerate()
        .filter(|(_, f)| wants_suppressed || book.suppressed(f).is_none())
        .filter(|(_, f)| filter.is_none_or(|text| f.matches(text.as_str(), book)))
        .map(|(i, _)| i)
        .collect()
}

/// Triage needs a case to keep it and a finding to judge.
pub fn can_triage(state: &crate::app::AppState) -> Result<(), String> {
    if !matches!(state.session.case, crate::app::state::CaseLock::Unlocked(_)) {
        return Err("no case open: triage is kept in the case (start with --case NAME)".into());
    }
    selected(state)
        .map(|_| ())
        .ok_or_else(|| "no finding selected".into())
}

/// The journal record a triage or suppress line makes for the selected
/// finding; the error says what to type instead.
pub fn journal_body(
    state: &crate::app::AppState,
    kind: crate::app::state::PromptKind,
    finding: &str,
    text: &str,
) -> Result<Body, String> {
    // The finding chosen when the prompt opened, wherever it is now.
    let finding = state
        .findings
        .iter()
        .find(|f| f.id == finding)
        .ok_or("that finding is no longer listed; nothing was recorded")?;
    if kind == crate::app::state::PromptKind::Triage {
        let line = super::triage::parse_line(text)?;
        return Ok(Body::Triage {
            finding: finding.id.clone(),
            detection: finding.detection.clone(),
            state: line.state.name().to_owned(),
            reason: line.reason,
            owner: line.owner,
        });
    }
    if text.trim().is_empty() {
        return Err("say why these findings can be set aside: the reason goes in the case".into());
    }
    let (field, value) = finding
        .entities
        .first()
        .ok_or("this finding names no entity to suppress by")?;
    Ok(Body::Suppress {
        detection: finding.detection.clone(),
        field: field.clone(),
        value: value.to_string(),
        reason: text.trim().to_owned(),
    })
}

/// The finding selected in the pane (through its filter).
pub fn selected(state: &crate::app::AppState) -> Option<&FindingRow> {
    let pane = state.pane(crate::app::state::PaneId::Findings);
    let shown = visible(&state.findings, pane.filter.as_ref(), &state.triage);
    shown.get(pane.selected).map(|&i| &state.findings[i])
}

/// After the findings or their filter changed: the row count follows, and
/// the selection stays on the finding `reading` when it is still shown.
pub fn refresh(state: &mut crate::app::AppState, reading: Option<String>) {
    use crate::app::state::PaneId;
    let shown = visible(
        &state.findings,
        state.pane(PaneId::Findings).filter.as_ref(),
        &state.triage,
    );
    // A finding that left the list (suppressed, filtered out) leaves the
    // selection where it was: on the row that took its place.
    let was = state.pane(PaneId::Findings).selected;
    let selected = match reading {
        Some(id) => shown
            .iter()
            .position(|&i| state.findings[i].id == id)
            .unwrap_or_else(|| was.min(shown.len().saturating_sub(1))),
        None => 0,
    };
    let pane = state.pane_mut(PaneId::Findings);
    pane.len = shown.len();
    pane.selected = selected;
}

/// What changed between two lists of findings: how many are new and the
/// most severe of them (for the status bar).
pub fn news(old: &[FindingRow], new: &[FindingRow]) -> Option<(usize, Severity)> {
    let fresh: Vec<&FindingRow> = new
        .iter()
        .filter(|f| !old.iter().any(|o| o.id == f.id))
        .collect();
    let worst = fresh.iter().map(|f| f.severity).min()?;
    Some((fresh.len(), worst))
}
