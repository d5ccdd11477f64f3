//! `:failed`: triage by cause. The open FAILED entries grouped by error
//! class, each with its count, when it was first and last seen and what
//! fixes it; Enter lists a group's entries, where Space marks some. `R`
//! retries the whole class and `r` the marked entries (or the selected
//! one), each as one job after one question; the job's progress line shows
//! here, and its summary comes as a notice. The data is the engine's
//! (`failed_groups`, `failed_in_class`), read again when the snapshot's
//! FAILED version moves: grouping a million open entries is not free, and
//! an idle list costs nothing to keep.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::app::{Popup, Request};
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{ago, duration, sanitize, truncate};
use crate::hubspot::error::message_summary;
use crate::status::{AuditView, Command, JobKind, Snapshot};
use crate::triage::FailedGroup;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[derive(Debug, Default)]
pub struct FailedView {
    groups: Vec<FailedGroup>,
    selected: usize,
    /// The group whose entries are listed (its index when opened).
    open: Option<FailedGroup>,
    entries: Vec<AuditView>,
    entry: usize,
    marked: BTreeSet<i64>,
    loaded: bool,
    error: Option<String>,
    /// The snapshot's FAILED version the data was asked at.
    version: Option<u64>,
    /// A read is under way: a busy engine is not asked again meanwhile.
    reading: bool,
}

const ACTIONS: &[Action] = &[
    Action::Open,
    Action::Mark,
    Action::Retry,
    Action::RetryCategory,
    Action::Copy,
    Action::Down,
    Action::Up,
    Action::PageDown,
    Action::PageUp,
    Action::Top,
    Action::Bottom,
];

impl FailedView {
    /// A view holding these groups, as the engine sent them (tests).
    pub fn with_groups(groups: Vec<FailedGroup>) -> FailedView {
        FailedView {
            groups,
            loaded: true,
            ..Default::default()
        }
    }

    /// Lists the entries of the selected group, as Enter does (tests).
    pub fn with_entries(mut self, entries: Vec<AuditView>) -> FailedView {
        self.open = self.groups.get(self.selected).cloned();
        self.entries = entries;
        self
    }

    fn load(&mut self, ctx: &Ctx) -> Effect {
        self.version = Some(ctx.snapshot.failed_version);
        self.reading = true;
        match &self.open {
            None => Effect::Call {
                method: "failed_groups",
                params: Value::Null,
                tag: "groups",
            },
            Some(g) => Effect::Call {
                method: "failed_in_class",
                params: json!({ "class": g.class, "limit": crate::engine::FAILED_PAGE }),
                tag: "entries",
            },
        }
    }

    fn len(&self) -> usize {
        match self.open {
            None => self.groups.len(),
            Some(_) => self.entries.len(),
        }
    }

    fn cursor(&mut self) -> &mut usize {
        match self.open {
            None => &mut self.selected,
            Some(_) => &mut self.entry,
        }
    }

    fn class_retry(&self) -> Effect {
        let g = match &self.open {
            Some(g) => Some(g),
            None => self.groups.get(self.selected),
        };
        let Some(g) = g else {
            return Effect::None;
        };
        Effect::Popup(Popup::Confirm {
            question: format!(
                "Retry all {} open FAILED entries of {} as one job?",
                g.count,
                g.class.label()
            ),
            command: Request::Engine(Command::RetryClass {
                class: g.class.clone(),
            }),
        })
    }

    fn entries_retry(&self) -> Effect {
        if self.marked.is_empty() {
            return match self.entries.get(self.entry) {
                Some(e) => Effect::Request(Request::Engine(Command::Retry { audit_id: e.id })),
                None => Effect::None,
            };
        }
        Effect::Popup(Popup::Confirm {
            question: format!("Retry the {} marked entries as one job?", self.marked.len()),
            command: Request::Engine(Command::RetrySelection {
                audit_ids: self.marked.iter().copied().collect(),
            }),
        })
    }
}

