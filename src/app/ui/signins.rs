//! The live sign-in feed.

use ratatui::Frame;
use ratatui::layout::Rect;

use super::pane;
use crate::app::state::{AppState, PaneId, StreamHealth};
use crate::app::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool) {
    let block = pane::block(state, theme, PaneId::SignIns, focused);
    let connect = if state.session.tenant.is_some() {
        "A tenant is configured, but this build cannot pull from Microsoft Graph yet."
    } else {
        "No tenant configured: `warroom config path` shows where the profile goes."
    };
    pane::draw_empty(
        frame,
        area,
        block,
        theme,
        "No sign-in stream.",
        &[
            "The feed shows interactive, non-interactive, service-principal and managed-identity sign-ins as they arrive.",
            connect,
        ],
    );
}

pub fn summary(state: &AppState) -> &'static str {
    match state.session.stream {
        StreamHealth::NotConnected => "no stream",
        StreamHealth::Live { .. } => "live",
        StreamHealth::Throttled { .. } => "throttled",
        StreamHealth::Failed(_) => "stream failed",
    }
}
