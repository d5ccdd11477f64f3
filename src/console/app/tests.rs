use super::*;
use crate::console::ctx::NOTICE_SECS;
use crate::model::{Direction, ObjectKind};
use crate::status::{AuditAction, AuditStatus, AuditView};

/// An open FAILED entry of contact `app_id`, labelled `r<app_id>`.
pub(super) fn entry(id: i64, app_id: &str) -> AuditView {
    AuditView {
        id,
        at: chrono::DateTime::default(),
        job_id: 1,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id: app_id.into(),
        hubspot_id: None,
        action: AuditAction::Create,
        status: AuditStatus::Failed,
        category: None,
        message: None,
        attempt: 1,
        label: format!("r{app_id}"),
        operator: None,
    }
}

fn app(read_only: bool, ids: &[(i64, &str)]) -> App {
    let mut a = App::new(&ConsoleOptions {
        read_only,
        ..Default::default()
    });
    a.set_snapshot(Snapshot {
        failed: ids.iter().map(|(i, r)| entry(*i, r)).collect(),
        ..Default::default()
    });
    a
}

#[test]
fn moving_the_selection_stops_at_both_ends() {
    let mut a = app(false, &[(3, "c"), (2, "b"), (1, "a")]);
    a.act(Action::Up);
    assert_eq!(a.overview.failed.selected, 0);
    for _ in 0..5 {
        a.act(Action::Down);
    }
    assert_eq!(a.overview.failed.selected, 2);
}

#[test]
fn r_retries_the_selected_entry() {
    let mut a = app(false, &[(3, "c"), (2, "b")]);
    a.act(Action::Down);
    assert_eq!(
        a.act(Action::Retry),
        Some(Request::Engine(Command::Retry { audit_id: 2 }))
    );
    assert!(a.ctx.notice().unwrap().contains("#2"));
}

#[test]
fn read_only_mode_takes_no_write_action() {
    let mut a = app(true, &[(3, "c")]);
    assert_eq!(a.act(Action::Retry), None);
    assert_eq!(a.act(Action::SyncNow), None);
    assert!(
        a.ctx
            .keymap
            .bindings(Mode::Normal)
            .all(|b| !b.action.writes())
    );
}

#[test]
fn the_selection_follows_its_entry_when_newer_ones_arrive() {
    let mut a = app(false, &[(3, "c"), (2, "b")]);
    a.act(Action::Down);
    a.set_snapshot(Snapshot {
        failed: vec![entry(5, "e"), entry(3, "c"), entry(2, "b")],
        ..Default::default()
    });
    assert_eq!(
        a.overview.failed.selected_entry(&a.ctx).map(|e| e.id),
        Some(2)
    );
}

#[test]
fn after_a_retry_the_selection_follows_the_records_new_entry() {
    let mut a = app(false, &[(3, "c"), (2, "b")]);
    a.act(Action::Down);
    a.set_snapshot(Snapshot {
        failed: vec![entry(9, "b"), entry(3, "c")],
        ..Default::default()
    });
    assert_eq!(
        a.overview.failed.selected_entry(&a.ctx).map(|e| e.id),
        Some(9)
    );
}

#[test]
fn escape_closes_a_popup_and_never_quits() {
    let mut a = app(false, &[(3, "c")]);
    a.act(Action::Open);
    assert!(a.overview.detail);
    a.act(Action::Back);
    a.act(Action::Back);
    assert!(!a.overview.detail);
    assert_eq!(a.popup, Popup::None);
    assert!(!a.should_quit());
    a.act(Action::Quit);
    assert!(a.should_quit());
}

#[test]
fn dismiss_asks_first_and_y_sends_it() {
    let mut a = app(false, &[(3, "c"), (2, "b")]);
    assert_eq!(a.act(Action::Dismiss), None);
    assert!(matches!(a.popup, Popup::Confirm { .. }));
    // Other keys do nothing while the question is open.
    assert_eq!(a.act(Action::Down), None);
    assert_eq!(
        a.act(Action::Confirm),
        Some(Request::Engine(Command::Dismiss { audit_id: 3 }))
    );
    assert_eq!(a.popup, Popup::None);
}

#[test]
fn escape_drops_the_question() {
    let mut a = app(false, &[(3, "c")]);
    a.act(Action::Dismiss);
    assert_eq!(a.act(Action::Back), None);
    assert_eq!(a.popup, Popup::None);
    assert_eq!(a.act(Action::Confirm), None, "nothing left to confirm");
}

#[test]
fn retrying_a_category_names_how_many_records_it_touches() {
    let mut a = app(false, &[(3, "c"), (2, "b"), (1, "a")]);
    let mut s = a.ctx.snapshot.clone();
    for (n, e) in s.failed.iter_mut().enumerate() {
        e.category = Some(
            if n < 2 {
                "VALIDATION_ERROR"
            } else {
                "CONFLICT"
            }
            .into(),
        );
    }
    a.set_snapshot(s);
    a.act(Action::RetryCategory);
    let Popup::Confirm { question, command } = a.popup.clone() else {
        panic!("no question asked")
    };
    assert!(
        question.contains("all 2 FAILED VALIDATION_ERROR"),
        "{question}"
    );
    assert_eq!(
        command,
        Request::Engine(Command::RetryCategory {
            category: "VALIDATION_ERROR".into()
        })
    );
}

