//! The engine snapshot the console tests draw, and how they draw it: a
//! fixed busy moment of the demo (a backfill running, six FAILED entries,
//! one with an escape sequence in its email).

#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubsync::console::{App, ConsoleOptions, draw};
use hubsync::model::{Direction, ObjectKind};
use hubsync::status::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 14, 30, 0).unwrap()
}

/// `progress` is (done, total, succeeded, failed).
pub fn job(
    id: i64,
    kind: JobKind,
    state: JobState,
    progress: (u64, u64, u64, u64),
    mins_ago: i64,
) -> JobView {
    let (done, total, ok, failed) = progress;
    let start = t0() - Duration::minutes(mins_ago);
    let finished = matches!(state, JobState::Succeeded | JobState::Failed);
    JobView {
        id,
        kind,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        state,
        done,
        total,
        succeeded: ok,
        failed,
        queued_at: start - Duration::seconds(2),
        run_after: if state == JobState::Queued {
            t0() + Duration::seconds(25)
        } else {
            start
        },
        started_at: (state != JobState::Queued).then_some(start),
        finished_at: finished.then(|| start + Duration::seconds(17)),
        error: None,
        requested_by: None,
    }
}

pub fn failure(id: i64, label: &str, secs_ago: i64, attempt: u32) -> AuditView {
    AuditView {
        id,
        at: t0() - Duration::seconds(secs_ago),
        job_id: 3,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id: (id * 7).to_string(),
        hubspot_id: None,
        action: AuditAction::Create,
        status: AuditStatus::Failed,
        category: Some("VALIDATION_ERROR".into()),
        message: Some(format!(
            r#"Property values were not valid: [{{"isValid":false,"message":"Email address {label} is invalid","error":"INVALID_EMAIL","name":"email"}}]"#
        )),
        attempt,
        label: label.into(),
        operator: None,
    }
}

pub fn snapshot() -> Snapshot {
    Snapshot {
        taken_at: Some(t0()),
        connections: vec![
            ConnectionStatus {
                name: "HubSpot".into(),
                target: "http://127.0.0.1:41873".into(),
                state: ConnState::Connected,
                latency_ms: Some(124),
                budget: Some(RateBudget {
                    remaining: 87,
                    max: 100,
                    interval_ms: 10_000,
                    daily_remaining: Some(249_912),
                    daily_max: Some(250_000),
                }),
                last_error: None,
            },
            ConnectionStatus {
                name: "App DB".into(),
                target: "/var/lib/hubsync/demo/app.db".into(),
                state: ConnState::Connected,
                latency_ms: Some(1),
                budget: None,
                last_error: None,
            },
        ],
        counts: vec![ObjectCounts {
            object: ObjectKind::Contacts,
            hubspot: Some(1172),
            app: Some(1003),
            linked: 612,
            failed: 6,
        }],
        running: Some(job(
            3,
            JobKind::Backfill,
            JobState::Running,
            (400, 1000, 394, 6),
            0,
        )),
        queued: vec![job(
            4,
            JobKind::RetryRecord,
            JobState::Queued,
            (0, 0, 0, 0),
            0,
        )],
        recent: vec![
            job(2, JobKind::Poll, JobState::Succeeded, (12, 12, 12, 0), 3),
            job(
                1,
                JobKind::Backfill,
                JobState::Failed,
                (100, 1000, 100, 0),
                9,
            ),
        ],
        failed: vec![
            failure(41, "ken.tanaka@example.com,", 5, 1),
            failure(40, "sam.okafor@example.c0m", 9, 1),
            failure(39, "olga.petrova.example.com", 14, 2),
            failure(38, "john smith@example.com", 20, 1),
            failure(37, "li.wei@@example.com", 31, 1),
            failure(36, "eve\u{1b}[31m@example", 40, 3),
        ],
        failed_total: 6,
        failed_before: None,
        failed_newer: 0,
        failed_matches: None,
        failed_version: 0,
        progress: None,
        engine: Some(hubsync::status::EngineInfo {
            pid: 4242,
            started_at: t0() - Duration::minutes(42),
            version: "0.1.0".into(),
            config: "/etc/hubsync/hubsync.toml".into(),
            consoles: 2,
        }),
    }
}

pub fn render(app: &App, w: u16, h: u16) -> (String, ratatui::buffer::Buffer) {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        text.push_str(line.trim_end());
        text.push('\n');
    }
    (text, buf)
}

pub fn app(read_only: bool) -> App {
    let mut a = App::new(&ConsoleOptions {
        read_only,
        theme: None,
        title: "hubsync demo".into(),
        ..Default::default()
    });
    a.set_snapshot(snapshot());
    a.ctx.say("retry of maria.garcia@example.com: SUCCESS");
    a
}

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

/// Column and row of a text on the rendered screen.
pub fn find(screen: &str, what: &str) -> Option<(usize, usize)> {
    screen
        .lines()
        .enumerate()
        .find_map(|(y, l)| l.find(what).map(|b| (l[..b].chars().count(), y)))
}

/// `step` on the demo console in the default theme and under NO_COLOR:
/// the default's screen, after checking NO_COLOR draws the same text with
/// no colour at all.
pub fn in_both_themes(step: impl Fn(App) -> App, w: u16, h: u16) -> String {
    let (screen, _) = render(&step(app(false)), w, h);
    let mut plain = App::with_theme(
        &ConsoleOptions {
            title: "hubsync demo".into(),
            ..Default::default()
        },
        hubsync::console::Theme::load("default", Some("1")).unwrap(),
    );
    plain.set_snapshot(snapshot());
    plain.ctx.say("retry of maria.garcia@example.com: SUCCESS");
    let (text, buf) = render(&step(plain), w, h);
    assert_eq!(screen, text, "NO_COLOR draws the same text");
    for cell in buf.content() {
        assert_eq!(
            (cell.fg, cell.bg),
            (ratatui::style::Color::Reset, ratatui::style::Color::Reset),
            "a coloured cell {:?} under NO_COLOR",
            cell.symbol()
        );
    }
    screen
}
