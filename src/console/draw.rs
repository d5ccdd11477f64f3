//! Drawing a frame: the title bar, the view in front, the footer (or the
//! prompt), and any popup. Reads the app state, does no I/O and reads no
//! clock (times are relative to the snapshot's `taken_at` and the tick).

use super::app::{App, Popup};
use super::components::{confirm, copy_menu, footer, help, title_bar};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Paragraph};

/// Below this the console shows a message instead of panes.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

pub fn draw(frame: &mut Frame, app: &App) {
    let ctx = &app.ctx;
    let area = frame.area();
    frame.render_widget(Block::new().style(ctx.theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
            area.width, area.height
        );
        let line = Rect {
            x: area.x,
            y: area.y + area.height / 2,
            width: area.width,
            height: 1.min(area.height),
        };
        frame.render_widget(Paragraph::new(msg).centered().style(ctx.theme.warn()), line);
        return;
    }
    let [title, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(area);
    let view = app.front();
    title_bar(frame, ctx, title, &app.breadcrumbs());
    view.draw(frame, body, ctx);
    match &app.prompt {
        Some(p) => p.draw(frame, bottom, ctx),
        None => footer::draw(frame, ctx, bottom, app.mode(), view.actions()),
    }
    match &app.popup {
        Popup::None => {}
        Popup::Help { scroll } => {
            help::draw(frame, ctx, area, &view.title(), view.actions(), *scroll)
        }
        Popup::Confirm { question, .. } | Popup::ConfirmQuit { question } => {
            confirm(frame, ctx, area, question)
        }
        Popup::Copy { choices } => copy_menu(frame, ctx, area, choices),
    }
}
