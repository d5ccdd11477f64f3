//! One FAILED entry in full: every field, HubSpot's whole message wrapped.

use super::{pane, popup_area};
use crate::console::ctx::Ctx;
use crate::console::text::sanitize;
use crate::model::RecordRef;
use crate::status::AuditView;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, a: &AuditView) {
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), ctx.theme.muted()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("record", sanitize(&a.label).into_owned()),
        field("object", format!("{} {}", a.object, a.direction.arrow())),
        field(
            "app id",
            match RecordRef::parse(&a.app_id) {
                RecordRef::App(id) => sanitize(&id).into_owned(),
                RecordRef::HubSpot(_) => "– (not in the app yet)".into(),
            },
        ),
        field(
            "HubSpot id",
            a.hubspot_id
                .as_deref()
                .map_or("– (not linked)".into(), |h| sanitize(h).into_owned()),
        ),
        field(
            "action",
            format!("{} → {}", a.action.as_str(), a.status.as_str()),
        ),
        field("attempt", format!("{} (job #{})", a.attempt, a.job_id)),
        field("at", a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        field("category", a.category.clone().unwrap_or_else(|| "–".into())),
        Line::raw(""),
        Line::styled("HubSpot's message:", ctx.theme.muted()),
        Line::raw(sanitize(a.message.as_deref().unwrap_or("(none)")).into_owned()),
        Line::raw(""),
    ];
    let key = |action| {
        ctx.keymap
            .binding(crate::console::keymap::Mode::Normal, action)
            .map(|b| b.label())
    };
    let mut hint = Vec::new();
    if let Some(k) = key(crate::console::action::Action::Retry) {
        hint.push(format!("{k} retries this record"));
    }
    if let Some(k) = key(crate::console::action::Action::Copy) {
        hint.push(format!("{k} copies"));
    }
    hint.push("Esc closes".into());
    let hint = hint.join(" · ");
    lines.push(Line::styled(hint, ctx.theme.muted()));
    let r = popup_area(frame, area, 90, 18);
    let title = format!(" FAILED entry #{} ", a.id);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(pane(ctx, title)),
        r,
    );
}
