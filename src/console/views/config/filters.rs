//! The filters tab: the object's filter groups per direction (the filters
//! of a group ANDed, the groups ORed), each filter with what the
//! validators say beside it. `A` adds a group, `a` a filter to the
//! selected group, Enter edits, `x` removes. The field is picked from the
//! mapped fields of the group's direction (app columns to HubSpot, HubSpot
//! properties to the app), the operator is one of the fourteen, and the
//! value is typed as the field's type (a number stays a number; lists are
//! comma-separated).

use super::TabView;
use super::session::{EditSession, error_for};
use crate::config::edit::{Edit, FilterSpec, GroupSpec};
use crate::config::validate::{FieldType, column_type, property_type};
use crate::console::action::Action;
use crate::console::components::form::{Form, Row, RowKind};
use crate::console::components::pane_focused;
use crate::console::components::picker::{Choice, Picker};
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::text::{sanitize, truncate};
use crate::console::views::Effect;
use crate::model::ObjectKind;
use crate::sync::filter::Op;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::Value as Json;

const LIST: &[Action] = &[
    Action::Open,
    Action::Add,
    Action::AddGroup,
    Action::Remove,
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

/// A line of the list: a group's header, or one of its filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Group(usize),
    Filter(usize, usize),
}

fn items(groups: &[GroupSpec]) -> Vec<Item> {
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        out.push(Item::Group(g));
        out.extend((0..group.filters.len()).map(|i| Item::Filter(g, i)));
    }
    out
}

/// Where a form's filter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    NewGroup,
    NewFilter(usize),
    Filter(usize, usize),
}

struct FilterForm {
    target: Target,
    form: Form,
    kept: bool,
}

#[derive(Default)]
pub struct FiltersTab {
    selected: usize,
    form: Option<FilterForm>,
    /// The row being picked for, and the picker.
    picker: Option<(&'static str, Picker)>,
}

/// An operator in a few words, for the picker.
fn op_meaning(op: Op) -> &'static str {
    match op {
        Op::Equals => "is the value",
        Op::NotEquals => "is not the value",
        Op::Contains => "contains the text",
        Op::NotContains => "does not contain the text",
        Op::GreaterThan => "more than",
        Op::GreaterOrEqual => "at least",
        Op::LessThan => "less than",
        Op::LessOrEqual => "at most",
        Op::IsEmpty => "has no value",
        Op::IsNotEmpty => "has a value",
        Op::StartsWith => "starts with the text",
        Op::EndsWith => "ends with the text",
        Op::IsAnyOf => "one of a list",
        Op::IsNoneOf => "none of a list",
    }
}

/// A value as the form shows it: lists comma-separated.
fn value_text(v: &Option<Json>) -> String {
    fn one(v: &Json) -> String {
        match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::Array(a)) => a.iter().map(one).collect::<Vec<_>>().join(", "),
        Some(v) => one(v),
    }
}

/// Typed text as the field's type: what the file should say.
fn typed(text: &str, ty: &FieldType) -> Json {
    let t = text.trim();
    match ty {
        FieldType::Number => t
            .parse::<i64>()
            .map(Json::from)
            .or_else(|_| t.parse::<f64>().map(Json::from))
            .unwrap_or_else(|_| Json::String(t.to_string())),
        FieldType::Bool if t == "true" || t == "false" => Json::Bool(t == "true"),
        _ => Json::String(t.to_string()),
    }
}

/// The type of a field a filter of `direction` tests.
fn field_type(s: &EditSession, object: ObjectKind, direction: &str, field: &str) -> FieldType {
    let Some(f) = s.facts.get(&object) else {
        return FieldType::Unknown;
    };
    if direction == "to_app" {
        match &f.properties {
            Ok(p) => p
                .iter()
                .find(|p| p.name == field)
                .map_or(FieldType::Unknown, property_type),
            Err(_) => FieldType::Unknown,
        }
    } else {
        match &f.columns {
            Ok(c) => c
                .iter()
                .find(|c| c.name == field)
                .map_or(FieldType::Unknown, |c| column_type(&c.type_name)),
            Err(_) => FieldType::Unknown,
        }
    }
}

impl FilterForm {
    fn direction(&self, s: &EditSession, object: ObjectKind) -> String {
        match self.target {
            Target::NewGroup => self.form.current("direction"),
            Target::NewFilter(g) | Target::Filter(g, _) => s
                .doc
                .filter_groups(object)
                .get(g)
                .map(|g| g.direction.clone())
                .unwrap_or_default(),
        }
    }

