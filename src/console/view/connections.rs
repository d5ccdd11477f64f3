//! One line per connected system: state (glyph and word, never colour
//! alone), name, latency, rate-limit budget, and where it points.

use super::pane;
use crate::console::app::App;
use crate::console::text::{sanitize, truncate, truncate_left};
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

fn state_style(app: &App, state: ConnState) -> Style {
    match state {
        ConnState::Connected => app.theme.ok(),
        ConnState::Connecting => app.theme.muted(),
        ConnState::RateLimited => app.theme.warn(),
        ConnState::AuthError | ConnState::Down => app.theme.error(),
    }
}

fn line<'a>(app: &App, c: &'a ConnectionStatus, width: usize) -> Line<'a> {
    let mut spans = vec![
        Span::styled(
            format!("{} {:<12}", glyph(c.state), c.state.label()),
            state_style(app, c.state),
        ),
        Span::raw(format!("{:<8}", c.name)),
        Span::styled(
            c.latency_ms
                .map_or("    – ms".into(), |l| format!("{l:>5} ms")),
            app.theme.muted(),
        ),
    ];
    let mut used = 14 + 8 + 8;
    if let Some(b) = c.budget {
        let text = format!(
            "  budget {}/{} per {}s",
            b.remaining,
            b.max,
            b.interval_ms / 1000
        );
        let low = b.remaining * 5 < b.max;
        used += text.chars().count();
        spans.push(Span::styled(
            text,
            if low { app.theme.warn() } else { Style::new() },
        ));
        if let (Some(d), Some(m)) = (b.daily_remaining, b.daily_max)
            && width > used + 24
        {
            let text = format!(", day {d}/{m}");
            used += text.chars().count();
            spans.push(Span::styled(text, app.theme.muted()));
        }
    }
    let room = width.saturating_sub(used + 2);
    if room > 6 {
        let tail = match (&c.last_error, c.state) {
            (Some(e), s) if s != ConnState::Connected => {
                Span::styled(truncate(&sanitize(e), room), app.theme.error())
            }
            _ => Span::styled(truncate_left(&c.target, room), app.theme.muted()),
        };
        spans.push(Span::raw("  "));
        spans.push(tail);
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane(app, " Connections ");
    let inner = block.inner(area);
    let lines: Vec<Line> = if app.snapshot.connections.is_empty() {
        vec![Line::styled("waiting for the engine…", app.theme.muted())]
    } else {
        app.snapshot
            .connections
            .iter()
            .map(|c| line(app, c, inner.width as usize))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
