//! `:records contacts [text]`: any record of an object, synced or not,
//! found by key or either id as you type `/` (the engine searches the link
//! table, the app database and, for one exact id or email, HubSpot).
//! Enter opens the record's whole story.

use super::{Effect, RecordStoryView, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::engine::records::{RecordHit, RecordsFound};
use crate::model::ObjectKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use serde_json::{Value, json};

pub struct RecordsView {
    object: ObjectKind,
    pub query: String,
    pub found: Option<RecordsFound>,
    pub error: Option<String>,
    pub selected: usize,
    /// A search is to be asked for.
    search: bool,
}

const ACTIONS: &[Action] = &[
    Action::Filter,
    Action::Open,
    Action::Down,
    Action::Up,
    Action::Top,
    Action::Bottom,
    Action::Copy,
];

impl RecordsView {
    /// From `:records OBJECT [TEXT…]`.
    pub fn open(args: &[&str]) -> Result<RecordsView, String> {
        let Some((object, rest)) = args.split_first() else {
            return Err("which object? :records contacts (then / to search)".into());
        };
        let object = ObjectKind::parse(object).ok_or_else(|| {
            format!("no object {object:?}; the objects are contacts, companies, deals")
        })?;
        let query = rest.join(" ");
        Ok(RecordsView {
            object,
            search: !query.trim().is_empty(),
            query,
            found: None,
            error: None,
            selected: 0,
        })
    }

    fn records(&self) -> &[RecordHit] {
        self.found.as_ref().map_or(&[], |f| f.records.as_slice())
    }

    fn selected_hit(&self) -> Option<&RecordHit> {
        self.records().get(self.selected)
    }
}

impl View for RecordsView {
    fn title(&self) -> String {
        format!("records {}", self.object)
    }

    fn command(&self) -> &'static str {
        "records"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        let n = self.records().len();
        match action {
            Action::Down => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = n.saturating_sub(1),
            Action::Open => {
                return match self.selected_hit() {
                    Some(h) => Effect::Push(Box::new(RecordStoryView::new(
                        h.object,
                        h.app_id.clone(),
                        h.hubspot_id.clone(),
                        h.label.clone(),
                    ))),
                    None => {
                        ctx.say("no record selected: / to search");
                        Effect::None
                    }
                };
            }
            _ => {}
        }
        Effect::None
    }

    fn filter(&mut self, text: &str, _ctx: &mut Ctx) -> Option<Effect> {
        if text != self.query {
            self.query = text.to_string();
            self.search = !text.trim().is_empty();
            if !self.search {
                self.found = None;
            }
        }
        Some(Effect::None)
    }

    fn filter_text(&self) -> Option<&str> {
        Some(self.query.as_str()).filter(|q| !q.is_empty())
    }

    fn back(&mut self, _ctx: &mut Ctx) -> Option<Effect> {
        if self.query.is_empty() {
            return None;
        }
        self.query.clear();
        self.found = None;
        self.search = false;
        Some(Effect::None)
    }

    fn wants(&mut self, _ctx: &mut Ctx) -> Effect {
        if !self.search {
            return Effect::None;
        }
        self.search = false;
        Effect::Call {
            method: "records_search",
            params: json!({ "object": self.object, "query": self.query, "limit": 50 }),
            tag: "search",
        }
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, _ctx: &mut Ctx) {
        if tag != "search" {
            return;
        }
        match result.and_then(|v| {
            serde_json::from_value::<RecordsFound>(v).map_err(|e| format!("reading records: {e}"))
        }) {
            // An answer to an earlier keystroke, overtaken: dropped.
            Ok(f) if f.query != self.query.trim() => {}
            Ok(f) => {
                self.selected = self.selected.min(f.records.len().saturating_sub(1));
                self.found = Some(f);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        let Some(h) = self.selected_hit() else {
            return vec![];
        };
        let mut v = vec![("label", h.label.clone())];
        if let Some(a) = &h.app_id {
            v.push(("app id", a.clone()));
        }
        if let Some(id) = &h.hubspot_id {
            v.push(("HubSpot id", id.clone()));
        }
        v
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let n = self.records().len();
        let title = if self.query.is_empty() {
            format!(" {} ", self.object)
        } else {
            format!(
                " {} matching \"{}\" ({n}) ",
                self.object,
                sanitize(&self.query)
            )
        };
        let block = pane_focused(ctx, title, true);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let notes: Vec<Line> = self
            .error
            .iter()
            .map(|e| Line::styled(sanitize(e).into_owned(), ctx.theme.error()))
            .chain(self.found.iter().flat_map(|f| {
                f.notes
                    .iter()
                    .map(|n| Line::styled(sanitize(n).into_owned(), ctx.theme.warn()))
            }))
            .collect();
        let [notes_a, list_a] =
            Layout::vertical([Constraint::Length(notes.len() as u16), Constraint::Min(0)])
                .areas(inner);
        frame.render_widget(Paragraph::new(notes), notes_a);
        if n == 0 {
            let text = if self.query.is_empty() {
                "/ searches by email, name or either id"
            } else if self.found.is_none() {
                "searching…"
            } else {
                "no record matches"
            };
            frame.render_widget(Line::styled(text, ctx.theme.muted()), list_a);
            return;
        }
        let w = list_a.width as usize;
        let rows = self.records().iter().map(|h| {
            Row::new(vec![
                Cell::from(truncate(&sanitize(&h.label), w / 2)),
                Cell::from(
                    h.app_id
                        .as_deref()
                        .map_or("–".into(), |a| sanitize(a).into_owned()),
                ),
                Cell::from(
                    h.hubspot_id
                        .as_deref()
                        .map_or("–".into(), |a| sanitize(a).into_owned()),
                ),
                Cell::from(if h.linked { "linked" } else { "not linked" }),
                Cell::from(h.found_in.join(",")),
            ])
        });
        let header = Row::new(["record", "app id", "HubSpot id", "link", "found in"])
            .style(ctx.theme.muted());
        let table = Table::new(
            rows,
            [
                Constraint::Fill(3),
                Constraint::Fill(1),
                Constraint::Fill(1),
                Constraint::Length(10),
                Constraint::Length(14),
            ],
        )
        .header(header)
        .row_highlight_style(ctx.theme.selection());
        let mut state = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, list_a, &mut state);
    }
}
