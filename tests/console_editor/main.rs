//! The config editor (issue 10): `:mappings`, `:filters`, `:settings` and
//! `:toml` over the demo's own commented config. Keys → requests → state,
//! the checks as typed, the save's question and its refusals, and each tab
//! at 80×24 and 200×50 in the default theme and NO_COLOR (snapshots read by
//! eye).

#[path = "../console/fixture.rs"]
mod fixture;
mod screens;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, Request};
use serde_json::{Value, json};

const DEMO: &str = include_str!("../../fixtures/demo.toml");

pub(crate) fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub(crate) fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn prop(name: &str, label: &str, kind: &str) -> Value {
    json!({"name": name, "label": label, "type": kind, "read_only": false, "unique": false, "options": []})
}

/// What `config_source` answers for the demo: the file, the table's real
/// columns and HubSpot's property list.
pub(crate) fn source(text: &str, hash: &str) -> Value {
    let columns: Vec<Value> = [
        ("id", "INTEGER"),
        ("email", "TEXT"),
        ("first_name", "TEXT"),
        ("last_name", "TEXT"),
        ("phone", "TEXT"),
        ("company", "TEXT"),
        ("job_title", "TEXT"),
        ("city", "TEXT"),
        ("updated_at", "TEXT"),
        ("hubspot_id", "TEXT"),
    ]
    .iter()
    .map(|(n, t)| json!({"name": n, "type": t}))
    .collect();
    let mut props = vec![
        prop("email", "Email", "string"),
        prop("firstname", "First Name", "string"),
        prop("lastname", "Last Name", "string"),
        prop("phone", "Phone Number", "string"),
        prop("company", "Company Name", "string"),
        prop("jobtitle", "Job Title", "string"),
        prop("city", "City", "string"),
    ];
    let mut id = prop("hs_object_id", "Record ID", "number");
    id["read_only"] = json!(true);
    props.push(id);
    json!({
        "path": "/srv/hubsync/hubsync.toml", "text": text, "hash": hash, "section": null,
        "objects": [{"object": "contacts", "table": "contacts", "columns": columns,
                     "properties": {"fetched_at": "2026-12-01T14:29:00Z", "list": props}}]
    })
}

pub(crate) fn typed(a: &mut App, s: &str) {
    for c in s.chars() {
        a.handle_key(key(c));
    }
}

/// `:<command>` and the engine's answer to what it asks first.
pub(crate) fn opened(mut a: App, command: &str) -> App {
    typed(&mut a, &format!(":{command}"));
    match a.handle_key(press(KeyCode::Enter)) {
        Some(Request::Call {
            view, method, tag, ..
        }) => {
            assert_eq!(method, "config_source");
            a.on_reply(view, tag, Ok(source(DEMO, "h1")));
        }
        other => panic!(":{command} asks the engine for the config, not {other:?}"),
    }
    a
}

fn working_copy(a: &App) -> String {
    a.ctx.edit.as_ref().expect("a session").text()
}

fn screen(a: &App) -> String {
    render(a, 80, 24).0
}

/// The job_title field's form, with its HubSpot property row selected.
pub(crate) fn job_title_form(a: App) -> App {
    let mut a = opened(a, "mappings contacts");
    a.handle_key(key('G'));
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(key('j'));
    a
}

#[test]
fn mappings_lists_the_fields_in_file_order_with_their_direction() {
    let a = opened(app(false), "mappings contacts");
    let s = screen(&a);
    assert!(s.contains("field mappings of contacts (6)"), "{s}");
    assert!(s.contains("6 job_title          ↔ jobtitle"), "{s}");
    assert!(
        s.contains("1 email              ↔ email              lowercase_trim"),
        "{s}"
    );
}

