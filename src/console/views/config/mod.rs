//! The config editor (SPEC §2, §4): one object's field mappings, filters,
//! settings and raw TOML, as four tabs of one view (`:mappings`,
//! `:filters`, `:settings`, `:toml`; Tab moves between them). Every change
//! goes into a working copy ([`EditSession`], kept in the console's shared
//! context), checked as it is typed with the validators `hubsync check`
//! runs; `p` previews what saving would do (`config_preview`, nothing
//! written), ctrl-s previews, asks, and saves (`config_apply`: refused when
//! the file changed on disk since it was loaded, and to read-only
//! consoles), and the engine applies the new file from its next job.

mod entry;
mod field_form;
mod filter_form;
mod filters;
mod mappings;
pub mod preview;
mod raw;
pub mod session;
mod settings;
mod tabs;

pub use tabs::Tab;
use tabs::TabView;

pub use session::EditSession;

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::pane_focused;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::text::{sanitize, truncate, wrap};
use crate::model::ObjectKind;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use serde_json::{Value, json};

const CONFIRMING: &[Action] = &[
    Action::Confirm,
    Action::Back,
    Action::PageDown,
    Action::PageUp,
];

pub struct ConfigView {
    tab: Tab,
    /// The object asked for; the config's first when None.
    asked: Option<ObjectKind>,
    mappings: mappings::MappingsTab,
    filters: filters::FiltersTab,
    settings: settings::SettingsTab,
    raw: raw::RawTab,
    /// The last preview's lines and whether they are for the working copy
    /// as it is now.
    preview: Option<(String, Vec<String>)>,
    /// The pane's title when it holds an outcome, not a preview.
    outcome: Option<&'static str>,
    /// A save is waiting for `y`.
    confirming: bool,
    /// Lines of the preview scrolled past (PgDn/PgUp), as the pane holds
    /// at most half the screen.
    scroll: std::cell::Cell<u16>,
    /// The record the preview shows before → after.
    record: Option<String>,
    /// Why there is nothing to edit (no file, the engine refused).
    error: Option<String>,
}

impl ConfigView {
    pub fn new(tab: Tab, object: Option<ObjectKind>) -> ConfigView {
        ConfigView {
            tab,
            asked: object,
            mappings: Default::default(),
            filters: Default::default(),
            settings: Default::default(),
            raw: Default::default(),
            preview: None,
            outcome: None,
            confirming: false,
            scroll: Default::default(),
            record: None,
            error: None,
        }
    }

    /// `:mappings [object]` and the others: the tab, for the object named.
    pub fn open(tab: Tab, args: &[&str]) -> Result<ConfigView, String> {
        let object = match args.first() {
            None => None,
            Some(name) => Some(
                ObjectKind::ALL
                    .into_iter()
                    .find(|o| o.api_name() == *name)
                    .ok_or_else(|| {
                        format!(
                            ":{} takes an object: contacts, companies or deals (not {name:?})",
                            tab.name()
                        )
                    })?,
            ),
        };
        Ok(ConfigView::new(tab, object))
    }

    fn object(&self, ctx: &Ctx) -> Option<ObjectKind> {
        self.asked
            .or_else(|| ctx.edit.as_ref()?.doc.objects().first().copied())
    }

    fn tab_mut(&mut self) -> &mut dyn TabView {
        match self.tab {
            Tab::Mappings => &mut self.mappings,
            Tab::Filters => &mut self.filters,
            Tab::Settings => &mut self.settings,
            Tab::Raw => &mut self.raw,
        }
    }

    fn tab_ref(&self) -> &dyn TabView {
        match self.tab {
            Tab::Mappings => &self.mappings,
            Tab::Filters => &self.filters,
            Tab::Settings => &self.settings,
            Tab::Raw => &self.raw,
        }
    }

    /// Runs `f` on the tab in front with the session taken out of the
    /// context for the while (both are borrowed mutably).
    fn on_tab<R>(
        &mut self,
        ctx: &mut Ctx,
        f: impl FnOnce(&mut dyn TabView, ObjectKind, &mut EditSession, &mut Ctx) -> R,
    ) -> Option<R> {
        let object = self.object(ctx)?;
        let mut s = ctx.edit.take()?;
        let r = f(self.tab_mut(), object, &mut s, ctx);
        ctx.edit = Some(s);
        Some(r)
    }

