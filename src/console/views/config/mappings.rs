//! The mappings tab: the object's field mappings in file order (app column
//! ↔ HubSpot property, direction, transform, value map, default,
//! only-if-empty), each with what the validators say beside it. `a` adds,
//! Enter edits, `x` removes, `J`/`K` move. The form takes each change into
//! the working copy as soon as it loads; the column and the property are
//! picked with fuzzy search from the table's real columns and HubSpot's
//! property list.

use super::TabView;
use super::session::{EditSession, error_for};
use crate::config::edit::{Edit, FieldSpec};
use crate::console::action::Action;
use crate::console::components::form::{Form, Row, RowKind};
use crate::console::components::pane_focused;
use crate::console::components::picker::{Choice, Picker};
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
use std::collections::BTreeMap;

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

const OBJECTS_DIRECTION: &str = "(the object's)";

#[derive(Default)]
pub struct MappingsTab {
    selected: usize,
    form: Option<FieldForm>,
    /// The row being picked for, and the picker.
    picker: Option<(&'static str, Picker)>,
}

struct FieldForm {
    /// The field's index in the file; None until a new one first loads.
    index: Option<usize>,
    form: Form,
    /// Whether the form's values are in the working copy.
    kept: bool,
}

fn arrow(direction: &str) -> &'static str {
    match direction {
        "to_hubspot" => "→",
        "to_app" => "←",
        _ => "↔",
    }
}

fn form_for(spec: &FieldSpec, title: String) -> Form {
    let transforms: Vec<String> = crate::sync::transform::Transform::NAMES
        .iter()
        .filter(|n| **n != "value_map")
        .map(|n| n.to_string())
        .collect();
    let values = spec
        .values
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Form::new(
        title,
        vec![
            Row::new("app", "app column", spec.app.join(", "), RowKind::Pick)
                .hint("Enter picks from the table's columns; e types (two for join_name)"),
            Row::new(
                "hubspot",
                "HubSpot property",
                spec.hubspot.join(", "),
                RowKind::Pick,
            )
            .hint("Enter picks from HubSpot's properties; e types"),
            Row::new(
                "direction",
                "direction",
                spec.direction.clone().unwrap_or(OBJECTS_DIRECTION.into()),
                RowKind::Choice(
                    [OBJECTS_DIRECTION, "both", "to_hubspot", "to_app"]
                        .map(String::from)
                        .to_vec(),
                ),
            ),
            Row::new(
                "transform",
                "transform",
                spec.transform.clone().unwrap_or("none".into()),
                RowKind::Choice(transforms),
            ),
            Row::new("values", "value map", values, RowKind::Text)
                .hint("app value=HubSpot option, comma-separated"),
            Row::new(
                "default",
                "default",
                spec.default.clone().unwrap_or_default(),
                RowKind::Text,
            )
            .hint("written when the app value is empty"),
            Row::new(
                "only_if_empty",
                "only if empty",
                if spec.only_if_empty { "yes" } else { "no" },
                RowKind::Toggle,
            )
            .hint("write only where the other side has no value"),
        ],
    )
}

fn names(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as a field mapping, or the row that cannot be read and why.
fn spec_of(f: &Form) -> Result<FieldSpec, (String, String)> {
    let opt = |k: &str| {
        let v = f.current(k).trim().to_string();
        (!v.is_empty()).then_some(v)
    };
    let values = match opt("values") {
        None => None,
        Some(text) => {
            let mut m = BTreeMap::new();
            for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((a, h)) = pair.split_once('=') else {
                    return Err((
                        "values".into(),
                        format!("{pair:?}: write app value=HubSpot option"),
                    ));
                };
                m.insert(a.trim().to_string(), h.trim().to_string());
            }
            Some(m)
        }
    };
    Ok(FieldSpec {
        app: names(&f.current("app")),
        hubspot: names(&f.current("hubspot")),
        direction: opt("direction").filter(|d| d != OBJECTS_DIRECTION),
        transform: opt("transform").filter(|t| t != "none" || values.is_some()),
        values,
        default: opt("default"),
        only_if_empty: f.current("only_if_empty") == "yes",
    })
}

