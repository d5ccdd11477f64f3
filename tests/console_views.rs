//! Every view of the console at 80×24 (SSH) and 200×50 (a big screen), in
//! the default theme and with NO_COLOR: the text is snapshotted (and was
//! read by eye when accepted); NO_COLOR must draw the same text with no
//! colour at all.

#[path = "console/fixture.rs"]
mod fixture;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, ConsoleOptions, Theme};
use ratatui::style::Color;

/// The same console in NO_COLOR, after the same keys.
fn colourless(keys: &[KeyEvent]) -> App {
    let mut a = App::with_theme(
        &ConsoleOptions {
            title: "hubsync demo".into(),
            ..Default::default()
        },
        Theme::load("default", Some("1")).unwrap(),
    );
    a.set_snapshot(snapshot());
    a.ctx.say("retry of maria.garcia@example.com: SUCCESS");
    for k in keys {
        a.handle_key(*k);
    }
    a
}

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn keys(s: &str) -> Vec<KeyEvent> {
    s.chars().map(|c| press(KeyCode::Char(c))).collect()
}

/// Draws the console after `keys` at both sizes and in both themes;
/// returns the screens in the default theme.
fn both_themes(keys: &[KeyEvent], w: u16, h: u16) -> String {
    let mut a = app(false);
    for k in keys {
        a.handle_key(*k);
    }
    let (screen, _) = render(&a, w, h);
    let (plain, buf) = render(&colourless(keys), w, h);
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
fn overview_at_80x24() {
    insta::assert_snapshot!(both_themes(&[], 80, 24));
}

#[test]
fn overview_at_200x50() {
    insta::assert_snapshot!(both_themes(&[], 200, 50));
}

#[test]
fn overview_at_60x15_keeps_every_system_and_the_failed_list() {
    let screen = both_themes(&[], 60, 15);
    assert!(screen.contains("App DB"), "{screen}");
    assert!(screen.contains("contacts"), "{screen}");
    assert!(screen.contains("FAILED (6 open)"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn overview_with_the_jobs_pane_focused_at_80x24() {
    let mut k = vec![press(KeyCode::Tab)];
    k.extend(keys("j"));
    insta::assert_snapshot!(both_themes(&k, 80, 24));
}

#[test]
fn failed_list_zoomed_at_80x24() {
    insta::assert_snapshot!(both_themes(&keys("z"), 80, 24));
}

#[test]
fn jobs_view_at_80x24() {
    let mut k = keys(":jobs");
    k.push(press(KeyCode::Enter));
    insta::assert_snapshot!(both_themes(&k, 80, 24));
}

#[test]
fn jobs_view_at_200x50() {
    let mut k = keys(":jobs");
    k.push(press(KeyCode::Enter));
    insta::assert_snapshot!(both_themes(&k, 200, 50));
}

#[test]
fn command_line_with_completions_at_80x24() {
    let mut k = keys(":");
    k.push(press(KeyCode::Tab));
    insta::assert_snapshot!(both_themes(&k, 80, 24));
}

#[test]
fn filter_prompt_at_80x24() {
    insta::assert_snapshot!(both_themes(&keys("/ken"), 80, 24));
}

#[test]
fn help_at_200x50() {
    insta::assert_snapshot!(both_themes(&keys("?"), 200, 50));
}

#[test]
fn copy_menu_at_80x24() {
    insta::assert_snapshot!(both_themes(&keys("c"), 80, 24));
}
