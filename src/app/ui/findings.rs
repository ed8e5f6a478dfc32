//! The findings pane: what the detections concluded from the live feed,
//! most severe first then most recent, counts by severity on top, and the
//! selected finding in full below: what was seen, why it matters, the
//! entities and events behind it, and the remediation items it calls for.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::pane;
use crate::app::findings::{FindingRow, visible};
use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;
use crate::app::triage::Verdict;
use crate::model::{Severity, counted};

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let mut block = pane::block(state, theme, PaneId::Findings, focused);
    // Count badges beside the title: `2 CRIT 7 HIGH`.
    let mut badges = Vec::new();
    for severity in [Severity::Critical, Severity::High] {
        let n = state
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count();
        if n > 0 {
            badges.push(Span::styled(
                format!("{n} {} ", severity.label().trim()),
                theme.severity(severity),
            ));
        }
    }
    if !badges.is_empty() {
        badges.insert(0, Span::raw(" "));
        block = block.title(Line::from(badges));
    }
    if state.findings.is_empty() {
        return pane::draw_empty(
            frame,
            area,
            block,
            theme,
            "No findings yet.",
            &[
                "The detections run on the live feed (sign-ins, directory audits, risk detections); findings appear here as they match.",
                "For exported or pulled logs, `warroom scan FILE...` runs the same detections.",
            ],
        );
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [counts, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(count_line(state, theme)), counts);
    let pane = state.pane(PaneId::Findings);
    let shown: Vec<&FindingRow> = visible(&state.findings, pane.filter.as_ref(), &state.triage)
        .into_iter()
        .map(|i| &state.findings[i])
        .collect();
    if shown.is_empty() {
        let why = "No finding matches the filter (Esc clears it).";
        frame.render_widget(Paragraph::new(Line::styled(why, theme.dim)), body);
        return;
    }
    let selected = pane.selected.min(shown.len() - 1);
    let list_rows = (body.height / 2).max(1).min(shown.len() as u16);
    let [list, full] =
        Layout::vertical([Constraint::Length(list_rows), Constraint::Min(0)]).areas(body);
    let lines = pane::list_window(&shown, selected, list_rows, |f| {
        row(
            f,
            state.triage.verdict(&f.id),
            state.triage.suppressed(f).is_some(),
            emergency_subject(f, state),
            theme,
            usize::from(list.width),
        )
    });
    frame.render_widget(Paragraph::new(lines), list);
    if full.height > 1 {
        draw_detail(frame, full, shown[selected], state, theme);
    }
}

/// `1 CRIT · 11 HIGH · 7 MED · 3 open`: only the severities present, then
/// how many still wait for a verdict and how many are suppressed.
fn count_line<'a>(state: &AppState, theme: &Theme) -> Line<'a> {
    let findings = &state.findings;
    let book = &state.triage;
    let mut spans = Vec::new();
    // Suppressed findings are counted apart, not in their severity.
    for severity in Severity::ALL {
        let n = findings
            .iter()
            .filter(|f| f.severity == severity && book.suppressed(f).is_none())
            .count();
        if n == 0 {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", theme.dim));
        }
        spans.push(Span::styled(
            format!("{n} {}", severity.label().trim()),
            theme.severity(severity),
        ));
    }
    let suppressed = findings
        .iter()
        .filter(|f| book.suppressed(f).is_some())
        .count();
    let open = findings
        .iter()
        .filter(|f| book.suppressed(f).is_none())
        .filter(|f| matches!(book.verdict(&f.id), Verdict::New | Verdict::Investigating))
        .count();
    spans.push(Span::styled(format!(" · {open} open"), theme.dim));
    if suppressed > 0 {
        spans.push(Span::styled(
            format!(" · {suppressed} suppressed"),
            theme.dim,
        ));
    }
    Line::from(spans)
}

/// `CRIT CONF 11-24 18:33 ×2 Federation trust changed · contoso.com`.
/// When the width is short the time goes first, then the title is cut,
/// and the subject last: rows stay told apart.
fn row<'a>(
    f: &'a FindingRow,
    verdict: Verdict,
    suppressed: bool,
    emergency: bool,
    theme: &Theme,
    width: usize,
) -> Line<'a> {
    let when = f
        .last_seen
        .as_deref()
        .and_then(|t| t.get(5..16))
        .map_or_else(|| "?".to_owned(), |t| t.replace('T', " "));
    let (long, short) = if f.posture {
        (format!(" {when} snap "), " snap ".to_owned())
    } else {
        (format!(" {when} ×{} ", f.count), format!(" ×{} ", f.count))
    };
    let subject = f
        .subject
        .as_ref()
        .map(|s| {
            format!(
                " · {}{}",
                s.as_str(),
                if emergency { EMERGENCY_MARK } else { "" }
            )
        })
        .unwrap_or_default();
    let (title_len, subject_len) = (f.title.chars().count(), subject.chars().count());
    let room = width.saturating_sub(9);
    let head = if long.chars().count() + title_len + subject_len <= room {
        long
    } else {
        short
    };
    let rest = room.saturating_sub(head.chars().count());
    // Both whole if they fit; else the subject keeps at least half.
    let subject_room = if title_len + subject_len <= rest {
        subject_len
    } else {
        subject_len.min((rest / 2).max(rest.saturating_sub(title_len)))
    };
    let title_room = rest.saturating_sub(subject_room);
    let verdict_style = match verdict {
        _ if suppressed => theme.dim,
        Verdict::New => theme.warn,
        Verdict::Investigating | Verdict::Confirmed => theme.error,
        Verdict::Benign | Verdict::FalsePositive => theme.dim,
    };
    // A suppressed finding (shown by a `suppressed` filter) waits for no one.
    let badge = if suppressed { "SUPP" } else { verdict.badge() };
    Line::from(vec![
        Span::styled(f.severity.label(), theme.severity(f.severity)),
        Span::raw(" "),
        Span::styled(badge, verdict_style),
        Span::styled(head, theme.dim),
        Span::styled(cut(&f.title, title_room), theme.text),
        Span::styled(cut(&subject, subject_room), theme.key),
    ])
}

