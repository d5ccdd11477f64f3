//! The editor's four tabs, what each does for the view that holds them,
//! and the layout the list tabs share.

use super::session::EditSession;
use crate::console::action::Action;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::views::Effect;
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Mappings,
    Filters,
    Settings,
    Raw,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Mappings, Tab::Filters, Tab::Settings, Tab::Raw];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Mappings => "mappings",
            Tab::Filters => "filters",
            Tab::Settings => "settings",
            Tab::Raw => "toml",
        }
    }
}

/// A list with an entry's form under it: the list as tall as its rows
/// (at least 3), the form the rest; the list alone when no form is open.
pub(super) fn list_and_form(area: Rect, rows: usize, form: Option<u16>) -> [Rect; 2] {
    match form {
        Some(h) => Layout::vertical([
            Constraint::Max((rows as u16 + 2).max(3)),
            Constraint::Min(h.min(area.height * 2 / 3)),
        ])
        .areas(area),
        None => Layout::vertical([Constraint::Min(3), Constraint::Length(0)]).areas(area),
    }
}

/// What every tab does: its own keys, text taken as typed, drawing.
/// A tab changes the working copy only through the session.
pub(super) trait TabView {
    /// Its actions in the footer's order, the editor's shared ones after.
    fn actions(&self) -> &'static [Action];
    fn mode(&self) -> Mode {
        Mode::Normal
    }
    fn update(
        &mut self,
        action: Action,
        object: ObjectKind,
        s: &mut EditSession,
        ctx: &mut Ctx,
    ) -> Effect;
    fn key(&mut self, _key: KeyEvent, _object: ObjectKind, _s: &EditSession, _ctx: &mut Ctx) {}
    /// Esc: closes something of the tab's own (a form, a picker); false
    /// when there was nothing to close.
    fn back(&mut self, _object: ObjectKind, _s: &mut EditSession, _ctx: &mut Ctx) -> bool {
        false
    }
    /// Whether the tab is busy with an entry (Tab then stays inside it).
    fn busy(&self) -> bool {
        false
    }
    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx);
}
