//! The triage and log views at 80×24 and 200×50, in the default theme and
//! with NO_COLOR (the same text, no colour), and their keys: keys →
//! actions → state, down to the one request each retry sends.

#[path = "console/fixture.rs"]
mod fixture;

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::views::{FailedView, LogView, MetricsView};
use hubsync::console::{App, ConsoleOptions, Popup, Request, Theme};
use hubsync::engine::metrics::{Flow, Minute};
use hubsync::log_ring::LogLine;
use hubsync::model::{Direction, ObjectKind};
use hubsync::status::{Command, JobKind, JobProgress, JobState};
use hubsync::triage::{ErrorClass, FailedGroup, HintContext, hint};
use ratatui::style::Color;

fn groups() -> Vec<FailedGroup> {
    let class = |c: &str, s: Option<&str>, p: Option<&str>| ErrorClass {
        category: c.into(),
        sub_category: s.map(str::to_string),
        property: p.map(str::to_string),
    };
    [
        (
            class("VALIDATION_ERROR", Some("INVALID_EMAIL"), Some("email")),
            31,
            3_600,
            5,
        ),
        (
            class(
                "VALIDATION_ERROR",
                Some("PROPERTY_DOESNT_EXIST"),
                Some("hs_score"),
            ),
            4,
            600,
            60,
        ),
        (class("APP_DB", None, None), 1, 120, 120),
    ]
    .into_iter()
    .map(|(class, count, first, last)| FailedGroup {
        hint: hint(&class, HintContext::default()),
        class,
        count,
        first_seen: t0() - Duration::seconds(first),
        last_seen: t0() - Duration::seconds(last),
    })
    .collect()
}

fn entries() -> Vec<hubsync::status::AuditView> {
    vec![
        failure(41, "ken.tanaka@example.com,", 5, 1),
        failure(40, "sam.okafor@example.c0m", 9, 1),
        failure(39, "olga.petrova.example.com", 14, 2),
    ]
}

fn log_lines() -> Vec<LogLine> {
    [
        ("INFO", "job finished job=3 done=12 succeeded=12 failed=0"),
        ("WARN", "job will be retried job=4 attempts=1 error=POST /crm/v3/objects/contacts/batch/create: timed out"),
        ("ERROR", "job FAILED job=5 error=token=[redacted] refused"),
        ("INFO", "retry of many records finished job=6 records=31 succeeded=29 failed=2"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (level, text))| LogLine {
        seq: i as u64 + 1,
        at: t0() - Duration::seconds(40 - i as i64 * 10),
        level: level.into(),
        target: "hubsync::engine".into(),
        text: text.into(),
    })
    .collect()
}

fn colourless() -> App {
    let mut a = App::with_theme(
        &ConsoleOptions {
            title: "hubsync demo".into(),
            ..Default::default()
        },
        Theme::load("default", Some("1")).unwrap(),
    );
    a.set_snapshot(snapshot());
    a.ctx.say("retry of maria.garcia@example.com: SUCCESS");
    a
}

/// Draws `view` (made fresh for each theme) at this size in both themes;
/// returns the default theme's screen.
fn both_themes(
    view: impl Fn() -> Box<dyn hubsync::console::views::View>,
    w: u16,
    h: u16,
) -> String {
    let mut a = app(false);
    a.open(view());
    let mut plain_app = colourless();
    plain_app.open(view());
    let (screen, _) = render(&a, w, h);
    let (plain, buf) = render(&plain_app, w, h);
    assert_eq!(screen, plain, "NO_COLOR draws the same text");
    for cell in buf.content() {
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Reset, Color::Reset),
            "{:?}",
            cell.symbol()
        );
    }
    screen
}

fn groups_view() -> Box<dyn hubsync::console::views::View> {
    Box::new(FailedView::with_groups(groups()))
}

fn entries_view() -> Box<dyn hubsync::console::views::View> {
    Box::new(FailedView::with_groups(groups()).with_entries(entries()))
}

fn log_view() -> Box<dyn hubsync::console::views::View> {
    Box::new(LogView::with_lines(log_lines()))
}

