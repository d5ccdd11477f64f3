//! A fuzzy picker: type a few letters of a column or a property, see the
//! best matches first, pick one. Matching is nucleo's (helix's and
//! television's matcher), over the name and the label together, so
//! `jbt` finds `jobtitle` and `title` finds it by its label "Job Title".
//! The picker owns its query and selection; the caller decides what a
//! pick means.

use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crossterm::event::KeyEvent;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui_textarea::{CursorMove, TextArea};

/// One thing that can be picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What a pick puts in the config (`jobtitle`).
    pub value: String,
    /// Shown beside it: type, label.
    pub detail: String,
    /// Matched as well as the value (a property's label), where the
    /// detail's other words (a type) would only make noise.
    pub label: String,
    /// Why picking it would be refused by the validators, shown in the
    /// list so nobody picks a read-only property by accident.
    pub warning: Option<String>,
}

impl Choice {
    fn haystack(&self) -> String {
        format!("{} {}", self.value, self.label)
    }
}

pub struct Picker {
    pub title: String,
    choices: Vec<Choice>,
    /// Indices into `choices`, best match first.
    shown: Vec<usize>,
    selected: usize,
    query: TextArea<'static>,
    matcher: Matcher,
    /// Said under the list: where the choices came from and when.
    pub source: String,
    /// Whether text that matches nothing may be picked as typed (a
    /// property made a minute ago; not an operator).
    pub free: bool,
}

impl std::fmt::Debug for Picker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Picker")
            .field("title", &self.title)
            .field("query", &self.query())
            .field("shown", &self.shown.len())
            .finish()
    }
}

impl Picker {
    /// A picker over `choices`, starting from `current` (selected if it is
    /// one of them) with an empty query.
    pub fn new(title: impl Into<String>, choices: Vec<Choice>, current: &str) -> Picker {
        let mut query = TextArea::new(vec![String::new()]);
        query.set_cursor_line_style(ratatui::style::Style::new());
        let mut p = Picker {
            title: title.into(),
            shown: (0..choices.len()).collect(),
            selected: 0,
            choices,
            query,
            matcher: Matcher::new(Config::DEFAULT),
            source: String::new(),
            free: true,
        };
        if let Some(i) = p.choices.iter().position(|c| c.value == current) {
            p.selected = i;
        }
        p
    }

    pub fn query(&self) -> String {
        self.query.lines().first().cloned().unwrap_or_default()
    }

    /// A key typed into the query; the list is matched again when the
    /// text changed.
    pub fn input(&mut self, key: KeyEvent) {
        let before = self.query();
        self.query.input(key);
        if self.query() != before {
            self.rematch();
        }
    }

    /// Replaces the query (tests, and a picker opened with text typed).
    pub fn set_query(&mut self, q: &str) {
        self.query = TextArea::new(vec![q.to_string()]);
        self.query.move_cursor(CursorMove::End);
        self.query
            .set_cursor_line_style(ratatui::style::Style::new());
        self.rematch();
    }

