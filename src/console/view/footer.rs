//! The bottom line: the outcome of the last command, or the main keys.

use crate::console::app::App;
use crate::console::text::{sanitize, truncate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let width = area.width as usize;
    let mut hints = Vec::new();
    for b in app.keymap.bindings().iter().filter(|b| b.hint) {
        hints.push(Span::styled(format!(" {} ", b.label), app.theme.accent()));
        hints.push(Span::styled(
            format!("{} ", short(b.description)),
            app.theme.muted(),
        ));
    }
    let Some(notice) = app.notice() else {
        frame.render_widget(Line::from(hints), area);
        return;
    };
    // An outcome the operator is waiting for beats the key hints: keep only
    // the help key beside it when room is short.
    let notice = sanitize(notice);
    let full: usize = hints.iter().map(|s| s.content.chars().count()).sum();
    let mut spans = if full + notice.chars().count() + 3 <= width {
        hints
    } else {
        vec![
            Span::styled(" ? ", app.theme.accent()),
            Span::styled("help ", app.theme.muted()),
        ]
    };
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    spans.push(Span::raw("│ "));
    spans.push(Span::raw(truncate(&notice, width.saturating_sub(used + 2))));
    frame.render_widget(Line::from(spans), area);
}

/// The first word or two of a description, for the hint bar.
fn short(d: &str) -> &str {
    match d {
        "open the selected entry" => "open",
        "retry the selected record now" => "retry",
        "sync contacts now" => "sync",
        "show or hide this help" => "help",
        "quit; an attached engine keeps running" => "quit",
        other => other,
    }
}
