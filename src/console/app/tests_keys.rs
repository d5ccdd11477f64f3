//! Keys → actions → state, per mode: the command line, the filter, focus,
//! going back, rebinding and read-only.

use super::*;
use crate::console::keymap::{KeyOverrides, Override, keys::Key};
use crate::console::views::overview::Pane;
use crate::status::AuditView;
use crossterm::event::{KeyCode, KeyModifiers};

fn entry(id: i64, label: &str) -> AuditView {
    AuditView {
        label: label.into(),
        ..super::tests::entry(id, &id.to_string())
    }
}

fn console(opts: ConsoleOptions) -> App {
    let mut a = App::new(&opts);
    a.set_snapshot(Snapshot {
        failed: vec![entry(3, "ada@example.com"), entry(2, "bob@example.com")],
        failed_total: 2,
        ..Default::default()
    });
    a
}

fn plain() -> App {
    console(ConsoleOptions::default())
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typed(a: &mut App, text: &str) -> Vec<Request> {
    text.chars()
        .filter_map(|c| a.handle_key(key(KeyCode::Char(c))))
        .collect()
}

#[test]
fn colon_opens_the_command_line_and_enter_runs_it() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char(':')));
    assert_eq!(a.mode(), Mode::Prompt);
    typed(&mut a, "jobs");
    a.handle_key(key(KeyCode::Enter));
    assert_eq!(a.mode(), Mode::Normal);
    assert_eq!(a.front().command(), "jobs");
    assert_eq!(a.breadcrumbs(), "overview › jobs");
}

#[test]
fn letters_typed_in_a_prompt_are_text_not_commands() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char(':')));
    // `q` quits in normal mode; here it is the start of `:quit`.
    typed(&mut a, "q");
    assert!(!a.should_quit());
    assert_eq!(a.prompt.as_ref().unwrap().text(), "q");
}

#[test]
fn tab_completes_a_command_name() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char(':')));
    typed(&mut a, "jo");
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.prompt.as_ref().unwrap().text(), "jobs ");
}

#[test]
fn tab_cycles_through_several_matches() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char(':')));
    a.handle_key(key(KeyCode::Tab));
    let first = a.prompt.as_ref().unwrap().text();
    a.handle_key(key(KeyCode::Tab));
    let second = a.prompt.as_ref().unwrap().text();
    assert_ne!(first, second);
    let (all, _) = a.prompt.as_ref().unwrap().completions();
    assert!(all.len() >= 4, "{all:?}");
}

#[test]
fn an_unknown_command_says_which_commands_exist() {
    let mut a = plain();
    a.run_command("jbos");
    let n = a.ctx.notice().unwrap();
    assert!(n.contains(":jbos") && n.contains(":jobs"), "{n}");
}

#[test]
fn up_in_the_command_line_brings_back_the_last_command() {
    let mut a = plain();
    a.run_command("jobs");
    a.handle_key(key(KeyCode::Char(':')));
    a.handle_key(key(KeyCode::Up));
    assert_eq!(a.prompt.as_ref().unwrap().text(), "jobs");
}

#[test]
fn escape_leaves_a_prompt_then_goes_back_a_view_and_never_quits() {
    let mut a = plain();
    a.run_command("jobs");
    a.handle_key(key(KeyCode::Char(':')));
    a.handle_key(key(KeyCode::Esc));
    assert_eq!(a.mode(), Mode::Normal);
    assert_eq!(
        a.front().command(),
        "jobs",
        "the prompt went, the view stayed"
    );
    a.handle_key(key(KeyCode::Esc));
    assert_eq!(a.front().command(), "overview");
    for _ in 0..3 {
        a.handle_key(key(KeyCode::Esc));
    }
    assert!(!a.should_quit());
    assert_eq!(a.front().command(), "overview");
}

#[test]
fn opening_a_view_twice_does_not_stack_it_twice() {
    let mut a = plain();
    a.run_command("jobs");
    a.run_command("jobs");
    assert_eq!(a.breadcrumbs(), "overview › jobs");
}

#[test]
fn slash_filters_the_failed_list_in_the_engine_as_typed() {
    let mut a = plain();
    assert_eq!(a.handle_key(key(KeyCode::Char('/'))), None);
    let sent = typed(&mut a, "ada");
    assert_eq!(sent.len(), 3, "one page request per keystroke");
    assert_eq!(
        sent.last(),
        Some(&Request::FailedPage {
            before_id: None,
            filter: Some("ada".into())
        })
    );
    a.handle_key(key(KeyCode::Enter));
    assert_eq!(
        a.front().filter_text(),
        Some("ada"),
        "Enter keeps the filter"
    );
}

#[test]
fn escape_in_the_filter_prompt_restores_the_list_as_it_was() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char('/')));
    typed(&mut a, "bob");
    let back = a.handle_key(key(KeyCode::Esc));
    assert_eq!(
        back,
        Some(Request::FailedPage {
            before_id: None,
            filter: None
        })
    );
    assert_eq!(a.front().filter_text(), None);
}

#[test]
fn escape_clears_a_kept_filter_before_anything_else() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char('/')));
    typed(&mut a, "bob");
    a.handle_key(key(KeyCode::Enter));
    let cleared = a.handle_key(key(KeyCode::Esc));
    assert!(matches!(
        cleared,
        Some(Request::FailedPage { filter: None, .. })
    ));
}

