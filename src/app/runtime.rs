//! The event loop. It owns the state and the terminal, turns terminal
//! events, signals, the clock and task results into `Msg`s, applies them with
//! `update`, runs the effects, and draws when something changed, at most
//! once per `FRAME_INTERVAL`.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, interval_at, sleep_until};

use super::action::{Effect, Msg, ShutdownReason};
use super::keymap::Layer;
use super::state::AppState;
use super::terminal::TerminalGuard;
use super::theme::Theme;
use super::{ui, update};

/// SIGCONT on Linux.
const SIGCONT: i32 = 18;

/// Minimum gap between two frames (about 60 frames per second at most).
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// The clock in the status bar shows seconds.
pub const CLOCK_INTERVAL: Duration = Duration::from_secs(1);
/// Room for task results waiting to be applied; producers wait when full.
pub const MSG_CHANNEL_CAPACITY: usize = 1024;

/// How the run ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub exit_code: u8,
    /// Time from `started` to the first frame on screen.
    pub first_frame: Option<Duration>,
}

/// Hidden switches for measuring and testing the runtime itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Return right after the first frame (start-up benchmark).
    pub stop_after_first_frame: bool,
    /// Panic right after the first frame (tests that the panic hook
    /// restores the terminal).
    pub panic_after_first_frame: bool,
}

/// Starts the console's background work (the live feed) with a sender
/// into the console's message channel.
pub type Starter = Box<dyn FnOnce(mpsc::Sender<Msg>) + Send>;

/// What effects act on: the open case, when there is one.
#[derive(Clone, Default)]
pub struct Services {
    pub case: Option<std::sync::Arc<crate::case::Unlocked>>,
    /// The tenant, once the live task has connected.
    pub graph: super::live::GraphSlot,
    /// The triage decisions, for the live detections.
    pub verdicts: Option<tokio::sync::watch::Sender<crate::detect::own::Team>>,
}

/// Runs the console until the user quits or a signal arrives.
pub async fn run(
    mut state: AppState,
    theme: Theme,
    started: Instant,
    options: RunOptions,
    start: Option<Starter>,
    services: Services,
) -> anyhow::Result<Outcome> {
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut quit = signal(SignalKind::quit())?;
    // After a SIGSTOP from outside, the shell may have reset the terminal.
    let mut resumed = signal(SignalKind::from_raw(SIGCONT))?;

    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    state.screen = (size.width, size.height);

    // Tasks get clones of `msg_tx`; results come back through `msg_rx`.
    let (msg_tx, mut msg_rx) = mpsc::channel::<Msg>(MSG_CHANNEL_CAPACITY);
    if let Some(start) = start {
        start(msg_tx.clone());
    }
    let journal = journal_writer(&services, msg_tx.clone());
    let mut input = EventStream::new();
    let mut clock = interval_at(next_whole_second(), CLOCK_INTERVAL);
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);

    let mut dirty = true;
    let mut timings = Timings::default();
    let mut last_frame: Option<tokio::time::Instant> = None;
    let mut first_frame = None;

    let exit_code = loop {
        let now = tokio::time::Instant::now();
        let frame_due = last_frame.map_or(now, |t| t + FRAME_INTERVAL);
        if dirty && frame_due <= now {
            let drawing = std::time::Instant::now();
            guard
                .terminal
                .draw(|frame| ui::draw(frame, &state, &theme))?;
            timings.frames.push(drawing.elapsed());
            dirty = false;
            last_frame = Some(now);
            if first_frame.is_none() {
                first_frame = Some(started.elapsed());
                if options.panic_after_first_frame {
                    panic!("deliberate panic after the first frame (--panic-after-first-frame)");
                }
                if options.stop_after_first_frame {
                    break 0;
                }
            }
        }

        let msg = tokio::select! {
            biased;
            _ = hangup.recv() => Msg::Shutdown(ShutdownReason::Hangup),
            _ = terminate.recv() => Msg::Shutdown(ShutdownReason::Terminate),
            _ = interrupt.recv() => Msg::Shutdown(ShutdownReason::Interrupt),
            _ = quit.recv() => Msg::Shutdown(ShutdownReason::Quit),
            _ = resumed.recv() => {
                guard.resume()?;
                dirty = true;
                continue;
            }
            event = input.next() => match event {
                Some(Ok(event)) => match to_msg(&state, event) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => {
                    tracing::error!("terminal input failed: {e}");
                    Msg::Shutdown(ShutdownReason::TerminalLost)
                }
                None => Msg::Shutdown(ShutdownReason::TerminalLost),
            },
            Some(msg) = msg_rx.recv() => msg,
            _ = clock.tick() => Msg::Tick(jiff::Timestamp::now()),
            _ = sleep_until(frame_due), if dirty => continue,
        };

        let mut work = Vec::new();
        let applying = std::time::Instant::now();
        let mut exit = apply(&mut state, msg, &mut dirty, &mut work);
        // Apply a burst of task results before drawing once for all of them.
        while exit.is_none()
            && let Ok(msg) = msg_rx.try_recv()
        {
            exit = apply(&mut state, msg, &mut dirty, &mut work);
        }
        timings.updates.push(applying.elapsed());
        if let Some(verdicts) = &services.verdicts {
            // Sent only when a decision changed (the book is small).
            verdicts.send_if_modified(|sent| {
                let now = crate::detect::own::Team {
                    verdicts: state.triage.verdicts(),
                    writes: state.triage.own_writes().to_vec(),
                };
                let changed = *sent != now;
                *sent = now;
                changed
            });
        }
        for effect in work {
            match effect {
                Effect::Copy(text) => copy_to_clipboard(guard.terminal.backend_mut(), &text),
                Effect::SaveNote {
                    text,
                    tags,
                    supersedes,
                    links,
                } => {
                    let note = NoteToSave {
                        text,
                        tags,
                        supersedes,
                        links,
                    };
                    save_note(&services, note, msg_tx.clone());
                }
                Effect::FetchSignIn(id) => fetch_signin(&services, id, msg_tx.clone()),
                Effect::PrepareAction(target) => prepare_action(&services, target, msg_tx.clone()),
                Effect::ExecuteAction(prepared) => {
                    execute_action(&services, *prepared, msg_tx.clone())
                }
                Effect::Journal(body) => {
                    // The writer only stops with the console.
                    let _ = journal.send(body);
                }
                Effect::Render | Effect::Exit(_) => {}
            }
        }
        if let Some(code) = exit {
            break code;
        }
    };
    drop(msg_tx);
    drop(guard);
    timings.report();
    Ok(Outcome {
        exit_code,
        first_frame,
    })
}

