//! The one-line prompt at the bottom: `:` commands (with completion and
//! history), `/` filters (applied as typed), and values a view asks for.
//! Editing (cursor keys, Ctrl-W, Ctrl-U, Home/End) is ratatui-textarea's;
//! the keymap's prompt table decides what submits, cancels and completes.

use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::console::views::commands;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui_textarea::{CursorMove, TextArea};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    Command,
    Filter,
    /// A value for the view in front, returned under its tag.
    Input {
        tag: &'static str,
        label: String,
    },
}

pub struct Prompt {
    pub kind: PromptKind,
    text: TextArea<'static>,
    /// The candidates of the last Tab, and which one is shown.
    completions: Vec<String>,
    completion_at: Option<usize>,
    /// What was typed before Tab started cycling.
    typed: String,
    /// Where Up/Down is in the command history.
    pub history_at: Option<usize>,
}

impl Prompt {
    pub fn new(kind: PromptKind, initial: &str) -> Prompt {
        let mut text = TextArea::new(vec![initial.to_string()]);
        text.move_cursor(CursorMove::End);
        text.set_cursor_line_style(ratatui::style::Style::new());
        Prompt {
            kind,
            text,
            completions: Vec::new(),
            completion_at: None,
            typed: initial.to_string(),
            history_at: None,
        }
    }

    pub fn text(&self) -> String {
        self.text.lines().first().cloned().unwrap_or_default()
    }

    pub fn set_text(&mut self, s: &str) {
        self.text = TextArea::new(vec![s.to_string()]);
        self.text.move_cursor(CursorMove::End);
        self.text
            .set_cursor_line_style(ratatui::style::Style::new());
    }

    /// A key that is not one of the prompt's actions: text. Returns whether
    /// the text changed. Enter never reaches here (it submits), so the
    /// line stays one line.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let before = self.text();
        self.text.input(key);
        let changed = self.text() != before;
        if changed {
            self.completions.clear();
            self.completion_at = None;
        }
        changed
    }

    /// Tab (or Shift-Tab backwards): the next completion of what was typed.
    pub fn complete(&mut self, ctx: &Ctx, back: bool) {
        if self.kind != PromptKind::Command {
            return;
        }
        if self.completion_at.is_none() {
            self.typed = self.text();
            self.completions = commands::complete(&self.typed, ctx);
        }
        let n = self.completions.len();
        if n == 0 {
            return;
        }
        let at = match (self.completion_at, back) {
            (None, false) => 0,
            (None, true) => n - 1,
            (Some(i), false) => (i + 1) % n,
            (Some(i), true) => (i + n - 1) % n,
        };
        self.completion_at = Some(at);
        let mut line = self.completions[at].clone();
        // One match is final: ready for its argument.
        if n == 1 {
            line.push(' ');
        }
        let (completions, at_) = (std::mem::take(&mut self.completions), self.completion_at);
        self.set_text(&line);
        self.completions = completions;
        self.completion_at = at_;
    }

    pub fn completions(&self) -> (&[String], Option<usize>) {
        (&self.completions, self.completion_at)
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let label = match &self.kind {
            PromptKind::Command => ":".to_string(),
            PromptKind::Filter => "/".to_string(),
            PromptKind::Input { label, .. } => format!("{} ", sanitize(label)),
        };
        let label_w = label.chars().count() as u16;
        let [l, t, c] = Layout::horizontal([
            Constraint::Length(label_w),
            Constraint::Min(10),
            Constraint::Length(if self.completions.len() > 1 {
                (area.width / 2).min(50)
            } else {
                0
            }),
        ])
        .areas(area);
        frame.render_widget(Span::styled(label, ctx.theme.accent()), l);
        frame.render_widget(&self.text, t);
        if self.completions.len() > 1 {
            // As many candidates as fit, in a window that holds the one
            // shown; `+n` says how many more Tab reaches.
            let width = c.width as usize;
            let at = self.completion_at.unwrap_or(0);
            let label = |s: &String| format!(" {} ", truncate(s, 20));
            let mut start = 0;
            let fits = |from: usize, to: usize| {
                self.completions[from..=to]
                    .iter()
                    .map(|s| label(s).chars().count())
                    .sum::<usize>()
                    + 4
                    <= width
            };
            while start < at && !fits(start, at) {
                start += 1;
            }
            let mut end = at;
            while end + 1 < self.completions.len() && fits(start, end + 1) {
                end += 1;
            }
            let mut spans: Vec<Span> = self.completions[start..=end]
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let style = if Some(start + i) == self.completion_at {
                        ctx.theme.selection()
                    } else {
                        ctx.theme.muted()
                    };
                    Span::styled(label(s), style)
                })
                .collect();
            let more = self.completions.len() - (end - start + 1);
            if more > 0 {
                spans.push(Span::styled(format!("+{more}"), ctx.theme.muted()));
            }
            frame.render_widget(Line::from(spans), c);
        }
    }
}