#[test]
fn failed_by_cause_at_80x24() {
    let s = both_themes(groups_view, 80, 24);
    assert!(
        s.contains("31 VALIDATION_ERROR / INVALID_EMAIL / email"),
        "{s}"
    );
    assert!(s.contains("fix: fix the value"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn failed_by_cause_at_200x50() {
    insta::assert_snapshot!(both_themes(groups_view, 200, 50));
}

#[test]
fn a_class_entries_at_80x24() {
    insta::assert_snapshot!(both_themes(entries_view, 80, 24));
}

#[test]
fn a_class_entries_at_200x50() {
    insta::assert_snapshot!(both_themes(entries_view, 200, 50));
}

#[test]
fn log_at_80x24() {
    let s = both_themes(log_view, 80, 24);
    assert!(s.contains("WARN"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn log_at_200x50() {
    insta::assert_snapshot!(both_themes(log_view, 200, 50));
}

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn colon_failed_opens_the_triage_view_and_asks_the_engine_for_the_groups() {
    let mut a = app(false);
    a.handle_key(key(':'));
    for c in "failed".chars() {
        a.handle_key(key(c));
    }
    let req = a.handle_key(press(KeyCode::Enter));
    assert!(
        matches!(
            req,
            Some(Request::Call {
                method: "failed_groups",
                ..
            })
        ),
        "{req:?}"
    );
    assert_eq!(a.front().command(), "failed");
}

#[test]
fn capital_r_on_a_class_asks_once_then_retries_it_as_one_command() {
    let mut a = app(false);
    a.open(groups_view());
    a.handle_key(key('j'));
    assert_eq!(a.handle_key(key('R')), None, "a question first");
    let Popup::Confirm { question, command } = a.popup.clone() else {
        panic!("no question: {:?}", a.popup);
    };
    assert!(question.contains("all 4 open FAILED entries"), "{question}");
    assert!(question.contains("PROPERTY_DOESNT_EXIST"), "{question}");
    let sent = a.handle_key(key('y'));
    assert_eq!(sent, Some(command.clone()));
    assert!(matches!(
        command,
        Request::Engine(Command::RetryClass { class }) if class.property.as_deref() == Some("hs_score")
    ));
}

#[test]
fn marked_entries_are_retried_as_one_selection_and_esc_goes_back_to_the_groups() {
    let mut a = app(false);
    a.open(entries_view());
    a.handle_key(key(' '));
    a.handle_key(key('j'));
    a.handle_key(key(' '));
    a.handle_key(key('r'));
    let Popup::Confirm { command, .. } = a.popup.clone() else {
        panic!("no question: {:?}", a.popup);
    };
    // Space marks and moves on: the first and the third entry.
    assert_eq!(
        command,
        Request::Engine(Command::RetrySelection {
            audit_ids: vec![39, 41]
        })
    );
    a.handle_key(press(KeyCode::Esc));
    let back = a.handle_key(press(KeyCode::Esc));
    assert!(
        matches!(
            back,
            Some(Request::Call {
                method: "failed_groups",
                ..
            })
        ),
        "{back:?}"
    );
    assert_eq!(a.front().title(), "FAILED by cause");
}

#[test]
fn a_read_only_console_refuses_a_class_retry_and_says_why() {
    let mut a = app(true);
    a.open(groups_view());
    assert_eq!(a.handle_key(key('R')), None);
    assert_eq!(a.popup, Popup::None);
    assert!(
        a.ctx.notice().unwrap_or("").starts_with("read-only"),
        "{:?}",
        a.ctx.notice()
    );
}

#[test]
fn a_running_retry_job_is_one_progress_line_with_rate_and_eta() {
    let mut a = app(false);
    let mut s = snapshot();
    let j = job(
        9,
        JobKind::RetryRecords,
        JobState::Running,
        (12, 31, 11, 1),
        1,
    );
    s.progress = Some(JobProgress {
        job_id: 9,
        rate_per_s: 0.2,
        eta_s: Some(95),
    });
    s.running = Some(j);
    a.set_snapshot(s);
    a.open(groups_view());
    let (screen, _) = render(&a, 80, 24);
    assert!(
        screen.contains("▶ retry job #9: 12/31 records  ✓11 ✗1  0.2/s  ETA 1m 35s"),
        "{screen}"
    );
}

#[test]
fn the_jobs_view_shows_a_running_jobs_rate_and_eta() {
    let mut a = app(false);
    let mut s = snapshot();
    s.running = Some(job(
        9,
        JobKind::RetryRecords,
        JobState::Running,
        (12, 31, 11, 1),
        1,
    ));
    s.progress = Some(JobProgress {
        job_id: 9,
        rate_per_s: 0.2,
        eta_s: Some(95),
    });
    a.set_snapshot(s);
    a.open(Box::new(hubsync::console::views::JobsView::default()));
    let (screen, _) = render(&a, 200, 50);
    assert!(
        screen.contains("12/31 records (39%)  0.2/s  ETA 1m 35s"),
        "{screen}"
    );
}

#[test]
fn the_triage_view_reads_again_when_the_failed_entries_change_not_on_a_timer() {
    let mut a = app(false);
    a.handle_key(key(':'));
    for c in "failed".chars() {
        a.handle_key(key(c));
    }
    let Some(Request::Call { view, tag, .. }) = a.handle_key(press(KeyCode::Enter)) else {
        panic!("the groups are asked for first");
    };
    a.on_reply(view, tag, Ok(serde_json::json!({ "groups": [] })));
    for _ in 0..10 {
        assert_eq!(a.tick(), None, "no re-read on a timer");
        assert_eq!(a.poll(), None);
    }
    let mut s = snapshot();
    s.running = None;
    a.set_snapshot(s.clone());
    assert_eq!(a.poll(), None, "a snapshot with the same FAILED version");
    s.failed_version += 1;
    a.set_snapshot(s);
    let again = a.poll();
    assert!(
        matches!(
            again,
            Some(Request::Call {
                method: "failed_groups",
                ..
            })
        ),
        "{again:?}"
    );
    assert_eq!(a.poll(), None, "asked once, not again while it reads");
}

#[test]
fn the_log_follows_the_tail_until_scrolled_up_and_g_follows_again() {
    let mut a = app(false);
    a.open(log_view());
    let (s, _) = render(&a, 80, 24);
    assert!(s.contains("(following)"), "{s}");
    a.handle_key(key('k'));
    let (s, _) = render(&a, 80, 24);
    assert!(s.contains("(line 3 of 4)"), "{s}");
    a.handle_key(key('G'));
    let (s, _) = render(&a, 80, 24);
    assert!(s.contains("(following)"), "{s}");
    let next = a.tick();
    assert!(
        matches!(&next, Some(Request::Call { method: "log_tail", params, .. }) if params["after"] == 4),
        "{next:?}"
    );
}

fn hour() -> Vec<Minute> {
    (0..60i64)
        .map(|i| Minute {
            at: t0() - Duration::minutes(59 - i),
            synced: if i >= 20 {
                vec![
                    Flow {
                        object: ObjectKind::Contacts,
                        direction: Direction::ToHubSpot,
                        records: (i as u64 * 7) % 90,
                    },
                    Flow {
                        object: ObjectKind::Contacts,
                        direction: Direction::ToApp,
                        records: 3,
                    },
                ]
            } else {
                vec![]
            },
            errors: if i % 9 == 0 { 2 } else { 0 },
            window_used: (i >= 20).then_some((i as u64 * 13) % 100),
            window_max: (i >= 20).then_some(100),
            daily_used: (i >= 20).then_some(1_000 + i as u64 * 50),
            daily_max: (i >= 20).then_some(250_000),
        })
        .collect()
}

fn metrics_view() -> Box<dyn hubsync::console::views::View> {
    Box::new(MetricsView::with_minutes(hour()))
}

#[test]
fn metrics_at_80x24() {
    let s = both_themes(metrics_view, 80, 24);
    assert!(s.contains("today 3950 of 250000"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn metrics_at_200x50() {
    insta::assert_snapshot!(both_themes(metrics_view, 200, 50));
}

#[test]
fn colon_metrics_opens_the_plots_and_asks_the_engine_for_the_hour() {
    let mut a = app(false);
    a.handle_key(key(':'));
    for c in "metrics".chars() {
        a.handle_key(key(c));
    }
    let req = a.handle_key(press(KeyCode::Enter));
    assert!(
        matches!(
            req,
            Some(Request::Call {
                method: "metrics",
                ..
            })
        ),
        "{req:?}"
    );
}
