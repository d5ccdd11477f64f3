//! `:audit` (issue 9): the whole audit log, paged and filtered by the
//! engine. Keys → the requests sent → what is shown, and the view at
//! 80×24 and 200×50 in the default theme and NO_COLOR (read by eye).

#[path = "console/fixture.rs"]
mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, Request};
use hubsync::status::{AuditAction, AuditStatus, AuditView};
use serde_json::{Value, json};

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn entries() -> Vec<AuditView> {
    let mut ok = failure(44, "maria.garcia@example.com", 2, 1);
    ok.status = AuditStatus::Success;
    ok.action = AuditAction::Update;
    ok.message = None;
    ok.category = None;
    ok.hubspot_id = Some("1001".into());
    let mut skipped = failure(43, "it@internal.example", 3, 1);
    skipped.status = AuditStatus::Skipped;
    skipped.action = AuditAction::Skip;
    skipped.category = Some("CONFIG_CHANGE".into());
    skipped.message = Some(
        "excluded by filter: company is_none_of [Internal] (value \"Internal\"), since a config change by alice".into(),
    );
    vec![
        ok,
        skipped,
        failure(42, "ken.tanaka@example.com,", 5, 1),
        failure(41, "sam.okafor@example.c0m", 9, 2),
    ]
}

fn page(entries: Vec<AuditView>, more: bool) -> Value {
    json!({"entries": entries, "more": more})
}

/// The request a key sent, as (method, params, view, tag).
fn call(r: Option<Request>) -> (&'static str, Value, u64, &'static str) {
    match r {
        Some(Request::Call {
            view,
            method,
            params,
            tag,
        }) => (method, params, view, tag),
        other => panic!("expected a call to the engine, got {other:?}"),
    }
}

fn opened(mut a: App) -> App {
    for c in ":audit".chars() {
        a.handle_key(key(c));
    }
    let (method, params, view, tag) = call(a.handle_key(press(KeyCode::Enter)));
    assert_eq!(method, "audit_page");
    assert_eq!(
        params,
        json!({"filter": null, "object": null, "failed_only": false, "before": null, "limit": 100})
    );
    a.on_reply(view, tag, Ok(page(entries(), true)));
    a
}

#[test]
fn every_outcome_is_listed_newest_first_with_a_readable_message() {
    let a = opened(app(false));
    let s = render(&a, 200, 50).0;
    let ok = find(&s, "maria.garcia").unwrap();
    let skipped = find(&s, "it@internal").unwrap();
    assert!(ok.1 < skipped.1, "{s}");
    assert!(s.contains("SKIPPED"), "{s}");
    assert!(
        s.contains("excluded by filter: company is_none_of [Internal]"),
        "{s}"
    );
    assert!(
        s.contains("Email address ken.tanaka@example.com, is invalid"),
        "{s}"
    );
}

#[test]
fn slash_filters_in_the_engine_and_an_overtaken_answer_is_dropped() {
    let mut a = opened(app(false));
    a.handle_key(key('/'));
    let first = call(a.handle_key(key('k')));
    let second = call(a.handle_key(key('e')));
    assert_eq!(second.1["filter"], json!("ke"));
    assert_eq!(second.1["before"], json!(null), "from the newest again");
    // The answer to "k" arrives after "ke" was sent: not shown.
    a.on_reply(first.2, first.3, Ok(page(entries(), false)));
    a.on_reply(
        second.2,
        second.3,
        Ok(page(vec![entries().remove(2)], false)),
    );
    let s = render(&a, 200, 50).0;
    assert!(s.contains("ken.tanaka"), "{s}");
    assert!(!s.contains("maria.garcia"), "{s}");
    assert!(s.contains("matching \"ke\""), "{s}");
}

#[test]
fn older_pages_are_asked_before_the_last_id_and_newer_goes_back() {
    let mut a = opened(app(false));
    let (_, params, view, tag) = call(a.handle_key(key(']')));
    assert_eq!(params["before"], json!(41));
    a.on_reply(
        view,
        tag,
        Ok(page(vec![failure(12, "old@example.com", 600, 1)], false)),
    );
    assert!(render(&a, 80, 24).0.contains("page 2"));
    assert!(a.handle_key(key(']')).is_none(), "no older page");
    let (_, params, _, _) = call(a.handle_key(key('[')));
    assert_eq!(params["before"], json!(null));
}

#[test]
fn f_shows_only_open_failed_entries() {
    let mut a = opened(app(false));
    let (_, params, _, _) = call(a.handle_key(key('f')));
    assert_eq!(params["failed_only"], json!(true));
    let (_, params, _, _) = call(a.handle_key(key('f')));
    assert_eq!(params["failed_only"], json!(false));
}

#[test]
fn enter_opens_the_selected_records_story() {
    let mut a = opened(app(false));
    a.handle_key(key('j'));
    let sent = a.handle_key(press(KeyCode::Enter)).or_else(|| a.poll());
    let (method, params, _, _) = call(sent);
    assert_eq!(method, "record_view");
    assert_eq!(params["app_id"], json!("301"));
}

fn both_themes(w: u16, h: u16) -> String {
    in_both_themes(opened, w, h)
}

#[test]
fn audit_at_80x24() {
    insta::assert_snapshot!(both_themes(80, 24));
}

#[test]
fn audit_at_200x50() {
    insta::assert_snapshot!(both_themes(200, 50));
}
