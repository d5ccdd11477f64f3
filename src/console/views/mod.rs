//! The console's screens. Each view owns its state, says which actions it
//! answers (its keys and footer hints come from the keymap through that
//! list), turns an action into an [`Effect`] without doing I/O, and draws
//! itself. Views stack: `:jobs` pushes one, Esc goes back, the overview at
//! the bottom never leaves.
//!
//! Adding a view: a file here with a type implementing [`View`], and a row
//! in [`commands::COMMANDS`] that opens it.

pub mod audit;
pub mod commands;
pub mod config;
pub mod failed;
pub mod history;
pub mod jobs;
pub mod log;
pub mod metrics;
pub mod overview;
pub mod record;
pub mod records;

pub use audit::AuditLogView;
pub use config::ConfigView;
pub use failed::FailedView;
pub use history::HistoryView;
pub use jobs::JobsView;
pub use log::LogView;
pub use metrics::MetricsView;
pub use overview::{OverviewView, focus as focus_overview};
pub use record::RecordStoryView;
pub use records::RecordsView;

use super::action::Action;
use super::app::{Popup, Request};
use super::ctx::Ctx;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde_json::Value;

/// What a view asks the app to do after an action.
pub enum Effect {
    None,
    /// Send this to the engine.
    Request(Request),
    /// Ask the engine for data this view will get back in
    /// [`View::on_reply`], under `tag`.
    Call {
        method: &'static str,
        params: Value,
        tag: &'static str,
    },
    /// Open another view on top of this one.
    Push(Box<dyn View>),
    /// Close this view (as Esc does).
    Pop,
    /// Show a popup (a question, the copy menu, …).
    Popup(Popup),
    /// Open a one-line prompt whose text comes back in
    /// [`View::on_input`] under `tag`.
    Input {
        tag: &'static str,
        label: String,
        initial: String,
    },
}

pub trait View {
    /// Shown in the title bar and by `:` completion.
    fn title(&self) -> String;

    /// The `:` command that opens this view, so it is not opened twice.
    fn command(&self) -> &'static str;

    /// The normal-mode actions this view answers, in the order the footer
    /// shows them (the help lists every binding).
    fn actions(&self) -> &'static [Action];

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect;

    /// The view was opened: what it asks the engine for first.
    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    /// A second passed while this view is in front (views that read the
    /// engine again, or follow a tail).
    fn on_tick(&mut self, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    /// Esc: undo something of this view's own (close its detail, clear its
    /// filter) and say what that takes, or `None` to go back a view.
    fn back(&mut self, _ctx: &mut Ctx) -> Option<Effect> {
        None
    }

    /// Which keymap table applies while this view is in front: an editor
    /// view takes its keys as text (see [`View::key`]).
    fn mode(&self) -> super::keymap::Mode {
        super::keymap::Mode::Normal
    }

    /// A key that is not one of the mode's actions, in editor mode: text.
    fn key(&mut self, _key: crossterm::event::KeyEvent, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    /// `/` as typed: filter the focused list. `None`: nothing to filter here.
    fn filter(&mut self, _text: &str, _ctx: &mut Ctx) -> Option<Effect> {
        None
    }

    /// The filter in force, for the title and for `/` to start from.
    fn filter_text(&self) -> Option<&str> {
        None
    }

    /// A new snapshot arrived (the view's lists may have changed under it).
    /// A new snapshot replaced `old` (the view's lists may have changed
    /// under its selection).
    fn on_snapshot(&mut self, _old: &crate::status::Snapshot, _ctx: &mut Ctx) {}

    /// The answer to an [`Effect::Call`] this view made.
    fn on_reply(&mut self, _tag: &'static str, _result: Result<Value, String>, _ctx: &mut Ctx) {}

    /// The text typed into an [`Effect::Input`] prompt this view opened.
    fn on_input(&mut self, _tag: &'static str, _text: String, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    /// What `c` can copy from the selection: (what it is, the text).
    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// A request this view wants sent now, unasked by a key (its first
    /// load, a reload once a change it made has landed); asked after
    /// every event while the view is in front.
    fn wants(&mut self, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    /// A click at a screen position (mouse on): select what is there.
    fn click(&mut self, _column: u16, _row: u16, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx);
}
