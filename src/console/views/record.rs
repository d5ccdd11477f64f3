//! One record's whole story (Enter on a record): both sides' values side
//! by side with the link's memory and what changed, what a sync now would
//! write, why it is skipped, and every attempt. From here an operator
//! fixes an app value (`e`, a prompt, then `y` to confirm) and retries
//! (`r`); the view reloads itself once the edit or the retry has landed.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::record_story;
use crate::console::ctx::Ctx;
use crate::console::text::sanitize;
use crate::engine::records::RecordView;
use crate::model::{ObjectKind, RecordRef};
use crate::status::{AuditStatus, AuditView, JobState};
use ratatui::Frame;
use ratatui::layout::Rect;
use serde_json::{Value, json};

pub struct RecordStoryView {
    object: ObjectKind,
    app_id: Option<String>,
    hubspot_id: Option<String>,
    /// What to call the record before its story arrives.
    label: String,
    pub story: Option<RecordView>,
    pub error: Option<String>,
    /// The story is to be asked for (first, or again).
    load: bool,
    loading: bool,
    /// The mapped field selected (for `e`).
    pub selected: usize,
    /// An edit typed and waiting for `y`: (app column, value).
    pub pending_edit: Option<(String, String)>,
    /// A retry this view asked for; the story reloads once it is done.
    waiting_for: Option<i64>,
}

const ACTIONS: &[Action] = &[
    Action::EditField,
    Action::Retry,
    Action::Refresh,
    Action::Down,
    Action::Up,
    Action::Copy,
];

impl RecordStoryView {
    pub fn new(
        object: ObjectKind,
        app_id: Option<String>,
        hubspot_id: Option<String>,
        label: String,
    ) -> Self {
        RecordStoryView {
            object,
            app_id,
            hubspot_id,
            label,
            story: None,
            error: None,
            load: true,
            loading: false,
            selected: 0,
            pending_edit: None,
            waiting_for: None,
        }
    }

    /// The story of the record a FAILED (or any) audit entry is about.
    pub fn of_entry(a: &AuditView) -> Self {
        let (app_id, hubspot_id) = match RecordRef::parse(&a.app_id) {
            RecordRef::App(id) => (Some(id), a.hubspot_id.clone()),
            RecordRef::HubSpot(id) => (None, Some(id)),
        };
        RecordStoryView::new(a.object, app_id, hubspot_id, a.label.clone())
    }

    fn ask(&mut self) -> Effect {
        self.load = false;
        self.loading = true;
        Effect::Call {
            method: "record_view",
            params: json!({
                "object": self.object,
                "app_id": self.app_id,
                "hubspot_id": self.hubspot_id,
            }),
            tag: "story",
        }
    }

    /// The app column of the selected field, or why it cannot be edited.
    fn editable(&self) -> Result<(String, String), String> {
        let story = self
            .story
            .as_ref()
            .ok_or("the record is still being read")?;
        if story.app_id.is_none() {
            return Err("this record has no app row yet: there is nothing to edit".into());
        }
        let f = story
            .fields
            .get(self.selected)
            .ok_or("select a field first (j/k)")?;
        let [column] = f.app_columns.as_slice() else {
            return Err(format!(
                "{} spans several app columns; edit it in the app",
                f.field
            ));
        };
        let current = f
            .app
            .as_ref()
            .and_then(|v| v.first().cloned().flatten())
            .unwrap_or_default();
        Ok((column.clone(), current))
    }

    /// The attempt a retry is asked by: the newest that is not an edit.
    fn retry_target(&self) -> Option<&AuditView> {
        self.story.as_ref().and_then(|s| {
            s.attempts
                .iter()
                .map(|a| &a.entry)
                .find(|e| e.action != crate::status::AuditAction::Edited)
        })
    }

    pub fn is_loading(&self) -> bool {
        self.loading
    }
}

impl View for RecordStoryView {
    fn title(&self) -> String {
        crate::console::text::truncate(&sanitize(&self.label), 28)
    }

