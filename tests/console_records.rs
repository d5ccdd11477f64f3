//! The console's record views: `:records contacts` (find any record with
//! `/`) and one record's whole story (Enter), with fix then retry. Each is
//! snapshotted at 80×24 and 200×50 in the default theme and in NO_COLOR
//! (the text read by eye when accepted), and driven key by key: keys →
//! actions → the requests the console sends and what it shows.

#[path = "console/fixture.rs"]
mod fixture;

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, ConsoleOptions, Request, Theme};
use hubsync::engine::records::{
    DryRun, LinkView, PlannedWrite, RecordHit, RecordView, RecordsFound, SideRead, SkipReason,
};
use hubsync::model::{Direction, ObjectKind, Side};
use hubsync::status::{AttemptView, AuditAction, AuditStatus};
use hubsync::sync::compare::{Changed, Conflict, FieldState};
use ratatui::style::Color;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typed(a: &mut App, s: &str) -> Vec<Request> {
    s.chars().filter_map(|c| a.handle_key(key(c))).collect()
}

fn field(
    column: &str,
    property: &str,
    app: Option<&str>,
    hubspot: Option<&str>,
    memory: Option<&str>,
    changed: Changed,
) -> FieldState {
    FieldState {
        field: format!("{column} ↔ {property}"),
        app_columns: vec![column.into()],
        hubspot_properties: vec![property.into()],
        app: Some(vec![app.map(str::to_string)]),
        hubspot: hubspot.map(|h| vec![Some(h.to_string())]),
        memory: memory.map(|m| vec![Some(m.to_string())]),
        equal: hubspot.map(|h| app == Some(h)),
        changed: Some(changed),
        conflict: None,
    }
}

fn attempt(id: i64, status: AuditStatus, attempt: u32, secs_ago: i64) -> AttemptView {
    let mut entry = failure(id, "sam.okafor@example.c0m", secs_ago, attempt);
    entry.app_id = "280".into();
    entry.status = status;
    if status == AuditStatus::Success {
        entry.category = None;
        entry.message = None;
    }
    AttemptView {
        entry,
        diff: Some(BTreeMap::from([
            ("email".to_string(), "sam.okafor@example.c0m".to_string()),
            ("firstname".to_string(), "Sam".to_string()),
        ])),
    }
}

/// A contact HubSpot refused twice: never created there, not linked.
fn failed_story() -> RecordView {
    RecordView {
        object: ObjectKind::Contacts,
        app_id: Some("280".into()),
        hubspot_id: None,
        label: "sam.okafor@example.c0m".into(),
        link: None,
        app: SideRead::Read {
            updated_at: Some("2026-11-22T14:00:00Z".into()),
        },
        hubspot: SideRead::Unknown,
        fields: vec![
            FieldState {
                hubspot: None,
                equal: None,
                changed: None,
                ..field(
                    "email",
                    "email",
                    Some("sam.okafor@example.c0m"),
                    None,
                    None,
                    Changed::NoHistory,
                )
            },
            FieldState {
                hubspot: None,
                equal: None,
                changed: None,
                ..field(
                    "first_name",
                    "firstname",
                    Some("Sam"),
                    None,
                    None,
                    Changed::NoHistory,
                )
            },
        ],
        attempts: vec![
            attempt(40, AuditStatus::Failed, 2, 9),
            attempt(22, AuditStatus::Failed, 1, 600),
        ],
        dry_run: DryRun {
            planned: vec![PlannedWrite {
                action: "create_in_hubspot".into(),
                summary: "would create it in HubSpot".into(),
                to_hubspot: BTreeMap::from([
                    ("email".to_string(), "sam.okafor@example.c0m".to_string()),
                    ("firstname".to_string(), "Sam".to_string()),
                ]),
                to_app: BTreeMap::new(),
                reason: None,
            }],
            error: None,
        },
        skipped_by: vec![],
        skip_reason: None,
    }
}

/// A linked contact a filter keeps from HubSpot, with a conflict on its
/// job title and HubSpot not answering on the second read.
fn skipped_story() -> RecordView {
    let mut title = field(
        "job_title",
        "jobtitle",
        Some("CTO"),
        Some("Chief Technology Officer"),
        Some("VP Engineering"),
        Changed::Both,
    );
    title.conflict = Some(Conflict {
        winner: Side::App,
        rule: "both sides changed since the last sync: system_of_record = \"app\" wins".into(),
    });
    RecordView {
        object: ObjectKind::Contacts,
        app_id: Some("17".into()),
        hubspot_id: Some("90117".into()),
        label: "ana@internal.example".into(),
        link: Some(LinkView {
            app_id: "17".into(),
            hubspot_id: "90117".into(),
            memory: BTreeMap::new(),
        }),
        app: SideRead::Read {
            updated_at: Some("2026-11-22T14:20:00Z".into()),
        },
        hubspot: SideRead::Read {
            updated_at: Some("2026-11-22T13:00:00Z".into()),
        },
        fields: vec![
            field(
                "email",
                "email",
                Some("ana@internal.example"),
                Some("ana@internal.example"),
                Some("ana@internal.example"),
                Changed::Neither,
            ),
            field(
                "company",
                "company",
                Some("Internal"),
                Some("Internal"),
                Some("Internal"),
                Changed::Neither,
            ),
            title,
        ],
        attempts: vec![AttemptView {
            entry: {
                let mut e = failure(51, "ana@internal.example", 120, 1);
                e.status = AuditStatus::Skipped;
                e.action = AuditAction::Skip;
                e.category = None;
                e.message = Some("excluded by filter".into());
                e
            },
            diff: None,
        }],
        dry_run: DryRun {
            planned: vec![PlannedWrite {
                action: "skip".into(),
                summary: "would skip it: excluded by filter".into(),
                to_hubspot: BTreeMap::new(),
                to_app: BTreeMap::new(),
                reason: Some("excluded by filter".into()),
            }],
            error: None,
        },
        skipped_by: vec![SkipReason {
            direction: Direction::ToHubSpot,
            group: 1,
            field: "company".into(),
            filter: "company is_none_of [Test, Internal]".into(),
            value: Some("Internal".into()),
            explanation: r#"company = "Internal" is one of ["Test", "Internal"]"#.into(),
        }],
        skip_reason: None,
    }
}

