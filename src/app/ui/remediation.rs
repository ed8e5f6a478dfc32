//! The remediation checklist: overall and per-phase progress as gauges,
//! the waits still running, the items phase by phase (concrete items from
//! findings under their template item), and the selected item in full.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::pane;
use crate::app::checklist::visible;
use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;
use crate::playbook::plan::{Item, Plan, Status, duration_text};

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::Remediation, focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let plan = &state.plan;
    let phases = plan.template.phases.len() as u16;
    let waits = running_waits(plan, state);
    let spared = spared_lines(plan);
    // Gauges, waits and the detail only where the list keeps some room.
    let roomy = inner.height >= phases + 12;
    let head = if roomy {
        1 + phases + waits.len().min(3) as u16 + spared.len().min(2) as u16
    } else {
        1
    };
    let detail = if inner.height >= 30 { 7 } else { 0 };
    let [top, list, bottom] = Layout::vertical([
        Constraint::Length(head),
        Constraint::Min(0),
        Constraint::Length(detail),
    ])
    .areas(inner);
    let mut lines = vec![overall_line(plan, theme, usize::from(top.width))];
    if roomy {
        for phase in 0..plan.template.phases.len() {
            lines.push(phase_line(plan, phase, theme, usize::from(top.width)));
        }
        lines.extend(
            waits
                .into_iter()
                .take(3)
                .map(|w| Line::styled(w, theme.warn)),
        );
        lines.extend(
            spared
                .into_iter()
                .take(2)
                .map(|w| Line::styled(w, theme.dim)),
        );
    }
    frame.render_widget(Paragraph::new(lines), top);
    draw_list(frame, list, state, theme);
    if detail > 0
        && let Some(item) = crate::app::checklist::selected(state)
    {
        draw_detail(frame, bottom, plan, item, state, theme);
    }
}

/// `Overall ████░░░░ 12% · 5 of 42 · in phase 2: Investigate`.
fn overall_line<'a>(plan: &Plan, theme: &Theme, width: usize) -> Line<'a> {
    let (done, total) = plan.overall();
    let phase = plan.current_phase();
    let title = plan
        .template
        .phases
        .get(phase)
        .map_or("", |p| p.title.as_str());
    let pct = percent(done, total);
    let bar = bar(done, total, 16, theme);
    let text = format!(
        " {pct:>3}% · {done} of {total} · phase {} of {}: {title}",
        phase + 1,
        plan.template.phases.len()
    );
    let mut line = Line::from(vec![
        Span::styled("Overall ", theme.title),
        Span::styled(bar, theme.ok),
        Span::styled(text, theme.text),
    ]);
    if line.width() > width {
        line = Line::from(vec![
            Span::styled(format!("{pct}% "), theme.ok),
            Span::styled(format!("{done}/{total} · phase {}", phase + 1), theme.text),
        ]);
    }
    line
}

fn phase_line<'a>(plan: &Plan, phase: usize, theme: &Theme, width: usize) -> Line<'a> {
    let (done, total) = plan.progress(phase);
    let title = &plan.template.phases[phase].title;
    let room = width.saturating_sub(3 + 1 + 12 + 10).clamp(10, 40);
    let name: String = title.chars().take(room).collect();
    Line::from(vec![
        Span::styled(format!("{} ", phase + 1), theme.key),
        Span::styled(format!("{name:<room$} "), theme.text),
        Span::styled(bar(done, total, 12, theme), theme.ok),
        Span::styled(
            format!(" {done}/{total} {:>3}%", percent(done, total)),
            theme.dim,
        ),
    ])
}

fn percent(done: usize, total: usize) -> usize {
    (done * 100).checked_div(total).unwrap_or(0)
}

/// A gauge of `width` cells: full and empty blocks, `#` and `.` in ASCII.
fn bar(done: usize, total: usize, width: usize, theme: &Theme) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    let (full, empty) = if theme.ascii {
        ("#", ".")
    } else {
        ("█", "░")
    };
    format!("{}{}", full.repeat(filled), empty.repeat(width - filled))
}

/// One line per emergency account the plan spares:
/// `spared bg-admin01@… [emergency]: 3 items held back`.
fn spared_lines(plan: &Plan) -> Vec<String> {
    plan.spared()
        .into_iter()
        .map(|s| {
            format!(
                "spared {}{}: {} held back",
                s.account.as_str(),
                super::findings::EMERGENCY_MARK,
                crate::model::counted(s.items.len() as u64, "item")
            )
        })
        .collect()
}

/// One line per wait: running (`7h42m left`) or still to start.
fn running_waits(plan: &Plan, state: &AppState) -> Vec<String> {
    plan.items()
        .iter()
        .filter(|i| !i.status.finished())
        .filter_map(|item| {
            let spec = plan.spec(item)?;
            let wait = spec.wait.as_ref()?;
            let before = plan.template.item(&wait.after)?;
            Some(match plan.wait_left(item, state.now) {
                Some(left) => format!(
                    "Wait: {} in {} (after \"{}\")",
                    item.title,
                    duration_text(left),
                    before.title
                ),
                None if plan
                    .items()
                    .iter()
                    .any(|i| i.key == wait.after && i.status == Status::Done) =>
                {
                    format!("Wait over: {} can start", item.title)
                }
                None => format!(
                    "Wait: {} not before {}h after \"{}\" is done",
                    item.title,
                    plan.wait_hours(spec),
                    before.title
                ),
            })
        })
        .collect()
}