    fn preview_call(&self, ctx: &Ctx, tag: &'static str) -> Effect {
        let Some(s) = &ctx.edit else {
            return Effect::None;
        };
        let mut params = json!({"toml": s.text()});
        if let (Some(id), Some(o)) = (&self.record, self.object(ctx)) {
            params["record"] = json!({"object": o, "app_id": id});
        }
        Effect::Call {
            method: "config_preview",
            params,
            tag,
        }
    }

    /// ctrl-s: refuses what the engine would refuse, else previews and
    /// asks.
    fn save(&mut self, ctx: &mut Ctx) -> Effect {
        let Some(s) = &ctx.edit else {
            return Effect::None;
        };
        if !s.dirty() {
            ctx.say("nothing to save: the working copy is the file as loaded");
            return Effect::None;
        }
        if let Some(e) = &s.load_error {
            ctx.say(format!(
                "the working copy does not load, so it cannot be saved: {e}"
            ));
            return Effect::None;
        }
        if !s.problems.is_empty() {
            ctx.say(format!(
                "fix the {} problem(s) marked ✗ first: the engine refuses a config with them",
                s.problems.len()
            ));
            return Effect::None;
        }
        self.confirming = true;
        self.preview_call(ctx, "save-preview")
    }

    fn loaded(&mut self, v: &Value, ctx: &mut Ctx) {
        let mut notice = None;
        match ctx.edit.as_mut() {
            // The file is as this console loaded it: only the facts (the
            // columns, a refreshed property list) are new.
            Some(s) if s.base == v["hash"].as_str().unwrap_or("") => s.refresh_facts(v),
            Some(s) if s.dirty() => match s.rebase(v) {
                Ok(dropped) if dropped.is_empty() => {
                    notice = Some(format!(
                        "{} changed on disk: loaded it again and made your {} edit(s) on it",
                        s.path.display(),
                        s.edits.len()
                    ))
                }
                Ok(dropped) => {
                    notice = Some(format!(
                        "{} changed on disk: loaded it again; these edits no longer apply and were dropped: {}",
                        s.path.display(),
                        dropped.join("; ")
                    ))
                }
                Err(e) => self.error = Some(e),
            },
            _ => match EditSession::from_source(v) {
                Ok(s) => ctx.edit = Some(s),
                Err(e) => self.error = Some(e),
            },
        }
        if let Some(n) = notice {
            ctx.say(n);
        }
        if let (Some(o), Some(s)) = (self.object(ctx), &ctx.edit)
            && !s.doc.objects().contains(&o)
        {
            self.error = Some(format!(
                "{} has no [objects.{o}] section: add it in the file first",
                s.path.display()
            ));
        }
    }

    /// The line above the tab: the tabs, the object and the file, and
    /// the state of the working copy.
    fn header(&self, ctx: &Ctx, object: ObjectKind, width: u16) -> Line<'static> {
        let mut spans = Vec::new();
        for t in Tab::ALL {
            let label = format!(" {} ", t.name());
            spans.push(if t == self.tab {
                Span::styled(label, ctx.theme.selection())
            } else {
                Span::styled(label, ctx.theme.muted())
            });
        }
        spans.push(Span::raw(format!("  {object} ")));
        if let Some(s) = &ctx.edit {
            let state = if s.load_error.is_some() {
                Span::styled("· does not load", ctx.theme.error())
            } else if !s.problems.is_empty() {
                Span::styled(
                    format!("· {} problem(s)", s.problems.len()),
                    ctx.theme.error(),
                )
            } else if s.dirty() {
                Span::styled(
                    format!("· {} unsaved edit(s)", s.edits.len().max(1)),
                    ctx.theme.warn(),
                )
            } else {
                Span::styled("· saved", ctx.theme.ok())
            };
            spans.push(state);
            // The picker says it too; on a narrow screen only the picker.
            let fetched = s.facts.get(&object).and_then(|f| f.fetched_at.as_deref());
            if let Some(at) = fetched.filter(|_| width >= 100) {
                let t = at.get(11..19).unwrap_or(at);
                spans.push(Span::styled(
                    format!(" · HubSpot's properties fetched {t} (F5 again)"),
                    ctx.theme.muted(),
                ));
            }
        }
        Line::from(spans)
    }
}

impl View for ConfigView {
    fn title(&self) -> String {
        match self.asked {
            Some(o) => format!("{} {o}", self.tab.name()),
            None => self.tab.name().to_string(),
        }
    }

