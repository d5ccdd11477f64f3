//! Records per object in each system, how many are linked, how many FAILED.

use super::pane;
use crate::console::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::Text;
use ratatui::widgets::{Cell, Row, Table};

fn n(v: Option<u64>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let header = Row::new(["object", "HubSpot", "app", "linked", "FAILED"])
        .style(app.theme.muted().add_modifier(Modifier::BOLD));
    let rows = app.snapshot.counts.iter().map(|c| {
        let failed = Cell::from(Text::from(c.failed.to_string())).style(if c.failed > 0 {
            app.theme.error()
        } else {
            app.theme.ok()
        });
        Row::new(vec![
            Cell::from(c.object.to_string()),
            Cell::from(n(c.hubspot)),
            Cell::from(n(c.app)),
            Cell::from(c.linked.to_string()),
            failed,
        ])
    });
    let widths = [
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
    ];
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .block(pane(app, " Records ")),
        area,
    );
}
