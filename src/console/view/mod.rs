//! Drawing: reads the app state, draws a frame, does no I/O and reads no
//! clock (times are relative to the snapshot's `taken_at`). Panes give way
//! by priority on small terminals: the FAILED list and the job queue stay,
//! connections and counts shrink to a line each.

mod connections;
mod counts;
mod detail;
mod failed;
mod footer;
mod help;
mod jobs;

use super::app::{App, Popup};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

/// Below this the console shows a message instead of panes.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// A snapshot this old is flagged as stale.
const STALE_AFTER_SECS: i64 = 15;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    frame.render_widget(Block::new().style(app.theme.base()), area);
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "terminal too small (need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
            area.width, area.height
        );
        let y = area.y + area.height / 2;
        let line = Rect {
            x: area.x,
            y,
            width: area.width,
            height: 1.min(area.height),
        };
        frame.render_widget(Paragraph::new(msg).centered().style(app.theme.warn()), line);
        return;
    }
    let wide = area.width >= 120;
    let conn_rows = connections::rows(
        app,
        if area.width >= 120 {
            area.width * 55 / 100
        } else {
            area.width
        },
    );
    let count_rows = app.snapshot.counts.len().max(1) as u16 + 1;
    let top = if wide {
        conn_rows.max(count_rows) + 2
    } else {
        conn_rows + 2 + count_rows + 2
    };
    let jobs_rows = jobs::height(app, area.height);
    let [title, top_area, jobs_area, failed_area, footer_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(top),
        Constraint::Length(jobs_rows),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(area);

    title_bar(frame, app, title);
    if wide {
        let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(top_area);
        connections::draw(frame, app, l);
        counts::draw(frame, app, r);
    } else {
        let [c, n] = Layout::vertical([
            Constraint::Length(conn_rows + 2),
            Constraint::Length(count_rows + 2),
        ])
        .areas(top_area);
        connections::draw(frame, app, c);
        counts::draw(frame, app, n);
    }
    jobs::draw(frame, app, jobs_area);
    failed::draw(frame, app, failed_area);
    footer::draw(frame, app, footer_area);

    match &app.popup {
        Popup::None => {}
        Popup::Help => help::draw(frame, app, area),
        Popup::Detail => detail::draw(frame, app, area),
        Popup::Confirm { question, .. } | Popup::ConfirmQuit { question } => {
            confirm(frame, app, area, question)
        }
    }
}

fn confirm(frame: &mut Frame, app: &App, area: Rect, question: &str) {
    let r = popup_area(frame, area, 64, 5);
    let p = Paragraph::new(Line::styled(question.to_string(), app.theme.warn()))
        .wrap(ratatui::widgets::Wrap { trim: true })
        .block(pane(app, " Confirm "));
    frame.render_widget(p, r);
}

fn title_bar(frame: &mut Frame, app: &App, area: Rect) {
    // Parts in the order shown, each with a short form for narrow
    // terminals; the warnings (read-only, stale, quitting stops the sync)
    // are never the ones dropped.
    let mut parts: Vec<(String, Option<String>, ratatui::style::Style)> =
        vec![(format!(" {} ", app.title), None, app.theme.title())];
    if app.read_only {
        parts.push(("[read-only] ".into(), None, app.theme.warn()));
    }
    if let Some(t) = app.snapshot.taken_at {
        parts.push((
            t.format("%Y-%m-%d %H:%M:%S UTC ").to_string(),
            Some(t.format("%H:%M:%S ").to_string()),
            app.theme.muted(),
        ));
    }
    // The engine says something (a snapshot or a heartbeat) every few
    // seconds while a console is attached; silence means it is stuck, and
    // the numbers on screen are old.
    if let (Some(now), Some(heard)) = (app.now, app.heard.or(app.snapshot.taken_at))
        && (now - heard).num_seconds() >= STALE_AFTER_SECS
    {
        let age = super::text::duration((now - heard).num_seconds());
        parts.push((
            format!("⚠ stale: no news from the engine for {age} "),
            Some(format!("⚠ stale {age} ")),
            app.theme.warn(),
        ));
    }
    if let Some(e) = &app.snapshot.engine {
        let up = app
            .now
            .or(app.snapshot.taken_at)
            .map(|now| super::text::duration((now - e.started_at).num_seconds().max(0)))
            .unwrap_or_default();
        parts.push((
            format!("· pid {} up {up} · {} console(s) ", e.pid, e.consoles),
            Some(format!("· pid {} · {} con. ", e.pid, e.consoles)),
            app.theme.muted(),
        ));
        if app.mode == super::app::EngineMode::InProcess {
            parts.push((
                "in this process: quitting stops the sync ".into(),
                Some("quit stops the sync ".into()),
                app.theme.warn(),
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

/// A bordered pane with a title, in the theme's colours.
pub(crate) fn pane<'a>(app: &App, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(app.theme.border())
        .title(title.into().style(app.theme.title()))
}

/// A centred rectangle of at most `w`×`h` inside `area`, cleared for a popup.
pub(crate) fn popup_area(frame: &mut Frame, area: Rect, w: u16, h: u16) -> Rect {
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
