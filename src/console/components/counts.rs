//! Records per object in each system, how many are linked, how many FAILED.

use super::pane;
use crate::console::ctx::Ctx;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::Text;
use ratatui::widgets::{Cell, Row, Table};

fn n(v: Option<u64>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

/// `boxed`: in a pane of its own (false on a terminal too short for one).
pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, boxed: bool) {
    let header = Row::new(["object", "HubSpot", "app", "linked", "FAILED"])
        .style(ctx.theme.muted().add_modifier(Modifier::BOLD));
    let rows = ctx.snapshot.counts.iter().map(|c| {
        let failed = Cell::from(Text::from(c.failed.to_string())).style(if c.failed > 0 {
            ctx.theme.error()
        } else {
            ctx.theme.ok()
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
    let table = Table::new(rows, widths).header(header);
    let table = if boxed {
        table.block(pane(ctx, " Records "))
    } else {
        table
    };
    frame.render_widget(table, area);
}