#[test]
fn a_property_picked_by_fuzzy_search_changes_the_working_copy_not_the_file() {
    let mut a = job_title_form(app(false));
    assert!(a.handle_key(press(KeyCode::Enter)).is_none());
    typed(&mut a, "cty");
    assert!(screen(&a).contains("›city"), "{}", screen(&a));
    assert!(
        a.handle_key(press(KeyCode::Enter)).is_none(),
        "nothing is sent"
    );
    let text = working_copy(&a);
    assert!(
        text.contains("app = \"job_title\"\nhubspot = \"city\""),
        "{text}"
    );
    assert!(
        text.contains("# Each field: app column ↔ HubSpot property."),
        "comments kept"
    );
    assert!(screen(&a).contains("1 unsaved edit(s)"), "{}", screen(&a));
}

#[test]
fn an_unknown_property_is_named_beside_the_field_as_it_is_typed() {
    let mut a = job_title_form(app(false));
    a.handle_key(key('e'));
    for _ in 0.."jobtitle".len() {
        a.handle_key(press(KeyCode::Backspace));
    }
    typed(&mut a, "jobtitel");
    let s = render(&a, 200, 50).0;
    // Not kept yet (Enter keeps it): the check ran on the text as typed.
    assert!(
        s.contains("✗ HubSpot has no contacts property jobtitel; the nearest are jobtitle"),
        "{s}"
    );
    assert!(working_copy(&a).contains("hubspot = \"jobtitle\""));
}

#[test]
fn a_read_only_property_is_marked_in_the_picker() {
    let mut a = job_title_form(app(false));
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "record");
    let s = screen(&a);
    assert!(s.contains("hs_object_id"), "{s}");
    assert!(s.contains("read-only in HubSpot"), "{s}");
}

/// `:filters`, `A`, and a `company is_none_of [values]` filter typed in.
pub(crate) fn internal_filter(a: App, values: &str) -> App {
    let mut a = opened(a, "filters contacts");
    a.handle_key(key('A'));
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "comp");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "none");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, values);
    a.handle_key(press(KeyCode::Enter));
    a
}

#[test]
fn a_filter_group_is_added_with_its_list_written_as_a_list() {
    let a = internal_filter(app(false), "Internal, Test");
    let text = working_copy(&a);
    assert!(
        text.contains(
            "direction = \"to_hubspot\"\nfilters = [\n  { field = \"company\", op = \"is_none_of\", value = [\"Internal\", \"Test\"] },\n]"
        ),
        "{text}"
    );
}

#[test]
fn the_operator_picker_offers_the_fourteen_and_nothing_else() {
    let mut a = opened(app(false), "filters contacts");
    a.handle_key(key('A'));
    a.handle_key(key('j'));
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    assert!(screen(&a).contains("operator · 14 of 14"), "{}", screen(&a));
    typed(&mut a, "sounds_like");
    a.handle_key(press(KeyCode::Enter));
    let s = screen(&a);
    assert!(s.contains("operator         equals"), "unchanged: {s}");
}

#[test]
fn an_empty_value_for_equals_is_refused_beside_the_value() {
    let mut a = opened(app(false), "filters contacts");
    a.handle_key(key('A'));
    a.handle_key(key('j'));
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "comp");
    a.handle_key(press(KeyCode::Enter));
    let s = render(&a, 200, 50).0;
    let value = find(&s, "value  ").expect("the value row");
    let error = find(&s, "✗ filter on company: equals has an empty value").expect(&s);
    assert_eq!(value.1, error.1, "beside the value row at 200 columns: {s}");
    assert!(!working_copy(&a).contains("\n[[objects.contacts.filter_groups]]"));
}

