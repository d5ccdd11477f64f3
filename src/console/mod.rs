//! The operations console: a full-screen terminal UI over the engine.
//!
//! The console never talks to HubSpot or the databases. It is a client of
//! the engine's control socket: it draws the engine's latest [`Snapshot`]
//! and sends [`Request`]s back.
//!
//! How it is built: [`action::Action`] is everything a key can ask;
//! [`keymap`] turns keys into actions with one table per [`keymap::Mode`]
//! (normal, prompt, editor), from the defaults and the user's `[keys]`;
//! [`app::App`] handles the actions every screen shares and hands the rest
//! to the view in front ([`views`]), which owns its state, lists the
//! actions it answers (its footer hints and help come from that), and
//! returns an [`views::Effect`]; [`components`] are the pieces views are
//! drawn from. Nothing but this loop does I/O. Its loop waits
//! on keys, new snapshots, a one-second tick (for the clock and "ago"
//! columns) and termination signals, and redraws only when one of them
//! changed something. Every exit path restores the terminal: `q`, an
//! error, SIGTERM, SIGHUP (a dropped SSH session), SIGINT and SIGQUIT sent
//! from outside, and a panic.

pub mod action;
mod app;
pub mod components;
mod copy;
pub mod ctx;
mod draw;
pub mod keymap;
pub mod settings;
pub mod text;
mod theme;
pub mod views;

pub use action::Action;
pub use app::{App, ConsoleOptions, EngineMode, Popup, Request};
pub use draw::draw;
pub use keymap::{Binding, Keymap, Mode};
pub use settings::Settings;
pub use text::sanitize;
pub use theme::Theme;

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
    // Harmless when capture was never on; leaving it on would make the
    // shell print escape codes for every mouse move.
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
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
    app.set_read_only(opts.read_only || client.welcome.role == Role::Viewer);
    let first = client.subscribe().await?;
    app.set_snapshot(first);

    install_panic_log();
    let mut terminal = ratatui::try_init().context("taking over the terminal")?;
    if opts.settings.mouse {
        crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)
            .context("turning on the mouse ([console] mouse = true)")?;
    }
    let result = event_loop(&mut terminal, &mut app, Arc::new(client)).await;
    drop(terminal);
    restore();
    result
}

/// What a request's reply (or failure) changes on screen.
enum Answer {
    Notice(String),
    Page(Box<Snapshot>),
    Reply {
        view: u64,
        tag: &'static str,
        result: Result<serde_json::Value, String>,
    },
}

fn send_request(client: &Arc<ControlClient>, req: Request, answers: &mpsc::Sender<Answer>) {
    let client = client.clone();
    let answers = answers.clone();
    tokio::spawn(async move {
        let (method, params, reply_to) = match req {
            Request::Engine(cmd) => {
                let v = serde_json::to_value(&cmd).unwrap_or_default();
                (
                    v["method"].as_str().unwrap_or_default().to_string(),
                    v["params"].clone(),
                    None,
                )
            }
            Request::FailedPage { before_id, filter } => (
                "failed_page".into(),
                serde_json::json!({ "before": before_id, "filter": filter }),
                None,
            ),
            Request::Shutdown => ("shutdown".into(), serde_json::json!({}), None),
            Request::Call {
                view,
                method,
                params,
                tag,
            } => (method.to_string(), params, Some((view, tag))),
            // Handled by the loop, which owns the terminal.
            Request::Copy(_) => return,
        };
        let result = client.request(&method, params).await;
        let answer = match (reply_to, result) {
            (Some((view, tag)), r) => Answer::Reply {
                view,
                tag,
                result: r.map_err(|e| format!("{method}: {e:#}")),
            },
            (None, Ok(v)) if method == "failed_page" => {
                match serde_json::from_value::<Snapshot>(v) {
                    Ok(s) => Answer::Page(Box::new(s)),
                    Err(e) => Answer::Notice(format!("reading the page: {e}")),
                }
            }
            (None, Ok(v)) => Answer::Notice(
                v.get("notice")
                    .and_then(|n| n.as_str())
                    .unwrap_or("done")
                    .to_string(),
            ),
            (None, Err(e)) => Answer::Notice(format!("{method} refused: {e}")),
        };
        let _ = answers.send(answer).await;
    });
}

/// Carries out a request: the clipboard here, the rest through the engine.
fn dispatch(
    req: Request,
    app: &mut App,
    engine_alive: bool,
    client: &Arc<ControlClient>,
    answers: &mpsc::Sender<Answer>,
) {
    if let Request::Copy(text) = &req {
        let seq = copy::osc52(text, copy::Multiplexer::detect());
        let mut out = std::io::stdout();
        if let Err(e) = out.write_all(seq.as_bytes()).and_then(|()| out.flush()) {
            app.ctx.say(format!("copying: {e}"));
        }
        return;
    }
    if engine_alive {
        send_request(client, req, answers);
    } else {
        app.ctx
            .say("the engine has stopped; requests are not taken");
    }
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
        if let Some(req) = app.poll() {
            dispatch(req, app, engine_alive, &client, &answers_tx);
            dirty = true;
        }
        if dirty {
            app.ctx.now = Some(chrono::Utc::now());
            // Synchronized updates stop half-drawn frames flickering over SSH.
            let _ = crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate);
            terminal
                .draw(|f| draw::draw(f, app))
                .context("drawing the console")?;
            let _ = crossterm::queue!(terminal.backend_mut(), EndSynchronizedUpdate);
            let _ = terminal.backend_mut().flush();
            dirty = false;
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                    if let Some(req) = app.handle_key(key) {
                        dispatch(req, app, engine_alive, &client, &answers_tx);
                    }
                    if app.should_quit() {
                        return Ok(());
                    }
                    dirty = true;
                }
                Some(Ok(Event::Mouse(m))) => {
                    if let Some(req) = app.mouse(m) {
                        dispatch(req, app, engine_alive, &client, &answers_tx);
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
                    app.ctx.say_until_replaced("the engine has stopped or the connection to it closed");
                } else if let Some(s) = snapshots.borrow_and_update().clone() {
                    // Coalesced: only the newest snapshot is drawn.
                    app.set_snapshot(s);
                }
                dirty = true;
            }
            Ok(()) = heard.changed(), if engine_alive => {
                app.ctx.heard = *heard.borrow_and_update();
            }
            Some(n) = notices.recv() => {
                app.ctx.say(n.text);
                dirty = true;
            }
            Some(a) = answers.recv() => {
                match a {
                    Answer::Notice(n) => app.ctx.say(n),
                    Answer::Page(s) => app.set_snapshot(*s),
                    Answer::Reply { view, tag, result } => app.on_reply(view, tag, result),
                }
                dirty = true;
            }
            _ = tick.tick() => {
                if let Some(req) = app.tick() {
                    dispatch(req, app, engine_alive, &client, &answers_tx);
                }
                dirty = true;
            }
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
