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
/// `scroll`: lines scrolled down (clamped so the last line stays in view).
pub fn draw(
    frame: &mut Frame,
    ctx: &Ctx,
    area: Rect,
    view_title: &str,
    view_actions: &[Action],
    scroll: u16,
) {
    // The action names, which `[keys]` takes, need a wide popup.
    let named = area.width >= 94;
    let entry = |label: String, text: &str| {
        Line::from(vec![
            Span::styled(format!("  {label:<12}"), ctx.theme.accent()),
            Span::raw(text.to_string()),
        ])
    };
    // A key's line also names its action, as `[keys]` spells it.
    let action = |label: String, a: Action| {
        let text = a.info().description;
        let pad = 56usize.saturating_sub(text.chars().count());
        Line::from(vec![
            Span::styled(format!("  {label:<12}"), ctx.theme.accent()),
            Span::raw(text),
            Span::styled(
                if named {
                    format!("{:pad$} {}", "", a.info().name)
                } else {
                    String::new()
                },
                ctx.theme.muted(),
            ),
        ])
    };
    let mut lines = vec![Line::styled(format!(" {view_title}"), ctx.theme.title())];
    let normal: Vec<_> = ctx.keymap.bindings(Mode::Normal).collect();
    let (here, everywhere): (Vec<_>, Vec<_>) = normal
        .into_iter()
        .partition(|b| view_actions.contains(&b.action));
    for b in here {
        lines.push(action(b.label(), b.action));
    }
    lines.push(Line::styled(" everywhere", ctx.theme.title()));
    for b in everywhere.iter().filter(|b| is_global(b.action)) {
        lines.push(action(b.label(), b.action));
    }
    lines.push(Line::styled(" in a prompt (: or /)", ctx.theme.title()));
    for b in ctx.keymap.bindings(Mode::Prompt) {
        lines.push(action(b.label(), b.action));
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
        if named {
            "  rebind by the names on the right: [keys.normal] retry = \"t\" · Esc or ? closes"
        } else {
            "  j/k scroll · rebind in [keys] of the config (README) · Esc or ? closes"
        },
        ctx.theme.muted(),
    ));
    let total = lines.len() as u16;
    let r = popup_area(frame, area, 90, total + 2);
    let visible = r.height.saturating_sub(2);
    let scroll = scroll.min(total.saturating_sub(visible));
    let title = if total > visible {
        format!(
            " Keys ({}–{} of {total}, j/k) ",
            scroll + 1,
            scroll + visible
        )
    } else {
        " Keys ".to_string()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(pane(ctx, title)),
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