    fn spec(&self, s: &EditSession, object: ObjectKind) -> FilterSpec {
        let field = self.form.current("field").trim().to_string();
        let op = self.form.current("op");
        let ty = field_type(s, object, &self.direction(s, object), &field);
        let text = self.form.current("value");
        let value = match Op::parse(&op) {
            Ok(Op::IsEmpty | Op::IsNotEmpty) => None,
            Ok(Op::IsAnyOf | Op::IsNoneOf) => Some(Json::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| typed(v, &ty))
                    .collect(),
            )),
            _ => Some(typed(&text, &ty)),
        };
        FilterSpec { field, op, value }
    }

    fn edit(&self, s: &EditSession, object: ObjectKind) -> Edit {
        let filter = self.spec(s, object);
        match self.target {
            Target::NewGroup => Edit::AddGroup {
                object,
                direction: self.form.current("direction"),
                filter,
            },
            Target::NewFilter(group) => Edit::AddFilter {
                object,
                group,
                filter,
            },
            Target::Filter(group, index) => Edit::SetFilter {
                object,
                group,
                index,
                filter,
            },
        }
    }

    fn entry(&self, s: &EditSession, object: ObjectKind) -> String {
        let groups = s.doc.filter_groups(object);
        let (g, i) = match self.target {
            Target::NewGroup => (groups.len(), 0),
            Target::NewFilter(g) => (g, groups.get(g).map_or(0, |g| g.filters.len())),
            Target::Filter(g, i) => (g, i),
        };
        format!("filter_groups[{g}].filters[{i}]")
    }

    fn errors(
        &self,
        s: &EditSession,
        object: ObjectKind,
        e: &crate::config::ConfigError,
    ) -> Vec<(String, String)> {
        let (field, message) = error_for(object, &self.entry(s, object), e);
        // Loading names the filter, not which of its parts is wrong: the
        // message says it in words.
        let field = if field.is_empty() {
            let m = message.to_lowercase();
            if m.contains("operator") {
                "op"
            } else if m.contains("value") {
                "value"
            } else if m.contains("field") || m.contains("mapped") {
                "field"
            } else {
                ""
            }
            .to_string()
        } else {
            field
        };
        vec![(field, message)]
    }

    fn check(&mut self, s: &EditSession, object: ObjectKind) {
        let entry = self.entry(s, object);
        let errors = match s.try_edit(&self.edit(s, object)) {
            Ok(problems) => problems
                .into_iter()
                .filter(|p| p.entry == entry)
                .map(|p| (p.field, p.message))
                .collect(),
            Err(e) => self.errors(s, object, &e),
        };
        self.form.set_errors(errors);
    }

    fn keep(&mut self, s: &mut EditSession, object: ObjectKind) {
        let entry = self.entry(s, object);
        let edit = self.edit(s, object);
        match s.apply(edit) {
            Ok(()) => {
                self.kept = true;
                let groups = s.doc.filter_groups(object);
                self.target = match self.target {
                    Target::NewGroup => Target::Filter(groups.len().saturating_sub(1), 0),
                    Target::NewFilter(g) => Target::Filter(
                        g,
                        groups
                            .get(g)
                            .map_or(0, |g| g.filters.len().saturating_sub(1)),
                    ),
                    t => t,
                };
                self.form.set_errors(s.problems_of(object, &entry));
            }
            Err(e) => {
                self.kept = false;
                let errors = self.errors(s, object, &e);
                self.form.set_errors(errors);
            }
        }
    }
}

fn form_for(title: String, new_group: bool, spec: &FilterSpec) -> Form {
    let mut rows = Vec::new();
    if new_group {
        rows.push(
            Row::new(
                "direction",
                "direction",
                "to_hubspot",
                RowKind::Choice(vec!["to_hubspot".into(), "to_app".into()]),
            )
            .hint("to_hubspot tests app columns, to_app HubSpot properties"),
        );
    }
    rows.push(Row::new("field", "field", spec.field.clone(), RowKind::Pick).hint("a mapped field"));
    rows.push(
        Row::new(
            "op",
            "operator",
            if spec.op.is_empty() {
                "equals".into()
            } else {
                spec.op.clone()
            },
            RowKind::Pick,
        )
        .hint("Enter picks one of the fourteen"),
    );
    rows.push(
        Row::new("value", "value", value_text(&spec.value), RowKind::Text)
            .hint("typed as the field's type; is_any_of/is_none_of: comma-separated"),
    );
    Form::new(title, rows)
}

