//! The help popup, built from the keymap: it cannot drift from the keys.

use super::{pane, popup_area};
use crate::console::app::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let mut lines = Vec::new();
    for b in app.keymap.bindings() {
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<8}", b.label), app.theme.accent()),
            Span::raw(b.description),
        ]));
    }
    if app.read_only {
        lines.push(Line::styled(
            "  read-only: actions that write are off",
            app.theme.warn(),
        ));
    }
    lines.push(Line::styled(
        "  Esc or ? closes this help",
        app.theme.muted(),
    ));
    let h = lines.len() as u16 + 2;
    let r = popup_area(frame, area, 60, h);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane(app, " Keys ")),
        r,
    );
}