    fn rematch(&mut self) {
        let q = self.query();
        let pattern = Pattern::parse(&q, CaseMatching::Ignore, Normalization::Smart);
        let hay: Vec<(usize, String)> = self
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.haystack()))
            .collect();
        let scored = pattern.match_list(hay.iter().map(|(i, h)| Hay(*i, h)), &mut self.matcher);
        self.shown = scored.into_iter().map(|(h, _)| h.0).collect();
        self.selected = 0;
    }

    pub fn down(&mut self) {
        if self.selected + 1 < self.shown.len() {
            self.selected += 1;
        }
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    /// The highlighted choice, if anything matches.
    pub fn selected(&self) -> Option<&Choice> {
        self.shown.get(self.selected).map(|&i| &self.choices[i])
    }

    /// What a pick gives: the highlighted choice, or the query itself when
    /// nothing matches (a property created in HubSpot a minute ago is
    /// still typed in; the validators then say whether it exists).
    pub fn pick(&self) -> Option<String> {
        self.selected().map(|c| c.value.clone()).or_else(|| {
            let q = self.query().trim().to_string();
            (self.free && !q.is_empty()).then_some(q)
        })
    }

    pub fn matches(&self) -> usize {
        self.shown.len()
    }

    /// Draws the picker over the top of `area` (the view it picks for).
    pub fn draw_over(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let w = area.width.saturating_sub(4).min(90);
        let h = area.height.saturating_sub(2).min(16);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + 1,
            width: w,
            height: h,
        };
        frame.render_widget(ratatui::widgets::Clear, r);
        self.draw(frame, r, ctx);
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let block = super::pane_focused(
            ctx,
            format!(
                "{} · {} of {} · type to search, ↑/↓, Enter picks",
                self.title,
                self.shown.len(),
                self.choices.len()
            ),
            true,
        );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [q, list, source] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(u16::from(!self.source.is_empty())),
        ])
        .areas(inner);
        let [label, text] =
            Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(q);
        frame.render_widget(Span::styled("› ", ctx.theme.accent()), label);
        frame.render_widget(&self.query, text);
        let rows = list.height as usize;
        // A window that holds the selection.
        let start = self.selected.saturating_sub(rows.saturating_sub(1));
        let width = list.width as usize;
        let lines: Vec<Line> = self
            .shown
            .iter()
            .enumerate()
            .skip(start)
            .take(rows)
            .map(|(n, &i)| {
                let c = &self.choices[i];
                let chosen = n == self.selected;
                let name_w = 28.min(width / 2);
                let name = format!(
                    "{}{:<name_w$}",
                    if chosen { "›" } else { " " },
                    truncate(&sanitize(&c.value), name_w.saturating_sub(1))
                );
                let rest = width.saturating_sub(name.chars().count() + 1);
                let mut spans = vec![Span::styled(
                    name,
                    if chosen {
                        ctx.theme.selection()
                    } else {
                        ctx.theme.base()
                    },
                )];
                spans.push(Span::raw(" "));
                match &c.warning {
                    Some(w) => spans.push(Span::styled(
                        truncate(&format!("{} · {}", sanitize(&c.detail), w), rest),
                        ctx.theme.warn(),
                    )),
                    None => spans.push(Span::styled(
                        truncate(&sanitize(&c.detail), rest),
                        ctx.theme.muted(),
                    )),
                }
                Line::from(spans)
            })
            .collect();
        let lines = if lines.is_empty() {
            vec![Line::styled(
                format!(
                    "nothing matches {:?}{}",
                    truncate(&self.query(), 30),
                    if self.free {
                        "; Enter uses it as typed"
                    } else {
                        ""
                    }
                ),
                ctx.theme.muted(),
            )]
        } else {
            lines
        };
        frame.render_widget(Paragraph::new(lines), list);
        if !self.source.is_empty() {
            frame.render_widget(
                Line::styled(truncate(&self.source, width), ctx.theme.muted()),
                source,
            );
        }
    }
}

/// A choice's index with the text it is matched by.
struct Hay<'a>(usize, &'a str);

impl AsRef<str> for Hay<'_> {
    fn as_ref(&self) -> &str {
        self.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props() -> Vec<Choice> {
        [
            "email",
            "firstname",
            "jobtitle",
            "lastname",
            "phone",
            "city",
        ]
        .iter()
        .map(|n| Choice {
            value: n.to_string(),
            detail: "string".into(),
            label: if *n == "jobtitle" {
                "Job Title".into()
            } else {
                String::new()
            },
            warning: None,
        })
        .collect()
    }

    #[test]
    fn letters_in_order_find_a_property_best_match_first() {
        let mut p = Picker::new("property", props(), "");
        p.set_query("jbt");
        assert_eq!(p.pick().as_deref(), Some("jobtitle"));
        assert_eq!(p.matches(), 1);
    }

    #[test]
    fn a_property_is_found_by_its_label() {
        let mut p = Picker::new("property", props(), "");
        p.set_query("Title");
        assert_eq!(p.selected().map(|c| c.value.as_str()), Some("jobtitle"));
    }

    #[test]
    fn the_type_shown_beside_a_choice_is_not_matched() {
        let mut p = Picker::new("property", props(), "");
        p.set_query("str");
        assert_eq!(p.matches(), 0, "every choice's type is string");
    }

    #[test]
    fn an_empty_query_lists_everything_with_the_current_value_selected() {
        let p = Picker::new("property", props(), "phone");
        assert_eq!(p.matches(), 6);
        assert_eq!(p.pick().as_deref(), Some("phone"));
    }

    #[test]
    fn nothing_matching_picks_the_text_as_typed() {
        let mut p = Picker::new("property", props(), "");
        p.set_query("favourite_colour");
        assert_eq!(p.matches(), 0);
        assert_eq!(p.pick().as_deref(), Some("favourite_colour"));
    }

    #[test]
    fn a_closed_list_picks_nothing_that_is_not_in_it() {
        let mut p = Picker::new("operator", props(), "");
        p.free = false;
        p.set_query("favourite_colour");
        assert_eq!(p.pick(), None);
    }

    #[test]
    fn up_and_down_stay_inside_the_matches() {
        let mut p = Picker::new("property", props(), "");
        p.set_query("name");
        let n = p.matches();
        assert!(n >= 2, "firstname and lastname match: {n}");
        for _ in 0..10 {
            p.down();
        }
        assert!(p.selected().is_some());
        for _ in 0..10 {
            p.up();
        }
        assert_eq!(p.selected, 0);
    }
}
