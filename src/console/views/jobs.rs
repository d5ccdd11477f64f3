//! `:jobs`: the running job, the queue and the recent jobs, with who asked
//! for each, on the whole screen.

use super::{Effect, View};
use crate::console::action::Action;
use crate::console::components::jobs_list::JobsList;
use crate::console::ctx::Ctx;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug, Default)]
pub struct JobsView {
    list: JobsList,
}

const ACTIONS: &[Action] = &[
    Action::Copy,
    Action::Down,
    Action::Up,
    Action::PageDown,
    Action::PageUp,
    Action::Top,
    Action::Bottom,
];

impl View for JobsView {
    fn title(&self) -> String {
        "jobs".into()
    }

    fn command(&self) -> &'static str {
        "jobs"
    }

    fn actions(&self) -> &'static [Action] {
        ACTIONS
    }

    fn update(&mut self, action: Action, ctx: &mut Ctx) -> Effect {
        self.list.update(action, ctx);
        Effect::None
    }

    fn copyable(&self, ctx: &Ctx) -> Vec<(&'static str, String)> {
        self.list.copyable(ctx)
    }

    fn draw(&self, frame: &mut Frame, area: Rect, ctx: &Ctx) {
        self.list.draw(frame, ctx, area, true);
    }
}