fn found() -> RecordsFound {
    RecordsFound {
        query: "sam".into(),
        records: vec![
            RecordHit {
                object: ObjectKind::Contacts,
                app_id: Some("280".into()),
                hubspot_id: None,
                label: "sam.okafor@example.c0m".into(),
                linked: false,
                found_in: vec!["app".into()],
            },
            RecordHit {
                object: ObjectKind::Contacts,
                app_id: Some("281".into()),
                hubspot_id: Some("90281".into()),
                label: "sam.o@example.com".into(),
                linked: true,
                found_in: vec!["link".into(), "app".into()],
            },
        ],
        notes: vec![],
    }
}

/// The console in a theme, with `:records contacts sam` answered and,
/// with `story`, Enter pressed on the first record and its story answered.
fn console(theme: Theme, read_only: bool, story: Option<RecordView>) -> App {
    let mut a = App::with_theme(
        &ConsoleOptions {
            read_only,
            title: "hubsync demo".into(),
            ..Default::default()
        },
        theme,
    );
    a.set_snapshot(snapshot());
    a.run_command("records contacts sam");
    answer(
        &mut a,
        "records_search",
        serde_json::to_value(found()).unwrap(),
    );
    if let Some(s) = story {
        a.handle_key(press(KeyCode::Enter));
        answer(&mut a, "record_view", serde_json::to_value(s).unwrap());
    }
    a
}

/// Sends what the view in front wants, which must be `method`, and
/// hands it `result`; returns the request's params.
fn answer(a: &mut App, method: &str, result: Value) -> Value {
    match a.poll() {
        Some(Request::Call {
            view,
            method: m,
            params,
            tag,
        }) => {
            assert_eq!(m, method, "{params}");
            a.on_reply(view, tag, Ok(result));
            params
        }
        other => panic!("wanted {method}, the view asked {other:?}"),
    }
}

/// Both themes at one size: the default's screen, after checking NO_COLOR
/// draws the same text with no colour at all.
fn both_themes(story: Option<fn() -> RecordView>, w: u16, h: u16) -> String {
    let (screen, _) = render(
        &console(
            Theme::load("default", None).unwrap(),
            false,
            story.map(|f| f()),
        ),
        w,
        h,
    );
    let plain_app = console(
        Theme::load("default", Some("1")).unwrap(),
        false,
        story.map(|f| f()),
    );
    let (plain, buf) = render(&plain_app, w, h);
    assert_eq!(screen, plain, "NO_COLOR draws the same text");
    for cell in buf.content() {
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Reset, Color::Reset),
            "a coloured cell {:?} under NO_COLOR",
            cell.symbol()
        );
    }
    screen
}

#[test]
fn records_search_at_80x24() {
    insta::assert_snapshot!(both_themes(None, 80, 24));
}

#[test]
fn records_search_at_200x50() {
    insta::assert_snapshot!(both_themes(None, 200, 50));
}

#[test]
fn a_failed_records_story_at_80x24() {
    insta::assert_snapshot!(both_themes(Some(failed_story), 80, 24));
}

#[test]
fn a_failed_records_story_at_200x50() {
    insta::assert_snapshot!(both_themes(Some(failed_story), 200, 50));
}

