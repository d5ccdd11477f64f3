//! The mappings tab: the object's field mappings in file order (app column
//! ↔ HubSpot property, direction, transform, value map, default,
//! only-if-empty), each with what the validators say beside it. `a` adds,
//! Enter edits, `x` removes, `J`/`K` move. The form takes each change into
//! the working copy as soon as it loads; the column and the property are
//! picked with fuzzy search from the table's real columns and HubSpot's
//! property list.

use super::entry::EntryEditor;
use super::field_form::{FieldForm, form_for};
use super::session::EditSession;
use super::tabs::TabView;
use crate::config::edit::Edit;
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::text::{sanitize, truncate};
use crate::console::views::Effect;
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// The list's keys, then the editor's shared ones.
const LIST: &[Action] = &[
    Action::Open,
    Action::Add,
    Action::Remove,
    Action::MoveDown,
    Action::MoveUp,
    Action::Down,
    Action::Up,
    Action::FocusNext,
    Action::FocusPrev,
    Action::PreviewConfig,
    Action::Apply,
    Action::Undo,
    Action::PreviewRecord,
    Action::Refresh,
];
#[derive(Default)]
pub struct MappingsTab {
    selected: usize,
    editor: Option<EntryEditor<FieldForm>>,
}

fn arrow(direction: &str) -> &'static str {
    match direction {
        "to_hubspot" => "→",
        "to_app" => "←",
        _ => "↔",
    }
}

impl MappingsTab {
    fn open_form(&mut self, index: Option<usize>, object: ObjectKind, s: &EditSession) {
        let spec = index
            .and_then(|i| s.doc.fields(object).get(i).cloned())
            .unwrap_or_default();
        let title = match index {
            Some(i) => format!("field {} of {object}", i + 1),
            None => format!("new field of {object}"),
        };
        let mut f = FieldForm {
            index,
            form: form_for(&spec, title),
            kept: index.is_some(),
        };
        f.check(object, s);
        self.editor = Some(EntryEditor::new(f));
    }
}

impl TabView for MappingsTab {
    fn actions(&self) -> &'static [Action] {
        self.editor.as_ref().map_or(LIST, EntryEditor::actions)
    }

    fn mode(&self) -> Mode {
        EntryEditor::mode_of(self.editor.as_ref())
    }

    fn busy(&self) -> bool {
        self.editor.is_some()
    }

    fn update(
        &mut self,
        action: Action,
        object: ObjectKind,
        s: &mut EditSession,
        ctx: &mut Ctx,
    ) -> Effect {
        if let Some(e) = &mut self.editor {
            e.update(action, object, s);
            return Effect::None;
        }
        let fields = s.doc.fields(object);
        let last = fields.len().saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open | Action::EditField if !fields.is_empty() => {
                self.open_form(Some(self.selected), object, s)
            }
            Action::Add => self.open_form(None, object, s),
            Action::Remove if !fields.is_empty() => {
                let f = &fields[self.selected];
                let what = format!("{} ↔ {}", f.app.join("+"), f.hubspot.join("+"));
                match s.apply(Edit::RemoveField {
                    object,
                    index: self.selected,
                }) {
                    Ok(()) => {
                        ctx.say(format!("removed field {what} (ctrl-z undoes)"));
                        self.selected = self.selected.min(last.saturating_sub(1));
                    }
                    Err(e) => ctx.say(format!("cannot remove {what}: {}", e.message)),
                }
            }
            Action::MoveDown | Action::MoveUp if !fields.is_empty() => {
                let to = if action == Action::MoveDown {
                    (self.selected + 1).min(last)
                } else {
                    self.selected.saturating_sub(1)
                };
                if to != self.selected
                    && s.apply(Edit::MoveField {
                        object,
                        from: self.selected,
                        to,
                    })
                    .is_ok()
                {
                    self.selected = to;
                }
            }
            _ => {}
        }
        Effect::None
    }

    fn key(&mut self, key: KeyEvent, object: ObjectKind, s: &EditSession, _ctx: &mut Ctx) {
        if let Some(e) = &mut self.editor {
            e.key(key, object, s);
        }
    }

    fn back(&mut self, object: ObjectKind, s: &mut EditSession, ctx: &mut Ctx) -> bool {
        let Some(e) = &mut self.editor else {
            return false;
        };
        if e.close_picker() {
            return true;
        }
        match e.not_kept() {
            Some(why) => ctx.say(format!("the entry as typed was not kept: {why}")),
            None => {
                if let Some(i) = e.entry.index {
                    self.selected = i.min(s.doc.fields(object).len().saturating_sub(1));
                }
            }
        }
        self.editor = None;
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let fields = s.doc.fields(object);
        let object_direction = s
            .doc
            .setting(object, "direction")
            .unwrap_or_else(|| "both".into());
        let [list_area, form_area] = super::tabs::list_and_form(
            area,
            fields.len(),
            self.editor
                .as_ref()
                .map(|e| e.entry.form.rows.len() as u16 + 4),
        );
        let inner_h = list_area.height.saturating_sub(2) as usize;
        let width = list_area.width.saturating_sub(2) as usize;
        let start = self.selected.saturating_sub(inner_h.saturating_sub(1));
        let mut lines: Vec<Line> = Vec::new();
        if fields.is_empty() {
            lines.push(Line::styled(
                "no field mappings yet: a adds one",
                ctx.theme.muted(),
            ));
        }
        for (i, f) in fields.iter().enumerate().skip(start).take(inner_h) {
            let chosen = i == self.selected && self.editor.is_none();
            let dir = f.direction.as_deref().unwrap_or(&object_direction);
            let mut extra = Vec::new();
            if let Some(t) = &f.transform {
                extra.push(t.clone());
            }
            if f.values.is_some() {
                extra.push("value map".into());
            }
            if let Some(d) = &f.default {
                extra.push(format!("default {d:?}"));
            }
            if f.only_if_empty {
                extra.push("only if empty".into());
            }
            let row = format!(
                "{}{:>2} {:<18} {} {:<18} {}",
                if chosen { "›" } else { " " },
                i + 1,
                truncate(&sanitize(&f.app.join("+")), 18),
                arrow(dir),
                truncate(&sanitize(&f.hubspot.join("+")), 18),
                extra.join(", ")
            );
            let problems = s.problems_of(object, &format!("fields[{i}]"));
            let mut spans = vec![Span::styled(
                truncate(&row, width),
                if chosen {
                    ctx.theme.selection()
                } else {
                    ctx.theme.base()
                },
            )];
            if let Some((_, m)) = problems.first() {
                let used = row.chars().count().min(width);
                spans.push(Span::styled(
                    truncate(&format!("  ✗ {}", sanitize(m)), width.saturating_sub(used)),
                    ctx.theme.error(),
                ));
            }
            lines.push(Line::from(spans));
        }
        if let Some(e) = &s.load_error {
            lines.push(Line::styled(
                truncate(&format!("✗ {}", sanitize(&e.to_string())), width),
                ctx.theme.error(),
            ));
        }
        let title = format!(
            "field mappings of {object} ({}) · app {} HubSpot",
            fields.len(),
            arrow(&object_direction)
        );
        frame.render_widget(
            Paragraph::new(lines).block(pane_focused(ctx, title, self.editor.is_none())),
            list_area,
        );
        if let Some(e) = &self.editor {
            e.draw(frame, form_area, area, ctx);
        }
    }
}
