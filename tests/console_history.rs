//! `:history` (issue 10): keys → requests → state, and the view at 80×24
//! and 200×50 in the default theme and NO_COLOR (snapshots read by eye).

#[path = "console/fixture.rs"]
mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, Request};
use serde_json::json;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn versions() -> serde_json::Value {
    json!({"versions": [
        {"id": 2, "at": "2026-12-01T09:30:00Z", "operator": "alice", "path": "/etc/hubsync.toml", "hash": "b",
         "diff": "--- before\n+++ after\n@@ -30,2 +30,6 @@\n batch_size = 100\n+\n+[[objects.contacts.filter_groups]]\n+direction = \"to_hubspot\"\n+filters = [ { field = \"company\", op = \"is_none_of\", value = [\"Internal\"] } ]\n"},
        {"id": 1, "at": "2026-12-01T09:29:58Z", "operator": null, "path": "/etc/hubsync.toml", "hash": "a", "diff": ""}
    ]})
}

/// `:history`, the engine's answers to what it asks, then `keys`.
fn opened(mut a: App, enter: bool) -> App {
    let mut asked = None;
    for c in ":history".chars() {
        a.handle_key(key(c));
    }
    if let Some(Request::Call {
        view, method, tag, ..
    }) = a.handle_key(press(KeyCode::Enter))
    {
        assert_eq!(method, "config_history");
        asked = Some((view, tag));
    }
    let (view, tag) = asked.expect(":history asks the engine for the list");
    a.on_reply(view, tag, Ok(versions()));
    if enter {
        match a.handle_key(press(KeyCode::Enter)) {
            Some(Request::Call {
                view,
                method,
                params,
                tag,
            }) => {
                assert_eq!((method, params), ("config_get", json!({"id": 2})));
                let mut shown = versions()["versions"][0].clone();
                shown["text"] = json!(TEXT);
                a.on_reply(view, tag, Ok(shown));
            }
            _ => panic!("Enter asks for the selected version"),
        }
    }
    a
}

const TEXT: &str = "[hubspot]\ntoken_env = \"T\"\n";

fn preview_answer() -> serde_json::Value {
    json!({"ok": true, "problems": [], "preview": {"objects": [{
        "object": "contacts",
        "to_hubspot": {"total": 1180, "before": 1180, "after": 1172, "newly_excluded": 8, "newly_eligible": 0},
        "to_app": {"before": 1171, "after": 1171, "estimate": false, "note": ""},
        "linked": {"source": "link memory", "checked": 1171, "to_hubspot_records": 0, "to_hubspot_fields": {},
                   "to_app_records": 0, "to_app_fields": {}}
    }]}})
}

/// `opened` with a version shown, then `p` and the engine's answer.
fn previewed(mut a: App) -> App {
    match a.handle_key(key('p')) {
        Some(Request::Call {
            view,
            method,
            params,
            tag,
        }) => {
            assert_eq!((method, params), ("config_preview", json!({"toml": TEXT})));
            a.on_reply(view, tag, Ok(preview_answer()));
        }
        _ => panic!("p asks the engine for a preview"),
    }
    a
}

fn both_themes(enter: bool, w: u16, h: u16) -> String {
    both_themes_with(enter, false, w, h)
}

fn both_themes_with(enter: bool, preview: bool, w: u16, h: u16) -> String {
    in_both_themes(
        |a| {
            let a = opened(a, enter);
            if preview { previewed(a) } else { a }
        },
        w,
        h,
    )
}

#[test]
fn history_lists_each_applied_config_with_who_and_how_much_changed() {
    let screen = both_themes(false, 80, 24);
    assert!(
        screen.contains("#2    2026-12-01 09:30  alice        +4 -0"),
        "{screen}"
    );
    assert!(screen.contains("(as loaded)"), "{screen}");
}

#[test]
fn enter_shows_the_selected_change_and_esc_closes_it() {
    let mut a = opened(app(false), true);
    let (screen, _) = render(&a, 80, 24);
    assert!(
        screen.contains("+[[objects.contacts.filter_groups]]"),
        "{screen}"
    );
    a.handle_key(press(KeyCode::Esc));
    let (screen, _) = render(&a, 80, 24);
    assert!(
        !screen.contains("+[[objects.contacts.filter_groups]]"),
        "{screen}"
    );
    assert!(screen.contains("config history (2)"), "{screen}");
}

#[test]
fn history_at_80x24() {
    insta::assert_snapshot!(both_themes(false, 80, 24));
}

#[test]
fn history_at_200x50() {
    insta::assert_snapshot!(both_themes(false, 200, 50));
}

#[test]
fn history_with_a_change_open_at_80x24() {
    insta::assert_snapshot!(both_themes(true, 80, 24));
}

#[test]
fn history_with_a_change_open_at_200x50() {
    insta::assert_snapshot!(both_themes(true, 200, 50));
}

#[test]
fn p_previews_going_back_and_shows_the_counts() {
    let a = previewed(opened(app(false), true));
    let (screen, _) = render(&a, 200, 50);
    assert!(
        screen.contains("1172 of 1180 app rows eligible (now 1180); 8 newly excluded"),
        "{screen}"
    );
}

#[test]
fn u_goes_back_through_config_apply_on_the_newest_versions_hash() {
    let mut a = opened(app(false), true);
    match a.handle_key(key('u')) {
        Some(Request::Call { method, params, .. }) => {
            assert_eq!(
                (method, params),
                ("config_apply", json!({"toml": TEXT, "base": "b"}))
            );
        }
        _ => panic!("u asks the engine to apply the shown version"),
    }
}

#[test]
fn a_read_only_console_may_preview_but_not_go_back() {
    let mut a = opened(app(true), true);
    assert!(a.handle_key(key('u')).is_none(), "u is refused read-only");
    let _ = previewed(a);
}

#[test]
fn history_with_a_preview_at_80x24() {
    insta::assert_snapshot!(both_themes_with(true, true, 80, 24));
}

#[test]
fn history_with_a_preview_at_200x50() {
    insta::assert_snapshot!(both_themes_with(true, true, 200, 50));
}