impl FieldForm {
    fn edit(&self, object: ObjectKind, spec: FieldSpec) -> Edit {
        match self.index {
            Some(index) => Edit::SetField {
                object,
                index,
                field: spec,
            },
            None => Edit::AddField {
                object,
                field: spec,
                at: None,
            },
        }
    }

    fn entry(&self, s: &EditSession, object: ObjectKind) -> String {
        let i = self.index.unwrap_or_else(|| s.doc.fields(object).len());
        format!("fields[{i}]")
    }

    /// What the validators say about the form as it stands (typed text
    /// included), without changing the working copy.
    fn check(&mut self, object: ObjectKind, s: &EditSession) {
        let entry = self.entry(s, object);
        let errors = match spec_of(&self.form) {
            Err(e) => vec![e],
            Ok(spec) => match s.try_edit(&self.edit(object, spec)) {
                Ok(problems) => problems
                    .into_iter()
                    .filter(|p| p.entry == entry)
                    .map(|p| (p.field, p.message))
                    .collect(),
                Err(e) => vec![error_for(object, &entry, &e)],
            },
        };
        self.form.set_errors(errors);
    }

    /// Takes the form into the working copy if it loads.
    fn keep(&mut self, object: ObjectKind, s: &mut EditSession) {
        let entry = self.entry(s, object);
        let spec = match spec_of(&self.form) {
            Ok(spec) => spec,
            Err(e) => {
                self.kept = false;
                self.form.set_errors(vec![e]);
                return;
            }
        };
        if self.kept
            && self
                .index
                .is_some_and(|i| s.doc.fields(object).get(i) == Some(&spec))
        {
            return self.check(object, s);
        }
        match s.apply(self.edit(object, spec)) {
            Ok(()) => {
                self.kept = true;
                if self.index.is_none() {
                    self.index = Some(s.doc.fields(object).len().saturating_sub(1));
                }
                self.form.set_errors(s.problems_of(object, &entry));
            }
            Err(e) => {
                self.kept = false;
                self.form.set_errors(vec![error_for(object, &entry, &e)]);
            }
        }
    }
}

