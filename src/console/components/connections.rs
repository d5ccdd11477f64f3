//! One line per connected system: state (glyph and word, never colour
//! alone), name, latency, rate-limit budget, and where it points.

use super::pane;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::status::{ConnState, ConnectionStatus};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn glyph(state: ConnState) -> &'static str {
    match state {
        ConnState::Connecting => "…",
        ConnState::Connected => "●",
        ConnState::AuthError => "✖",
        ConnState::RateLimited => "◐",
        ConnState::Down => "✖",
    }
}

fn state_style(ctx: &Ctx, state: ConnState) -> Style {
    match state {
        ConnState::Connected => ctx.theme.ok(),
        ConnState::Connecting => ctx.theme.muted(),
        ConnState::RateLimited => ctx.theme.warn(),
        ConnState::AuthError | ConnState::Down => ctx.theme.error(),
    }
}

/// The state as shown: a budget spent to zero is not "connected" in green,
/// whatever the last answer said.
fn shown_state(c: &ConnectionStatus) -> (ConnState, &'static str) {
    match c.budget {
        Some(b) if c.state == ConnState::Connected && b.remaining == 0 => {
            (ConnState::RateLimited, "no budget")
        }
        _ => (c.state, c.state.label()),
    }
}

/// Where a connection points, without the scheme: a host and port (or a
/// file) reads whole where a URL cut from the left would not.
fn target(c: &ConnectionStatus) -> &str {
    c.target
        .strip_prefix("https://")
        .or_else(|| c.target.strip_prefix("http://"))
        .unwrap_or(&c.target)
}

/// The connection's line, and a second one with the reason when it is not
/// healthy and the reason does not fit beside it.
fn lines<'a>(ctx: &Ctx, c: &'a ConnectionStatus, width: usize) -> Vec<Line<'a>> {
    let (state, word) = shown_state(c);
    let mut spans = vec![
        Span::styled(
            format!("{} {word:<12} ", glyph(state)),
            state_style(ctx, state),
        ),
        Span::raw(format!("{:<8}", c.name)),
        Span::styled(
            // The last latency of a system that is down now says nothing.
            c.latency_ms
                .filter(|_| state != ConnState::Down)
                .map_or("    – ms".into(), |l| format!("{l:>5} ms")),
            ctx.theme.muted(),
        ),
    ];
    let mut used = 15 + 8 + 8;
    if let Some(b) = c.budget {
        let text = format!(
            "  {}/{} left per {}s",
            b.remaining,
            b.max,
            b.interval_ms / 1000
        );
        let low = b.remaining * 5 < b.max;
        used += text.chars().count();
        spans.push(Span::styled(
            text,
            if low { ctx.theme.warn() } else { Style::new() },
        ));
        if let (Some(d), Some(m)) = (b.daily_remaining, b.daily_max)
            && width > used + 24
        {
            let text = format!(", {d}/{m} today");
            used += text.chars().count();
            spans.push(Span::styled(text, ctx.theme.muted()));
        }
    }
    let room = width.saturating_sub(used + 2);
    let unhealthy = state != ConnState::Connected && state != ConnState::Connecting;
    let reason = c.last_error.as_deref().map(sanitize).filter(|_| unhealthy);
    let mut out = Vec::new();
    match reason {
        Some(e) if e.chars().count() <= room => {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(e, ctx.theme.error()));
            out.push(Line::from(spans));
        }
        Some(e) => {
            out.push(Line::from(spans));
            // Up to two lines of reason: enough for a path and an OS error.
            let w = width.saturating_sub(4).max(10);
            let chars: Vec<char> = e.chars().collect();
            // Break at the last space that fits, so words stay whole.
            let cut = if chars.len() <= w {
                chars.len()
            } else {
                chars[..w]
                    .iter()
                    .rposition(|c| *c == ' ')
                    .filter(|&i| i > w / 2)
                    .unwrap_or(w)
            };
            let first: String = chars[..cut].iter().collect();
            out.push(Line::styled(format!("  ↳ {first}"), ctx.theme.error()));
            if chars.len() > cut {
                let rest: String = chars[cut..].iter().collect();
                out.push(Line::styled(
                    format!("    {}", truncate(rest.trim_start(), w)),
                    ctx.theme.error(),
                ));
            }
        }
        None => {
            // A target cut short misleads; it is shown whole or not at all.
            let t = target(c);
            if t.chars().count() <= room {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(sanitize(t), ctx.theme.muted()));
            }
            out.push(Line::from(spans));
        }
    }
    out
}

/// Rows the pane needs inside its border.
pub fn rows(ctx: &Ctx, width: u16) -> u16 {
    let w = width.saturating_sub(2) as usize;
    ctx.snapshot
        .connections
        .iter()
        .map(|c| lines(ctx, c, w).len() as u16)
        .sum::<u16>()
        .max(1)
}

/// `boxed`: in a pane of its own (false on a terminal too short for one).
pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, boxed: bool) {
    let block = pane(ctx, " Connections ");
    let inner = if boxed { block.inner(area) } else { area };
    let lines: Vec<Line> = if ctx.snapshot.connections.is_empty() {
        vec![Line::styled("waiting for the engine…", ctx.theme.muted())]
    } else {
        ctx.snapshot
            .connections
            .iter()
            .flat_map(|c| lines(ctx, c, inner.width as usize))
            .collect()
    };
    let p = Paragraph::new(lines);
    frame.render_widget(if boxed { p.block(block) } else { p }, area);
}
