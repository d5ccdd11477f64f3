//! The job queue: the running job with a progress gauge, then what is
//! queued, then what finished most recently.

use super::pane_focused;
use crate::console::action::Action;
use crate::console::ctx::Ctx;
use crate::console::text::{ago, duration, sanitize, truncate};
use crate::status::{JobState, JobView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

/// Rows the pane takes: more history on taller terminals.
pub fn height(ctx: &Ctx, total: u16) -> u16 {
    let history = match total {
        40.. => 6,
        20.. => 2,
        // A short terminal keeps the running job and its gauge only.
        _ => 0,
    };
    let lines = (ctx.snapshot.queued.len() + ctx.snapshot.recent.len())
        .clamp(history.min(1), history) as u16;
    2 + 2 + lines
}

fn state_glyph(s: JobState) -> &'static str {
    match s {
        JobState::Queued => "◷",
        JobState::Running => "▶",
        JobState::Succeeded => "✓",
        JobState::Retrying => "↻",
        JobState::Failed => "✖",
    }
}

fn describe(j: &JobView) -> String {
    format!(
        "#{} {} {} {}",
        j.id,
        j.kind.as_str(),
        j.object,
        j.direction.arrow()
    )
}

fn row<'a>(
    ctx: &Ctx,
    j: &'a JobView,
    now: chrono::DateTime<chrono::Utc>,
    width: usize,
) -> Line<'a> {
    let style = match j.state {
        // A job that finished with FAILED records is not all good news.
        JobState::Succeeded if j.failed > 0 => ctx.theme.warn(),
        JobState::Succeeded => ctx.theme.ok(),
        JobState::Failed => ctx.theme.error(),
        JobState::Retrying => ctx.theme.warn(),
        _ => ctx.theme.muted(),
    };
    let mut spans = vec![
        Span::styled(
            format!("{} {:<10}", state_glyph(j.state), j.state.as_str()),
            style,
        ),
        Span::raw(format!("{:<26}", describe(j))),
    ];
    if let Some(by) = &j.requested_by {
        spans.push(Span::styled(
            format!("by {} ", sanitize(by)),
            ctx.theme.accent(),
        ));
    }
    match j.state {
        JobState::Succeeded | JobState::Failed => {
            spans.push(Span::raw(format!(
                "{:>5} read  ✓{} ✗{}",
                j.done, j.succeeded, j.failed
            )));
            if let (Some(s), Some(f)) = (j.started_at, j.finished_at) {
                spans.push(Span::styled(
                    format!("  took {}", duration((f - s).num_seconds())),
                    ctx.theme.muted(),
                ));
                spans.push(Span::styled(
                    format!("  {}", ago(f, now)),
                    ctx.theme.muted(),
                ));
            }
        }
        JobState::Queued | JobState::Retrying | JobState::Running => {
            let when = if j.run_after > now {
                format!(
                    "due in {}",
                    duration((j.run_after - now).num_seconds().max(1))
                )
            } else {
                format!("due, queued {}", ago(j.queued_at, now))
            };
            spans.push(Span::styled(when, ctx.theme.muted()));
        }
    }
    if let Some(e) = &j.error {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = width.saturating_sub(used + 2);
        if room > 8 {
            spans.push(Span::styled(
                format!("  {}", truncate(&sanitize(e), room)),
                ctx.theme.error(),
            ));
        }
    }
    Line::from(spans)
}

/// The queued and recent jobs as one list the focus can walk.
#[derive(Debug, Default)]
pub struct JobsList {
    pub selected: usize,
    /// Whether a row is highlighted (only once the list has been moved in).
    pub active: bool,
    offset: std::cell::Cell<usize>,
}

impl JobsList {
    pub fn len(ctx: &Ctx) -> usize {
        ctx.snapshot.queued.len() + ctx.snapshot.recent.len()
    }

    pub fn selected_job<'a>(&self, ctx: &'a Ctx) -> Option<&'a JobView> {
        let s = &ctx.snapshot;
        s.queued.iter().chain(s.recent.iter()).nth(self.selected)
    }

    /// What `c` offers for the selected job.
    pub fn copyable(&self, ctx: &Ctx) -> Vec<(&'static str, String)> {
        let Some(j) = self.selected_job(ctx) else {
            return Vec::new();
        };
        let mut v = vec![("job id", j.id.to_string())];
        if let Some(e) = &j.error {
            v.push(("error", e.clone()));
        }
        v
    }

    pub fn update(&mut self, action: Action, ctx: &Ctx) {
        let last = Self::len(ctx).saturating_sub(1);
        self.active = true;
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => self.selected = (self.selected + 10).min(last),
            Action::PageUp => self.selected = self.selected.saturating_sub(10),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            _ => {}
        }
    }

    pub fn draw(&self, frame: &mut Frame, ctx: &Ctx, area: Rect, focused: bool) {
        draw(
            frame,
            ctx,
            area,
            focused,
            (focused && self.active).then_some(self.selected),
            &self.offset,
        );
    }
}

fn draw(
    frame: &mut Frame,
    ctx: &Ctx,
    area: Rect,
    focused: bool,
    selected: Option<usize>,
    offset: &std::cell::Cell<usize>,
) {
    let s = &ctx.snapshot;
    let block = pane_focused(ctx, format!(" Jobs ({} queued) ", s.queued.len()), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [running, gauge, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    let now = s.taken_at.unwrap_or_default();
    match &s.running {
        Some(j) => {
            let elapsed = j
                .started_at
                .map(|t| duration((now - t).num_seconds()))
                .unwrap_or_default();
            let line = Line::from(vec![
                Span::styled("▶ running  ", ctx.theme.accent()),
                Span::raw(format!("{:<26}", describe(j))),
                Span::raw(format!("✓{} ✗{}", j.succeeded, j.failed)),
                Span::styled(format!("  for {elapsed}"), ctx.theme.muted()),
            ]);
            frame.render_widget(line, running);
            let ratio = if j.total == 0 {
                0.0
            } else {
                (j.done as f64 / j.total as f64).clamp(0.0, 1.0)
            };
            let mut label = if j.total == 0 {
                "counting…".to_string()
            } else {
                format!("{}/{} records ({:.0}%)", j.done, j.total, ratio * 100.0)
            };
            if let Some(p) = s.progress.as_ref().filter(|p| p.job_id == j.id) {
                label.push_str(&format!("  {:.1}/s", p.rate_per_s));
                if let Some(eta) = p.eta_s {
                    label.push_str(&format!("  ETA {}", duration(eta as i64)));
                }
            }
            frame.render_widget(
                Gauge::default()
                    .gauge_style(ctx.theme.gauge())
                    .ratio(ratio)
                    .label(label),
                gauge,
            );
        }
        None => {
            frame.render_widget(
                Line::styled("  idle: no job running", ctx.theme.muted()),
                running,
            );
        }
    }
    let width = rest.width as usize;
    let visible = (rest.height as usize).max(1);
    let mut start = offset.get();
    if let Some(sel) = selected {
        if sel < start {
            start = sel;
        } else if sel >= start + visible {
            start = sel + 1 - visible;
        }
    } else {
        start = 0;
    }
    offset.set(start);
    let mut lines: Vec<Line> = s
        .queued
        .iter()
        .chain(s.recent.iter())
        .enumerate()
        .skip(start)
        .take(visible)
        .map(|(i, j)| {
            let line = row(ctx, j, now, width);
            if Some(i) == selected {
                line.style(ctx.theme.selection())
            } else {
                line
            }
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::styled("  no jobs yet", ctx.theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines).style(Style::new()), rest);
}
