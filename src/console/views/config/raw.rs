//! The TOML tab: the object's section as the file has it (comments and
//! all), in a text editor (ratatui-textarea) for those who prefer to type.
//! Enter starts editing; the text is checked as it is typed (a syntax
//! error at its line and column of the section, then what loading and the
//! validators say); ctrl-s keeps it in the working copy, Esc leaves the
//! editor (keeping a text that loads, holding one that does not as a
//! draft until it is fixed or dropped with `x`).

use super::session::EditSession;
use super::tabs::TabView;
use crate::config::ConfigError;
use crate::config::edit::Edit;
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::text::{sanitize, truncate};
use crate::console::views::Effect;
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui_textarea::TextArea;

const VIEWING: &[Action] = &[
    Action::Open,
    Action::Remove,
    Action::FocusNext,
    Action::FocusPrev,
    Action::PreviewConfig,
    Action::Apply,
    Action::Undo,
    Action::Refresh,
];
const EDITING: &[Action] = &[Action::Save, Action::Cancel];

#[derive(Default)]
pub struct RawTab {
    editor: Option<TextArea<'static>>,
    /// Text that did not load when the editor was left: shown instead of
    /// the working copy's until kept or dropped.
    draft: Option<String>,
    /// What is wrong with the text being typed, at the section's line.
    error: Option<String>,
}

/// The section's first line in the file, so an error at a line of the
/// file can be said at the line of the section the editor shows.
fn first_line(s: &EditSession, object: ObjectKind) -> usize {
    let text = s.text();
    match s.doc.section(object) {
        Ok(section) => text
            .find(&section)
            .map_or(0, |at| text[..at].matches('\n').count()),
        Err(_) => 0,
    }
}

fn said(e: &ConfigError, offset: usize) -> String {
    if e.line > offset {
        format!(
            "line {}, column {}: {}",
            e.line - offset,
            e.column,
            e.message
        )
    } else {
        e.message.clone()
    }
}

impl RawTab {
    fn text(&self) -> Option<String> {
        self.editor.as_ref().map(|t| t.lines().join("\n"))
    }

    /// What is wrong with `text` as the section: the first problem.
    fn check(text: &str, object: ObjectKind, s: &EditSession) -> Option<String> {
        // A syntax error is found in the section alone, at its own line.
        if let Err(e) = text.parse::<toml_edit::DocumentMut>() {
            let (line, column) = e
                .span()
                .map_or((1, 1), |sp| crate::config::raw_position(text, sp.start));
            return Some(format!(
                "line {line}, column {column}: {}",
                e.message().trim()
            ));
        }
        let offset = first_line(s, object);
        let edit = Edit::SetSection {
            object,
            toml: text.to_string(),
        };
        match s.try_edit(&edit) {
            Err(e) => Some(said(&e, offset)),
            Ok(problems) => problems
                .into_iter()
                .find(|p| p.object == object.to_string())
                .map(|p| {
                    if p.line > offset {
                        format!("line {}: {}", p.line - offset, p.message)
                    } else {
                        p.message
                    }
                }),
        }
    }

    fn begin(&mut self, object: ObjectKind, s: &EditSession) {
        let text = match &self.draft {
            Some(d) => d.clone(),
            None => s.doc.section(object).unwrap_or_default(),
        };
        let mut t = TextArea::new(text.lines().map(str::to_string).collect());
        t.set_line_number_style(ratatui::style::Style::new());
        self.editor = Some(t);
    }

    /// Keeps the typed text in the working copy if it loads.
    fn keep(&mut self, object: ObjectKind, s: &mut EditSession, ctx: &mut Ctx) -> bool {
        let Some(text) = self.text() else {
            return true;
        };
        let mut section = text.clone();
        if !section.ends_with('\n') {
            section.push('\n');
        }
        if s.doc.section(object).ok().as_deref() == Some(section.as_str()) {
            self.draft = None;
            return true;
        }
        let offset = first_line(s, object);
        match s.apply(Edit::SetSection {
            object,
            toml: section,
        }) {
            Ok(()) => {
                self.draft = None;
                self.error = None;
                ctx.say("kept the section's text in the working copy (ctrl-z undoes)");
                true
            }
            Err(e) => {
                self.error = Some(said(&e, offset));
                false
            }
        }
    }
}

impl TabView for RawTab {
    fn actions(&self) -> &'static [Action] {
        if self.editor.is_some() {
            EDITING
        } else {
            VIEWING
        }
    }

    fn mode(&self) -> Mode {
        if self.editor.is_some() {
            Mode::Editor
        } else {
            Mode::Normal
        }
    }

    fn busy(&self) -> bool {
        self.editor.is_some()
    }

    fn update(
        &mut self,
        action: Action,
        object: ObjectKind,
        s: &mut EditSession,
        ctx: &mut Ctx,
    ) -> Effect {
        if self.editor.is_some() {
            match action {
                Action::Save if self.keep(object, s, ctx) => self.editor = None,
                Action::Cancel => {
                    if !self.keep(object, s, ctx) {
                        self.draft = self.text();
                        ctx.say("the text does not load, so it was not kept: Enter goes back to it, x drops it");
                    }
                    self.editor = None;
                }
                _ => {}
            }
            return Effect::None;
        }
        match action {
            Action::Open | Action::EditField => self.begin(object, s),
            Action::Remove if self.draft.is_some() => {
                self.draft = None;
                self.error = None;
                ctx.say("dropped the draft: the section is the working copy's again");
            }
            _ => {}
        }
        Effect::None
    }

    fn key(&mut self, key: KeyEvent, object: ObjectKind, s: &EditSession, _ctx: &mut Ctx) {
        let Some(t) = &mut self.editor else { return };
        if t.input(key) {
            let text = t.lines().join("\n");
            self.error = Self::check(&text, object, s);
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, object: ObjectKind, s: &EditSession, ctx: &Ctx) {
        let [body, status] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        let width = area.width as usize;
        match &self.editor {
            Some(t) => {
                let block = pane_focused(
                    ctx,
                    format!("[objects.{object}] as TOML · ctrl-s keeps · Esc leaves"),
                    true,
                );
                let inner = block.inner(body);
                frame.render_widget(block, body);
                frame.render_widget(t, inner);
            }
            None => {
                let text = match &self.draft {
                    Some(d) => d.clone(),
                    None => s.doc.section(object).unwrap_or_else(|e| e.message),
                };
                let lines: Vec<Line> = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        let style = if l.trim_start().starts_with('#') {
                            ctx.theme.muted()
                        } else {
                            ctx.theme.base()
                        };
                        Line::styled(
                            truncate(&format!("{:>3} {}", i + 1, sanitize(l)), width),
                            style,
                        )
                    })
                    .collect();
                let title = if self.draft.is_some() {
                    format!(
                        "[objects.{object}] · a draft that does not load · Enter edits, x drops"
                    )
                } else {
                    format!("[objects.{object}] as the file has it · Enter edits")
                };
                frame.render_widget(
                    Paragraph::new(lines).block(pane_focused(ctx, title, true)),
                    body,
                );
            }
        }
        let line = match &self.error {
            Some(e) if self.editor.is_some() || self.draft.is_some() => Line::styled(
                truncate(&format!("✗ {}", sanitize(e)), width),
                ctx.theme.error(),
            ),
            _ if self.editor.is_some() => {
                Line::styled("✓ loads and passes the checks", ctx.theme.ok())
            }
            _ => Line::raw(""),
        };
        frame.render_widget(line, status);
    }
}