#[test]
fn tab_moves_the_focus_between_panes_and_keys_follow_it() {
    let mut a = plain();
    assert_eq!(a.overview.focus, Pane::Failed);
    a.handle_key(key(KeyCode::Tab));
    assert_eq!(a.overview.focus, Pane::Jobs);
    // `r` retries FAILED entries, which the jobs pane does not list.
    assert_eq!(a.handle_key(key(KeyCode::Char('r'))), None);
    assert!(a.ctx.notice().unwrap().contains("FAILED list"));
    a.handle_key(key(KeyCode::BackTab));
    assert_eq!(a.overview.focus, Pane::Failed);
}

#[test]
fn z_shows_the_focused_pane_alone_and_escape_brings_the_others_back() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char('z')));
    assert!(a.overview.zoomed);
    a.handle_key(key(KeyCode::Esc));
    assert!(!a.overview.zoomed);
}

#[test]
fn a_rebound_key_does_the_action_and_the_old_key_does_not() {
    let mut keys = KeyOverrides::new();
    keys.insert(
        Mode::Normal,
        vec![Override {
            action: Action::Retry,
            keys: vec![Key::ch('t')],
        }],
    );
    let mut a = console(ConsoleOptions {
        settings: Settings {
            keys,
            ..Default::default()
        },
        ..Default::default()
    });
    assert_eq!(a.handle_key(key(KeyCode::Char('r'))), None);
    assert_eq!(
        a.handle_key(key(KeyCode::Char('t'))),
        Some(Request::Engine(Command::Retry { audit_id: 3 }))
    );
}

#[test]
fn read_only_refuses_write_keys_with_a_reason_and_keeps_the_rest() {
    let mut a = console(ConsoleOptions {
        read_only: true,
        ..Default::default()
    });
    for c in ['r', 'R', 'd', 's', 'Q'] {
        assert_eq!(a.handle_key(key(KeyCode::Char(c))), None, "{c}");
        assert!(a.ctx.notice().unwrap().starts_with("read-only"), "{c}");
        assert_eq!(a.popup, Popup::None, "{c} asked a question");
    }
    a.handle_key(key(KeyCode::Char('j')));
    assert_eq!(a.overview.failed.selected, 1);
}

#[test]
fn copy_offers_what_the_selection_has_and_a_number_copies_it() {
    let mut a = plain();
    assert_eq!(a.handle_key(key(KeyCode::Char('c'))), None);
    let Popup::Copy { choices } = &a.popup else {
        panic!("no copy menu: {:?}", a.popup)
    };
    let n = choices
        .iter()
        .position(|(what, _)| *what == "record")
        .unwrap();
    let digit = char::from_digit(n as u32 + 1, 10).unwrap();
    assert_eq!(
        a.handle_key(key(KeyCode::Char(digit))),
        Some(Request::Copy("ada@example.com".into()))
    );
    assert_eq!(a.popup, Popup::None);
}

#[test]
fn copy_off_in_the_config_says_so_instead_of_copying() {
    let mut a = console(ConsoleOptions {
        settings: Settings {
            copy: crate::console::settings::CopyMethod::Off,
            ..Default::default()
        },
        ..Default::default()
    });
    assert_eq!(a.handle_key(key(KeyCode::Char('c'))), None);
    assert!(a.ctx.notice().unwrap().contains("copying is off"));
}

#[test]
fn the_mouse_does_nothing_unless_turned_on() {
    let mut a = plain();
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 1,
        row: 1,
        modifiers: KeyModifiers::NONE,
    };
    a.mouse(wheel);
    assert_eq!(a.overview.failed.selected, 0);
    let mut a = console(ConsoleOptions {
        settings: Settings {
            mouse: true,
            ..Default::default()
        },
        ..Default::default()
    });
    a.mouse(wheel);
    assert_eq!(a.overview.failed.selected, 1);
}

#[test]
fn the_help_scrolls_with_j_and_k_and_any_other_key_closes_it_and_acts() {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char('?')));
    a.handle_key(key(KeyCode::Char('j')));
    a.handle_key(key(KeyCode::Char('j')));
    assert_eq!(a.popup, Popup::Help { scroll: 2 });
    assert_eq!(
        a.overview.failed.selected, 0,
        "j scrolled the help, not the list"
    );
    a.handle_key(key(KeyCode::Char('z')));
    assert_eq!(a.popup, Popup::None);
    assert!(a.overview.zoomed);
}

/// A console whose FAILED list is filtered by `text` (kept with Enter),
/// showing this page of matches.
fn filtered(text: &str, page: Snapshot) -> App {
    let mut a = plain();
    a.handle_key(key(KeyCode::Char('/')));
    typed(&mut a, text);
    a.handle_key(key(KeyCode::Enter));
    a.set_snapshot(page);
    a
}

#[test]
fn a_short_filters_next_page_searches_on_below_where_its_window_ended() {
    let mut a = filtered(
        "zq",
        Snapshot {
            failed_total: 1_000_000,
            failed_matches: Some(crate::status::FilterMatches {
                count: 0,
                more: true,
                searched_to: Some(950_001),
            }),
            ..Default::default()
        },
    );
    assert_eq!(
        a.act(Action::OlderPage),
        Some(Request::FailedPage {
            before_id: Some(950_001),
            filter: Some("zq".into())
        })
    );
}

#[test]
fn a_filtered_page_the_store_did_not_fill_has_no_older_page() {
    let mut a = filtered(
        "ada",
        Snapshot {
            failed: vec![entry(3, "ada@example.com")],
            failed_total: 1_000_000,
            failed_matches: Some(crate::status::FilterMatches {
                count: 1,
                ..Default::default()
            }),
            ..Default::default()
        },
    );
    assert_eq!(a.act(Action::OlderPage), None);
    assert_eq!(
        a.ctx.notice(),
        Some("no older FAILED entries match the filter")
    );
}
