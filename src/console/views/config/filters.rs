//! The filters tab: the object's filter groups per direction (the filters
//! of a group ANDed, the groups ORed), each filter with what the
//! validators say beside it. `A` adds a group, `a` a filter to the
//! selected group, Enter edits, `x` removes. The field is picked from the
//! mapped fields of the group's direction (app columns to HubSpot, HubSpot
//! properties to the app), the operator is one of the fourteen, and the
//! value is typed as the field's type (a number stays a number; lists are
//! comma-separated).

use super::entry::EntryEditor;
use super::filter_form::{FilterForm, Target, form_for};
use super::session::EditSession;
use super::tabs::TabView;
use crate::config::edit::{Edit, FilterSpec, GroupSpec};
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

#[derive(Default)]
pub struct FiltersTab {
    selected: usize,
    editor: Option<EntryEditor<FilterForm>>,
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
        self.editor = Some(EntryEditor::new(f));
    }
}

impl TabView for FiltersTab {
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
            Some(why) => ctx.say(format!("the filter as typed was not kept: {why}")),
            None => {
                if let Target::Filter(g, i) = e.entry.target {
                    let list = items(&s.doc.filter_groups(object));
                    if let Some(at) = list.iter().position(|it| *it == Item::Filter(g, i)) {
                        self.selected = at;
                    }
                }
            }
        }
        self.editor = None;
        true
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let groups = s.doc.filter_groups(object);
        let list = items(&groups);
        let [list_area, form_area] = super::tabs::list_and_form(
            area,
            list.len(),
            self.editor
                .as_ref()
                .map(|e| e.entry.form.rows.len() as u16 * 2 + 3),
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
            let chosen = n == self.selected && self.editor.is_none();
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
            Paragraph::new(lines).block(pane_focused(ctx, title, self.editor.is_none())),
            list_area,
        );
        if let Some(e) = &self.editor {
            e.draw(frame, form_area, area, ctx);
        }
    }
}
