//! What the snapshot test crates share: a console state at a size, keys
//! pressed through the keymap, a rendered TestBackend, and the sign-ins
//! and findings the panes are shown with (hostile strings included).

#![allow(dead_code)]

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use warroom::app::feed::{Connection, Kind, Mfa, Risk, SignInRow, StreamStatus};
use warroom::app::runtime::to_msg;
use warroom::app::state::Session;
use warroom::app::{AppState, Keymap, Msg, Theme, ui, update};
use warroom::config::ThemeName;
use warroom::model::SafeText;

pub const NOW: &str = "2026-11-25T12:04:15Z";

pub fn state(width: u16, height: u16) -> AppState {
    let session = Session {
        profile: Some(SafeText::new("contoso-ir")),
        tenant: Some(SafeText::new("contoso.onmicrosoft.com")),
        connection: Connection::Connecting,
        ..Session::default()
    };
    let mut state = AppState::new(Arc::new(Keymap::default()), session, NOW.parse().unwrap());
    update(&mut state, Msg::Resize(width, height));
    state
}

pub fn press(state: &mut AppState, code: KeyCode) {
    let event = Event::Key(KeyEvent::new(code, KeyModifiers::NONE));
    if let Some(msg) = to_msg(state, event) {
        update(state, msg);
    }
}

pub fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

pub fn render(state: &AppState, theme: &Theme) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(state.screen.0, state.screen.1)).unwrap();
    terminal.draw(|f| ui::draw(f, state, theme)).unwrap();
    terminal
}

pub fn dark() -> Theme {
    Theme::for_terminal(ThemeName::Dark, false, false)
}

pub fn buffer_text(buffer: &Buffer) -> String {
    buffer.content().iter().map(|c| c.symbol()).collect()
}

pub fn stream(name: &'static str, failures: u32, error: Option<&str>) -> StreamStatus {
    StreamStatus {
        name,
        last_success: Some("2026-11-25T12:04:03Z".parse().unwrap()),
        lag_secs: Some(95),
        failures,
        last_error: error.map(SafeText::new),
        delivered: 1204,
        budget: Some((3, 5)),
        history: None,
    }
}

/// Sign-ins as the live feed delivers them, hostile strings included.
pub fn feed_rows() -> Vec<SignInRow> {
    let row = |secs: i64, kind, who: &str, app: &str, ip: &str, code, claim| SignInRow {
        id: SafeText::new(&format!("evt-{secs}")),
        time: jiff::Timestamp::from_second(1_795_000_000 + secs).unwrap(),
        kind,
        principal: SafeText::new(who),
        app: SafeText::new(app),
        ip: SafeText::new(ip),
        country: SafeText::new("US"),
        city: SafeText::new("Quincy"),
        error_code: code,
        mfa: if claim { Mfa::Claim } else { Mfa::MultiFactor },
        risk: if claim { Risk::High } else { Risk::None },
        ..Default::default()
    };
    vec![
        row(
            50,
            Kind::Interactive,
            "adele.vance@contoso.com",
            "Office 365 Exchange Online",
            "185.220.101.7",
            0,
            true,
        ),
        row(
            40,
            Kind::Interactive,
            "admin\u{202e}moc.nimda@contoso.com",
            "Outlook\x1b[31m",
            "2001:db8::7",
            50126,
            false,
        ),
        row(
            30,
            Kind::ServicePrincipal,
            "Journal Archiver",
            "Journal Archiver",
            "198.51.100.200",
            0,
            false,
        ),
        row(
            20,
            Kind::NonInteractive,
            "megan.bowen@contoso.com",
            "Microsoft Teams",
            "203.0.113.9",
            0,
            false,
        ),
        row(
            10,
            Kind::ManagedIdentity,
            "vm-build-agent-01",
            "vm-build-agent-01",
            "10.0.0.4",
            0,
            false,
        ),
    ]
}

/// Findings as the live task makes them: the engine run over records,
/// one of them with a terminal escape and a bidi override in its names.
pub fn live_findings() -> Vec<warroom::app::findings::FindingRow> {
    let records = [
        serde_json::json!({"id": "a1", "activityDateTime": "2026-11-24T18:33:19Z",
            "activityDisplayName": "Set federation settings on domain", "result": "success",
            "initiatedBy": {"user": {"userPrincipalName": "bg-admin01@contoso.com"}},
            "targetResources": [{"displayName": "contoso.com\u{1b}]0;owned\u{7}"}]}),
        serde_json::json!({"id": "s1", "createdDateTime": "2026-11-24T19:00:00Z",
            "userPrincipalName": "megan\u{202e}moc.osotnoc@", "ipAddress": "203.0.113.66",
            "status": {"errorCode": 5000811}}),
        serde_json::json!({"id": "u1", "activityDateTime": "2026-11-20T18:48:00Z",
            "activityDisplayName": "Add user", "result": "success",
            "initiatedBy": {"user": {"userPrincipalName": "megan@contoso.com"}},
            "targetResources": [{"userPrincipalName": "adsync-backup@contoso.com"}]}),
    ];
    let mut engine = warroom::detect::Engine::built_in().unwrap();
    for (i, record) in records.into_iter().enumerate() {
        let event = warroom::detect::Event::new(record, || format!("#{i}")).unwrap();
        engine.observe(&event);
    }
    engine
        .findings()
        .iter()
        .map(warroom::app::findings::FindingRow::from_finding)
        .collect()
}
