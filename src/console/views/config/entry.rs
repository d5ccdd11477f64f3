//! Editing one entry of a list tab (a field mapping, a filter) in a form:
//! rows moved with j/k, a choice cycled, a text typed (checked as typed),
//! a column, property or operator picked with fuzzy search. What the entry
//! means as an edit is the entry's own ([`Entry`]); the keys, the picker
//! and the drawing are the same for every list.

use super::session::EditSession;
use crate::console::action::Action;
use crate::console::components::form::{Form, RowKind};
use crate::console::components::pane_focused;
use crate::console::components::picker::Picker;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

const FORM: &[Action] = &[
    Action::Open,
    Action::EditField,
    Action::Mark,
    Action::Down,
    Action::Up,
    Action::Back,
];
const TYPING: &[Action] = &[Action::Submit, Action::Cancel];
const PICKING: &[Action] = &[
    Action::Submit,
    Action::HistoryNext,
    Action::HistoryPrev,
    Action::Cancel,
];

/// An entry being edited in a form.
pub(super) trait Entry {
    fn form(&self) -> &Form;
    fn form_mut(&mut self) -> &mut Form;
    /// Whether the form's values are in the working copy.
    fn kept(&self) -> bool;
    /// What the validators say of the form as it stands, typed text
    /// included, without changing the working copy.
    fn check(&mut self, object: ObjectKind, s: &EditSession);
    /// Takes the form into the working copy if it loads.
    fn keep(&mut self, object: ObjectKind, s: &mut EditSession);
    /// The picker for a row picked from a list.
    fn picker(&self, row: &'static str, object: ObjectKind, s: &EditSession) -> Picker;
    /// Whether a changed choice makes a whole entry yet (a new filter
    /// group's direction alone does not): kept if so, else only checked.
    fn complete(&self) -> bool {
        true
    }
}

pub(super) struct EntryEditor<E> {
    pub entry: E,
    /// The row being picked for, and the picker.
    picker: Option<(&'static str, Picker)>,
}

impl<E: Entry> EntryEditor<E> {
    pub fn new(entry: E) -> Self {
        EntryEditor {
            entry,
            picker: None,
        }
    }

    pub fn actions(&self) -> &'static [Action] {
        if self.picker.is_some() {
            PICKING
        } else if self.entry.form().is_editing() {
            TYPING
        } else {
            FORM
        }
    }

    /// The keymap a list tab takes with this editor open or not: a value
    /// typed and a picker's search take keys as text.
    pub fn mode_of(editor: Option<&Self>) -> Mode {
        match editor {
            Some(e) if e.picker.is_some() || e.entry.form().is_editing() => Mode::Prompt,
            _ => Mode::Normal,
        }
    }

    pub fn update(&mut self, action: Action, object: ObjectKind, s: &mut EditSession) {
        if let Some((row, picker)) = &mut self.picker {
            match action {
                Action::HistoryNext => picker.down(),
                Action::HistoryPrev => picker.up(),
                Action::Submit => {
                    let (row, picked) = (*row, picker.pick());
                    self.picker = None;
                    if let Some(v) = picked {
                        self.entry.form_mut().set(row, v);
                        self.entry.keep(object, s);
                    }
                }
                Action::Cancel => self.picker = None,
                _ => {}
            }
            return;
        }
        let e = &mut self.entry;
        if e.form().is_editing() {
            match action {
                Action::Submit => {
                    e.form_mut().commit_edit();
                    e.keep(object, s);
                }
                Action::Cancel => {
                    e.form_mut().cancel_edit();
                    e.check(object, s);
                }
                _ => {}
            }
            return;
        }
        match action {
            Action::Down => e.form_mut().down(),
            Action::Up => e.form_mut().up(),
            Action::Open | Action::Mark | Action::EditField => {
                let Some(row) = e.form().row() else {
                    return;
                };
                match (&row.kind, action) {
                    (RowKind::Pick, Action::Open) => {
                        let key = row.key;
                        let p = e.picker(key, object, s);
                        self.picker = Some((key, p));
                    }
                    (RowKind::Text | RowKind::Pick, _) => e.form_mut().begin_edit(),
                    (RowKind::Choice(_) | RowKind::Toggle, _) => {
                        e.form_mut().cycle(false);
                        if e.complete() {
                            e.keep(object, s);
                        } else {
                            e.check(object, s);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    pub fn key(&mut self, key: KeyEvent, object: ObjectKind, s: &EditSession) {
        if let Some((_, p)) = &mut self.picker {
            p.input(key);
        } else if self.entry.form_mut().input(key) {
            self.entry.check(object, s);
        }
    }

    /// Esc: closes the picker, and says whether there was one (if not, the
    /// form itself closes).
    pub fn close_picker(&mut self) -> bool {
        self.picker.take().is_some()
    }

    /// Why the entry as typed is not in the working copy, if it is not.
    pub fn not_kept(&self) -> Option<String> {
        if self.entry.kept() {
            return None;
        }
        let f = self.entry.form();
        Some(
            f.error
                .clone()
                .or_else(|| f.rows.iter().find_map(|r| r.error.clone()))
                .unwrap_or_else(|| "it is not complete".into()),
        )
    }

    /// The form in `form_area`, a picker over the whole `tab_area`.
    pub fn draw(&self, frame: &mut Frame, form_area: Rect, tab_area: Rect, ctx: &Ctx) {
        let state = if self.entry.kept() {
            "in the working copy"
        } else {
            "not kept yet"
        };
        let form = self.entry.form();
        let block = pane_focused(
            ctx,
            format!("{} · {state} · Esc closes", form.title),
            self.picker.is_none(),
        );
        let inner = block.inner(form_area);
        frame.render_widget(block, form_area);
        form.draw(frame, inner, ctx);
        if let Some((_, p)) = &self.picker {
            p.draw_over(frame, tab_area, ctx);
        }
    }
}
