//! The help popup, built from the keymap and the command table: it cannot
//! drift from what the keys and `:` do.

use super::{pane, popup_area};
use crate::console::action::Action;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::views::commands::COMMANDS;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// `view_actions`: what the current view answers, listed first.
pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, view_title: &str, view_actions: &[Action]) {
    let entry = |label: String, text: &str| {
        Line::from(vec![
            Span::styled(format!("  {label:<12}"), ctx.theme.accent()),
            Span::raw(text.to_string()),
        ])
    };
    let mut lines = vec![Line::styled(format!(" {view_title}"), ctx.theme.title())];
    let normal: Vec<_> = ctx.keymap.bindings(Mode::Normal).collect();
    let (here, everywhere): (Vec<_>, Vec<_>) = normal
        .into_iter()
        .partition(|b| view_actions.contains(&b.action));
    for b in here {
        lines.push(entry(b.label(), b.action.info().description));
    }
    lines.push(Line::styled(" everywhere", ctx.theme.title()));
    for b in everywhere.iter().filter(|b| is_global(b.action)) {
        lines.push(entry(b.label(), b.action.info().description));
    }
    lines.push(Line::styled(" in a prompt (: or /)", ctx.theme.title()));
    for b in ctx.keymap.bindings(Mode::Prompt) {
        lines.push(entry(b.label(), b.action.info().description));
    }
    lines.push(Line::styled(" commands", ctx.theme.title()));
    for c in COMMANDS {
        lines.push(entry(format!(":{}", c.name), c.help));
    }
    if ctx.read_only {
        lines.push(Line::styled(
            "  read-only: actions that write are off",
            ctx.theme.warn(),
        ));
    }
    lines.push(Line::styled(
        "  keys are rebound in [keys] of the config · Esc or ? closes",
        ctx.theme.muted(),
    ));
    let h = lines.len() as u16 + 2;
    let r = popup_area(frame, area, 72, h);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane(ctx, " Keys ")),
        r,
    );
}

/// Actions every view answers (the app handles them, not the view).
pub fn is_global(a: Action) -> bool {
    matches!(
        a,
        Action::Quit
            | Action::StopEngine
            | Action::Help
            | Action::Back
            | Action::Command
            | Action::Filter
            | Action::Copy
    )
}
