//! `:metrics`: the engine's last hour as sparklines, a column a minute:
//! records synced (all objects and directions, then per flow), FAILED
//! outcomes, and the rate budget used (the busiest 10-second window of
//! each minute, and the day's calls). The engine keeps the history
//! (`metrics`), so a console attaching late sees the whole hour.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::engine::metrics::Minute;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Sparkline;
use serde_json::Value;

/// Seconds between re-reads while the view is in front.
const REFRESH_SECS: u32 = 5;

#[derive(Debug, Default)]
pub struct MetricsView {
    minutes: Vec<Minute>,
    ticks: u32,
    error: Option<String>,
}

impl MetricsView {
    /// A view holding this hour, as the engine sent it (tests).
    pub fn with_minutes(minutes: Vec<Minute>) -> MetricsView {
        MetricsView {
            minutes,
            ..Default::default()
        }
    }

    fn read() -> Effect {
        Effect::Call {
            method: "metrics",
            params: Value::Null,
            tag: "metrics",
        }
    }
}

impl View for MetricsView {
    fn title(&self) -> String {
        "metrics".into()
    }

    fn command(&self) -> &'static str {
        "metrics"
    }

    fn actions(&self) -> &'static [Action] {
        &[]
    }

    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        Self::read()
    }

    fn on_tick(&mut self, _ctx: &mut Ctx) -> Effect {
        self.ticks += 1;
        if self.ticks.is_multiple_of(REFRESH_SECS) {
            Self::read()
        } else {
            Effect::None
        }
    }

    fn update(&mut self, _action: Action, _ctx: &mut Ctx) -> Effect {
        Effect::None
    }

    fn on_reply(&mut self, _tag: &'static str, result: Result<Value, String>, _ctx: &mut Ctx) {
        match result {
            Ok(v) => {
                self.minutes = serde_json::from_value(v["minutes"].clone()).unwrap_or_default();
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let synced: Vec<u64> = self
            .minutes
            .iter()
            .map(|m| m.synced.iter().map(|f| f.records).sum())
            .collect();
        let errors: Vec<u64> = self.minutes.iter().map(|m| m.errors).collect();
        let window: Vec<u64> = self
            .minutes
            .iter()
            .map(|m| m.window_used.unwrap_or(0))
            .collect();
        let window_max = self.minutes.iter().filter_map(|m| m.window_max).max();
        let daily = self
            .minutes
            .iter()
            .rev()
            .find_map(|m| m.daily_used.zip(m.daily_max));
        let last = |v: &[u64]| v.last().copied().unwrap_or(0);
        let peak = |v: &[u64]| v.iter().copied().max().unwrap_or(0);
        let rows = [
            (
                format!(
                    " Records synced a minute: {} now, {} at most, {} in the hour ",
                    last(&synced),
                    peak(&synced),
                    synced.iter().sum::<u64>()
                ),
                synced.clone(),
                None,
                ctx.theme.ok(),
            ),
            (
                format!(
                    " FAILED a minute: {} now, {} in the hour ",
                    last(&errors),
                    errors.iter().sum::<u64>()
                ),
                errors.clone(),
                None,
                ctx.theme.error(),
            ),
            (
                format!(
                    " Budget used (busiest 10 s): {} of {}{} ",
                    last(&window),
                    window_max.map_or("?".into(), |m| m.to_string()),
                    daily.map_or(String::new(), |(u, m)| format!(" · today {u} of {m}")),
                ),
                window,
                window_max,
                ctx.theme.warn(),
            ),
        ];
        let areas = Layout::vertical([Constraint::Ratio(1, 3); 3]).split(area);
        for ((title, data, max, style), area) in rows.into_iter().zip(areas.iter()) {
            let block = pane_focused(ctx, title, false)
                .title_bottom(Line::styled(" 60 min ago → now ", ctx.theme.muted()));
            let inner = block.inner(*area);
            frame.render_widget(block, *area);
            // The newest minutes at the right edge when narrower than an hour.
            let skip = data.len().saturating_sub(inner.width as usize);
            let shown = (data.len() - skip) as u16;
            let plot = Rect {
                x: inner.x + inner.width.saturating_sub(shown),
                width: shown.min(inner.width),
                ..inner
            };
            let mut s = Sparkline::default().data(&data[skip..]).style(style);
            if let Some(m) = max {
                s = s.max(m);
            }
            frame.render_widget(s, plot);
        }
        if let Some(e) = &self.error {
            frame.render_widget(Line::styled(e.clone(), ctx.theme.error()), area);
        }
    }
}