#[test]
fn older_entries_loaded_below_the_screen_come_before_a_new_page() {
    let ids: Vec<(i64, String)> = (0..30).rev().map(|i| (i, format!("r{i}"))).collect();
    let refs: Vec<(i64, &str)> = ids.iter().map(|(i, r)| (*i, r.as_str())).collect();
    let mut a = app(false, &refs);
    a.overview.failed.assume_rows(10);
    assert_eq!(
        a.act(Action::OlderPage),
        None,
        "no fetch: 20 more are loaded"
    );
    assert_eq!(a.overview.failed.selected, 10);
    assert_eq!(a.ctx.notice(), None, "and no 'no older entries'");
    assert_eq!(a.act(Action::NewerPage), None);
    assert_eq!(a.overview.failed.selected, 0);
}

#[test]
fn an_open_detail_closes_when_its_record_is_no_longer_failed() {
    let mut a = app(false, &[(3, "c"), (2, "b")]);
    a.act(Action::Open);
    assert!(a.overview.detail);
    // The retry of c succeeded: only b is left.
    a.set_snapshot(Snapshot {
        failed: vec![entry(2, "b")],
        ..Default::default()
    });
    assert!(!a.overview.detail, "not b's detail under c's popup");
    assert!(a.ctx.notice().unwrap().contains("no longer FAILED"));
}

#[test]
fn a_notice_leaves_the_footer_after_a_while() {
    let mut a = app(false, &[(3, "c")]);
    let t = chrono::Utc::now();
    a.ctx.now = Some(t);
    a.act(Action::Retry);
    assert!(a.ctx.notice().is_some());
    a.ctx.now = Some(t + chrono::Duration::seconds(NOTICE_SECS + 1));
    assert_eq!(a.ctx.notice(), None);
}

#[test]
fn a_write_key_in_read_only_mode_says_why_it_does_nothing() {
    let mut a = app(true, &[(3, "c")]);
    assert_eq!(a.act(Action::Retry), None);
    assert!(
        a.ctx.notice().unwrap().contains("read-only"),
        "{:?}",
        a.ctx.notice()
    );
}

#[test]
fn quitting_an_in_process_engine_others_watch_asks_first() {
    let mut a = app(false, &[(3, "c")]);
    a.ctx.mode = EngineMode::InProcess;
    let mut s = a.ctx.snapshot.clone();
    s.engine = Some(crate::status::EngineInfo {
        pid: 1,
        started_at: chrono::Utc::now(),
        version: "0".into(),
        config: "c".into(),
        consoles: 2,
    });
    a.set_snapshot(s);
    a.act(Action::Quit);
    assert!(!a.should_quit());
    assert!(matches!(a.popup, Popup::ConfirmQuit { .. }));
    a.act(Action::Confirm);
    assert!(a.should_quit());
}

#[test]
fn quitting_an_attached_console_never_asks() {
    let mut a = app(false, &[(3, "c")]);
    a.act(Action::Quit);
    assert!(a.should_quit());
}

#[test]
fn stopping_the_engine_asks_first() {
    let mut a = app(false, &[(3, "c")]);
    assert_eq!(a.act(Action::StopEngine), None);
    assert_eq!(a.act(Action::Confirm), Some(Request::Shutdown));
}

#[test]
fn read_only_mode_cannot_dismiss_or_bulk_retry() {
    let mut a = app(true, &[(3, "c")]);
    assert_eq!(a.act(Action::Dismiss), None);
    assert_eq!(a.act(Action::RetryCategory), None);
    assert_eq!(a.popup, Popup::None);
}

#[test]
fn paging_asks_for_older_entries_then_back() {
    let mut a = app(false, &[(9, "i"), (8, "h")]);
    let mut s = a.ctx.snapshot.clone();
    s.failed_total = 5;
    a.set_snapshot(s);
    assert_eq!(
        a.act(Action::OlderPage),
        Some(Request::FailedPage {
            before_id: Some(8),
            filter: None
        })
    );
    let older = Snapshot {
        failed: vec![entry(4, "d"), entry(2, "b")],
        failed_total: 5,
        failed_before: Some(8),
        failed_newer: 2,
        ..Default::default()
    };
    a.set_snapshot(older);
    assert_eq!(
        a.act(Action::NewerPage),
        Some(Request::FailedPage {
            before_id: None,
            filter: None
        })
    );
    assert_eq!(a.act(Action::NewerPage), None, "already at the newest");
}

#[test]
fn there_is_no_older_page_when_every_entry_is_listed() {
    let mut a = app(false, &[(9, "i"), (8, "h")]);
    let mut s = a.ctx.snapshot.clone();
    s.failed_total = 2;
    a.set_snapshot(s);
    assert_eq!(a.act(Action::OlderPage), None);
    assert_eq!(a.ctx.notice(), Some("no older FAILED entries"));
}

#[test]
fn overview_with_a_pane_goes_home_with_that_pane_focused() {
    let mut a = app(false, &[(1, "a")]);
    a.run_command("jobs");
    a.run_command("overview jobs");
    assert_eq!(a.breadcrumbs(), "overview");
    assert_eq!(
        a.overview.focus,
        crate::console::views::overview::Pane::Jobs
    );
    a.run_command("overview tables");
    assert!(a.ctx.notice().unwrap().contains("jobs or failed"));
}