/// How long drawing and applying messages took, for the responsiveness
/// benchmark: percentiles go to the log at exit, and to the file named by
/// `WARROOM_FRAME_STATS` when set.
#[derive(Default)]
struct Timings {
    frames: Vec<Duration>,
    updates: Vec<Duration>,
}

impl Timings {
    fn report(mut self) {
        let line = format!(
            "frames {} | updates {}",
            percentiles(&mut self.frames),
            percentiles(&mut self.updates)
        );
        tracing::info!(timings = %line, "console timings");
        if let Some(path) = std::env::var_os("WARROOM_FRAME_STATS")
            && let Err(e) = std::fs::write(&path, format!("{line}\n"))
        {
            tracing::warn!("frame stats not written: {e}");
        }
    }
}

/// `n 1234 p50 0.8 ms p99 3.1 ms max 9.0 ms`.
fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "n 0".into();
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "n {} p50 {:.2} ms p99 {:.2} ms max {:.2} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(at(1.0))
    )
}

/// Applies one message; returns the exit code when the console must stop.
fn apply(state: &mut AppState, msg: Msg, dirty: &mut bool, work: &mut Vec<Effect>) -> Option<u8> {
    match &msg {
        Msg::Tick(_)
        | Msg::Resize(..)
        | Msg::SignIns(_)
        | Msg::Stream(_)
        | Msg::SignInRecord(..) => {}
        Msg::CaughtUp => tracing::info!("history caught up"),
        Msg::Emergency(accounts) => tracing::info!(accounts = accounts.len(), "emergency accounts"),
        Msg::Journaled(record) => tracing::info!(kind = record.body.kind(), "journaled"),
        // What was changed is in the journal; the log says only that.
        Msg::ActionPrepared(..) => tracing::info!("action prepared"),
        Msg::ActionDone(done) => {
            tracing::info!(verified = done.verified, "action sent once")
        }
        Msg::JournalFailed(kind, _) => tracing::warn!(kind, "record not journaled"),
        // Counts only: findings name users and addresses.
        Msg::Findings(rows) => tracing::info!(findings = rows.len(), "live findings"),
        // Never the note itself: the log is plaintext.
        Msg::NoteSaved(_) => tracing::info!("note saved"),
        Msg::NoteFailed(_) => tracing::warn!("note not saved"),
        Msg::Problem(text) => tracing::warn!(problem = %text, "background problem"),
        Msg::Connection(c) => tracing::info!(connection = c.label(), "connection"),
        Msg::PromptKey(_) | Msg::Paste(_) => tracing::trace!("prompt input"),
        Msg::Action(action) => tracing::debug!(action = action.name(), "dispatch"),
        Msg::Shutdown(reason) => tracing::info!(?reason, "shutting down"),
    }
    let mut exit = None;
    for effect in update(state, msg) {
        match effect {
            Effect::Render => *dirty = true,
            Effect::Exit(code) => exit = Some(code),
            other @ (Effect::Copy(_)
            | Effect::SaveNote { .. }
            | Effect::FetchSignIn(_)
            | Effect::Journal(_)
            | Effect::PrepareAction(_)
            | Effect::ExecuteAction(_)) => work.push(other),
        }
    }
    exit
}