impl FiltersTab {
    fn open_form(&mut self, target: Target, s: &EditSession, object: ObjectKind) {
        let groups = s.doc.filter_groups(object);
        let (title, spec) = match target {
            Target::NewGroup => ("new filter group".to_string(), FilterSpec::default()),
            Target::NewFilter(g) => (
                format!(
                    "new filter in group {} ({})",
                    g + 1,
                    groups.get(g).map_or("", |g| g.direction.as_str())
                ),
                FilterSpec::default(),
            ),
            Target::Filter(g, i) => (
                format!("filter {} of group {}", i + 1, g + 1),
                groups
                    .get(g)
                    .and_then(|g| g.filters.get(i).cloned())
                    .unwrap_or_default(),
            ),
        };
        let mut f = FilterForm {
            target,
            form: form_for(title, target == Target::NewGroup, &spec),
            kept: matches!(target, Target::Filter(..)),
        };
        f.check(s, object);
        self.form = Some(f);
    }

    fn picker(row: &'static str, f: &FilterForm, s: &EditSession, object: ObjectKind) -> Picker {
        if row == "op" {
            let choices = Op::ALL
                .iter()
                .map(|op| Choice {
                    value: op.as_str().to_string(),
                    detail: op_meaning(*op).to_string(),
                    label: op_meaning(*op).to_string(),
                    warning: None,
                })
                .collect();
            let mut p = Picker::new("operator", choices, f.form.value("op"));
            p.free = false;
            p.source =
                "is_any_of and is_none_of take a list; is_empty and is_not_empty no value".into();
            return p;
        }
        let direction = f.direction(s, object);
        let fields = s.doc.fields(object);
        let to_app = direction == "to_app";
        let names: Vec<String> = fields
            .into_iter()
            .flat_map(|m| if to_app { m.hubspot } else { m.app })
            .collect();
        let choices = names
            .into_iter()
            .map(|n| {
                let ty = field_type(s, object, &direction, &n);
                Choice {
                    detail: format!("{ty:?}").to_lowercase(),
                    label: String::new(),
                    value: n,
                    warning: None,
                }
            })
            .collect();
        let mut p = Picker::new("field", choices, f.form.value("field"));
        p.source = if to_app {
            "mapped HubSpot properties (to_app filters test HubSpot's values)".into()
        } else {
            "mapped app columns (to_hubspot filters test the app's values)".into()
        };
        p
    }
}

