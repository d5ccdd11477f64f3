//! How one record's story is drawn: who it is and how each side answered,
//! why it is skipped, its fields on both sides beside the link's memory,
//! what a sync now would write, and its attempts, newest first. Every
//! value is record data: escaped before it is drawn.

use super::pane;
use crate::console::ctx::Ctx;
use crate::console::text::{sanitize, truncate};
use crate::engine::records::{RecordView, SideRead};
use crate::hubspot::error::message_summary;
use crate::model::ObjectKind;
use crate::status::AuditStatus;
use crate::sync::compare::{Changed, FieldState};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

/// What the view hands over to be drawn.
pub struct Shown<'a> {
    pub object: ObjectKind,
    pub label: &'a str,
    pub story: Option<&'a RecordView>,
    pub error: Option<&'a str>,
    pub loading: bool,
    pub selected: usize,
    pub pending_edit: Option<&'a (String, String)>,
}

fn values(v: &Option<Vec<Option<String>>>) -> String {
    match v {
        None => "?".into(),
        Some(v) if v.iter().all(Option::is_none) => "–".into(),
        Some(v) => v
            .iter()
            .map(|x| sanitize(x.as_deref().unwrap_or("")).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn side_text(name: &str, id: Option<&str>, read: &SideRead) -> String {
    let id = id.map_or("–".to_string(), |i| sanitize(i).into_owned());
    match read {
        SideRead::Read { .. } => format!("{name} {id}"),
        SideRead::Missing => format!("{name} {id} (gone)"),
        SideRead::Unknown => format!("{name} –"),
        SideRead::Unavailable { error } => format!("{name} {id}: {}", sanitize(error)),
    }
}

/// A side's values, or what stands for them when it was not read: `–`
/// when there is no record there, `?` when that side did not answer.
fn side_values(v: &Option<Vec<Option<String>>>, read: &SideRead) -> String {
    match (v, read) {
        (None, SideRead::Unknown | SideRead::Missing) => "–".into(),
        _ => values(v),
    }
}

fn stamp(read: &SideRead) -> String {
    match read {
        SideRead::Read {
            updated_at: Some(t),
        } => sanitize(t).into_owned(),
        _ => "?".into(),
    }
}

fn direction_text(d: crate::model::Direction) -> &'static str {
    match d {
        crate::model::Direction::ToHubSpot => "to HubSpot",
        crate::model::Direction::ToApp => "to the app",
        crate::model::Direction::Both => "both ways",
    }
}

fn changed_text(f: &FieldState, hubspot: &SideRead) -> (&'static str, bool) {
    match (f.changed, &f.conflict) {
        (None, _) if matches!(hubspot, SideRead::Unknown | SideRead::Missing) => {
            ("not in HubSpot", false)
        }
        // Who wins is said on the conflict's own line, above.
        (Some(Changed::Both), Some(_)) => ("both changed", true),
        (Some(Changed::App), _) => ("app changed", true),
        (Some(Changed::HubSpot), _) => ("HubSpot changed", true),
        (Some(Changed::NoHistory), _) => ("not synced yet", false),
        (Some(Changed::Neither), _) => ("", false),
        (Some(Changed::Both), None) => ("both changed", true),
        (None, _) => ("?", false),
    }
}

pub fn draw(frame: &mut Frame, ctx: &Ctx, area: Rect, s: &Shown<'_>) {
    let title = format!(" {} {} ", s.object, sanitize(s.label));
    let block = pane(ctx, title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(story) = s.story else {
        let text = match (s.error, s.loading) {
            (Some(e), _) => Line::styled(sanitize(e).into_owned(), ctx.theme.error()),
            (None, _) => Line::styled("reading both sides…", ctx.theme.muted()),
        };
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
        return;
    };
    let w = inner.width as usize;

    // Who: both ids, how each side answered, the link.
    let mut head = vec![Line::from(vec![
        Span::raw(truncate(
            &format!(
                "{} · {} · {}",
                side_text("app", story.app_id.as_deref(), &story.app),
                side_text("HubSpot", story.hubspot_id.as_deref(), &story.hubspot),
                if story.link.is_some() {
                    "linked"
                } else {
                    "not linked"
                }
            ),
            w,
        )),
        Span::styled(
            if s.loading { "  reloading…" } else { "" },
            ctx.theme.muted(),
        ),
    ])];
    for why in &story.skipped_by {
        head.push(Line::styled(
            format!(
                "SKIPPED {}: {}",
                direction_text(why.direction),
                sanitize(&why.explanation)
            ),
            ctx.theme.warn(),
        ));
    }
    if story.skipped_by.is_empty()
        && let Some(r) = &story.skip_reason
    {
        head.push(Line::styled(
            format!("SKIPPED: {}", sanitize(r)),
            ctx.theme.warn(),
        ));
    }
    // A conflict: both values, both sides' times, the rule that decided.
    for f in story.fields.iter() {
        if let Some(c) = &f.conflict {
            head.push(Line::styled(
                format!(
                    "conflict on {}: app {:?} (changed {}) vs HubSpot {:?} (changed {}); {}",
                    f.app_columns.join("+"),
                    values(&f.app),
                    stamp(&story.app),
                    values(&f.hubspot),
                    stamp(&story.hubspot),
                    sanitize(&c.rule)
                ),
                ctx.theme.warn(),
            ));
        }
    }
    if let Some((column, value)) = s.pending_edit {
        head.push(Line::styled(
            format!(
                "set {column} to {:?}? y writes it to the app · Esc drops it",
                sanitize(value)
            ),
            ctx.theme.accent().add_modifier(Modifier::BOLD),
        ));
    }

    let plan_lines: Vec<Line> = match &story.dry_run.error {
        Some(e) => vec![Line::styled(truncate(&sanitize(e), w), ctx.theme.warn())],
        None => story
            .dry_run
            .planned
            .iter()
            .map(|p| {
                let mut text = sanitize(&p.summary).into_owned();
                let writes: Vec<String> = p
                    .to_hubspot
                    .iter()
                    .chain(&p.to_app)
                    .map(|(k, v)| format!("{k}={}", sanitize(v)))
                    .collect();
                if !writes.is_empty() {
                    text.push_str(&format!(": {}", writes.join(", ")));
                }
                Line::raw(truncate(&text, w))
            })
            .collect(),
    };

    // Explanations wrap: a line takes as many rows as its text needs.
    let head_h: usize = head
        .iter()
        .map(|l| l.width().div_ceil(w.max(1)).max(1))
        .sum();
    let fields_h = (story.fields.len() as u16 + 1).min(inner.height / 2).max(2);
    let [head_a, fields_a, plan_a, attempts_a] = Layout::vertical([
        Constraint::Length(head_h as u16),
        Constraint::Length(fields_h),
        Constraint::Length(plan_lines.len().max(1) as u16 + 1),
        Constraint::Min(0),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_a);

    // Both sides, side by side, with the last sync's values beside them.
    let rows = story.fields.iter().enumerate().map(|(i, f)| {
        let (changed, loud) = changed_text(f, &story.hubspot);
        let style = if i == s.selected {
            ctx.theme.selection()
        } else {
            Style::default()
        };
        Row::new(vec![
            Cell::from(f.app_columns.join("+")),
            Cell::from(side_values(&f.app, &story.app)),
            Cell::from(side_values(&f.hubspot, &story.hubspot)),
            Cell::from(match &f.memory {
                None => "–".to_string(),
                m => values(m),
            }),
            Cell::from(changed).style(if loud {
                ctx.theme.warn()
            } else {
                ctx.theme.muted()
            }),
        ])
        .style(style)
    });
    let header = Row::new(["field", "app now", "HubSpot now", "last sync", "changed"])
        .style(ctx.theme.muted());
    let widths = [
        Constraint::Length(11),
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(15),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), fields_a);

    let mut plan = vec![Line::styled("a sync now would:", ctx.theme.muted())];
    plan.extend(plan_lines);
    frame.render_widget(Paragraph::new(plan), plan_a);

    // Every attempt, newest first: when, what, how it went, what it wrote.
    let mut lines = vec![Line::styled(
        format!("attempts ({}), newest first:", story.attempts.len()),
        ctx.theme.muted(),
    )];
    for a in &story.attempts {
        let e = &a.entry;
        let status_style = match e.status {
            AuditStatus::Success => ctx.theme.ok(),
            AuditStatus::Failed => ctx.theme.error(),
            AuditStatus::Skipped => ctx.theme.warn(),
        };
        let what = if e.action == crate::status::AuditAction::Edited {
            format!(
                "edited by {}",
                sanitize(e.operator.as_deref().unwrap_or("an operator"))
            )
        } else {
            format!(
                "#{} job {} {} {}",
                e.attempt,
                e.job_id,
                e.direction.arrow(),
                e.action.as_str()
            )
        };
        let said = e.message.as_deref().map_or(String::new(), |m| {
            if e.status == AuditStatus::Failed {
                sanitize(&message_summary(m)).into_owned()
            } else {
                sanitize(m).into_owned()
            }
        });
        let head = format!("{} {what} ", e.at.format("%m-%d %H:%M:%S"));
        let used = head.chars().count() + e.status.as_str().len() + 2;
        lines.push(Line::from(vec![
            Span::raw(head),
            Span::styled(e.status.as_str(), status_style),
            Span::raw("  "),
            Span::raw(truncate(&said, w.saturating_sub(used))),
        ]));
        if e.action != crate::status::AuditAction::Edited
            && let Some(d) = &a.diff
            && !d.is_empty()
        {
            let wrote: Vec<String> = d
                .iter()
                .map(|(k, v)| format!("{k}={}", sanitize(v)))
                .collect();
            lines.push(Line::styled(
                truncate(&format!("    wrote {}", wrote.join(", ")), w),
                ctx.theme.muted(),
            ));
        }
    }
    frame.render_widget(Paragraph::new(lines), attempts_a);
}
