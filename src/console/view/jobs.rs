//! The job queue: the running job with a progress gauge, then what is
//! queued, then what finished most recently.

use super::pane;
use crate::console::app::App;
use crate::console::text::{ago, duration, sanitize, truncate};
use crate::status::{JobState, JobView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};

/// Rows the pane takes: more history on taller terminals.
pub fn height(app: &App, total: u16) -> u16 {
    let history = if total >= 40 { 6 } else { 2 };
    let lines = (app.snapshot.queued.len() + app.snapshot.recent.len()).clamp(1, history) as u16;
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
    app: &App,
    j: &'a JobView,
    now: chrono::DateTime<chrono::Utc>,
    width: usize,
) -> Line<'a> {
    let style = match j.state {
        // A job that finished with FAILED records is not all good news.
        JobState::Succeeded if j.failed > 0 => app.theme.warn(),
        JobState::Succeeded => app.theme.ok(),
        JobState::Failed => app.theme.error(),
        JobState::Retrying => app.theme.warn(),
        _ => app.theme.muted(),
    };
    let mut spans = vec![
        Span::styled(
            format!("{} {:<10}", state_glyph(j.state), j.state.as_str()),
            style,
        ),
        Span::raw(format!("{:<26}", describe(j))),
    ];
    match j.state {
        JobState::Succeeded | JobState::Failed => {
            spans.push(Span::raw(format!(
                "{:>5} read  ✓{} ✗{}",
                j.done, j.succeeded, j.failed
            )));
            if let (Some(s), Some(f)) = (j.started_at, j.finished_at) {
                spans.push(Span::styled(
                    format!("  took {}", duration((f - s).num_seconds())),
                    app.theme.muted(),
                ));
                spans.push(Span::styled(
                    format!("  {}", ago(f, now)),
                    app.theme.muted(),
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
            spans.push(Span::styled(when, app.theme.muted()));
        }
    }
    if let Some(e) = &j.error {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = width.saturating_sub(used + 2);
        if room > 8 {
            spans.push(Span::styled(
                format!("  {}", truncate(&sanitize(e), room)),
                app.theme.error(),
            ));
        }
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let s = &app.snapshot;
    let block = pane(app, format!(" Jobs ({} queued) ", s.queued.len()));
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
                Span::styled("▶ running  ", app.theme.accent()),
                Span::raw(format!("{:<26}", describe(j))),
                Span::raw(format!("✓{} ✗{}", j.succeeded, j.failed)),
                Span::styled(format!("  for {elapsed}"), app.theme.muted()),
            ]);
            frame.render_widget(line, running);
            let ratio = if j.total == 0 {
                0.0
            } else {
                (j.done as f64 / j.total as f64).clamp(0.0, 1.0)
            };
            let label = if j.total == 0 {
                "counting…".to_string()
            } else {
                format!("{}/{} records ({:.0}%)", j.done, j.total, ratio * 100.0)
            };
            frame.render_widget(
                Gauge::default()
                    .gauge_style(app.theme.gauge())
                    .ratio(ratio)
                    .label(label),
                gauge,
            );
        }
        None => {
            frame.render_widget(
                Line::styled("  idle: no job running", app.theme.muted()),
                running,
            );
        }
    }
    let width = rest.width as usize;
    let mut lines: Vec<Line> = s.queued.iter().map(|j| row(app, j, now, width)).collect();
    lines.extend(s.recent.iter().map(|j| row(app, j, now, width)));
    if lines.is_empty() {
        lines.push(Line::styled("  no jobs yet", app.theme.muted()));
    }
    frame.render_widget(Paragraph::new(lines).style(Style::new()), rest);
}