/// Turns a terminal event into a message, using the keymap layer of the
/// current mode. Key releases are dropped (kitty protocol, Windows).
pub fn to_msg(state: &AppState, event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Release => None,
        Event::Key(key) => {
            let layer = state.layer();
            match state.keymap.resolve(layer, &key) {
                Some(action) => Some(Msg::Action(action)),
                // Unbound keys in a text layer are typing.
                None if matches!(layer, Layer::Prompt | Layer::Editor) => Some(Msg::PromptKey(key)),
                None => None,
            }
        }
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Resize(width, height) => Some(Msg::Resize(width, height)),
        Event::FocusGained | Event::FocusLost | Event::Mouse(_) => None,
    }
}

/// The next whole wall-clock second, so the clock ticks on the second.
fn next_whole_second() -> tokio::time::Instant {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let into_second = Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
    tokio::time::Instant::now() + (Duration::from_secs(1) - into_second)
}

/// OSC 52: the terminal (and tmux with `set-clipboard on`) puts the text on
/// the local clipboard, even over SSH. Terminals that do not know it ignore
/// it.
fn copy_to_clipboard(out: &mut impl std::io::Write, text: &str) {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let written = write!(out, "\x1b]52;c;{encoded}\x07").and_then(|()| out.flush());
    if let Err(e) = written {
        tracing::warn!("clipboard escape not written: {e}");
    }
}

