//! The console drawn from a fixed engine snapshot on ratatui's TestBackend,
//! at the sizes operators use: 80×24 over SSH and 160×48 on a big screen.

#[path = "console/fixture.rs"]
mod fixture;

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use hubsync::console::{App, ConsoleOptions, Theme};
use hubsync::model::Direction;
use hubsync::status::*;
use ratatui::style::Color;

#[test]
fn dashboard_at_80x24() {
    insta::assert_snapshot!(render(&app(false), 80, 24).0);
}

#[test]
fn dashboard_at_160x48() {
    insta::assert_snapshot!(render(&app(false), 160, 48).0);
}

#[test]
fn help_at_80x24() {
    let mut a = app(false);
    a.handle_key(key('?'));
    insta::assert_snapshot!(render(&a, 80, 24).0);
}

#[test]
fn read_only_help_offers_no_retry() {
    let mut a = app(true);
    a.handle_key(key('?'));
    let (screen, _) = render(&a, 80, 24);
    assert!(screen.contains("quit"), "{screen}");
    assert!(!screen.contains("retry the selected"), "{screen}");
    assert!(screen.contains("[read-only]"), "{screen}");
}

#[test]
fn detail_of_the_selected_entry_at_80x24() {
    let mut a = app(false);
    a.handle_key(key('j'));
    a.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    insta::assert_snapshot!(render(&a, 80, 24).0);
}

#[test]
fn a_too_small_terminal_gets_a_message_not_a_panic() {
    let (screen, _) = render(&app(false), 40, 10);
    assert!(screen.contains("too small"), "{screen}");
}

#[test]
fn escape_sequences_in_record_text_are_shown_escaped() {
    let mut a = app(false);
    a.handle_key(key('G'));
    let (screen, buf) = render(&a, 160, 48);
    assert!(screen.contains("eve\\e[31m@example"), "{screen}");
    assert!(!buf.content().iter().any(|c| c.symbol().contains('\u{1b}')));
}

#[test]
fn no_color_drops_every_colour() {
    let theme = Theme::load("default", Some("1")).unwrap();
    let mut a = App::with_theme(
        &ConsoleOptions {
            read_only: false,
            theme: None,
            title: "t".into(),
            ..Default::default()
        },
        theme,
    );
    a.set_snapshot(snapshot());
    let (_, buf) = render(&a, 80, 24);
    for cell in buf.content() {
        assert_eq!(
            (cell.fg, cell.bg),
            (Color::Reset, Color::Reset),
            "cell {:?}",
            cell.symbol()
        );
    }
}

#[test]
fn every_theme_renders_the_dashboard() {
    for name in ["default", "light", "high-contrast"] {
        let mut a = App::with_theme(&ConsoleOptions::default(), Theme::load(name, None).unwrap());
        a.set_snapshot(snapshot());
        let (screen, _) = render(&a, 80, 24);
        assert!(screen.contains("FAILED (6 open)"), "{name}: {screen}");
    }
}

#[test]
fn a_snapshot_the_engine_stopped_refreshing_is_flagged_stale() {
    let mut a = app(false);
    a.ctx.now = Some(t0() + Duration::seconds(3));
    assert!(!render(&a, 80, 24).0.contains("stale"));
    a.ctx.now = Some(t0() + Duration::seconds(42));
    let (screen, _) = render(&a, 160, 48);
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("⚠ stale: no news from the engine for 42s"),
        "{screen}"
    );
    // At 80 columns the title shrinks, but the warning stays.
    let (screen, _) = render(&a, 80, 24);
    assert!(
        screen.lines().next().unwrap().contains("⚠ stale 42s"),
        "{screen}"
    );
}

#[test]
fn a_hubspot_record_with_no_app_row_shows_no_app_id_but_its_hubspot_id() {
    let mut snap = snapshot();
    let mut entry = failure(99, "HubSpot contacts 501", 1, 1);
    entry.app_id = "hs:501".into();
    entry.hubspot_id = Some("501".into());
    entry.direction = Direction::ToApp;
    snap.failed.insert(0, entry);
    let mut a = app(false);
    a.set_snapshot(snap);
    let (screen, _) = render(&a, 160, 48);
    let row = screen
        .lines()
        .find(|l| l.contains("HubSpot contacts 501"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains(" – ") && row.contains("501"), "{row}");
    assert!(!row.contains("hs:"), "{row}");
}

#[test]
fn a_spent_budget_and_a_down_database_read_plainly_at_80_columns() {
    let mut snap = snapshot();
    snap.connections[0].state = ConnState::RateLimited;
    snap.connections[0].budget = Some(RateBudget {
        remaining: 0,
        max: 100,
        interval_ms: 10_000,
        daily_remaining: None,
        daily_max: None,
    });
    snap.connections[1].state = ConnState::Down;
    snap.connections[1].last_error = Some(
        "opening app database /var/lib/hubsync/demo/app.db: unable to open database file".into(),
    );
    let mut a = app(false);
    a.set_snapshot(snap);
    let (screen, _) = render(&a, 80, 24);
    assert!(
        screen.contains("rate-limited HubSpot"),
        "word and name apart:\n{screen}"
    );
    assert!(
        screen.contains("0/100 left per 10s"),
        "says left, not used:\n{screen}"
    );
    let words: String = screen
        .split(|c: char| c.is_whitespace() || c == '│')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("unable to open database file"),
        "the reason, whole:\n{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_connected_engine_with_no_budget_left_is_not_shown_as_connected() {
    let mut snap = snapshot();
    snap.connections[0].budget.as_mut().unwrap().remaining = 0;
    let mut a = app(false);
    a.set_snapshot(snap);
    let (screen, _) = render(&a, 80, 24);
    assert!(screen.contains("no budget"), "{screen}");
    assert!(!screen.contains("connected    HubSpot"), "{screen}");
}

#[test]
fn moving_down_the_failed_list_keeps_the_entries_above_in_view_and_says_where_it_is() {
    let mut a = app(false);
    render(&a, 80, 24);
    a.handle_key(key('j'));
    a.handle_key(key('j'));
    let (screen, _) = render(&a, 80, 24);
    assert!(
        screen.contains("ken.tanaka"),
        "the newest is still shown:\n{screen}"
    );
    assert!(screen.contains("3 of 6"), "{screen}");
}

#[test]
fn failed_entries_from_another_day_carry_their_date() {
    let mut snap = snapshot();
    snap.failed[0].at = t0() - Duration::days(2);
    let mut a = app(false);
    a.set_snapshot(snap);
    let (screen, _) = render(&a, 80, 24);
    let day = (t0() - Duration::days(2)).format("%m-%d").to_string();
    assert!(screen.contains(&day), "{screen}");
}

#[test]
fn a_job_that_finished_with_failures_is_not_drawn_as_all_good() {
    let mut snap = snapshot();
    snap.recent[0].failed = 3;
    let mut a = App::with_theme(
        &ConsoleOptions::default(),
        Theme::load("default", None).unwrap(),
    );
    a.set_snapshot(snap);
    let (screen, buf) = render(&a, 80, 24);
    let (x, y) = find(&screen, "✓ succeeded").expect("the finished job is listed");
    let ok = Theme::load("default", None).unwrap().ok().fg;
    assert_ne!(
        buf[(x as u16, y as u16)].fg,
        ok.unwrap_or_default(),
        "{screen}"
    );
}