#[test]
fn ctrl_s_previews_asks_and_y_saves_on_the_loaded_hash() {
    let mut a = internal_filter(app(false), "Internal");
    a.handle_key(press(KeyCode::Esc));
    let text = working_copy(&a);
    match a.handle_key(ctrl('s')) {
        Some(Request::Call {
            view,
            method,
            params,
            tag,
        }) => {
            assert_eq!((method, &params["toml"]), ("config_preview", &json!(text)));
            a.on_reply(view, tag, Ok(json!({"ok": true, "problems": [], "preview": {"objects": [{
                "object": "contacts",
                "to_hubspot": {"total": 1181, "before": 1181, "after": 1173, "newly_excluded": 8, "newly_eligible": 0},
                "linked": {"to_hubspot_records": 0, "to_app_records": 0}}]}, "took_ms": 12})));
        }
        other => panic!("ctrl-s previews first, not {other:?}"),
    }
    let s = render(&a, 200, 50).0;
    assert!(
        s.contains("save /srv/hubsync/hubsync.toml and apply? y / Esc"),
        "{s}"
    );
    assert!(s.contains("8 newly excluded"), "{s}");
    match a.handle_key(key('y')) {
        Some(Request::Call {
            view,
            method,
            params,
            tag,
        }) => {
            assert_eq!(
                (method, params),
                ("config_apply", json!({"toml": text, "base": "h1"}))
            );
            a.on_reply(
                view,
                tag,
                Ok(json!({"notice": "config reloaded", "hash": "h2", "skipped": 8})),
            );
        }
        other => panic!("y saves, not {other:?}"),
    }
    let s = render(&a, 200, 50).0;
    assert!(s.contains("· saved"), "{s}");
    assert!(
        s.contains("8 linked record(s) the change excludes got a SKIPPED entry"),
        "{s}"
    );
}

#[test]
fn esc_at_the_question_saves_nothing() {
    let mut a = internal_filter(app(false), "Internal");
    a.handle_key(press(KeyCode::Esc));
    if let Some(Request::Call { view, tag, .. }) = a.handle_key(ctrl('s')) {
        a.on_reply(
            view,
            tag,
            Ok(json!({"ok": true, "problems": [], "preview": {"objects": []}})),
        );
    }
    a.handle_key(press(KeyCode::Esc));
    assert!(a.handle_key(key('y')).is_none(), "the question is gone");
    assert!(screen(&a).contains("1 unsaved edit(s)"));
}

#[test]
fn a_read_only_console_edits_and_previews_but_cannot_save() {
    let mut a = internal_filter(app(true), "Internal");
    a.handle_key(press(KeyCode::Esc));
    assert!(matches!(
        a.handle_key(key('p')),
        Some(Request::Call {
            method: "config_preview",
            ..
        })
    ));
    assert!(a.handle_key(ctrl('s')).is_none());
    assert!(screen(&a).contains("read-only"), "{}", screen(&a));
}

#[test]
fn saving_is_refused_while_a_problem_is_marked() {
    let mut a = job_title_form(app(false));
    a.handle_key(key('e'));
    typed(&mut a, "x");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(press(KeyCode::Esc));
    assert!(a.handle_key(ctrl('s')).is_none());
    assert!(
        screen(&a).contains("fix the 1 problem(s) marked ✗ first"),
        "{}",
        screen(&a)
    );
}

#[test]
fn a_file_changed_on_disk_is_loaded_again_with_the_edits_made_on_it() {
    let mut a = internal_filter(app(false), "Internal");
    a.handle_key(press(KeyCode::Esc));
    if let Some(Request::Call { view, tag, .. }) = a.handle_key(ctrl('s')) {
        a.on_reply(
            view,
            tag,
            Ok(json!({"ok": true, "problems": [], "preview": {"objects": []}})),
        );
    }
    if let Some(Request::Call { view, tag, .. }) = a.handle_key(key('y')) {
        a.on_reply(
            view,
            tag,
            Err("hubsync.toml changed on disk since this console loaded it; nothing was written. The difference:\n-batch_size = 100\n+batch_size = 50".into()),
        );
    }
    let s = screen(&a);
    assert!(s.contains("+batch_size = 50"), "{s}");
    assert!(s.contains("F5 loads the file again"), "{s}");
    let theirs = DEMO.replace("batch_size = 100", "batch_size = 50");
    match a.handle_key(press(KeyCode::F(5))) {
        Some(Request::Call {
            view,
            method,
            params,
            tag,
        }) => {
            assert_eq!(
                (method, params),
                ("config_source", json!({"refresh": true}))
            );
            a.on_reply(view, tag, Ok(source(&theirs, "h2")));
        }
        other => panic!("F5 loads the file again, not {other:?}"),
    }
    let text = working_copy(&a);
    assert!(text.contains("batch_size = 50"), "their change: {text}");
    assert!(text.contains("value = [\"Internal\"]"), "ours: {text}");
    assert_eq!(a.ctx.edit.as_ref().unwrap().base, "h2");
}