fn draw_list(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) {
    let plan = &state.plan;
    let shown = visible(state);
    if shown.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "No item matches the filter (Esc clears it).",
                theme.dim,
            )),
            area,
        );
        return;
    }
    let selected = state
        .pane(PaneId::Remediation)
        .selected
        .min(shown.len() - 1);
    // Rows: a heading where the phase changes, then items.
    let mut rows: Vec<(Option<usize>, Line)> = Vec::new();
    let mut phase = None;
    for (position, &index) in shown.iter().enumerate() {
        let item = &plan.items()[index];
        if phase != Some(item.phase) {
            phase = Some(item.phase);
            let title = &plan.template.phases[item.phase].title;
            rows.push((
                None,
                Line::styled(format!("── {} {title}", item.phase + 1), theme.title),
            ));
        }
        rows.push((Some(position), item_line(plan, item, state, theme)));
    }
    let height = usize::from(area.height).max(1);
    let at = rows
        .iter()
        .position(|(p, _)| *p == Some(selected))
        .unwrap_or(0);
    let offset = (at + 1).saturating_sub(height);
    let lines: Vec<Line> = rows
        .into_iter()
        .skip(offset)
        .take(height)
        .map(|(position, line)| {
            if position == Some(selected) {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// `[x] Title  · carol · 7h42m` with concrete items indented.
fn item_line<'a>(plan: &Plan, item: &'a Item, state: &AppState, theme: &Theme) -> Line<'a> {
    let indent = if item.parent.is_some() { "    " } else { "" };
    let style = match item.status {
        Status::Done => theme.ok,
        Status::Blocked => theme.error,
        Status::InProgress => theme.warn,
        Status::NotApplicable => theme.dim,
        Status::Todo => theme.text,
    };
    let mut spans = vec![
        Span::raw(indent),
        Span::styled(item.status.mark(), style),
        Span::raw(" "),
    ];
    spans.extend(super::untrusted(&item.title, theme.text, theme, 90));
    if !item.owner.is_empty() {
        spans.push(Span::styled(" · ", theme.dim));
        spans.extend(super::untrusted(&item.owner, theme.key, theme, 20));
    }
    if !item.status.finished()
        && let Some(left) = plan.wait_left(item, state.now)
    {
        spans.push(Span::styled(
            format!(" · wait {}", duration_text(left)),
            theme.warn,
        ));
    }
    if item.spec.is_none() {
        spans.push(Span::styled(" (added)", theme.dim));
    }
    // `x` can do it on the tenant.
    if !item.status.finished()
        && item.target.is_some()
        && plan.spec(item).is_some_and(|s| s.action.is_some())
    {
        spans.push(Span::styled(" · x", theme.key));
    }
    Line::from(spans)
}

fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    plan: &Plan,
    item: &Item,
    state: &AppState,
    theme: &Theme,
) {
    let mut lines = Vec::new();
    let mut head = vec![Span::styled(format!("{} ", item.status.mark()), theme.key)];
    head.extend(super::untrusted(
        &item.title,
        theme.title,
        theme,
        usize::MAX,
    ));
    lines.push(Line::from(head));
    if let Some(spec) = plan.spec(item) {
        lines.push(Line::styled(format!("Why: {}", spec.rationale), theme.text));
        lines.push(Line::styled(
            format!("Done when: {}", spec.verification),
            theme.text,
        ));
        let mut facts = vec![format!("Scope: {}", spec.scope.label())];
        if !spec.after.is_empty() {
            facts.push(format!("after: {}", spec.after.join(", ")));
        }
        if !item.findings.is_empty() {
            facts.push(format!("called for by {} finding(s)", item.findings.len()));
        }
        lines.push(Line::styled(facts.join(" · "), theme.dim));
    }
    let blockers = plan.blockers(item, state.now);
    if !blockers.is_empty() && !item.status.finished() {
        lines.push(Line::styled(
            format!("Not yet: {}", blockers.join("; ")),
            theme.warn,
        ));
    }
    let recorded = match item.changed {
        Some(at) => {
            let mut text = format!(
                "{} by {} at {}",
                item.status.name(),
                item.by,
                at.strftime("%m-%d %H:%M UTC")
            );
            if !item.owner.is_empty() {
                text.push_str(&format!(", owner {}", item.owner));
            }
            if !item.reason.is_empty() {
                text.push_str(&format!(": {}", item.reason));
            }
            text
        }
        None => "not started · s sets the state · + adds an item".to_owned(),
    };
    lines.push(Line::styled(recorded, theme.dim));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
}

/// What the collapsed pane says: `12% · phase 2/4`.
pub fn summary(state: &AppState) -> String {
    let plan = &state.plan;
    let (done, total) = plan.overall();
    format!(
        "{}% done, {done}/{total}, phase {}/{}",
        percent(done, total),
        plan.current_phase() + 1,
        plan.template.phases.len()
    )
}
