//! The open FAILED audit entries, newest first, with the selection an
//! operator retries or opens. Only the rows that fit are built.

use super::pane;
use crate::console::app::App;
use crate::console::text::{sanitize, truncate};
use crate::hubspot::error::message_summary;
use crate::model::RecordRef;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let s = &app.snapshot;
    let shown = s.failed.len() as u64;
    // Where the selection is in the whole list, not just in this page.
    let at = if s.failed.is_empty() {
        String::new()
    } else {
        format!(
            " {} of {}",
            s.failed_newer + app.selected as u64 + 1,
            s.failed_total
        )
    };
    let title = if s.failed_before.is_some() || s.failed_total > shown {
        let first = s.failed_newer + 1;
        let last = s.failed_newer + shown;
        format!(
            " FAILED ({} open; {first}–{last} shown){at} ",
            s.failed_total
        )
    } else {
        format!(" FAILED ({} open){at} ", s.failed_total)
    };
    let block = pane(app, Line::from(title));
    if s.failed.is_empty() {
        let p = Paragraph::new(Line::styled("  ✓ no FAILED records", app.theme.ok())).block(block);
        frame.render_widget(p, area);
        return;
    }
    let inner_w = area.width.saturating_sub(2) as usize;
    let wide = inner_w >= 110;
    // Fixed columns first; the message takes what is left.
    let label_w = if wide { 30 } else { 22 };
    // Entries from another day carry their date: a time alone would pass
    // yesterday's failure off as today's.
    let today = app.now.or(s.taken_at).map(|t| t.date_naive());
    let dated = s.failed.iter().any(|a| Some(a.at.date_naive()) != today);
    let time_w: usize = if dated { 11 } else { 8 };
    let mut widths = vec![
        Constraint::Length(time_w as u16),
        Constraint::Length(label_w as u16),
    ];
    let mut header = vec!["time", "record"];
    if wide {
        widths.extend([Constraint::Length(6), Constraint::Length(10)]);
        header.extend(["app id", "HubSpot"]);
    }
    widths.extend([Constraint::Length(16), Constraint::Length(3)]);
    header.extend(["category", "try"]);
    let fixed: usize = time_w + label_w + if wide { 6 + 10 } else { 0 } + 16 + 3 + header.len();
    let msg_w = inner_w.saturating_sub(fixed).max(10);
    widths.push(Constraint::Min(10));
    header.push("error");

    // Build only the rows that can be on screen. The window moves only
    // when the selection would leave it, so rows above the selection stay
    // in view while it moves down.
    let visible = (area.height.saturating_sub(3) as usize).max(1);
    let mut start = app
        .failed_offset
        .get()
        .min(s.failed.len().saturating_sub(1));
    if app.selected < start {
        start = app.selected;
    } else if app.selected >= start + visible {
        start = app.selected + 1 - visible;
    }
    app.failed_offset.set(start);
    app.failed_rows.set(visible);
    let rows = s.failed.iter().skip(start).take(visible.max(1)).map(|a| {
        let mut cells = vec![
            Cell::from(if Some(a.at.date_naive()) == today {
                a.at.format("%H:%M:%S").to_string()
            } else {
                a.at.format("%m-%d %H:%M").to_string()
            }),
            Cell::from(truncate(&sanitize(&a.label), label_w)),
        ];
        if wide {
            // A HubSpot record with no app row yet is keyed `hs:<id>`.
            let app_id = match RecordRef::parse(&a.app_id) {
                RecordRef::App(id) => id,
                RecordRef::HubSpot(_) => "–".into(),
            };
            cells.push(Cell::from(truncate(&sanitize(&app_id), 6)));
            cells.push(Cell::from(
                a.hubspot_id
                    .as_deref()
                    .map_or("–".into(), |h| truncate(&sanitize(h), 10)),
            ));
        }
        cells.push(
            Cell::from(a.category.as_deref().unwrap_or("–").to_string()).style(app.theme.error()),
        );
        cells.push(Cell::from(a.attempt.to_string()));
        let message = message_summary(a.message.as_deref().unwrap_or(""));
        cells.push(Cell::from(truncate(&sanitize(&message), msg_w)));
        Row::new(cells)
    });
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(app.theme.muted().add_modifier(Modifier::BOLD)))
        .row_highlight_style(app.theme.selection())
        .highlight_symbol("›")
        .block(block);
    let mut state = TableState::default().with_selected(Some(app.selected - start));
    frame.render_stateful_widget(table, area, &mut state);
}
