//! The remediation checklist.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::pane;
use crate::app::state::{AppState, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::Remediation, focused);
    pane::draw_empty(
        frame,
        area,
        block,
        theme,
        "No recovery plan loaded.",
        &[
            "The checklist follows the four phases of recovery: secure communications, investigate, improve posture, regain and keep control.",
            "The playbook is not in this build yet.",
        ],
    );
}

pub fn summary(_state: &AppState) -> &'static str {
    "no plan loaded"
}
