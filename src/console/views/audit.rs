//! `:audit [object]`: the whole audit log, newest first, every outcome
//! (SUCCESS, FAILED, SKIPPED, edits): the engine pages it in its database
//! (`audit_page`, keyset by id) and `/` filters it there as typed (email,
//! name, either id, HubSpot's message or category), so a million rows
//! cost a page, not a copy. `f` shows only the open FAILED entries; Enter
//! opens the record's whole story.

use super::{Effect, RecordStoryView, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::control::methods::records::AuditPage;
use crate::hubspot::error::message_summary;
use crate::model::ObjectKind;
use crate::status::{AuditStatus, AuditView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use serde_json::{Value, json};

/// Entries asked for per page.
const PAGE: usize = 100;

const ACTIONS: &[Action] = &[
    Action::Open,
    Action::Filter,
    Action::OlderPage,
    Action::NewerPage,
    Action::FailedOnly,
    Action::Copy,
    Action::Down,
    Action::Up,
    Action::PageDown,
    Action::PageUp,
    Action::Top,
    Action::Bottom,
    Action::Refresh,
];

#[derive(Debug, Default)]
pub struct AuditLogView {
    object: Option<ObjectKind>,
    entries: Vec<AuditView>,
    more: bool,
    selected: usize,
    /// The id the shown page is older than (None: the newest).
    before: Option<i64>,
    /// Where the newer pages started, for `[`.
    pages: Vec<Option<i64>>,
    filter: Option<String>,
    failed_only: bool,
    /// Requests not answered yet: answers come back in order, so only the
    /// last one's is shown (a keystroke overtakes the one before).
    pending: u32,
    loaded: bool,
    error: Option<String>,
}

impl AuditLogView {
    pub fn open(args: &[&str]) -> Result<AuditLogView, String> {
        let object = match args.first() {
            None => None,
            Some(name) => Some(
                ObjectKind::ALL
                    .into_iter()
                    .find(|o| o.api_name() == *name)
                    .ok_or_else(|| {
                        format!(
                            ":audit takes an object: contacts, companies or deals (not {name:?})"
                        )
                    })?,
            ),
        };
        Ok(AuditLogView {
            object,
            ..Default::default()
        })
    }

    fn ask(&mut self) -> Effect {
        self.pending += 1;
        Effect::Call {
            method: "audit_page",
            params: json!({
                "filter": self.filter,
                "object": self.object,
                "failed_only": self.failed_only,
                "before": self.before,
                "limit": PAGE,
            }),
            tag: "page",
        }
    }

    /// From the newest page again (a new filter, `f`, a refresh).
    fn restart(&mut self) -> Effect {
        self.before = None;
        self.pages.clear();
        self.selected = 0;
        self.ask()
    }
}

fn status_style(ctx: &Ctx, s: AuditStatus) -> ratatui::style::Style {
    match s {
        AuditStatus::Success => ctx.theme.ok(),
        AuditStatus::Failed => ctx.theme.error(),
        AuditStatus::Skipped => ctx.theme.warn(),
    }
}

impl View for AuditLogView {
    fn title(&self) -> String {
        match self.object {
            Some(o) => format!("audit {o}"),
            None => "audit".into(),
        }
    }

    fn command(&self) -> &'static str {
        "audit"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        self.ask()
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        let last = self.entries.len().saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => {
                if let Some(a) = self.entries.get(self.selected) {
                    return Effect::Push(Box::new(RecordStoryView::of_entry(a)));
                }
            }
            Action::OlderPage => {
                if !self.more {
                    ctx.say("no older entries");
                    return Effect::None;
                }
                if let Some(e) = self.entries.last() {
                    self.pages.push(self.before);
                    self.before = Some(e.id);
                    self.selected = 0;
                    return self.ask();
                }
            }
            Action::NewerPage => match self.pages.pop() {
                Some(start) => {
                    self.before = start;
                    self.selected = 0;
                    return self.ask();
                }
                None => ctx.say("this is the newest page"),
            },
            Action::FailedOnly => {
                self.failed_only = !self.failed_only;
                ctx.say(if self.failed_only {
                    "showing open FAILED entries only (f again: everything)"
                } else {
                    "showing every entry"
                });
                return self.restart();
            }
            Action::Refresh => return self.restart(),
            _ => {}
        }
        Effect::None
    }

    fn filter(&mut self, text: &str, _ctx: &mut Ctx) -> Option<Effect> {
        let text = text.trim();
        let next = (!text.is_empty()).then(|| text.to_string());
        if next == self.filter && self.loaded {
            return Some(Effect::None);
        }
        self.filter = next;
        Some(self.restart())
    }

    fn filter_text(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    fn back(&mut self, _ctx: &mut Ctx) -> Option<Effect> {
        self.filter.take().map(|_| self.restart())
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, _ctx: &mut Ctx) {
        if tag != "page" {
            return;
        }
        self.pending = self.pending.saturating_sub(1);
        if self.pending > 0 {
            return;
        }
        match result.and_then(|v| {
            serde_json::from_value::<AuditPage>(v)
                .map_err(|e| format!("reading the audit page: {e}"))
        }) {
            Ok(p) => {
                self.entries = p.entries;
                self.more = p.more;
                self.selected = self.selected.min(self.entries.len().saturating_sub(1));
                self.loaded = true;
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        let Some(a) = self.entries.get(self.selected) else {
            return Vec::new();
        };
        let mut out = vec![("record", a.label.clone()), ("app id", a.app_id.clone())];
        if let Some(h) = &a.hubspot_id {
            out.push(("HubSpot id", h.clone()));
        }
        if let Some(m) = &a.message {
            out.push(("message", m.clone()));
        }
        out
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let page = self.pages.len() + 1;
        let title = format!(
            "audit log{}{}{} · page {page}{} · newest first",
            self.object.map(|o| format!(" of {o}")).unwrap_or_default(),
            if self.failed_only {
                " · open FAILED only"
            } else {
                ""
            },
            self.filter
                .as_ref()
                .map(|f| format!(" · matching {:?}", sanitize(f)))
                .unwrap_or_default(),
            if self.more { ", ] older" } else { "" },
        );
        let block = pane_focused(ctx, title, true);
        let width = area.width.saturating_sub(2) as usize;
        if let Some(e) = &self.error {
            let line = Line::styled(truncate(&sanitize(e), width), ctx.theme.error());
            frame.render_widget(Paragraph::new(line).block(block), area);
            return;
        }
        if self.entries.is_empty() {
            let text = if self.loaded {
                "no entries match"
            } else {
                "asking the engine…"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(text, ctx.theme.muted())).block(block),
                area,
            );
            return;
        }
        let wide = area.width >= 120;
        let rows = self.entries.iter().map(|a| {
            let when = a.at.format(if wide {
                "%Y-%m-%d %H:%M:%S"
            } else {
                "%m-%d %H:%M"
            });
            let what = a
                .message
                .as_deref()
                .map(|m| message_summary(m).into_owned())
                .or_else(|| a.category.clone())
                .map(|m| sanitize(&m).into_owned())
                .unwrap_or_default();
            Row::new(vec![
                Cell::from(when.to_string()),
                Cell::from(a.status.as_str()).style(status_style(ctx, a.status)),
                Cell::from(a.action.as_str()),
                Cell::from(sanitize(&a.label).into_owned()),
                Cell::from(what),
            ])
        });
        let widths = [
            Constraint::Length(if wide { 19 } else { 11 }),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Percentage(35),
            Constraint::Fill(1),
        ];
        let table = Table::new(rows, widths)
            .header(
                Row::new(["time", "status", "action", "record", "message"])
                    .style(ctx.theme.muted()),
            )
            .row_highlight_style(ctx.theme.selection())
            .highlight_symbol("›")
            .block(block);
        let mut state = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, area, &mut state);
    }
}