impl MappingsTab {
    fn picker_for(
        &self,
        row: &'static str,
        object: ObjectKind,
        s: &EditSession,
        current: &str,
    ) -> Picker {
        let facts = s.facts.get(&object);
        let (title, choices, source) = if row == "app" {
            let mapped: Vec<String> = s
                .doc
                .fields(object)
                .into_iter()
                .flat_map(|f| f.app)
                .collect();
            let choices = match facts.map(|f| &f.columns) {
                Some(Ok(cols)) => cols
                    .iter()
                    .map(|c| Choice {
                        value: c.name.clone(),
                        detail: c.type_name.clone(),
                        label: String::new(),
                        warning: mapped.contains(&c.name).then(|| "already mapped".into()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let source = match facts.map(|f| &f.columns) {
                Some(Err(e)) => format!("the table's columns could not be read: {e}"),
                _ => format!(
                    "columns of {}",
                    facts.map_or("the table", |f| f.table.as_str())
                ),
            };
            ("app column", choices, source)
        } else {
            let choices = match facts.map(|f| &f.properties) {
                Some(Ok(props)) => props
                    .iter()
                    .map(|p| Choice {
                        value: p.name.clone(),
                        detail: format!("{} · {}", p.kind, p.label),
                        label: p.label.clone(),
                        warning: p.is_read_only().then(|| "read-only in HubSpot".into()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let source = match facts.map(|f| (&f.properties, &f.fetched_at)) {
                Some((Err(e), _)) => format!("HubSpot's properties could not be fetched: {e}"),
                Some((_, Some(at))) => format!(
                    "HubSpot's {object} properties, fetched {} · F5 (outside the picker) fetches again",
                    at.get(11..19).unwrap_or(at)
                ),
                _ => "HubSpot's properties".into(),
            };
            ("HubSpot property", choices, source)
        };
        let mut p = Picker::new(title, choices, current);
        p.source = source;
        p
    }

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
        self.form = Some(f);
    }
}

impl TabView for MappingsTab {
    fn actions(&self) -> &'static [Action] {
        match (&self.picker, &self.form) {
            (Some(_), _) => PICKING,
            (None, Some(f)) if f.form.is_editing() => TYPING,
            (None, Some(_)) => FORM,
            (None, None) => LIST,
        }
    }

    fn mode(&self) -> Mode {
        let typing = self.form.as_ref().is_some_and(|f| f.form.is_editing());
        if self.picker.is_some() || typing {
            Mode::Prompt
        } else {
            Mode::Normal
        }
    }

    fn busy(&self) -> bool {
        self.form.is_some()
    }

    fn update(
        &mut self,
        action: Action,
        object: ObjectKind,
        s: &mut EditSession,
        ctx: &mut Ctx,
    ) -> Effect {
        if let Some((row, picker)) = &mut self.picker {
            match action {
                Action::HistoryNext => picker.down(),
                Action::HistoryPrev => picker.up(),
                Action::Submit => {
                    let (row, picked) = (*row, picker.pick());
                    self.picker = None;
                    if let (Some(v), Some(f)) = (picked, self.form.as_mut()) {
                        f.form.set(row, v);
                        f.keep(object, s);
                    }
                }
                Action::Cancel => self.picker = None,
                _ => {}
            }
            return Effect::None;
        }
        if let Some(f) = &mut self.form {
            if f.form.is_editing() {
                match action {
                    Action::Submit => {
                        f.form.commit_edit();
                        f.keep(object, s);
                    }
                    Action::Cancel => {
                        f.form.cancel_edit();
                        f.check(object, s);
                    }
                    _ => {}
                }
                return Effect::None;
            }
            match action {
                Action::Down => f.form.down(),
                Action::Up => f.form.up(),
                Action::Open | Action::Mark | Action::EditField => {
                    let Some(row) = f.form.row() else {
                        return Effect::None;
                    };
                    let (key, value) = (row.key, row.value.clone());
                    match (&row.kind, action) {
                        (RowKind::Pick, Action::Open) => {
                            let p = self.picker_for(key, object, s, &value);
                            self.picker = Some((key, p));
                        }
                        (RowKind::Text | RowKind::Pick, _) => f.form.begin_edit(),
                        (RowKind::Choice(_) | RowKind::Toggle, _) => {
                            f.form.cycle(false);
                            f.keep(object, s);
                        }
                    }
                }
                _ => {}
            }
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
        if let Some((_, p)) = &mut self.picker {
            p.input(key);
        } else if let Some(f) = &mut self.form
            && f.form.input(key)
        {
            f.check(object, s);
        }
    }

    fn back(&mut self, object: ObjectKind, s: &mut EditSession, ctx: &mut Ctx) -> bool {
        if self.picker.take().is_some() {
            return true;
        }
        let Some(f) = self.form.take() else {
            return false;
        };
        if !f.kept {
            let why = f
                .form
                .error
                .clone()
                .or_else(|| f.form.rows.iter().find_map(|r| r.error.clone()))
                .unwrap_or_else(|| "it does not load".into());
            ctx.say(format!("the entry as typed was not kept: {why}"));
        } else if let Some(i) = f.index {
            self.selected = i.min(s.doc.fields(object).len().saturating_sub(1));
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let fields = s.doc.fields(object);
        let object_direction = s
            .doc
            .setting(object, "direction")
            .unwrap_or_else(|| "both".into());
        let [list_area, form_area] = super::list_and_form(
            area,
            fields.len(),
            self.form.as_ref().map(|f| f.form.rows.len() as u16 + 4),
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
            let chosen = i == self.selected && self.form.is_none();
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
            Paragraph::new(lines).block(pane_focused(ctx, title, self.form.is_none())),
            list_area,
        );
        if let Some(f) = &self.form {
            let state = if f.kept {
                "in the working copy"
            } else {
                "not kept yet"
            };
            let block = pane_focused(
                ctx,
                format!("{} · {state} · Esc closes", f.form.title),
                self.picker.is_none(),
            );
            let inner = block.inner(form_area);
            frame.render_widget(block, form_area);
            f.form.draw(frame, inner, ctx);
        }
        if let Some((_, p)) = &self.picker {
            p.draw_over(frame, area, ctx);
        }
    }
}
