//! The bottom line: the outcome of the last command, and as many of the
//! keys of the view in front as fit beside it (from the keymap, so rebound
//! keys show as rebound): the view's first keys, then `:`, `/` and quit,
//! then the view's others; `?` is always kept, so every key stays one press away.

use crate::console::action::Action;
use crate::console::ctx::Ctx;
use crate::console::keymap::Mode;
use crate::console::text::{sanitize, truncate};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Offered after the view's own keys, when they fit.
const ALWAYS: &[Action] = &[Action::Command, Action::Filter, Action::Quit];

pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, mode: Mode, view_actions: &[Action]) {
    let width = area.width as usize;
    let notice = ctx.notice().map(|n| sanitize(n).into_owned());
    // The outcome the operator is waiting for gets the room it needs, up
    // to all but the help key.
    let help = ctx.keymap.binding(mode, Action::Help);
    let help_w = help.map_or(0, |b| b.keys[0].to_string().chars().count() + 7);
    let notice_w = notice.as_ref().map_or(0, |n| {
        (n.chars().count() + 2).min(width.saturating_sub(help_w))
    });
    let room = width.saturating_sub(notice_w);

    let mut spans: Vec<Span> = Vec::new();
    let mut used = 0;
    // Whether it fitted: the hints stop at the first that does not, so
    // a short line shows the first keys, not a scattering.
    let hint = |spans: &mut Vec<Span>, used: &mut usize, a: Action, room: usize| -> bool {
        let Some(b) = ctx.keymap.binding(mode, a) else {
            return true;
        };
        let key = format!(" {} ", b.keys[0]);
        let text = format!("{} ", a.info().hint);
        let n = key.chars().count() + text.chars().count();
        if *used + n > room {
            return false;
        }
        *used += n;
        spans.push(Span::styled(key, ctx.theme.accent()));
        spans.push(Span::styled(text, ctx.theme.muted()));
        true
    };
    // The view's first three keys, then `:` and `/`, then the rest.
    let (first, rest) = view_actions.split_at(view_actions.len().min(3));
    // A view taking text has no `:` or `/`: the keys would be typed.
    let always: &[Action] = if mode == Mode::Normal { ALWAYS } else { &[] };
    let wanted = first
        .iter()
        .chain(always.iter().filter(|a| !view_actions.contains(a)))
        .chain(rest.iter());
    for &a in wanted {
        if a != Action::Help && !hint(&mut spans, &mut used, a, room.saturating_sub(help_w)) {
            break;
        }
    }
    hint(&mut spans, &mut used, Action::Help, room);
    if let Some(n) = notice {
        spans.push(Span::raw("│ "));
        spans.push(Span::raw(truncate(&n, width.saturating_sub(used + 2))));
    }
    frame.render_widget(Line::from(spans), area);
}