impl View for FailedView {
    fn title(&self) -> String {
        match &self.open {
            None => "FAILED by cause".into(),
            Some(g) => format!("FAILED › {}", g.class.label()),
        }
    }

    fn command(&self) -> &'static str {
        "failed"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn on_open(&mut self, ctx: &mut Ctx) -> Effect {
        self.load(ctx)
    }

    fn wants(&mut self, ctx: &mut Ctx) -> Effect {
        if self.reading || self.version == Some(ctx.snapshot.failed_version) {
            return Effect::None;
        }
        self.load(ctx)
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        let last = self.len().saturating_sub(1);
        match action {
            Action::Down => *self.cursor() = (*self.cursor() + 1).min(last),
            Action::Up => *self.cursor() = self.cursor().saturating_sub(1),
            Action::PageDown => *self.cursor() = (*self.cursor() + 10).min(last),
            Action::PageUp => *self.cursor() = self.cursor().saturating_sub(10),
            Action::Top => *self.cursor() = 0,
            Action::Bottom => *self.cursor() = last,
            Action::Open if self.open.is_none() => {
                if let Some(g) = self.groups.get(self.selected) {
                    self.open = Some(g.clone());
                    self.entries.clear();
                    self.entry = 0;
                    self.marked.clear();
                    return self.load(ctx);
                }
            }
            Action::Mark => {
                if let Some(e) = self.entries.get(self.entry)
                    && !self.marked.remove(&e.id)
                {
                    self.marked.insert(e.id);
                }
                *self.cursor() = (*self.cursor() + 1).min(last);
            }
            Action::Retry if self.open.is_some() => return self.entries_retry(),
            Action::Retry | Action::RetryCategory => return self.class_retry(),
            _ => {}
        }
        Effect::None
    }