    fn command(&self) -> &'static str {
        "config"
    }

    fn actions(&self) -> &'static [Action] {
        if self.confirming {
            CONFIRMING
        } else {
            self.tab_ref().actions()
        }
    }

    fn mode(&self) -> Mode {
        if self.confirming {
            Mode::Normal
        } else {
            self.tab_ref().mode()
        }
    }

    fn on_open(&mut self, _ctx: &mut Ctx) -> Effect {
        // Asked every time: the file may have changed since a session was
        // kept, and the columns with it.
        Effect::Call {
            method: "config_source",
            params: json!({}),
            tag: "source",
        }
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        if self.preview.is_some() && matches!(action, Action::PageDown | Action::PageUp) {
            // The drawing clamps it to what there is to see.
            let s = self.scroll.get();
            self.scroll.set(if action == Action::PageDown {
                s.saturating_add(5)
            } else {
                s.saturating_sub(5)
            });
            return Effect::None;
        }
        if self.confirming {
            return match action {
                Action::Confirm => {
                    self.confirming = false;
                    let Some(s) = &ctx.edit else {
                        return Effect::None;
                    };
                    let params = json!({"toml": s.text(), "base": s.base});
                    ctx.say("saving…");
                    Effect::Call {
                        method: "config_apply",
                        params,
                        tag: "apply",
                    }
                }
                _ => Effect::None,
            };
        }
        let busy = self.tab_ref().busy();
        match action {
            Action::FocusNext | Action::FocusPrev if !busy => {
                let i = Tab::ALL.iter().position(|t| *t == self.tab).unwrap_or(0);
                let n = Tab::ALL.len();
                let next = if action == Action::FocusNext {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.tab = Tab::ALL[next];
                Effect::None
            }
            Action::PreviewConfig => self.preview_call(ctx, "preview"),
            Action::PreviewRecord => Effect::Input {
                tag: "record",
                label: "preview which record (its app id)?".into(),
                initial: self.record.clone().unwrap_or_default(),
            },
            Action::Apply => self.save(ctx),
            Action::Refresh => Effect::Call {
                method: "config_source",
                params: json!({"refresh": true}),
                tag: "source",
            },
            Action::Undo if !busy => {
                match ctx.edit.as_mut().map(EditSession::undo) {
                    Some(true) => ctx.say("undid the last edit"),
                    _ => ctx.say("nothing to undo"),
                }
                Effect::None
            }
            _ => self
                .on_tab(ctx, |t, o, s, ctx| t.update(action, o, s, ctx))
                .unwrap_or(Effect::None),
        }
    }

    fn key(&mut self, key: KeyEvent, ctx: &mut Ctx) -> Effect {
        let Some(object) = self.object(ctx) else {
            return Effect::None;
        };
        if let Some(s) = ctx.edit.take() {
            self.tab_mut().key(key, object, &s, ctx);
            ctx.edit = Some(s);
        }
        Effect::None
    }

    fn back(&mut self, ctx: &mut Ctx) -> Option<Effect> {
        if self.confirming {
            self.confirming = false;
            ctx.say("not saved");
            return Some(Effect::None);
        }
        if self.on_tab(ctx, |t, o, s, ctx| t.back(o, s, ctx)) == Some(true) {
            return Some(Effect::None);
        }
        self.preview.take().map(|_| Effect::None)
    }

    fn on_input(&mut self, tag: &'static str, text: String, ctx: &mut Ctx) -> Effect {
        if tag != "record" {
            return Effect::None;
        }
        let id = text.trim().to_string();
        self.record = (!id.is_empty()).then_some(id);
        self.preview_call(ctx, "preview")
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, ctx: &mut Ctx) {
        match (tag, result) {
            ("source", Ok(v)) => {
                self.error = None;
                self.loaded(&v, ctx);
            }
            ("source", Err(e)) => self.error = Some(e),
            ("preview" | "save-preview", Ok(v)) => {
                let text = ctx.edit.as_ref().map(EditSession::text).unwrap_or_default();
                let mut lines = preview::summary(&v);
                if tag == "save-preview" {
                    if v["ok"] == json!(false) {
                        self.confirming = false;
                        lines.insert(0, "the engine would refuse this config:".into());
                    } else {
                        lines.insert(
                            0,
                            "saving would do this; y saves and applies, Esc does not".into(),
                        );
                        if let Some(s) = &ctx.edit {
                            lines.extend(preview::file_change(&s.loaded, &text));
                        }
                    }
                }
                self.preview = Some((text, lines));
                self.outcome = None;
                self.scroll.set(0);
            }
            ("preview" | "save-preview", Err(e)) => {
                self.confirming = false;
                ctx.say(format!("preview failed: {}", sanitize(&e)));
            }
            ("apply", Ok(v)) => {
                if let Some(s) = ctx.edit.as_mut() {
                    s.saved(v["hash"].as_str().unwrap_or(""));
                }
                let skipped = v["skipped"].as_u64().unwrap_or(0);
                let notice = sanitize(v["notice"].as_str().unwrap_or("the engine took it"));
                ctx.say(format!("saved and applied: {notice}"));
                // Kept in the pane: the engine's own notice to every console
                // replaces the footer's.
                let text = ctx.edit.as_ref().map(EditSession::text).unwrap_or_default();
                let mut lines = vec![format!("saved and applied: {notice}")];
                lines.push(if skipped > 0 {
                    format!(
                        "{skipped} linked record(s) the change excludes got a SKIPPED entry naming the filter (:audit shows them)"
                    )
                } else {
                    "no linked record is newly excluded".into()
                });
                lines.push(
                    ":history shows this version; u there goes back to an earlier one".into(),
                );
                self.preview = Some((text, lines));
                self.outcome = Some("saved · Esc closes");
                self.scroll.set(0);
            }
            ("apply", Err(e)) => {
                let text = ctx.edit.as_ref().map(EditSession::text).unwrap_or_default();
                let mut lines = vec!["not saved:".to_string()];
                lines.extend(e.lines().map(str::to_string));
                if e.contains("changed on disk") {
                    lines.push("F5 loads the file again and makes your edits on it".into());
                }
                self.preview = Some((text, lines));
                self.outcome = Some("not saved · Esc closes");
                self.scroll.set(0);
                ctx.say("not saved: see why below");
            }
            _ => {}
        }
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        let width = area.width.saturating_sub(2) as usize;
        let (Some(object), Some(s), None) = (self.object(ctx), &ctx.edit, &self.error) else {
            let line = match &self.error {
                Some(e) => Line::styled(truncate(&sanitize(e), width), ctx.theme.error()),
                None => Line::styled("asking the engine for the config…", ctx.theme.muted()),
            };
            frame.render_widget(
                Paragraph::new(line).block(pane_focused(ctx, self.title(), true)),
                area,
            );
            return;
        };
        // The preview's lines wrapped to the pane, so a problem is read
        // whole; the pane takes at most half the screen.
        let w = area.width.saturating_sub(2) as usize;
        let wrapped: Vec<String> = self
            .preview
            .iter()
            .flat_map(|(_, lines)| lines.iter())
            .flat_map(|l| wrap(&sanitize(l), w, 3))
            .collect();
        let preview_h = if self.preview.is_some() {
            (wrapped.len() as u16 + 2).min(area.height / 2)
        } else {
            0
        };
        let [head, body, foot] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(preview_h),
        ])
        .areas(area);
        frame.render_widget(self.header(ctx, object, area.width), head);
        self.tab_ref().draw(frame, body, object, s, ctx);
        if let Some((text, _)) = &self.preview {
            let stale = *text != s.text();
            let title = if let Some(t) = self.outcome {
                t.to_string()
            } else if self.confirming {
                format!("save {} and apply? y / Esc", s.path.display())
            } else if stale {
                "preview (of an earlier working copy: p previews again)".to_string()
            } else {
                "preview: nothing written · ctrl-s saves".to_string()
            };
            let inner = foot.height.saturating_sub(2) as usize;
            let max = wrapped.len().saturating_sub(inner) as u16;
            let from = self.scroll.get().min(max);
            self.scroll.set(from);
            let title = if max > 0 {
                format!(
                    "{title} · PgDn/PgUp {}/{}",
                    from as usize + inner,
                    wrapped.len()
                )
            } else {
                title
            };
            let body: Vec<Line> = wrapped
                .into_iter()
                .skip(from as usize)
                .map(Line::raw)
                .collect();
            frame.render_widget(
                Paragraph::new(body).block(pane_focused(ctx, title, self.confirming)),
                foot,
            );
        }
    }
}
