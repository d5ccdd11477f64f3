//! The settings tab: the object's direction, create policy, system of
//! record, poll interval and batch size, as one form. A choice takes
//! effect in the working copy as soon as it loads; a number is typed and
//! checked as it is typed. "(default)" removes the key, so the default
//! applies and the file says nothing.

use super::session::{EditSession, error_for};
use super::tabs::TabView;
use crate::config::edit::Edit;
use crate::console::action::Action;
use crate::console::components::form::{Form, Row, RowKind};
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::views::Effect;
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use serde_json::Value;

const FORM: &[Action] = &[
    Action::Open,
    Action::EditField,
    Action::Down,
    Action::Up,
    Action::FocusNext,
    Action::FocusPrev,
    Action::PreviewConfig,
    Action::Apply,
    Action::Undo,
    Action::Refresh,
];
const TYPING: &[Action] = &[Action::Submit, Action::Cancel];

const DEFAULT: &str = "(default)";

#[derive(Default)]
pub struct SettingsTab {
    form: Option<Form>,
    /// The object the form was filled for.
    object: Option<ObjectKind>,
    /// The working copy's text the form was filled from: another tab's
    /// edit (or undo) fills it again.
    filled_from: String,
}

fn choice(options: &[&str]) -> RowKind {
    RowKind::Choice(
        std::iter::once(DEFAULT)
            .chain(options.iter().copied())
            .map(String::from)
            .collect(),
    )
}

fn form_for(s: &EditSession, object: ObjectKind) -> Form {
    let v = |k: &str| s.doc.setting(object, k).unwrap_or_else(|| DEFAULT.into());
    let text = |k: &str| s.doc.setting(object, k).unwrap_or_default();
    Form::new(
        format!("settings of {object}"),
        vec![
            Row::new(
                "direction",
                "direction",
                v("direction"),
                choice(&["both", "to_hubspot", "to_app"]),
            )
            .hint("which way records flow (default both; deals: to_app)"),
            Row::new(
                "create",
                "create",
                v("create"),
                choice(&["both", "hubspot", "app", "none"]),
            )
            .hint("which side may create records in the other (default: each side data flows to)"),
            Row::new(
                "system_of_record",
                "system of record",
                v("system_of_record"),
                choice(&["app", "hubspot"]),
            )
            .hint("who wins when both sides changed a field (default app)"),
            Row::new(
                "poll_interval_secs",
                "poll interval",
                text("poll_interval_secs"),
                RowKind::Text,
            )
            .hint("seconds between polls; empty: the default"),
            Row::new(
                "batch_size",
                "batch size",
                text("batch_size"),
                RowKind::Text,
            )
            .hint("records per HubSpot batch (at most 100); empty: the default"),
        ],
    )
}

impl SettingsTab {
    fn sync(&mut self, s: &EditSession, object: ObjectKind) {
        let text = s.text();
        if self.form.is_none() || self.object != Some(object) || self.filled_from != text {
            let selected = self.form.as_ref().map_or(0, |f| f.selected);
            let mut f = form_for(s, object);
            f.selected = selected.min(f.rows.len() - 1);
            f.set_errors(s.problems_of(object, ""));
            self.form = Some(f);
            self.object = Some(object);
            self.filled_from = text;
        }
    }

    /// The selected row's value (typed text included) as an edit.
    fn edit(f: &Form, object: ObjectKind) -> Option<Edit> {
        let row = f.row()?;
        let v = f.current(row.key);
        let value = (v.trim() != DEFAULT && !v.trim().is_empty())
            .then(|| Value::String(v.trim().to_string()));
        Some(Edit::SetSetting {
            object,
            key: row.key.to_string(),
            value,
        })
    }

    fn check(&mut self, s: &EditSession, object: ObjectKind) {
        let Some(f) = &mut self.form else { return };
        let Some(edit) = Self::edit(f, object) else {
            return;
        };
        let errors = match s.try_edit(&edit) {
            Ok(problems) => problems
                .into_iter()
                .filter(|p| p.entry.is_empty())
                .map(|p| (p.field, p.message))
                .collect(),
            Err(e) => vec![row_error(f, object, &e)],
        };
        f.set_errors(errors);
    }

    fn keep(&mut self, s: &mut EditSession, object: ObjectKind) {
        let Some(f) = &mut self.form else { return };
        let Some(edit) = Self::edit(f, object) else {
            return;
        };
        match s.apply(edit) {
            Ok(()) => {
                f.set_errors(s.problems_of(object, ""));
                self.filled_from = s.text();
            }
            Err(e) => {
                let err = row_error(f, object, &e);
                f.set_errors(vec![err]);
            }
        }
    }
}

/// A loading error beside the row being changed when it names no other.
fn row_error(f: &Form, object: ObjectKind, e: &crate::config::ConfigError) -> (String, String) {
    let (field, message) = error_for(object, "", e);
    if field.is_empty() || !f.rows.iter().any(|r| r.key == field) {
        (f.row().map_or("", |r| r.key).to_string(), message)
    } else {
        (field, message)
    }
}

impl TabView for SettingsTab {
    fn actions(&self) -> &'static [Action] {
        if self.form.as_ref().is_some_and(Form::is_editing) {
            TYPING
        } else {
            FORM
        }
    }

    fn mode(&self) -> Mode {
        if self.form.as_ref().is_some_and(Form::is_editing) {
            Mode::Prompt
        } else {
            Mode::Normal
        }
    }

    fn busy(&self) -> bool {
        self.form.as_ref().is_some_and(Form::is_editing)
    }

    fn update(
        &mut self,
        action: Action,
        object: ObjectKind,
        s: &mut EditSession,
        _ctx: &mut Ctx,
    ) -> Effect {
        self.sync(s, object);
        let Some(f) = &mut self.form else {
            return Effect::None;
        };
        if f.is_editing() {
            match action {
                Action::Submit => {
                    f.commit_edit();
                    self.keep(s, object);
                }
                Action::Cancel => {
                    f.cancel_edit();
                    f.set_errors(s.problems_of(object, ""));
                }
                _ => {}
            }
            return Effect::None;
        }
        match action {
            Action::Down => f.down(),
            Action::Up => f.up(),
            Action::Open | Action::Mark | Action::EditField => match f.row().map(|r| &r.kind) {
                Some(RowKind::Text) => f.begin_edit(),
                Some(RowKind::Choice(_)) if action != Action::EditField => {
                    f.cycle(false);
                    self.keep(s, object);
                }
                _ => {}
            },
            _ => {}
        }
        Effect::None
    }

    fn key(&mut self, key: KeyEvent, object: ObjectKind, s: &EditSession, _ctx: &mut Ctx) {
        if self.form.as_mut().is_some_and(|f| f.input(key)) {
            self.check(s, object);
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let block = pane_focused(
            ctx,
            format!("settings of {object} · Enter changes · checked as typed"),
            true,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        // Drawn from the working copy when the form has not been filled
        // yet (the first frame after opening the tab).
        match &self.form {
            Some(f) if self.object == Some(object) && self.filled_from == s.text() => {
                f.draw(frame, inner, ctx)
            }
            _ => {
                let mut f = form_for(s, object);
                f.set_errors(s.problems_of(object, ""));
                f.draw(frame, inner, ctx);
            }
        }
    }
}
