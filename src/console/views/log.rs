//! `:log`: the engine's recent log lines, levelled and with secrets
//! already stripped by the engine (`log_tail`). It follows the tail, read
//! again every second, until the operator scrolls up; `G` follows again.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::log_ring::LogLine;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use serde_json::{Value, json};

/// Lines the view keeps (the engine keeps 2,000).
const KEPT: usize = 2000;

#[derive(Debug)]
pub struct LogView {
    lines: Vec<LogLine>,
    next: Option<u64>,
    /// The line at the bottom of the screen when not following.
    bottom: usize,
    follow: bool,
    error: Option<String>,
}

impl Default for LogView {
    fn default() -> Self {
        LogView {
            lines: Vec::new(),
            next: None,
            bottom: 0,
            follow: true,
            error: None,
        }
    }
}

const ACTIONS: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::PageUp,
    Action::PageDown,
    Action::Top,
    Action::Bottom,
    Action::Copy,
];

impl LogView {
    /// A view holding these lines, as the engine sent them (tests).
    pub fn with_lines(lines: Vec<LogLine>) -> LogView {
        LogView {
            next: lines.last().map(|l| l.seq),
            lines,
            ..Default::default()
        }
    }

    fn read(&self) -> Effect {
        Effect::Call {
            method: "log_tail",
            params: match self.next {
                Some(after) => json!({ "after": after }),
                None => json!({}),
            },
            tag: "tail",
        }
    }

    fn last(&self) -> usize {
        self.lines.len().saturating_sub(1)
    }

    fn scroll(&mut self, by: isize) {
        let from = if self.follow {
            self.last()
        } else {
            self.bottom
        };
        self.bottom = from.saturating_add_signed(by).min(self.last());
        self.follow = self.bottom == self.last();
    }
}

impl View for LogView {
    fn title(&self) -> String {
        "log".into()
    }

    fn command(&self) -> &'static str {
        "log"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        self.read()
    }

    fn on_tick(&mut self, _ctx: &mut Ctx) -> Effect {
        self.read()
    }

    fn update(&mut self, action: Action, _ctx: &mut Ctx) -> Effect {
        match action {
            Action::Up => self.scroll(-1),
            Action::Down => self.scroll(1),
            Action::PageUp => self.scroll(-20),
            Action::PageDown => self.scroll(20),
            Action::Top => {
                self.bottom = 0;
                self.follow = false;
            }
            Action::Bottom => self.follow = true,
            _ => {}
        }
        Effect::None
    }

    fn on_reply(&mut self, _tag: &'static str, result: Result<Value, String>, _ctx: &mut Ctx) {
        match result {
            Err(e) => self.error = Some(e),
            Ok(v) => {
                self.error = None;
                let new: Vec<LogLine> =
                    serde_json::from_value(v["lines"].clone()).unwrap_or_default();
                self.next = v["next"].as_u64().or(self.next);
                self.lines.extend(new);
                let over = self.lines.len().saturating_sub(KEPT);
                self.lines.drain(..over);
                self.bottom = self.bottom.saturating_sub(over);
            }
        }
    }

    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        let at = if self.follow {
            self.last()
        } else {
            self.bottom
        };
        self.lines
            .get(at)
            .map(|l| vec![("log line", l.text.clone())])
            .unwrap_or_default()
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let state = if self.follow {
            "following".to_string()
        } else {
            format!("line {} of {}", self.bottom + 1, self.lines.len())
        };
        let block = pane_focused(ctx, format!(" Engine log ({state}) "), true);
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if let Some(e) = &self.error {
            frame.render_widget(
                Line::styled(
                    truncate(&sanitize(e), inner.width as usize),
                    ctx.theme.error(),
                ),
                inner,
            );
            return;
        }
        let visible = inner.height as usize;
        let end = if self.follow {
            self.lines.len()
        } else {
            self.bottom + 1
        };
        let start = end.saturating_sub(visible);
        let width = inner.width as usize;
        for (i, l) in self.lines[start..end].iter().enumerate() {
            let style = match l.level.as_str() {
                "ERROR" => ctx.theme.error(),
                "WARN" => ctx.theme.warn(),
                "INFO" => ctx.theme.base(),
                _ => ctx.theme.muted(),
            };
            let head = format!("{} {:<5} ", l.at.format("%H:%M:%S"), l.level);
            let room = width.saturating_sub(head.chars().count());
            let line = Line::from(vec![
                Span::styled(head, ctx.theme.muted()),
                Span::styled(truncate(&sanitize(&l.text), room), style),
            ]);
            frame.render_widget(
                line,
                Rect {
                    y: inner.y + i as u16,
                    height: 1,
                    ..inner
                },
            );
        }
    }
}
