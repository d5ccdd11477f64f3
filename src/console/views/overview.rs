//! The overview: connections, record counts, the job queue and the FAILED
//! list on one screen. The job queue and the FAILED list take the focus
//! (Tab); `z` shows the focused one alone. Panes give way by priority on
//! small terminals: the FAILED list stays, the connections and counts lose
//! their boxes, the job history goes.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::app::{Popup, Request};
use crate::console::components::{
    connections, counts, detail, failed_list::FailedList, jobs_list, jobs_list::JobsList,
};
use crate::console::ctx::Ctx;
use crate::console::text::sanitize;
use crate::model::ObjectKind;
use crate::status::{Command, Snapshot};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pane {
    Jobs,
    #[default]
    Failed,
}

#[derive(Debug, Default)]
pub struct OverviewView {
    pub focus: Pane,
    pub zoomed: bool,
    pub failed: FailedList,
    pub jobs: JobsList,
    /// The selected FAILED entry shown in full.
    pub detail: bool,
}

const ACTIONS: &[Action] = &[
    Action::Open,
    Action::Retry,
    Action::SyncNow,
    Action::FocusNext,
    Action::Zoom,
    Action::Dismiss,
    Action::RetryCategory,
    Action::OlderPage,
    Action::NewerPage,
    Action::FocusPrev,
    Action::Down,
    Action::Up,
    Action::PageDown,
    Action::PageUp,
    Action::Top,
    Action::Bottom,
];

impl OverviewView {
    pub fn focus_pane(&mut self, pane: Pane) {
        self.focus = pane;
    }

    /// The object `s` syncs: the selected FAILED entry's, else the first
    /// configured.
    fn object_in_view(&self, ctx: &Ctx) -> Option<ObjectKind> {
        if self.focus == Pane::Failed
            && let Some(a) = self.failed.selected_entry(ctx)
        {
            return Some(a.object);
        }
        if self.focus == Pane::Jobs
            && let Some(j) = self.jobs.selected_job(ctx)
        {
            return Some(j.object);
        }
        ctx.snapshot.counts.first().map(|c| c.object)
    }
}

impl View for OverviewView {
    fn title(&self) -> String {
        "overview".into()
    }

    fn command(&self) -> &'static str {
        "overview"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        if self.detail {
            match action {
                // Enter again: the record's whole story.
                Action::Open => {
                    self.detail = false;
                    return match self.failed.selected_entry(ctx) {
                        Some(a) => Effect::Push(Box::new(super::RecordStoryView::of_entry(a))),
                        None => Effect::None,
                    };
                }
                // Moving walks the list under the open detail.
                Action::Retry | Action::Dismiss | Action::RetryCategory => {}
                Action::Down | Action::Up => {}
                _ => return Effect::None,
            }
        }
        match action {
            Action::FocusNext | Action::FocusPrev => {
                self.focus = match self.focus {
                    Pane::Jobs => Pane::Failed,
                    Pane::Failed => Pane::Jobs,
                };
                Effect::None
            }
            Action::Zoom => {
                self.zoomed = !self.zoomed;
                Effect::None
            }
            Action::SyncNow => match self.object_in_view(ctx) {
                Some(object) => {
                    ctx.say(format!("sync of {object} requested…"));
                    Effect::Request(Request::Engine(Command::SyncNow { object }))
                }
                None => {
                    ctx.say("no object is configured to sync");
                    Effect::None
                }
            },
            Action::Open if self.focus == Pane::Failed => {
                if self.failed.selected_entry(ctx).is_some() {
                    self.detail = true;
                }
                Effect::None
            }
            Action::Open => Effect::Push(Box::new(super::JobsView::default())),
            _ if self.focus == Pane::Jobs => {
                if matches!(
                    action,
                    Action::Retry | Action::Dismiss | Action::RetryCategory
                ) {
                    ctx.say("that acts on FAILED entries: Tab to the FAILED list first");
                } else {
                    self.jobs.update(action, ctx);
                }
                Effect::None
            }
            _ => self.failed.update(action, ctx),
        }
    }

    fn back(&mut self, _ctx: &mut Ctx) -> Option<Effect> {
        if self.detail {
            self.detail = false;
        } else if self.zoomed {
            self.zoomed = false;
        } else if self.failed.filter.is_some() {
            return Some(self.failed.set_filter(""));
        }
        // The overview is the bottom of the stack: Esc never leaves it.
        Some(Effect::None)
    }

    fn filter(&mut self, text: &str, ctx: &mut Ctx) -> Option<Effect> {
        if self.focus != Pane::Failed {
            ctx.say("/ filters the FAILED list: Tab to it first");
            return Some(Effect::None);
        }
        Some(self.failed.set_filter(text))
    }

    fn filter_text(&self) -> Option<&str> {
        self.failed.filter.as_deref()
    }

    fn on_snapshot(&mut self, old: &Snapshot, ctx: &mut Ctx) {
        let before = old
            .failed
            .get(self.failed.selected)
            .map(|a| (a.id, a.object, a.app_id.clone()));
        let still_there = self.failed.follow(before.clone(), ctx);
        // The record whose detail is open is no longer FAILED (a retry
        // succeeded, or someone dismissed it): close it rather than show
        // another record under the same popup, whose retry `r` would start.
        if self.detail && !still_there {
            self.detail = false;
            if let Some((_, _, app_id)) = before {
                ctx.say(format!("record {} is no longer FAILED", sanitize(&app_id)));
            }
        }
    }

    fn copyable(&self, ctx: &Ctx) -> Vec<(&'static str, String)> {
        match self.focus {
            Pane::Failed => self.failed.copyable(ctx),
            Pane::Jobs => self.jobs.copyable(ctx),
        }
    }

    fn click(&mut self, column: u16, row: u16, ctx: &mut Ctx) -> Effect {
        if self.failed.click(column, row, ctx) {
            self.focus = Pane::Failed;
        }
        Effect::None
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        if self.zoomed {
            match self.focus {
                Pane::Failed => self.failed.draw(frame, area, ctx, true),
                Pane::Jobs => self.jobs.draw(frame, ctx, area, true),
            }
        } else {
            draw_panes(self, frame, area, ctx);
        }
        if self.detail
            && let Some(a) = self.failed.selected_entry(ctx)
        {
            detail::draw(frame, ctx, frame.area(), a);
        }
    }
}

