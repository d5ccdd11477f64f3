//! `:history`: the configs applied while the engine ran (newest first),
//! with who applied each and when; Enter shows the selected one's
//! difference from the file it replaced. The list comes from the engine
//! (`config_history`), each diff on demand (`config_get`). With a version
//! shown, `p` previews going back to it (`config_preview`: nothing is
//! written) and `u` goes back to it (`config_apply`, refused to read-only
//! consoles), through the same checks as any other save.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::{Value, json};

#[derive(Debug, Default)]
pub struct HistoryView {
    versions: Vec<Value>,
    selected: usize,
    /// The selected version's diff, once fetched.
    diff: Option<String>,
    /// The shown version's text, for a preview or a revert.
    text: Option<String>,
    /// What a preview of going back said.
    preview: Option<Vec<String>>,
    /// Why the engine could not answer.
    error: Option<String>,
    loaded: bool,
}

const ACTIONS: &[Action] = &[
    Action::Open,
    Action::PreviewConfig,
    Action::RevertConfig,
    Action::Down,
    Action::Up,
    Action::Top,
    Action::Bottom,
];

/// A preview's answer as lines, with the key that goes back.
fn summary(v: &Value) -> Vec<String> {
    let mut out = super::config::preview::summary(v);
    out.push("u: go back to this config".into());
    out
}

impl HistoryView {
    /// The view with the engine's answer to `config_history` (tests).
    pub fn with_versions(versions: Vec<Value>) -> HistoryView {
        HistoryView {
            versions,
            loaded: true,
            ..HistoryView::default()
        }
    }

    fn row(&self, v: &Value, width: usize) -> String {
        let at = v["at"].as_str().unwrap_or("").replace('T', " ");
        let at = at.get(..16).unwrap_or(&at).to_string();
        let who = v["operator"].as_str().unwrap_or("(as loaded)");
        let diff = v["diff"].as_str().unwrap_or("");
        let added = diff
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .count();
        let removed = diff
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .count();
        truncate(
            &sanitize(&format!(
                "#{:<4} {at}  {who:<12} +{added} -{removed}",
                v["id"].as_i64().unwrap_or(0)
            )),
            width,
        )
    }
}

impl View for HistoryView {
    fn title(&self) -> String {
        "config history".into()
    }

    fn command(&self) -> &'static str {
        "history"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        Effect::Call {
            method: "config_history",
            params: json!({}),
            tag: "list",
        }
    }

    fn update(&mut self, action: Action, _ctx: &mut Ctx) -> Effect {
        let last = self.versions.len().saturating_sub(1);
        let before = self.selected;
        match action {
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => {
                if let Some(v) = self.versions.get(self.selected) {
                    return Effect::Call {
                        method: "config_get",
                        params: json!({"id": v["id"]}),
                        tag: "get",
                    };
                }
            }
            Action::PreviewConfig | Action::RevertConfig => {
                let Some(text) = &self.text else {
                    _ctx.say("open a version first (Enter)");
                    return Effect::None;
                };
                if action == Action::PreviewConfig {
                    return Effect::Call {
                        method: "config_preview",
                        params: json!({"toml": text}),
                        tag: "preview",
                    };
                }
                // The newest version is the file as the engine last wrote
                // it: if someone changed it since, the engine refuses.
                let base = self
                    .versions
                    .first()
                    .map(|v| v["hash"].clone())
                    .unwrap_or_default();
                return Effect::Call {
                    method: "config_apply",
                    params: json!({"toml": text, "base": base}),
                    tag: "apply",
                };
            }
            _ => {}
        }
        if self.selected != before {
            self.diff = None;
            self.text = None;
            self.preview = None;
        }
        Effect::None
    }

    fn back(&mut self, _ctx: &mut Ctx) -> Option<Effect> {
        if self.preview.take().is_some() {
            return Some(Effect::None);
        }
        self.text = None;
        self.diff.take().map(|_| Effect::None)
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, ctx: &mut Ctx) {
        match (tag, result) {
            ("apply", Err(e)) | ("preview", Err(e)) => ctx.say(sanitize(&e)),
            (_, Err(e)) => self.error = Some(e),
            ("preview", Ok(v)) => self.preview = Some(summary(&v)),
            ("apply", Ok(v)) => {
                ctx.say(format!(
                    "{} (:history again shows it)",
                    sanitize(v["notice"].as_str().unwrap_or("applied"))
                ));
                self.preview = None;
            }
            ("list", Ok(v)) => {
                self.versions = v["versions"].as_array().cloned().unwrap_or_default();
                self.loaded = true;
                self.error = None;
            }
            (_, Ok(v)) => {
                self.text = v["text"].as_str().map(str::to_string);
                let diff = v["diff"].as_str().unwrap_or("").to_string();
                self.diff = Some(if diff.is_empty() {
                    "(the file as it was before the first change)".into()
                } else {
                    diff
                });
            }
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let [list_area, diff_area] = if self.diff.is_some() {
            Layout::vertical([Constraint::Percentage(35), Constraint::Min(3)]).areas(area)
        } else {
            Layout::vertical([Constraint::Min(3), Constraint::Length(0)]).areas(area)
        };
        let width = list_area.width.saturating_sub(4) as usize;
        let lines: Vec<Line> = if let Some(e) = &self.error {
            vec![Line::styled(
                truncate(&sanitize(e), width),
                ctx.theme.error(),
            )]
        } else if !self.loaded {
            vec![Line::styled("asking the engine…", ctx.theme.muted())]
        } else if self.versions.is_empty() {
            vec![Line::styled(
                "no config applied from a console yet: the history starts with the first save",
                ctx.theme.muted(),
            )]
        } else {
            self.versions
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let marker = if i == self.selected { "›" } else { " " };
                    let style = if i == self.selected {
                        ctx.theme.selection()
                    } else {
                        ctx.theme.base()
                    };
                    Line::from(vec![
                        Span::raw(marker),
                        Span::styled(self.row(v, width), style),
                    ])
                })
                .collect()
        };
        let title = format!(
            "config history ({}) · Enter: the change",
            self.versions.len()
        );
        frame.render_widget(
            Paragraph::new(lines).block(pane_focused(ctx, title, self.diff.is_none())),
            list_area,
        );
        if let Some(p) = &self.preview {
            let w = diff_area.width.saturating_sub(2) as usize;
            let lines: Vec<Line> = p
                .iter()
                .map(|l| Line::raw(truncate(&sanitize(l), w)))
                .collect();
            frame.render_widget(
                Paragraph::new(lines).block(pane_focused(
                    ctx,
                    "going back to this config would",
                    true,
                )),
                diff_area,
            );
        } else if let Some(d) = &self.diff {
            let w = diff_area.width.saturating_sub(2) as usize;
            let lines: Vec<Line> = d
                .lines()
                .map(|l| {
                    let style = if l.starts_with('+') {
                        ctx.theme.ok()
                    } else if l.starts_with('-') {
                        ctx.theme.error()
                    } else {
                        ctx.theme.muted()
                    };
                    Line::styled(truncate(&sanitize(l), w), style)
                })
                .collect();
            frame.render_widget(
                Paragraph::new(lines).block(pane_focused(
                    ctx,
                    "difference from the file it replaced",
                    true,
                )),
                diff_area,
            );
        }
    }
}