impl TabView for FiltersTab {
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
        if let Some((row, p)) = &mut self.picker {
            match action {
                Action::HistoryNext => p.down(),
                Action::HistoryPrev => p.up(),
                Action::Submit => {
                    let (row, picked) = (*row, p.pick());
                    self.picker = None;
                    if let (Some(v), Some(f)) = (picked, self.form.as_mut()) {
                        f.form.set(row, v);
                        f.keep(s, object);
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
                        f.keep(s, object);
                    }
                    Action::Cancel => {
                        f.form.cancel_edit();
                        f.check(s, object);
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
                    match (&row.kind, action) {
                        (RowKind::Pick, Action::Open) => {
                            let key = row.key;
                            let p = Self::picker(key, f, s, object);
                            self.picker = Some((key, p));
                        }
                        (RowKind::Text | RowKind::Pick, _) => f.form.begin_edit(),
                        (RowKind::Choice(_) | RowKind::Toggle, _) => {
                            f.form.cycle(false);
                            // A new group's direction alone is not a filter yet.
                            if f.form.value("field").is_empty() {
                                f.check(s, object);
                            } else {
                                f.keep(s, object);
                            }
                        }
                    }
                }
                _ => {}
            }
            return Effect::None;
        }
        let groups = s.doc.filter_groups(object);
        let list = items(&groups);
        let last = list.len().saturating_sub(1);
        let at = list.get(self.selected).copied();
        match (action, at) {
            (Action::Down, _) => self.selected = (self.selected + 1).min(last),
            (Action::Up, _) => self.selected = self.selected.saturating_sub(1),
            (Action::Top, _) => self.selected = 0,
            (Action::Bottom, _) => self.selected = last,
            (Action::AddGroup, _) => self.open_form(Target::NewGroup, s, object),
            (Action::Add, Some(Item::Group(g) | Item::Filter(g, _))) => {
                self.open_form(Target::NewFilter(g), s, object)
            }
            (Action::Add, None) => self.open_form(Target::NewGroup, s, object),
            (Action::Open | Action::EditField, Some(Item::Filter(g, i))) => {
                self.open_form(Target::Filter(g, i), s, object)
            }
            (Action::Open | Action::EditField, Some(Item::Group(g))) => {
                self.open_form(Target::NewFilter(g), s, object)
            }
            (Action::Remove, Some(item)) => {
                let (edit, what) = match item {
                    Item::Filter(g, _) if groups[g].filters.len() == 1 => (
                        Edit::RemoveGroup { object, group: g },
                        format!("filter group {} (its one filter)", g + 1),
                    ),
                    Item::Filter(g, i) => (
                        Edit::RemoveFilter {
                            object,
                            group: g,
                            index: i,
                        },
                        format!("filter {} of group {}", i + 1, g + 1),
                    ),
                    Item::Group(g) => (
                        Edit::RemoveGroup { object, group: g },
                        format!("filter group {}", g + 1),
                    ),
                };
                match s.apply(edit) {
                    Ok(()) => {
                        ctx.say(format!("removed {what} (ctrl-z undoes)"));
                        self.selected = self
                            .selected
                            .min(items(&s.doc.filter_groups(object)).len().saturating_sub(1));
                    }
                    Err(e) => ctx.say(format!("cannot remove {what}: {}", e.message)),
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
            f.check(s, object);
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
                .unwrap_or_else(|| "it is not complete".into());
            ctx.say(format!("the filter as typed was not kept: {why}"));
        } else if let Target::Filter(g, i) = f.target {
            let list = items(&s.doc.filter_groups(object));
            if let Some(at) = list.iter().position(|it| *it == Item::Filter(g, i)) {
                self.selected = at;
            }
        }
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let groups = s.doc.filter_groups(object);
        let list = items(&groups);
        let [list_area, form_area] = super::list_and_form(
            area,
            list.len(),
            self.form.as_ref().map(|f| f.form.rows.len() as u16 * 2 + 3),
        );
        let width = list_area.width.saturating_sub(2) as usize;
        let inner_h = list_area.height.saturating_sub(2) as usize;
        let start = self.selected.saturating_sub(inner_h.saturating_sub(1));
        let mut lines: Vec<Line> = Vec::new();
        if list.is_empty() {
            lines.push(Line::styled(
                "no filters: every record is eligible. A adds a filter group",
                ctx.theme.muted(),
            ));
        }
        for (n, item) in list.iter().enumerate().skip(start).take(inner_h) {
            let chosen = n == self.selected && self.form.is_none();
            let marker = if chosen { "›" } else { " " };
            let style = if chosen {
                ctx.theme.selection()
            } else {
                ctx.theme.base()
            };
            let line = match *item {
                Item::Group(g) => {
                    let or = if g > 0 { "or " } else { "" };
                    Line::styled(
                        truncate(
                            &format!(
                                "{marker}{or}group {} · {} · all of:",
                                g + 1,
                                groups[g].direction
                            ),
                            width,
                        ),
                        style,
                    )
                }
                Item::Filter(g, i) => {
                    let f = &groups[g].filters[i];
                    let text = format!(
                        "{marker}   {} {} {}",
                        sanitize(&f.field),
                        f.op,
                        match &f.value {
                            None | Some(Json::Null) => String::new(),
                            Some(v) => sanitize(&v.to_string()).into_owned(),
                        }
                    );
                    let mut spans = vec![Span::styled(truncate(&text, width), style)];
                    let problems =
                        s.problems_of(object, &format!("filter_groups[{g}].filters[{i}]"));
                    if let Some((_, m)) = problems.first() {
                        let used = text.chars().count().min(width);
                        spans.push(Span::styled(
                            truncate(&format!("  ✗ {}", sanitize(m)), width.saturating_sub(used)),
                            ctx.theme.error(),
                        ));
                    }
                    Line::from(spans)
                }
            };
            lines.push(line);
        }
        let title = format!(
            "filters of {object} ({} group(s)) · groups ORed, filters ANDed",
            groups.len()
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
