//! The findings pane: what the detections concluded, most severe first.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::pane;
use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::Findings, focused);
    pane::draw_empty(
        frame,
        area,
        block,
        theme,
        "No findings yet.",
        &[
            "Findings appear here when detections match live Microsoft Graph data or imported logs.",
            "The console does not run the detections on its live feed yet; `warroom scan` runs them over exported or pulled logs.",
        ],
    );
}

pub fn summary(_state: &AppState) -> &'static str {
    "detections not live yet"
}