/// After an emergency account's name, wherever it is shown.
pub const EMERGENCY_MARK: &str = " [emergency]";

/// Whether the account a row is about is an emergency account.
fn emergency_subject(f: &FindingRow, state: &AppState) -> bool {
    f.subject
        .as_ref()
        .is_some_and(|s| is_emergency_user(s.as_str().split(" +").next().unwrap_or(""), state))
}

/// Whether `value` names a user (not an app or a domain) the plan treats
/// as an emergency account.
fn is_emergency_user(value: &str, state: &AppState) -> bool {
    value.contains('@') && state.plan.is_emergency(value)
}

/// `text` in at most `room` characters, an ellipsis marking a cut.
fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(room.saturating_sub(1)).collect();
    if room > 0 {
        out.push('…');
    }
    out
}

fn draw_detail(frame: &mut Frame, area: Rect, f: &FindingRow, state: &AppState, theme: &Theme) {
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("── {} ", f.severity.label().trim()),
            theme.severity(f.severity),
        ),
        Span::styled(f.title.clone(), theme.text),
    ])];
    let seen = match (&f.first_seen, &f.last_seen) {
        _ if f.posture => format!(
            "posture: directory snapshot of {}",
            f.last_seen.as_deref().unwrap_or("unknown time")
        ),
        (Some(a), Some(b)) if a != b => format!("{}, {a} to {b}", counted(f.count, "event")),
        (_, Some(b)) => format!("{}, {b}", counted(f.count, "event")),
        _ => counted(f.count, "event"),
    };
    lines.push(Line::styled(seen, theme.dim));
    lines.push(Line::from(super::untrusted(
        &f.explanation,
        theme.text,
        theme,
        usize::MAX,
    )));
    lines.push(Line::styled(format!("Why: {}", f.rationale), theme.dim));
    let rule = if f.techniques.is_empty() {
        format!("rule {}", f.detection)
    } else {
        format!(
            "ATT&CK {}  ·  rule {}",
            f.techniques.join(", "),
            f.detection
        )
    };
    lines.push(Line::styled(rule, theme.dim));
    for (field, value) in f.entities.iter().take(8) {
        let mut spans = vec![Span::styled(format!("{field}: "), theme.dim)];
        spans.extend(super::untrusted(value, theme.key, theme, 80));
        if is_emergency_user(value.as_str(), state) {
            spans.push(Span::styled(EMERGENCY_MARK, theme.warn));
        }
        lines.push(Line::from(spans));
    }
    if f.entities.len() > 8 {
        lines.push(Line::styled(
            format!("… and {} more entities", f.entities.len() - 8),
            theme.dim,
        ));
    }
    if !f.remediation.is_empty() {
        // The checklist's words for the items, where the plan has them.
        let items: Vec<&str> = f
            .remediation
            .iter()
            .map(|id| {
                state
                    .plan
                    .template
                    .item(id)
                    .map_or(id.as_str(), |i| i.title.as_str())
            })
            .collect();
        lines.push(Line::styled(
            format!("Fix: {}", items.join("; ")),
            theme.text,
        ));
    }
    let label = if f.posture { "Objects: " } else { "Events: " };
    let mut evidence = vec![Span::styled(label, theme.dim)];
    for (i, id) in f.evidence.iter().take(3).enumerate() {
        if i > 0 {
            evidence.push(Span::styled(", ", theme.dim));
        }
        evidence.extend(super::untrusted(id, theme.dim, theme, 40));
    }
    if f.evidence.len() > 3 {
        evidence.push(Span::styled(
            format!(" and {} more", f.evidence.len() - 3),
            theme.dim,
        ));
    }
    lines.push(Line::from(evidence));
    lines.push(triage_line(f, state, theme));
    lines.push(Line::styled(
        "Enter: its events in the feed · c: its checklist items · s: triage · S: suppress similar · n: note",
        theme.dim,
    ));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// `Triage: confirmed by alice@jump (owner carol) at …: forged token`.
fn triage_line<'a>(f: &FindingRow, state: &AppState, theme: &Theme) -> Line<'a> {
    if let Some(s) = state.triage.suppressed(f) {
        return Line::from(vec![
            Span::styled("Suppressed ", theme.dim),
            Span::styled(format!("by {}: {}", s.by, s.reason), theme.dim),
        ]);
    }
    let Some(d) = state.triage.decision(&f.id) else {
        return Line::styled("Triage: new (s to decide)", theme.warn);
    };
    let owner = if d.owner.is_empty() {
        String::new()
    } else {
        format!(", owner {}", d.owner)
    };
    let reason = if d.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", d.reason)
    };
    Line::styled(
        format!(
            "Triage: {} by {} at {}{owner}{reason}",
            d.verdict.name(),
            d.by,
            crate::model::SafeText::new(&d.time)
        ),
        theme.text,
    )
}

/// The collapsed pane's line: how many, and the worst.
pub fn summary(state: &AppState) -> String {
    match state.findings.iter().map(|f| f.severity).min() {
        None => "none yet".to_owned(),
        Some(worst) => format!("{} · worst {}", state.findings.len(), worst.label().trim()),
    }
}
