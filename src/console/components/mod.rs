//! Pieces the views are built from: lists that own their selection, the
//! prompt, and the drawing shared by every screen (panes, popups, the
//! title bar).

pub mod connections;
pub mod counts;
pub mod detail;
pub mod failed_list;
pub mod footer;
pub mod form;
pub mod help;
pub mod jobs_list;
pub mod picker;
pub mod prompt;
pub mod record_story;

use crate::console::ctx::Ctx;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

/// A snapshot this old is flagged as stale.
const STALE_AFTER_SECS: i64 = 15;

/// A bordered pane with a title, in the theme's colours.
pub fn pane<'a>(ctx: &Ctx, title: impl Into<Line<'a>>) -> Block<'a> {
    pane_focused(ctx, title, false)
}

/// A pane that shows whether it has the focus: keys like j/k act on the
/// focused one, so it must be plain which that is (a thick border and a
/// marker in the title, readable without colour too).
pub fn pane_focused<'a>(ctx: &Ctx, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let title: Line = title.into();
    let title = if focused {
        let mut spans = vec![Span::raw("▸")];
        spans.extend(title.spans);
        Line::from(spans).style(
            ctx.theme
                .accent()
                .add_modifier(ratatui::style::Modifier::BOLD),
        )
    } else {
        title.style(ctx.theme.title())
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if focused {
            ctx.theme.accent()
        } else {
            ctx.theme.border()
        })
        .title(title)
}

/// A centred rectangle of at most `w`×`h` inside `area`, cleared for a popup.
pub fn popup_area(frame: &mut Frame, area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    frame.render_widget(Clear, r);
    r
}

/// A question with its answer keys.
pub fn confirm(frame: &mut Frame, ctx: &Ctx, area: Rect, question: &str) {
    let r = popup_area(frame, area, 64, 5);
    let p = Paragraph::new(Line::styled(question.to_string(), ctx.theme.warn()))
        .wrap(ratatui::widgets::Wrap { trim: true })
        .block(pane(ctx, " Confirm "));
    frame.render_widget(p, r);
}

/// The copy menu: what `c` can copy, by number.
pub fn copy_menu(frame: &mut Frame, ctx: &Ctx, area: Rect, choices: &[(&'static str, String)]) {
    let mut lines: Vec<Line> = choices
        .iter()
        .enumerate()
        .map(|(i, (what, text))| {
            Line::from(vec![
                Span::styled(format!(" {} ", i + 1), ctx.theme.accent()),
                Span::styled(format!("{what:<11}"), ctx.theme.muted()),
                Span::raw(crate::console::text::truncate(
                    &crate::console::text::sanitize(text),
                    48,
                )),
            ])
        })
        .collect();
    lines.push(Line::styled(
        " a number copies · Esc closes",
        ctx.theme.muted(),
    ));
    let r = popup_area(frame, area, 68, lines.len() as u16 + 2);
    frame.render_widget(Paragraph::new(lines).block(pane(ctx, " Copy ")), r);
}

pub fn title_bar(frame: &mut Frame, ctx: &Ctx, area: Rect, view: &str) {
    // Parts in the order shown, each with a short form for narrow
    // terminals; the warnings (read-only, stale, quitting stops the sync)
    // are never the ones dropped.
    let mut parts: Vec<(String, Option<String>, ratatui::style::Style)> =
        vec![(format!(" {} ", ctx.title), None, ctx.theme.title())];
    if !view.is_empty() {
        parts.push((format!("‹{view}› "), None, ctx.theme.accent()));
    }
    if ctx.read_only {
        parts.push(("[read-only] ".into(), None, ctx.theme.warn()));
    }
    if let Some(t) = ctx.snapshot.taken_at {
        parts.push((
            t.format("%Y-%m-%d %H:%M:%S UTC ").to_string(),
            Some(t.format("%H:%M:%S ").to_string()),
            ctx.theme.muted(),
        ));
    }
    // The engine says something (a snapshot or a heartbeat) every few
    // seconds while a console is attached; silence means it is stuck, and
    // the numbers on screen are old.
    if let (Some(now), Some(heard)) = (ctx.now, ctx.heard.or(ctx.snapshot.taken_at))
        && (now - heard).num_seconds() >= STALE_AFTER_SECS
    {
        let age = crate::console::text::duration((now - heard).num_seconds());
        parts.push((
            format!("⚠ stale: no news from the engine for {age} "),
            Some(format!("⚠ stale {age} ")),
            ctx.theme.warn(),
        ));
    }
    if let Some(e) = &ctx.snapshot.engine {
        let up = ctx
            .now
            .or(ctx.snapshot.taken_at)
            .map(|now| crate::console::text::duration((now - e.started_at).num_seconds().max(0)))
            .unwrap_or_default();
        parts.push((
            format!("· pid {} up {up} · {} console(s) ", e.pid, e.consoles),
            Some(format!("· pid {} · {} con. ", e.pid, e.consoles)),
            ctx.theme.muted(),
        ));
        if ctx.mode == crate::console::app::EngineMode::InProcess {
            parts.push((
                "in this process: quitting stops the sync ".into(),
                Some("quit stops the sync ".into()),
                ctx.theme.warn(),
            ));
        }
    }
    let width = area.width as usize;
    let len = |p: &[(String, Option<String>, ratatui::style::Style)], short: bool| -> usize {
        p.iter()
            .map(|(l, s, _)| {
                if short {
                    s.as_ref().unwrap_or(l).chars().count()
                } else {
                    l.chars().count()
                }
            })
            .sum()
    };
    let short = len(&parts, false) > width;
    let spans: Vec<Span> = parts
        .into_iter()
        .map(|(long, s, style)| {
            let text = if short { s.unwrap_or(long) } else { long };
            Span::styled(text, style)
        })
        .collect();
    frame.render_widget(Line::from(spans), area);
}
