//! The team's encrypted case notes.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::pane;
use crate::app::state::{AppState, CaseLock, PaneId};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::Notes, focused);
    pane::draw_empty(
        frame,
        area,
        block,
        theme,
        "No case open.",
        &[
            "Case notes are encrypted with age to the core team's keys; nothing about a case touches disk in plaintext.",
            "The encrypted case is not in this build yet.",
        ],
    );
}

pub fn summary(state: &AppState) -> &'static str {
    match state.session.case {
        CaseLock::NoCase => "no case open",
        CaseLock::Locked(_) => "case locked",
        CaseLock::Unlocked(_) => "case open",
    }
}
