//! The operations console: a full-screen terminal UI over the engine.
//!
//! The console never talks to HubSpot or the databases. It draws the
//! engine's latest [`Snapshot`] and sends [`Command`]s back. Its loop waits
//! on keys, new snapshots, a one-second tick (for the clock and "ago"
//! columns) and termination signals, and redraws only when one of them
//! changed something. Every exit path restores the terminal: `q`, an
//! error, SIGTERM, SIGHUP (a dropped SSH session) and a panic.

mod app;
mod keymap;
pub mod text;
mod theme;
mod view;

pub use app::{App, ConsoleOptions, Popup};
pub use keymap::{Action, Binding, Keymap};
pub use text::sanitize;
pub use theme::Theme;
pub use view::draw;

use crate::status::{Command, Snapshot};
use anyhow::Context;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

/// Logs a panic before ratatui's hook restores the terminal, so the log
/// says what happened even though the screen is gone.
fn install_panic_log() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!(%info, "panic");
        previous(info);
    }));
}

fn restore() {
    if let Err(e) = ratatui::try_restore() {
        tracing::error!(error = %e, "restoring the terminal");
    }
    // ratatui leaves the cursor as the last frame had it: hidden.
    if let Err(e) = crossterm::execute!(std::io::stdout(), crossterm::cursor::Show) {
        tracing::error!(error = %e, "showing the cursor");
    }
}

/// Takes over the terminal until the user quits or the process is told to
/// stop; always gives it back as it was.
pub async fn run(
    opts: ConsoleOptions,
    mut snapshots: watch::Receiver<Snapshot>,
    commands: mpsc::Sender<Command>,
) -> anyhow::Result<()> {
    let no_color = std::env::var("NO_COLOR").ok();
    let theme = Theme::load(
        opts.theme.as_deref().unwrap_or("default"),
        no_color.as_deref(),
    )?;
    let mut app = App::with_theme(&opts, theme);
    app.set_snapshot(snapshots.borrow_and_update().clone());

    install_panic_log();
    let mut terminal = ratatui::try_init().context("taking over the terminal")?;
    let result = event_loop(&mut terminal, &mut app, &mut snapshots, &commands).await;
    drop(terminal);
    restore();
    result
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    snapshots: &mut watch::Receiver<Snapshot>,
    commands: &mpsc::Sender<Command>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut dirty = true;
    let mut engine_alive = true;
    loop {
        if dirty {
            app.now = Some(chrono::Utc::now());
            // Synchronized updates stop half-drawn frames flickering over SSH.
            let _ = crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate);
            terminal
                .draw(|f| view::draw(f, app))
                .context("drawing the console")?;
            let _ = crossterm::queue!(terminal.backend_mut(), EndSynchronizedUpdate);
            let _ = terminal.backend_mut().flush();
            dirty = false;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    if let Some(cmd) = app.handle_key(key)
                        && commands.send(cmd).await.is_err()
                    {
                        app.local_notice = Some("the engine has stopped; commands are not taken".into());
                    }
                    if app.should_quit() {
                        return Ok(());
                    }
                    dirty = true;
                }
                Some(Ok(Event::Resize(_, _))) => dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading the terminal"),
                None => return Ok(()),
            },
            changed = snapshots.changed(), if engine_alive => {
                if changed.is_err() {
                    // The engine is gone: keep showing its last state.
                    engine_alive = false;
                    app.local_notice = Some("the engine has stopped".into());
                } else {
                    // Coalesce a burst: only the newest snapshot is drawn.
                    app.set_snapshot(snapshots.borrow_and_update().clone());
                }
                dirty = true;
            }
            _ = tick.tick() => dirty = true,
            _ = term.recv() => {
                tracing::info!("SIGTERM: leaving the console");
                return Ok(());
            }
            _ = hup.recv() => {
                tracing::info!("SIGHUP: the terminal went away; leaving the console");
                return Ok(());
            }
        }
    }
}