#[test]
fn ctrl_z_undoes_the_last_edit() {
    let mut a = opened(app(false), "mappings contacts");
    a.handle_key(key('G'));
    a.handle_key(key('x'));
    assert!(!working_copy(&a).contains("app = \"job_title\""));
    a.handle_key(ctrl('z'));
    assert_eq!(working_copy(&a), DEMO);
}

#[test]
fn the_key_field_cannot_be_removed_and_the_console_says_why() {
    let mut a = opened(app(false), "mappings contacts");
    a.handle_key(key('x'));
    assert!(working_copy(&a).contains("app = \"email\""));
    assert!(
        screen(&a).contains("cannot remove email ↔ email"),
        "{}",
        screen(&a)
    );
}

#[test]
fn j_and_k_with_shift_move_a_field_keeping_its_comments() {
    let mut a = opened(app(false), "mappings contacts");
    a.handle_key(key('J'));
    let text = working_copy(&a);
    let first = text.find("app = \"first_name\"").unwrap();
    let email = text.find("app = \"email\"").unwrap();
    assert!(first < email, "{text}");
    assert!(screen(&a).contains("› 2 email"), "{}", screen(&a));
}

#[test]
fn a_toml_syntax_error_is_shown_at_the_sections_line_and_column_as_typed() {
    let mut a = opened(app(false), "toml contacts");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(press(KeyCode::Down));
    a.handle_key(press(KeyCode::End));
    typed(&mut a, " =");
    let s = screen(&a);
    assert!(
        s.contains("✗ line 2, column 20: unexpected key or value"),
        "at the section's line, not the file's: {s}"
    );
    assert!(a.handle_key(ctrl('s')).is_none());
    assert_eq!(working_copy(&a), DEMO, "not kept");
    a.handle_key(press(KeyCode::Backspace));
    a.handle_key(press(KeyCode::Backspace));
    assert!(screen(&a).contains("✓ loads and passes the checks"));
}

#[test]
fn a_setting_out_of_range_is_refused_beside_it() {
    let mut a = opened(app(false), "settings contacts");
    a.handle_key(key('G'));
    for _ in 0..4 {
        a.handle_key(key('j'));
    }
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "0");
    a.handle_key(press(KeyCode::Enter));
    let s = screen(&a);
    assert!(s.contains("batch size       1000"), "{s}");
    assert!(
        s.contains("✗ batch_size 1000: HubSpot takes 1 to 100"),
        "{s}"
    );
    assert!(working_copy(&a).contains("batch_size = 100\n"));
}

#[test]
fn tab_moves_between_the_editors_and_esc_goes_back_a_view() {
    let mut a = opened(app(false), "mappings contacts");
    a.handle_key(press(KeyCode::Tab));
    assert!(screen(&a).contains("filters of contacts"));
    a.handle_key(press(KeyCode::BackTab));
    a.handle_key(press(KeyCode::BackTab));
    assert!(screen(&a).contains("[objects.contacts] as the file has it"));
    a.handle_key(press(KeyCode::Esc));
    assert!(!a.should_quit());
    assert!(screen(&a).contains("Connections"), "{}", screen(&a));
}

#[test]
fn quitting_with_unsaved_edits_asks_first() {
    let mut a = opened(app(false), "mappings contacts");
    a.handle_key(key('G'));
    a.handle_key(key('x'));
    a.handle_key(key('q'));
    assert!(!a.should_quit());
    assert!(
        screen(&a).contains("are not saved and would"),
        "{}",
        screen(&a)
    );
}
