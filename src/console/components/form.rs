//! A form of labelled rows, one entry of the config being edited (a field
//! mapping, a filter, the object's settings). Each row shows its value and,
//! beside it, what the validators say about it as it is typed: to its
//! right when the terminal is wide, on the line under it when not. The
//! form owns its selection and the text being typed; the view decides
//! what the values mean.

use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate, wrap};
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::{CursorMove, TextArea};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKind {
    /// Typed (Enter starts typing, Enter keeps it, Esc drops it).
    Text,
    /// Picked from a list with fuzzy search (the view opens the picker).
    Pick,
    /// One of these, in turn (Enter or Space takes the next).
    Choice(Vec<String>),
    /// Yes or no.
    Toggle,
}

#[derive(Debug, Clone)]
pub struct Row {
    /// The config key it edits (`hubspot`, `op`): problems are matched
    /// to rows by it.
    pub key: &'static str,
    pub label: &'static str,
    pub value: String,
    pub kind: RowKind,
    /// Said beside the value when there is no error: what it means.
    pub hint: String,
    pub error: Option<String>,
}

impl Row {
    pub fn new(
        key: &'static str,
        label: &'static str,
        value: impl Into<String>,
        kind: RowKind,
    ) -> Row {
        Row {
            key,
            label,
            value: value.into(),
            kind,
            hint: String::new(),
            error: None,
        }
    }

    pub fn hint(mut self, h: impl Into<String>) -> Row {
        self.hint = h.into();
        self
    }
}

pub struct Form {
    pub title: String,
    pub rows: Vec<Row>,
    pub selected: usize,
    /// The text of the selected row while it is typed.
    editing: Option<TextArea<'static>>,
    /// A problem with the entry as a whole (no row of its own).
    pub error: Option<String>,
    /// Problems the validators found that block saving but not keeping
    /// the entry (an unknown property), shown as warnings.
    pub warnings: usize,
}

impl std::fmt::Debug for Form {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("title", &self.title)
            .field("rows", &self.rows)
            .field("selected", &self.selected)
            .field("editing", &self.editing_text())
            .finish()
    }
}

/// Wider than this, a row's error goes to the right of its value.
const SIDE_BY_SIDE: u16 = 110;
const LABEL_W: usize = 16;

impl Form {
    pub fn new(title: impl Into<String>, rows: Vec<Row>) -> Form {
        Form {
            title: title.into(),
            rows,
            selected: 0,
            editing: None,
            error: None,
            warnings: 0,
        }
    }

    pub fn value(&self, key: &str) -> &str {
        self.rows
            .iter()
            .find(|r| r.key == key)
            .map_or("", |r| r.value.as_str())
    }

