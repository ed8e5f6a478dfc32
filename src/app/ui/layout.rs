//! Where things go on screen. Pure functions of the terminal size, shared by
//! drawing and by `update` (which needs page sizes).
//!
//! ```text
//!  wide (>= 100x26 body)                  narrow (80x24): accordion
//! ┌ title ─────────────────────────────┐ ┌ title ─────────────────┐
//! │┌ 1 Findings ─┐┌ 2 Sign-ins ───────┐│ │▸ 1 Findings · none     │
//! ││             ││                   ││ │┏ 2 Sign-ins ━━━━━━━━━━┓│
//! │└─────────────┘└───────────────────┘│ │┃ (focused pane)       ┃│
//! │┌ 3 Remediation┐┌ 4 Notes ─────────┐│ │┗━━━━━━━━━━━━━━━━━━━━━━┛│
//! │└─────────────┘└───────────────────┘│ │▸ 3 Remediation · ...   │
//! │ [completions] [prompt]             │ │▸ 4 Notes · ...         │
//! └ status ────────────────────────────┘ └ status ────────────────┘
//! ```
//! Zoom gives the focused pane the whole body at any size.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::state::PaneId;

/// Below this body size the four panes no longer fit side by side in a
/// useful way, so the focused pane opens and the others collapse to a line.
pub const GRID_MIN_WIDTH: u16 = 100;
pub const GRID_MIN_HEIGHT: u16 = 26;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaneShape {
    Open,
    Collapsed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Screen {
    pub title: Rect,
    pub body: Rect,
    pub completions: Option<Rect>,
    pub prompt: Option<Rect>,
    pub status: Rect,
}

pub fn screen(area: Rect, prompt: bool, completions: bool) -> Screen {
    let rows = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(u16::from(prompt && completions)),
        Constraint::Length(u16::from(prompt)),
        Constraint::Length(1),
    ])
    .split(area);
    Screen {
        title: rows[0],
        body: rows[1],
        completions: (prompt && completions).then_some(rows[2]),
        prompt: prompt.then_some(rows[3]),
        status: rows[4],
    }
}

/// Where each pane goes, and whether it is open or collapsed to one line.
pub fn panes(body: Rect, focus: PaneId, zoomed: bool) -> Vec<(PaneId, Rect, PaneShape)> {
    if zoomed {
        return vec![(focus, body, PaneShape::Open)];
    }
    if body.width >= GRID_MIN_WIDTH && body.height >= GRID_MIN_HEIGHT {
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
        let columns = [Constraint::Percentage(42), Constraint::Percentage(58)];
        let [findings, signins] = Layout::horizontal(columns).areas(top);
        let [remediation, notes] = Layout::horizontal(columns).areas(bottom);
        return vec![
            (PaneId::Findings, findings, PaneShape::Open),
            (PaneId::SignIns, signins, PaneShape::Open),
            (PaneId::Remediation, remediation, PaneShape::Open),
            (PaneId::Notes, notes, PaneShape::Open),
        ];
    }
    let constraints = PaneId::ALL.map(|p| {
        if p == focus {
            Constraint::Min(3)
        } else {
            Constraint::Length(1)
        }
    });
    let areas = Layout::vertical(constraints).split(body);
    PaneId::ALL
        .into_iter()
        .zip(areas.iter())
        .map(|(p, area)| {
            let shape = if p == focus {
                PaneShape::Open
            } else {
                PaneShape::Collapsed
            };
            (p, *area, shape)
        })
        .collect()
}

/// The help overlay: nearly the whole screen, at most 84 columns wide.
pub fn help_area(area: Rect) -> Rect {
    let width = area.width.saturating_sub(4).min(84).max(area.width.min(40));
    let height = area.height.saturating_sub(2);
    centered(area, width, height)
}

/// How many help rows fit on a screen `height` rows tall.
pub fn help_visible_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(4))
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_terminal_opens_the_focused_pane() {
        let body = Rect::new(0, 1, 80, 22);
        let panes = panes(body, PaneId::SignIns, false);
        assert_eq!(panes.len(), 4);
        let open: Vec<_> = panes.iter().filter(|p| p.2 == PaneShape::Open).collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].0, PaneId::SignIns);
        assert_eq!(open[0].1.height, 19);
    }

    #[test]
    fn wide_terminal_shows_the_grid() {
        let body = Rect::new(0, 1, 160, 46);
        let panes = panes(body, PaneId::Findings, false);
        assert!(panes.iter().all(|p| p.2 == PaneShape::Open));
        let total: u32 = panes.iter().map(|p| p.1.area()).sum();
        assert_eq!(total, body.area());
    }

    #[test]
    fn zoom_fills_the_body() {
        let body = Rect::new(0, 1, 80, 22);
        assert_eq!(
            panes(body, PaneId::Notes, true),
            vec![(PaneId::Notes, body, PaneShape::Open)]
        );
    }
}