    fn back(&mut self, ctx: &mut Ctx) -> Option<Effect> {
        if self.open.take().is_some() {
            self.marked.clear();
            return Some(self.load(ctx));
        }
        None
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, _ctx: &mut Ctx) {
        self.reading = false;
        let v = match result {
            Ok(v) => v,
            Err(e) => {
                self.error = Some(e);
                return;
            }
        };
        self.error = None;
        match tag {
            "groups" => {
                self.groups = serde_json::from_value(v["groups"].clone()).unwrap_or_default();
                self.selected = self.selected.min(self.groups.len().saturating_sub(1));
                self.loaded = true;
            }
            "entries" if self.open.is_some() => {
                self.entries = serde_json::from_value(v["entries"].clone()).unwrap_or_default();
                self.entry = self.entry.min(self.entries.len().saturating_sub(1));
                let present: BTreeSet<i64> = self.entries.iter().map(|e| e.id).collect();
                self.marked.retain(|id| present.contains(id));
            }
            _ => {}
        }
    }

    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        match &self.open {
            None => self
                .groups
                .get(self.selected)
                .map(|g| vec![("error class", g.class.label())])
                .unwrap_or_default(),
            Some(_) => self
                .entries
                .get(self.entry)
                .map(|e| {
                    let mut v = vec![("record", e.label.clone()), ("app id", e.app_id.clone())];
                    if let Some(m) = &e.message {
                        v.push(("error", m.clone()));
                    }
                    v
                })
                .unwrap_or_default(),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let [progress, list, hint] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(2),
        ])
        .areas(area);
        frame.render_widget(progress_line(&ctx.snapshot, ctx), progress);
        let total: u64 = self.groups.iter().map(|g| g.count).sum();
        let title = match &self.open {
            None => format!(
                " FAILED by cause: {total} open in {} class(es) ",
                self.groups.len()
            ),
            Some(g) => format!(
                " {}: {} of {} listed, {} marked ",
                g.class.label(),
                self.entries.len(),
                g.count,
                self.marked.len()
            ),
        };
        let block = pane_focused(ctx, title, true);
        // Says what the columns are.
        let block = block.title_bottom(Line::styled(
            match self.open {
                None => " count · class · first seen → last seen ",
                Some(_) => " mark · entry · record · when · HubSpot's message ",
            },
            ctx.theme.muted(),
        ));
        let inner = block.inner(list);
        frame.render_widget(block, list);
        let now = ctx.now.or(ctx.snapshot.taken_at).unwrap_or_default();
        let width = inner.width as usize;
        let rows: Vec<Line> = match &self.open {
            None if !self.loaded => vec![Line::styled("  reading…", ctx.theme.muted())],
            None if self.groups.is_empty() => {
                vec![Line::styled("  no open FAILED entries", ctx.theme.ok())]
            }
            None => self
                .groups
                .iter()
                .map(|g| {
                    let seen = format!(
                        " {} → {}",
                        g.first_seen.format("%m-%d %H:%M"),
                        ago(g.last_seen, now)
                    );
                    let room = width.saturating_sub(8 + seen.chars().count()).max(10);
                    Line::from(vec![
                        Span::styled(format!("{:>7} ", g.count), ctx.theme.error()),
                        Span::raw(format!("{:<room$}", truncate(&g.class.label(), room))),
                        Span::styled(seen, ctx.theme.muted()),
                    ])
                })
                .collect(),
            Some(_) => self
                .entries
                .iter()
                .map(|e| {
                    let mark = if self.marked.contains(&e.id) {
                        "[x]"
                    } else {
                        "[ ]"
                    };
                    let head = format!(
                        "{mark} #{:<6} {:<24} {} ",
                        e.id,
                        truncate(&sanitize(&e.label), 24),
                        e.at.format("%m-%d %H:%M")
                    );
                    let room = width.saturating_sub(head.chars().count());
                    let msg = e
                        .message
                        .as_deref()
                        .map(message_summary)
                        .unwrap_or_default();
                    Line::from(vec![
                        Span::raw(head),
                        Span::styled(truncate(&sanitize(&msg), room), ctx.theme.error()),
                    ])
                })
                .collect(),
        };
        let cursor = match self.open {
            None => self.selected,
            Some(_) => self.entry,
        };
        let visible = (inner.height as usize).max(1);
        let offset = cursor.saturating_sub(visible - 1);
        for (i, line) in rows.into_iter().skip(offset).take(visible).enumerate() {
            let row = Rect {
                y: inner.y + i as u16,
                height: 1,
                ..inner
            };
            let selected = i + offset == cursor && self.len() > 0;
            let line = if selected {
                line.style(ctx.theme.selection())
            } else {
                line
            };
            frame.render_widget(line, row);
        }
        let g = self.open.as_ref().or(self.groups.get(self.selected));
        let text = match (&self.error, g.and_then(|g| g.hint.as_deref())) {
            (Some(e), _) => Line::styled(
                truncate(&sanitize(e), area.width as usize),
                ctx.theme.error(),
            ),
            (None, Some(h)) => Line::from(vec![
                Span::styled("fix: ", ctx.theme.accent()),
                Span::raw(h.to_string()),
            ]),
            (None, None) => Line::styled("no known fix for this class", ctx.theme.muted()),
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            hint,
        );
    }
}

/// The one progress line of a retry job under way.
fn progress_line<'a>(s: &Snapshot, ctx: &Ctx) -> Line<'a> {
    match &s.running {
        Some(j) if j.kind == JobKind::RetryRecords => {
            let mut text = format!(
                "▶ retry job #{}: {}/{} records  ✓{} ✗{}",
                j.id, j.done, j.total, j.succeeded, j.failed
            );
            if let Some(p) = s.progress.as_ref().filter(|p| p.job_id == j.id) {
                text.push_str(&format!("  {:.1}/s", p.rate_per_s));
                if let Some(eta) = p.eta_s {
                    text.push_str(&format!("  ETA {}", duration(eta as i64)));
                }
            }
            Line::styled(text, ctx.theme.accent())
        }
        _ => Line::styled(
            "Enter: a class's entries · Space: mark · r: retry marked · R: retry the class",
            ctx.theme.muted(),
        ),
    }
}