    /// A row's value as it stands now: the text being typed counts.
    pub fn current(&self, key: &str) -> String {
        match (&self.editing, self.rows.get(self.selected)) {
            (Some(t), Some(r)) if r.key == key => t.lines().join(""),
            _ => self.value(key).to_string(),
        }
    }

    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.key == key) {
            r.value = value.into();
        }
    }

    pub fn row(&self) -> Option<&Row> {
        self.rows.get(self.selected)
    }

    pub fn down(&mut self) {
        if self.selected + 1 < self.rows.len() {
            self.selected += 1;
        }
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn is_editing(&self) -> bool {
        self.editing.is_some()
    }

    pub fn editing_text(&self) -> Option<String> {
        self.editing.as_ref().map(|t| t.lines().join(""))
    }

    /// Starts typing into the selected text row.
    pub fn begin_edit(&mut self) {
        let Some(r) = self.rows.get(self.selected) else {
            return;
        };
        let mut t = TextArea::new(vec![r.value.clone()]);
        t.move_cursor(CursorMove::End);
        t.set_cursor_line_style(ratatui::style::Style::new());
        self.editing = Some(t);
    }

    /// A key typed into the row; whether its text changed.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let Some(t) = &mut self.editing else {
            return false;
        };
        let before = t.lines().join("");
        t.input(key);
        t.lines().join("") != before
    }

    /// Keeps the typed text as the row's value.
    pub fn commit_edit(&mut self) {
        if let Some(t) = self.editing.take()
            && let Some(r) = self.rows.get_mut(self.selected)
        {
            r.value = t.lines().join("");
        }
    }

    pub fn cancel_edit(&mut self) {
        self.editing = None;
    }

    /// Enter or Space on a choice or a toggle: the next value.
    pub fn cycle(&mut self, back: bool) {
        let Some(r) = self.rows.get_mut(self.selected) else {
            return;
        };
        match &r.kind {
            RowKind::Toggle => {
                r.value = if r.value == "yes" { "no" } else { "yes" }.into();
            }
            RowKind::Choice(options) if !options.is_empty() => {
                let n = options.len();
                let at = options.iter().position(|o| *o == r.value);
                let next = match (at, back) {
                    (None, _) => 0,
                    (Some(i), false) => (i + 1) % n,
                    (Some(i), true) => (i + n - 1) % n,
                };
                r.value = options[next].clone();
            }
            _ => {}
        }
    }

    /// Puts each problem beside the row of its key; one whose key is no
    /// row's goes at the top of the form.
    pub fn set_errors(&mut self, errors: Vec<(String, String)>) {
        for r in &mut self.rows {
            r.error = None;
        }
        self.error = None;
        for (key, message) in errors {
            match self.rows.iter_mut().find(|r| r.key == key) {
                Some(r) if r.error.is_none() => r.error = Some(message),
                Some(_) => {}
                None => {
                    if self.error.is_none() {
                        self.error = Some(message);
                    }
                }
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        self.error.is_some() || self.rows.iter().any(|r| r.error.is_some())
    }

    /// Draws the rows inside `area` (no border: the caller's pane has it).
    pub fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let width = area.width as usize;
        let side = area.width >= SIDE_BY_SIDE;
        let value_w = if side {
            36
        } else {
            width.saturating_sub(LABEL_W + 3)
        };
        let mut lines: Vec<Line> = Vec::new();
        let mut cursor: Option<(u16, u16)> = None;
        if let Some(e) = &self.error {
            lines.push(Line::styled(
                truncate(&format!("✗ {}", sanitize(e)), width),
                ctx.theme.error(),
            ));
        }
        for (i, r) in self.rows.iter().enumerate() {
            let chosen = i == self.selected;
            let marker = if chosen { "›" } else { " " };
            let label = format!("{marker}{:<w$} ", r.label, w = LABEL_W);
            let shown = match (&r.kind, chosen.then_some(()).and(self.editing.as_ref())) {
                (_, Some(_)) => String::new(),
                (RowKind::Pick, None) if r.value.is_empty() => "(Enter picks)".into(),
                (RowKind::Choice(_) | RowKind::Toggle, None) => format!("‹ {} ›", r.value),
                _ => r.value.clone(),
            };
            let value = format!("{:<value_w$}", truncate(&sanitize(&shown), value_w));
            if chosen && self.editing.is_some() {
                cursor = Some((
                    area.x + label.chars().count() as u16,
                    area.y + lines.len() as u16,
                ));
            }
            let mut spans = vec![
                Span::styled(
                    label,
                    if chosen {
                        ctx.theme.selection()
                    } else {
                        ctx.theme.muted()
                    },
                ),
                Span::styled(value, ctx.theme.base()),
            ];
            let note = match &r.error {
                Some(e) => Some((format!("✗ {}", sanitize(e)), ctx.theme.error())),
                None if !r.hint.is_empty() => {
                    Some((sanitize(&r.hint).into_owned(), ctx.theme.muted()))
                }
                None => None,
            };
            match note {
                Some((text, style)) if side => {
                    let at = LABEL_W + 2 + value_w + 1;
                    let room = width.saturating_sub(at);
                    let mut parts = wrap(&text, room, 3).into_iter();
                    spans.push(Span::raw(" "));
                    spans.push(Span::styled(parts.next().unwrap_or_default(), style));
                    lines.push(Line::from(spans));
                    for more in parts {
                        lines.push(Line::styled(format!("{:at$}{more}", ""), style));
                    }
                }
                // Only errors get lines of their own on a narrow terminal
                // (and the selected row's hint); other hints would push
                // the rows off it.
                Some((text, style)) if r.error.is_some() || chosen => {
                    lines.push(Line::from(spans));
                    let indent = LABEL_W + 2;
                    for part in wrap(&text, width.saturating_sub(indent), 3) {
                        lines.push(Line::styled(format!("{:indent$}{part}", ""), style));
                    }
                }
                _ => lines.push(Line::from(spans)),
            }
        }
        frame.render_widget(Paragraph::new(lines), area);
        if let (Some((x, y)), Some(t)) = (cursor, &self.editing)
            && y < area.y + area.height
        {
            let r = Rect {
                x,
                y,
                width: (value_w as u16).min(area.width.saturating_sub(x - area.x)),
                height: 1,
            };
            frame.render_widget(t, r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn form() -> Form {
        Form::new(
            "field",
            vec![
                Row::new("app", "app column", "email", RowKind::Pick),
                Row::new("default", "default", "", RowKind::Text),
                Row::new(
                    "direction",
                    "direction",
                    "both",
                    RowKind::Choice(vec!["both".into(), "to_hubspot".into(), "to_app".into()]),
                ),
                Row::new("only_if_empty", "only if empty", "no", RowKind::Toggle),
            ],
        )
    }

    fn typed(f: &mut Form, s: &str) {
        for c in s.chars() {
            f.input(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
    }

    #[test]
    fn typed_text_counts_before_it_is_kept_and_esc_drops_it() {
        let mut f = form();
        f.down();
        f.begin_edit();
        typed(&mut f, "n/a");
        assert_eq!(f.current("default"), "n/a");
        assert_eq!(f.value("default"), "");
        f.cancel_edit();
        assert_eq!(f.current("default"), "");
        f.begin_edit();
        typed(&mut f, "x");
        f.commit_edit();
        assert_eq!(f.value("default"), "x");
    }

    #[test]
    fn a_choice_cycles_both_ways_and_a_toggle_flips() {
        let mut f = form();
        f.selected = 2;
        f.cycle(false);
        assert_eq!(f.value("direction"), "to_hubspot");
        f.cycle(true);
        f.cycle(true);
        assert_eq!(f.value("direction"), "to_app");
        f.selected = 3;
        f.cycle(false);
        assert_eq!(f.value("only_if_empty"), "yes");
    }

    #[test]
    fn errors_go_beside_their_row_and_the_rest_on_top() {
        let mut f = form();
        f.set_errors(vec![
            ("app".into(), "no column emial".into()),
            ("filter_groups".into(), "a filter uses this field".into()),
        ]);
        assert_eq!(f.rows[0].error.as_deref(), Some("no column emial"));
        assert_eq!(f.error.as_deref(), Some("a filter uses this field"));
        f.set_errors(vec![]);
        assert!(!f.has_errors());
    }
}