fn draw_panes(v: &OverviewView, frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let wide = area.width >= 120;
    let conn_w = if wide {
        area.width * 55 / 100
    } else {
        area.width
    };
    let conn_rows = connections::rows(ctx, conn_w);
    let count_rows = ctx.snapshot.counts.len().max(1) as u16 + 1;
    let jobs_rows = jobs_list::height(ctx, area.height + 2);
    // Boxes cost two rows each; on a short terminal the connections and
    // counts go without them so the FAILED list keeps at least three rows.
    let boxed_top = if wide {
        conn_rows.max(count_rows) + 2
    } else {
        conn_rows + 2 + count_rows + 2
    };
    let boxed = area.height >= boxed_top + jobs_rows + 3 + 3;
    let top = match (boxed, wide) {
        (true, _) => boxed_top,
        (false, true) => conn_rows.max(count_rows),
        (false, false) => conn_rows + count_rows,
    };
    let [top_area, jobs_area, failed_area] = Layout::vertical([
        Constraint::Length(top),
        Constraint::Length(jobs_rows),
        Constraint::Min(3),
    ])
    .areas(area);
    let extra = if boxed { 2 } else { 0 };
    if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(top_area);
        connections::draw(frame, ctx, l, boxed);
        counts::draw(frame, ctx, r, boxed);
    } else {
        let [c, n] = Layout::vertical([
            Constraint::Length(conn_rows + extra),
            Constraint::Length(count_rows + extra),
        ])
        .areas(top_area);
        connections::draw(frame, ctx, c, boxed);
        counts::draw(frame, ctx, n, boxed);
    }
    v.jobs.draw(frame, ctx, jobs_area, v.focus == Pane::Jobs);
    v.failed
        .draw(frame, failed_area, ctx, v.focus == Pane::Failed);
}

/// Focuses one of the overview's panes by name (`:overview jobs`).
pub fn focus(view: &mut OverviewView, pane: &str) {
    view.focus = match pane {
        "jobs" => Pane::Jobs,
        _ => Pane::Failed,
    };
}

impl Popup {
    /// A question before stopping the engine.
    pub fn stop_engine(ctx: &Ctx) -> Popup {
        Popup::Confirm {
            question: format!(
                "Stop the engine? The sync stops for every console ({} attached) until it is started again. y / Esc",
                ctx.snapshot.engine.as_ref().map_or(1, |e| e.consoles)
            ),
            command: Request::Shutdown,
        }
    }
}
