//! The editor's tabs at 80×24 and 200×50, in the default theme and under
//! NO_COLOR (the same text, no colour), each read by eye when accepted.

use super::*;

fn both_themes(step: fn(App) -> App, w: u16, h: u16) -> String {
    in_both_themes(step, w, h)
}

fn mappings(a: App) -> App {
    opened(a, "mappings contacts")
}

fn mistyped(a: App) -> App {
    let mut a = job_title_form(a);
    a.handle_key(key('e'));
    a.handle_key(press(KeyCode::Backspace));
    a.handle_key(press(KeyCode::Backspace));
    typed(&mut a, "el");
    a
}

fn picking(a: App) -> App {
    let mut a = job_title_form(a);
    a.handle_key(press(KeyCode::Enter));
    typed(&mut a, "ti");
    a
}

fn filter_form(a: App) -> App {
    let mut a = internal_filter(a, "Internal");
    a.handle_key(key('j'));
    a
}

fn settings(a: App) -> App {
    opened(a, "settings contacts")
}

fn raw_error(a: App) -> App {
    let mut a = opened(a, "toml contacts");
    a.handle_key(press(KeyCode::Enter));
    a.handle_key(press(KeyCode::Down));
    a.handle_key(press(KeyCode::End));
    typed(&mut a, " =");
    a
}

fn asking(a: App) -> App {
    let mut a = filter_form(a);
    a.handle_key(press(KeyCode::Esc));
    if let Some(Request::Call { view, tag, .. }) = a.handle_key(ctrl('s')) {
        a.on_reply(view, tag, Ok(json!({"ok": true, "problems": [], "preview": {"objects": [{
            "object": "contacts",
            "to_hubspot": {"total": 1181, "before": 1181, "after": 1173, "newly_excluded": 8, "newly_eligible": 0},
            "to_app": {"before": 1171, "after": 1171, "estimate": false},
            "linked": {"to_hubspot_records": 0, "to_hubspot_fields": {}, "to_app_records": 0, "to_app_fields": {}}}]},
            "took_ms": 41})));
    }
    a
}

#[test]
fn mappings_at_80x24() {
    insta::assert_snapshot!(both_themes(mappings, 80, 24));
}

#[test]
fn mappings_at_200x50() {
    insta::assert_snapshot!(both_themes(mappings, 200, 50));
}

#[test]
fn a_field_form_with_an_error_at_80x24() {
    insta::assert_snapshot!(both_themes(mistyped, 80, 24));
}

#[test]
fn a_field_form_with_an_error_at_200x50() {
    insta::assert_snapshot!(both_themes(mistyped, 200, 50));
}

#[test]
fn the_property_picker_at_80x24() {
    insta::assert_snapshot!(both_themes(picking, 80, 24));
}

#[test]
fn the_property_picker_at_200x50() {
    insta::assert_snapshot!(both_themes(picking, 200, 50));
}

#[test]
fn filters_with_a_form_at_80x24() {
    insta::assert_snapshot!(both_themes(filter_form, 80, 24));
}

#[test]
fn filters_with_a_form_at_200x50() {
    insta::assert_snapshot!(both_themes(filter_form, 200, 50));
}

#[test]
fn settings_at_80x24() {
    insta::assert_snapshot!(both_themes(settings, 80, 24));
}

#[test]
fn settings_at_200x50() {
    insta::assert_snapshot!(both_themes(settings, 200, 50));
}

#[test]
fn toml_with_an_error_at_80x24() {
    insta::assert_snapshot!(both_themes(raw_error, 80, 24));
}

#[test]
fn toml_with_an_error_at_200x50() {
    insta::assert_snapshot!(both_themes(raw_error, 200, 50));
}

#[test]
fn the_save_question_at_80x24() {
    insta::assert_snapshot!(both_themes(asking, 80, 24));
}

#[test]
fn the_save_question_at_200x50() {
    insta::assert_snapshot!(both_themes(asking, 200, 50));
}
