//! The open FAILED audit entries, newest first: the list an operator
//! walks, filters, opens and retries. It owns its selection, its scroll
//! window and its place among the engine's pages; the entries themselves
//! are the engine's (this console's page of the snapshot). Only the rows
//! that fit are built.

use crate::console::action::Action;
use crate::console::app::Request;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::console::views::Effect;
use crate::hubspot::error::message_summary;
use crate::model::{ObjectKind, RecordRef};
use crate::status::{AuditView, Command};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use std::cell::Cell as Shown;

#[derive(Debug, Default)]
pub struct FailedList {
    /// Index into the snapshot's page of FAILED entries.
    pub selected: usize,
    /// The first visible row and how many rows fit, as last drawn: the
    /// window moves only at its edges, and paging moves by what was shown.
    offset: Shown<usize>,
    rows: Shown<usize>,
    /// Where the earlier pages started, for `[` to go back.
    pages: Vec<Option<i64>>,
    /// `/` as typed: the engine filters in its database, not here.
    pub filter: Option<String>,
    /// Where the list was drawn, for mouse clicks.
    area: Shown<Rect>,
}

impl FailedList {
    pub fn selected_entry<'a>(&self, ctx: &'a Ctx) -> Option<&'a AuditView> {
        ctx.snapshot.failed.get(self.selected)
    }

    /// As if the list had been drawn with this many rows.
    #[cfg(test)]
    pub fn assume_rows(&self, n: usize) {
        self.rows.set(n);
    }

    fn page_rows(&self) -> usize {
        // Before the first frame, a screenful of ten.
        match self.rows.get() {
            0 => 10,
            n => n,
        }
    }

    /// The list under the selection changed: follow the same entry, or
    /// failing that (a retry replaced it) the same record's newer entry.
    /// Returns whether the selected record is still listed.
    pub fn follow(&mut self, before: Option<(i64, ObjectKind, String)>, ctx: &Ctx) -> bool {
        let failed = &ctx.snapshot.failed;
        let mut followed = true;
        if let Some((id, object, app_id)) = before {
            match failed.iter().position(|a| a.id == id).or_else(|| {
                failed
                    .iter()
                    .position(|a| a.object == object && a.app_id == app_id)
            }) {
                Some(i) => self.selected = i,
                None => followed = false,
            }
        }
        self.selected = self.selected.min(failed.len().saturating_sub(1));
        followed && !failed.is_empty()
    }

    pub fn key(&self, ctx: &Ctx) -> Option<(i64, ObjectKind, String)> {
        self.selected_entry(ctx)
            .map(|a| (a.id, a.object, a.app_id.clone()))
    }

    fn page_request(&self, before_id: Option<i64>) -> Effect {
        Effect::Request(Request::FailedPage {
            before_id,
            filter: self.filter.clone(),
        })
    }

    /// A new filter: back to the first page of what matches.
    pub fn set_filter(&mut self, text: &str) -> Effect {
        let f = (!text.trim().is_empty()).then(|| text.trim().to_string());
        if f == self.filter {
            return Effect::None;
        }
        self.filter = f;
        self.pages.clear();
        self.selected = 0;
        self.offset.set(0);
        self.page_request(None)
    }

    pub fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        let len = ctx.snapshot.failed.len();
        let last = len.saturating_sub(1);
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + self.page_rows()).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(self.page_rows()),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::OlderPage => {
                // Older entries already loaded but below the screen come
                // first: `]` must never say "no older" with some in view.
                let bottom = self.offset.get() + self.page_rows();
                if bottom < len {
                    self.selected = bottom.min(last);
                    self.offset.set(bottom);
                    return Effect::None;
                }
                let s = &ctx.snapshot;
                let listed = s.failed_newer + len as u64;
                let oldest = s.failed.last().map(|a| a.id);
                let next = match (&self.filter, s.failed_matches) {
                    // A short filter's window ended before the open
                    // entries did: the next page searches on from there.
                    (Some(_), Some(m)) if m.searched_to.is_some() => m.searched_to,
                    // A page the store did not fill had no more matches.
                    (Some(_), Some(m))
                        if len < crate::engine::FAILED_PAGE || (!m.more && listed >= m.count) =>
                    {
                        None
                    }
                    (Some(_), _) => oldest,
                    (None, _) if listed >= s.failed_total => None,
                    (None, _) => oldest,
                };
                let Some(next) = next else {
                    ctx.say(if self.filter.is_some() {
                        "no older FAILED entries match the filter"
                    } else {
                        "no older FAILED entries"
                    });
                    return Effect::None;
                };
                self.pages.push(s.failed_before);
                self.selected = 0;
                self.offset.set(0);
                return self.page_request(Some(next));
            }
            Action::NewerPage => {
                let top = self.offset.get();
                if top > 0 {
                    let to = top.saturating_sub(self.page_rows());
                    self.selected = to;
                    self.offset.set(to);
                    return Effect::None;
                }
                let Some(before) = self.pages.pop() else {
                    ctx.say("these are the newest FAILED entries");
                    return Effect::None;
                };
                self.selected = 0;
                self.offset.set(0);
                return self.page_request(before);
            }
            Action::Retry => {
                let Some(entry) = self.selected_entry(ctx) else {
                    ctx.say("no FAILED entry selected");
                    return Effect::None;
                };
                let id = entry.id;
                let text = format!("retry of #{id} ({}) requested…", sanitize(&entry.label));
                ctx.say(text);
                return Effect::Request(Request::Engine(Command::Retry { audit_id: id }));
            }
            Action::RetryCategory => {
                let Some(category) = self.selected_entry(ctx).and_then(|a| a.category.clone())
                else {
                    ctx.say("the selected entry has no category to retry");
                    return Effect::None;
                };
                let s = &ctx.snapshot;
                let n = s
                    .failed
                    .iter()
                    .filter(|a| a.category.as_deref() == Some(&category))
                    .count();
                let more = if s.failed_total > len as u64 {
                    " (and any not listed)"
                } else {
                    ""
                };
                return Effect::Popup(crate::console::app::Popup::Confirm {
                    question: format!("Retry all {n} FAILED {category} records{more}? y / Esc"),
                    command: Request::Engine(Command::RetryCategory { category }),
                });
            }
            Action::Dismiss => {
                let Some(entry) = self.selected_entry(ctx) else {
                    return Effect::None;
                };
                return Effect::Popup(crate::console::app::Popup::Confirm {
                    question: format!(
                        "Dismiss the FAILED entry of {}? It leaves this list without a retry. y / Esc",
                        sanitize(&entry.label)
                    ),
                    command: Request::Engine(Command::Dismiss { audit_id: entry.id }),
                });
            }
            _ => {}
        }
        Effect::None
    }

    /// What `c` offers for the selected entry.
    pub fn copyable(&self, ctx: &Ctx) -> Vec<(&'static str, String)> {
        let Some(a) = self.selected_entry(ctx) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let RecordRef::App(id) = RecordRef::parse(&a.app_id) {
            out.push(("app id", id));
        }
        if let Some(h) = &a.hubspot_id {
            out.push(("HubSpot id", h.clone()));
        }
        out.push(("record", a.label.clone()));
        if let Some(m) = &a.message {
            out.push(("error", m.clone()));
        }
        out
    }

    /// Selects the row under a click; true when it hit a row.
    pub fn click(&mut self, column: u16, row: u16, ctx: &Ctx) -> bool {
        let a = self.area.get();
        // Border, then the header row.
        let first = a.y + 2;
        if column <= a.x || column >= a.x + a.width.saturating_sub(1) || row < first {
            return false;
        }
        let i = self.offset.get() + (row - first) as usize;
        if row >= a.y + a.height.saturating_sub(1) || i >= ctx.snapshot.failed.len() {
            return false;
        }
        self.selected = i;
        true
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx, focused: bool) {
        self.area.set(area);

        let s = &ctx.snapshot;
        let shown = s.failed.len() as u64;
        // Where the selection is in the whole list, not just in this page.
        // With a filter, the place and the count are among its matches.
        let matches = self.filter.as_ref().and(s.failed_matches).map(|m| {
            if m.more {
                format!("{}+", m.count)
            } else {
                m.count.to_string()
            }
        });
        let so_far = match s.failed_matches.and_then(|m| m.searched_to) {
            Some(_) if self.filter.is_some() => " so far",
            _ => "",
        };
        let at = if s.failed.is_empty() {
            String::new()
        } else {
            format!(
                " {} of {}",
                s.failed_newer + self.selected as u64 + 1,
                matches.as_deref().unwrap_or(&s.failed_total.to_string())
            )
        };
        let title = if let Some(m) = &matches {
            format!(" FAILED ({} open; {m} match{so_far}){at} ", s.failed_total)
        } else if s.failed_before.is_some() || s.failed_total > shown {
            let first = s.failed_newer + 1;
            let last = s.failed_newer + shown;
            format!(
                " FAILED ({} open; {first}–{last} shown){at} ",
                s.failed_total
            )
        } else {
            format!(" FAILED ({} open){at} ", s.failed_total)
        };
        let title = match &self.filter {
            Some(f) => format!("{title}/{} ", sanitize(f)),
            None => title,
        };
        let block = pane_focused(ctx, Line::from(title), focused);
        if s.failed.is_empty() {
            let window_ended = s.failed_matches.and_then(|m| m.searched_to).is_some();
            let text = if self.filter.is_some() && window_ended {
                Line::styled(
                    format!(
                        "  no match among the {} entries searched; ] searches older ones, or type a third character",
                        crate::store::SHORT_WINDOW
                    ),
                    ctx.theme.muted(),
                )
            } else if self.filter.is_some() {
                Line::styled("  no FAILED entry matches the filter", ctx.theme.muted())
            } else {
                Line::styled("  ✓ no FAILED records", ctx.theme.ok())
            };
            let p = Paragraph::new(text).block(block);
            frame.render_widget(p, area);
            return;
        }
        let inner_w = area.width.saturating_sub(2) as usize;
        let wide = inner_w >= 110;
        // Fixed columns first; the message takes what is left.
        let label_w = if wide { 30 } else { 22 };
        // Entries from another day carry their date: a time alone would pass
        // yesterday's failure off as today's.
        let today = ctx.now.or(s.taken_at).map(|t| t.date_naive());
        let dated = s.failed.iter().any(|a| Some(a.at.date_naive()) != today);
        let time_w: usize = if dated { 11 } else { 8 };
        let mut widths = vec![
            Constraint::Length(time_w as u16),
            Constraint::Length(label_w as u16),
        ];
        let mut header = vec!["time", "record"];
        if wide {
            widths.extend([Constraint::Length(6), Constraint::Length(10)]);
            header.extend(["app id", "HubSpot"]);
        }
        widths.extend([Constraint::Length(16), Constraint::Length(3)]);
        header.extend(["category", "try"]);
        let fixed: usize = time_w + label_w + if wide { 6 + 10 } else { 0 } + 16 + 3 + header.len();
        let msg_w = inner_w.saturating_sub(fixed).max(10);
        widths.push(Constraint::Min(10));
        header.push("error");

        // Build only the rows that can be on screen. The window moves only
        // when the selection would leave it, so rows above the selection stay
        // in view while it moves down.
        let visible = (area.height.saturating_sub(3) as usize).max(1);
        let mut start = self.offset.get().min(s.failed.len().saturating_sub(1));
        if self.selected < start {
            start = self.selected;
        } else if self.selected >= start + visible {
            start = self.selected + 1 - visible;
        }
        self.offset.set(start);
        self.rows.set(visible);
        let rows = s.failed.iter().skip(start).take(visible.max(1)).map(|a| {
            let mut cells = vec![
                Cell::from(if Some(a.at.date_naive()) == today {
                    a.at.format("%H:%M:%S").to_string()
                } else {
                    a.at.format("%m-%d %H:%M").to_string()
                }),
                Cell::from(truncate(&sanitize(&a.label), label_w)),
            ];
            if wide {
                // A HubSpot record with no app row yet is keyed `hs:<id>`.
                let app_id = match RecordRef::parse(&a.app_id) {
                    RecordRef::App(id) => id,
                    RecordRef::HubSpot(_) => "–".into(),
                };
                cells.push(Cell::from(truncate(&sanitize(&app_id), 6)));
                cells.push(Cell::from(
                    a.hubspot_id
                        .as_deref()
                        .map_or("–".into(), |h| truncate(&sanitize(h), 10)),
                ));
            }
            cells.push(
                Cell::from(a.category.as_deref().unwrap_or("–").to_string())
                    .style(ctx.theme.error()),
            );
            cells.push(Cell::from(a.attempt.to_string()));
            let message = message_summary(a.message.as_deref().unwrap_or(""));
            cells.push(Cell::from(truncate(&sanitize(&message), msg_w)));
            Row::new(cells)
        });
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(ctx.theme.muted().add_modifier(Modifier::BOLD)))
            .row_highlight_style(ctx.theme.selection())
            .highlight_symbol("›")
            .block(block);
        let mut state = TableState::default().with_selected(Some(self.selected - start));
        frame.render_stateful_widget(table, area, &mut state);
    }
}
