//! The operations console: a full-screen terminal UI over the engine.
//!
//! The console never talks to HubSpot or the databases. It is a client of
//! the engine's control socket: it draws the engine's latest [`Snapshot`]
//! and sends [`Request`]s back. Its loop waits
//! on keys, new snapshots, a one-second tick (for the clock and "ago"
//! columns) and termination signals, and redraws only when one of them
//! changed something. Every exit path restores the terminal: `q`, an
//! error, SIGTERM, SIGHUP (a dropped SSH session), SIGINT and SIGQUIT sent
//! from outside, and a panic.

mod app;
mod keymap;
pub mod text;
mod theme;
mod view;

pub use app::{App, ConsoleOptions, EngineMode, Popup, Request};
pub use keymap::{Action, Binding, Keymap};
pub use text::sanitize;
pub use theme::Theme;
pub use view::draw;

use crate::control::{ControlClient, Role};
use crate::status::Snapshot;
use anyhow::Context;
use crossterm::event::{Event, EventStream, KeyEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

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
/// stop; always gives it back as it was. Everything goes through `client`:
/// snapshots and notices come from the engine, requests go to it, and
/// their replies come back as notices, so a slow engine never freezes a frame.
pub async fn run(opts: ConsoleOptions, client: ControlClient) -> anyhow::Result<()> {
    let no_color = std::env::var("NO_COLOR").ok();
    let theme = Theme::load(
        opts.theme.as_deref().unwrap_or("default"),
        no_color.as_deref(),
    )?;
    let mut app = App::with_theme(&opts, theme);
    app.read_only = opts.read_only || client.welcome.role == Role::Viewer;
    app.keymap = Keymap::new(app.read_only);
    let first = client.subscribe().await?;
    app.set_snapshot(first);

    install_panic_log();
    let mut terminal = ratatui::try_init().context("taking over the terminal")?;
    let result = event_loop(&mut terminal, &mut app, Arc::new(client)).await;
    drop(terminal);
    restore();
    result
}

/// What a request's reply (or failure) changes on screen.
enum Answer {
    Notice(String),
    Page(Box<Snapshot>),
}

fn send_request(client: &Arc<ControlClient>, req: Request, answers: &mpsc::Sender<Answer>) {
    let client = client.clone();
    let answers = answers.clone();
    tokio::spawn(async move {
        let (method, params) = match &req {
            Request::Engine(cmd) => {
                let v = serde_json::to_value(cmd).unwrap_or_default();
                (
                    v["method"].as_str().unwrap_or_default().to_string(),
                    v["params"].clone(),
                )
            }
            Request::FailedPage { before_id } => (
                "failed_page".into(),
                serde_json::json!({ "before": before_id }),
            ),
            Request::Shutdown => ("shutdown".into(), serde_json::json!({})),
        };
        let answer = match client.request(&method, params).await {
            Ok(v) if method == "failed_page" => match serde_json::from_value::<Snapshot>(v) {
                Ok(s) => Answer::Page(Box::new(s)),
                Err(e) => Answer::Notice(format!("reading the page: {e}")),
            },
            Ok(v) => Answer::Notice(
                v.get("notice")
                    .and_then(|n| n.as_str())
                    .unwrap_or("done")
                    .to_string(),
            ),
            Err(e) => Answer::Notice(format!("{method} refused: {e}")),
        };
        let _ = answers.send(answer).await;
    });
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    client: Arc<ControlClient>,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut snapshots = client.snapshots();
    let mut heard = client.heard();
    let mut notices = client
        .take_notices()
        .context("the console's notices are taken once")?;
    let (answers_tx, mut answers) = mpsc::channel::<Answer>(16);
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
                    if let Some(req) = app.handle_key(key) {
                        if engine_alive {
                            send_request(&client, req, &answers_tx);
                        } else {
                            app.say("the engine has stopped; requests are not taken".into());
                        }
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
                    // This one stays: it is the state of things, not news.
                    app.local_notice = Some("the engine has stopped or the connection to it closed".into());
                    app.noticed_at = None;
                } else if let Some(s) = snapshots.borrow_and_update().clone() {
                    // Coalesced: only the newest snapshot is drawn.
                    app.set_snapshot(s);
                }
                dirty = true;
            }
            Ok(()) = heard.changed(), if engine_alive => {
                app.heard = *heard.borrow_and_update();
            }
            Some(n) = notices.recv() => {
                app.say(n.text);
                dirty = true;
            }
            Some(a) = answers.recv() => {
                match a {
                    Answer::Notice(n) => app.say(n),
                    Answer::Page(s) => app.set_snapshot(*s),
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
            // Raw mode turns Ctrl-C and Ctrl-\ into keys, so these come
            // from outside (kill -INT, kill -QUIT): leave cleanly all the same.
            _ = int.recv() => {
                tracing::info!("SIGINT: leaving the console");
                return Ok(());
            }
            _ = quit.recv() => {
                tracing::info!("SIGQUIT: leaving the console");
                return Ok(());
            }
        }
    }
}