#[test]
fn a_skipped_records_story_with_a_conflict_at_80x24() {
    let screen = both_themes(Some(skipped_story), 80, 24);
    assert!(
        screen.contains(r#"company = "Internal" is one of ["Test", "Internal"]"#),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_skipped_records_story_with_a_conflict_at_200x50() {
    insta::assert_snapshot!(both_themes(Some(skipped_story), 200, 50));
}

#[test]
fn typing_after_slash_searches_in_the_engine_with_what_was_typed() {
    let mut a = app(false);
    a.run_command("records contacts");
    assert!(a.poll().is_none(), "nothing to search for yet");
    a.handle_key(key('/'));
    typed(&mut a, "ada@");
    let params = answer(
        &mut a,
        "records_search",
        json!({ "query": "ada@", "records": [] }),
    );
    assert_eq!(params["query"], "ada@");
    assert_eq!(params["object"], "contacts");
}

#[test]
fn an_answer_to_an_earlier_keystroke_does_not_replace_the_latest() {
    let mut a = app(false);
    a.run_command("records contacts");
    a.handle_key(key('/'));
    typed(&mut a, "sa");
    let Some(Request::Call { view, tag, .. }) = a.poll() else {
        panic!("no search")
    };
    typed(&mut a, "m");
    answer(
        &mut a,
        "records_search",
        serde_json::to_value(found()).unwrap(),
    );
    // "sa"'s answer comes last: it is not the list for "sam".
    a.on_reply(view, tag, Ok(json!({ "query": "sa", "records": [] })));
    let (screen, _) = render(&a, 80, 24);
    assert!(screen.contains("sam.okafor@example.c0m"), "{screen}");
}

#[test]
fn enter_on_a_found_record_opens_its_story_from_both_ids() {
    let mut a = console(Theme::load("default", None).unwrap(), false, None);
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    let params = answer(
        &mut a,
        "record_view",
        serde_json::to_value(failed_story()).unwrap(),
    );
    assert_eq!(params["app_id"], "281");
    assert_eq!(params["hubspot_id"], "90281");
}

#[test]
fn enter_twice_on_a_failed_entry_opens_the_records_story() {
    let mut a = app(false);
    a.handle_key(press(KeyCode::Enter));
    assert!(a.overview.detail, "first the entry's detail");
    a.handle_key(press(KeyCode::Enter));
    let params = answer(
        &mut a,
        "record_view",
        serde_json::to_value(failed_story()).unwrap(),
    );
    assert_eq!(params["app_id"], "287", "the selected entry's record");
}

#[test]
fn an_edit_is_typed_then_confirmed_then_written_then_the_story_reloads() {
    let mut a = console(
        Theme::load("default", None).unwrap(),
        false,
        Some(failed_story()),
    );
    assert_eq!(a.handle_key(key('e')), None);
    let prompt = a.prompt.as_ref().expect("a prompt for the new value");
    assert_eq!(
        prompt.text(),
        "sam.okafor@example.c0m",
        "starts from the value"
    );
    for _ in 0..3 {
        a.handle_key(press(KeyCode::Backspace));
    }
    typed(&mut a, "com");
    assert_eq!(a.handle_key(press(KeyCode::Enter)), None, "asks first");
    let (screen, _) = render(&a, 80, 24);
    assert!(screen.contains("set email to"), "{screen}");
    match a.handle_key(key('y')) {
        Some(Request::Call { method, params, .. }) => {
            assert_eq!(method, "set_app_field");
            assert_eq!(
                params,
                json!({ "object": "contacts", "app_id": "280", "field": "email", "value": "sam.okafor@example.com" })
            );
        }
        other => panic!("y sent {other:?}"),
    }
}

#[test]
fn escape_drops_a_typed_edit_and_nothing_is_sent() {
    let mut a = console(
        Theme::load("default", None).unwrap(),
        false,
        Some(failed_story()),
    );
    a.handle_key(key('e'));
    typed(&mut a, "x");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(press(KeyCode::Esc));
    assert_eq!(a.handle_key(key('y')), None);
    assert!(
        a.breadcrumbs().ends_with("sam.okafor@example.c0m"),
        "still on the story: {}",
        a.breadcrumbs()
    );
}

#[test]
fn a_read_only_console_says_why_it_cannot_edit_or_retry() {
    let mut a = console(
        Theme::load("default", None).unwrap(),
        true,
        Some(failed_story()),
    );
    assert_eq!(a.handle_key(key('e')), None);
    assert!(a.prompt.is_none());
    let said = a.ctx.notice().unwrap_or_default().to_string();
    assert!(said.contains("read-only"), "{said}");
    assert_eq!(a.handle_key(key('r')), None);
}

#[test]
fn retry_asks_for_the_latest_attempt_and_the_story_reloads_when_its_job_ends() {
    let mut a = console(
        Theme::load("default", None).unwrap(),
        false,
        Some(failed_story()),
    );
    let Some(Request::Call {
        view,
        method,
        params,
        tag,
    }) = a.handle_key(key('r'))
    else {
        panic!("r sent nothing");
    };
    assert_eq!((method, params), ("retry", json!({ "audit_id": 40 })));
    a.on_reply(
        view,
        tag,
        Ok(json!({ "notice": "retry queued (job 9)", "jobs": [9] })),
    );
    assert!(a.poll().is_none(), "not before the job is done");
    let mut s = snapshot();
    let mut done = job(
        9,
        hubsync::status::JobKind::RetryRecord,
        hubsync::status::JobState::Succeeded,
        (1, 1, 1, 0),
        0,
    );
    done.finished_at = Some(t0() + Duration::seconds(2));
    s.recent.insert(0, done);
    a.set_snapshot(s);
    answer(
        &mut a,
        "record_view",
        serde_json::to_value(failed_story()).unwrap(),
    );
}