    fn command(&self) -> &'static str {
        "record"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        let fields = self.story.as_ref().map_or(0, |s| s.fields.len());
        match action {
            Action::Down => {
                self.selected = (self.selected + 1).min(fields.saturating_sub(1));
                Effect::None
            }
            Action::Up => {
                self.selected = self.selected.saturating_sub(1);
                Effect::None
            }
            Action::Refresh => self.ask(),
            Action::EditField => match self.editable() {
                Ok((column, current)) => Effect::Input {
                    tag: "edit",
                    label: format!("new {column}: "),
                    initial: current,
                },
                Err(why) => {
                    ctx.say(why);
                    Effect::None
                }
            },
            Action::Confirm => match self.pending_edit.take() {
                Some((column, value)) => {
                    ctx.say(format!("setting {column}…"));
                    Effect::Call {
                        method: "set_app_field",
                        params: json!({
                            "object": self.object,
                            "app_id": self.app_id,
                            "field": column,
                            "value": value,
                        }),
                        tag: "set",
                    }
                }
                None => Effect::None,
            },
            Action::Retry => match self.retry_target() {
                Some(a) => {
                    ctx.say(format!("retry of {} requested…", sanitize(&a.label)));
                    Effect::Call {
                        method: "retry",
                        params: json!({ "audit_id": a.id }),
                        tag: "retry",
                    }
                }
                None => {
                    ctx.say("no attempt of this record to retry yet");
                    Effect::None
                }
            },
            _ => Effect::None,
        }
    }

    fn back(&mut self, ctx: &mut Ctx) -> Option<Effect> {
        if self.pending_edit.take().is_some() {
            ctx.say("edit dropped; nothing was written");
            return Some(Effect::None);
        }
        None
    }

    fn on_input(&mut self, tag: &'static str, text: String, ctx: &mut Ctx) -> Effect {
        if tag == "edit"
            && let Ok((column, current)) = self.editable()
        {
            if text == current {
                ctx.say(format!("{column} is already {text:?}; nothing to write"));
            } else {
                self.pending_edit = Some((column, text));
            }
        }
        Effect::None
    }

    fn on_reply(&mut self, tag: &'static str, result: Result<Value, String>, ctx: &mut Ctx) {
        match (tag, result) {
            ("story", Ok(v)) => {
                self.loading = false;
                match serde_json::from_value::<RecordView>(v) {
                    Ok(s) => {
                        self.app_id = s.app_id.clone().or(self.app_id.take());
                        self.hubspot_id = s.hubspot_id.clone().or(self.hubspot_id.take());
                        self.label = s.label.clone();
                        self.selected = self.selected.min(s.fields.len().saturating_sub(1));
                        self.story = Some(s);
                        self.error = None;
                    }
                    Err(e) => self.error = Some(format!("reading the record's story: {e}")),
                }
            }
            ("story", Err(e)) => {
                self.loading = false;
                self.error = Some(e);
            }
            ("set", Ok(v)) => {
                let notice = v["notice"].as_str().unwrap_or("edited").to_string();
                ctx.say(notice);
                self.load = true;
            }
            ("retry", Ok(v)) => {
                ctx.say(v["notice"].as_str().unwrap_or("retry queued").to_string());
                self.waiting_for = v["jobs"][0].as_i64();
            }
            (_, Err(e)) => ctx.say(e),
            _ => {}
        }
    }

    fn on_snapshot(&mut self, _old: &crate::status::Snapshot, ctx: &mut Ctx) {
        let Some(job) = self.waiting_for else { return };
        let s = &ctx.snapshot;
        let finished = s
            .recent
            .iter()
            .any(|j| j.id == job && matches!(j.state, JobState::Succeeded | JobState::Failed));
        if finished {
            self.waiting_for = None;
            self.load = true;
        }
    }

    fn wants(&mut self, _ctx: &mut Ctx) -> Effect {
        if self.load && !self.loading {
            self.ask()
        } else {
            Effect::None
        }
    }

    fn copyable(&self, _ctx: &Ctx) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if let Some(id) = &self.app_id {
            v.push(("app id", id.clone()));
        }
        if let Some(id) = &self.hubspot_id {
            v.push(("HubSpot id", id.clone()));
        }
        v.push(("label", self.label.clone()));
        if let Some(m) = self
            .story
            .as_ref()
            .and_then(|s| {
                s.attempts
                    .iter()
                    .find(|a| a.entry.status == AuditStatus::Failed)
            })
            .and_then(|a| a.entry.message.clone())
        {
            v.push(("error", m));
        }
        v
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        record_story::draw(
            frame,
            ctx,
            area,
            &record_story::Shown {
                object: self.object,
                label: &self.label,
                story: self.story.as_ref(),
                error: self.error.as_deref(),
                loading: self.loading,
                selected: self.selected,
                pending_edit: self.pending_edit.as_ref(),
            },
        );
    }
}
