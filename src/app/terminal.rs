//! Entering and leaving the terminal's raw, alternate-screen mode, and the
//! guarantees around it: the terminal is restored on normal exit, on error
//! (the guard's `Drop`), and on panic (the hook restores before printing).

use std::io::{self, Stdout};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Set while the terminal is in raw mode, so restoring happens once.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Owns the terminal while the console runs; dropping it restores the
/// terminal even when the console leaves through an error.
pub struct TerminalGuard {
    /// Never dropped: ratatui's drop prints to stderr when it cannot show
    /// the cursor, which panics once SIGHUP took the terminal away;
    /// `restore` shows the cursor itself and only logs a failure.
    pub terminal: std::mem::ManuallyDrop<Term>,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<Self> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(
            stdout,
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        ) {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout)).inspect_err(|_| restore())?;
        Ok(Self {
            terminal: std::mem::ManuallyDrop::new(terminal),
        })
    }
}

impl TerminalGuard {
    /// Re-enters raw mode and the alternate screen after the process was
    /// stopped and continued, and forces a full redraw.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            cursor::Hide
        )?;
        self.terminal.clear()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen. Safe to call more than once and
/// from a panic hook; failures (a terminal that is already gone after
/// SIGHUP) are logged, never raised.
pub fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout();
    if let Err(e) = execute!(
        stdout,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    ) {
        tracing::warn!("could not leave the alternate screen: {e}");
    }
    if let Err(e) = disable_raw_mode() {
        tracing::warn!("could not leave raw mode: {e}");
    }
}

/// Restores the terminal before any panic message is printed, then points
/// the user at the log file.
pub fn install_panic_hook(log_file: Option<PathBuf>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let was_active = ACTIVE.load(Ordering::SeqCst);
        restore();
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        previous(info);
        // After SIGHUP stderr may be gone: a failed write must not panic
        // again inside the hook.
        if was_active {
            use std::io::Write;
            let said = match &log_file {
                Some(path) => format!(
                    "warroom stopped on an internal error; the terminal was restored. Log: {}",
                    path.display()
                ),
                None => "warroom stopped on an internal error; the terminal was restored.".into(),
            };
            let _ = writeln!(std::io::stderr(), "{said}");
        }
    }));
}