/// Appends triage and checklist records one at a time, in the order they
/// were made (two quick decisions land in the journal as they were taken),
/// each on a blocking task (fsync), and reports each back; the console
/// changes only once the journal holds it.
fn journal_writer(
    services: &Services,
    tx: mpsc::Sender<Msg>,
) -> mpsc::UnboundedSender<crate::case::record::Body> {
    use crate::model::SafeText;
    let (body_tx, mut body_rx) = mpsc::unbounded_channel::<crate::case::record::Body>();
    let case = services.case.clone();
    tokio::spawn(async move {
        while let Some(body) = body_rx.recv().await {
            let kind = body.kind();
            let msg = match case.clone() {
                None => Msg::JournalFailed(kind, SafeText::new("no case is open")),
                Some(case) => match tokio::task::spawn_blocking(move || case.append(body)).await {
                    Ok(Ok(record)) => Msg::Journaled(record),
                    Ok(Err(e)) => Msg::JournalFailed(kind, SafeText::new(&e.to_string())),
                    Err(e) => Msg::JournalFailed(
                        kind,
                        SafeText::new(&format!("the save task failed: {e}")),
                    ),
                },
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    });
    body_tx
}

/// Reads the object of a checklist action and builds its request (sends
/// nothing); dry runs unless the profile allows writes.
fn prepare_action(
    services: &Services,
    target: crate::playbook::act::Target,
    tx: mpsc::Sender<Msg>,
) {
    use crate::model::SafeText;
    let item = target.item.clone();
    let Some(graph) = services.graph.get().cloned() else {
        let reason = SafeText::new("not connected to the tenant yet");
        let _ = tx.try_send(Msg::ActionPrepared(item, Err(reason)));
        return;
    };
    tokio::spawn(async move {
        // The writer's grant is checked first, where it lists one.
        let granted = graph.writer.granted_scopes().await;
        let missing = crate::playbook::act::missing_permission(target.action, granted.as_deref());
        let prepared = match missing {
            Some(missing) => Err(missing),
            None => {
                crate::playbook::act::prepare(&graph.client, &graph.base, &target, !graph.writes)
                    .await
            }
        };
        let prepared = prepared.map(Box::new).map_err(|e| SafeText::new(&e));
        let _ = tx.send(Msg::ActionPrepared(item, prepared)).await;
    });
}

/// Records the intent in the case (durably), then sends a confirmed action
/// once with the writer's sign-in and reads the object again. If the intent
/// cannot be recorded, nothing is sent.
fn execute_action(
    services: &Services,
    prepared: crate::playbook::act::Prepared,
    tx: mpsc::Sender<Msg>,
) {
    use crate::playbook::act::Executed;
    use crate::source::graph::client::WriteOutcome;
    let graph = services.graph.get().cloned();
    let case = services.case.clone();
    tokio::spawn(async move {
        let refuse = |prepared, why: String| Executed {
            prepared,
            outcome: WriteOutcome::Refused {
                status: 0,
                code: "not-sent".into(),
                message: why.clone(),
            },
            after: None,
            verified: false,
            summary: format!("nothing sent: {why}"),
            secret: None,
        };
        let done = match (graph, case) {
            (None, _) => refuse(prepared, "not connected to the tenant".into()),
            (_, None) => refuse(prepared, "no case is open to record it".into()),
            (Some(graph), Some(case)) => {
                let intent = super::checklist::sending_record(&prepared);
                match tokio::task::spawn_blocking(move || case.append(intent)).await {
                    Ok(Ok(_)) => {
                        crate::playbook::act::execute(&graph.writer, &graph.base, prepared).await
                    }
                    Ok(Err(e)) => refuse(
                        prepared,
                        format!("the case did not record the intent ({e})"),
                    ),
                    Err(e) => refuse(
                        prepared,
                        format!("the case did not record the intent ({e})"),
                    ),
                }
            }
        };
        let _ = tx.send(Msg::ActionDone(Box::new(done))).await;
    });
}

/// Reads one sign-in's whole record from the tenant for the detail view.
fn fetch_signin(services: &Services, id: String, tx: mpsc::Sender<Msg>) {
    use crate::model::SafeText;
    // The id came from the tenant: only a plain id goes into a URL.
    let plain = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let graph = services.graph.get().cloned();
    let refused = match (&graph, plain) {
        (None, _) => Some("not connected to the tenant, so the whole record cannot be read"),
        (_, false) => Some("this event's id is not one Graph can look up"),
        _ => None,
    };
    if let Some(reason) = refused {
        let _ = tx.try_send(Msg::SignInRecord(id, Err(SafeText::new(reason))));
        return;
    }
    let Some(graph) = graph else { return };
    tokio::spawn(async move {
        let url = format!(
            "{}/beta/auditLogs/signIns/{id}",
            graph.base.trim_end_matches('/')
        );
        let family = crate::source::graph::budget::Family::Reports;
        let record = match graph.client.get(&url, family).await {
            Ok(mut value) => {
                if let Some(map) = value.as_object_mut() {
                    map.remove("@odata.context");
                }
                serde_json::to_string_pretty(&value).map_err(|e| SafeText::new(&e.to_string()))
            }
            Err(e) => Err(SafeText::new(&format!("the tenant did not return it: {e}"))),
        };
        let _ = tx.send(Msg::SignInRecord(id, record)).await;
    });
}

/// Appends a note on a blocking task (fsync) and reports back.
struct NoteToSave {
    text: String,
    tags: Vec<String>,
    supersedes: Option<String>,
    links: Vec<String>,
}

fn save_note(services: &Services, note: NoteToSave, tx: mpsc::Sender<Msg>) {
    let NoteToSave {
        text,
        tags,
        supersedes,
        links,
    } = note;
    let Some(case) = services.case.clone() else {
        let _ = tx.try_send(Msg::NoteFailed(crate::model::SafeText::new(
            "no case is open",
        )));
        return;
    };
    tokio::spawn(async move {
        let text = zeroize::Zeroizing::new(text);
        let saved = tokio::task::spawn_blocking(move || {
            case.append(crate::case::record::Body::Note {
                text: text.to_string(),
                tags,
                links,
                supersedes,
            })
        })
        .await;
        let msg = match saved {
            Ok(Ok(record)) => match super::notes::NoteRow::from_record(&record) {
                Some(row) => Msg::NoteSaved(row),
                None => Msg::NoteFailed(crate::model::SafeText::new("saved, but not as a note")),
            },
            Ok(Err(e)) => Msg::NoteFailed(crate::model::SafeText::new(&e.to_string())),
            Err(e) => Msg::NoteFailed(crate::model::SafeText::new(&format!(
                "the save task failed: {e}"
            ))),
        };
        let _ = tx.send(msg).await;
    });
}
