//! The console's state and the one function that changes it. `update` is
//! pure: an action in, at most one command for the engine out. Snapshots
//! replace what the engine reported; the selection follows the same audit
//! entry when the list under it changes.

use super::keymap::{Action, Keymap};
use super::theme::Theme;
use crate::model::ObjectKind;
use crate::status::{AuditView, Command, Snapshot};

/// Whether this console runs the engine or only watches one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineMode {
    /// Attached to an engine in another process: quitting only detaches.
    #[default]
    Attached,
    /// The engine runs in this process: quitting stops the sync.
    InProcess,
}

/// How long a notice stays in the footer.
pub const NOTICE_SECS: i64 = 10;

/// What the console asks of the engine, through the control socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A command that acts on records (operators only).
    Engine(Command),
    /// Show the open FAILED entries older than this audit id (`None`: the
    /// newest); this console's own place in the list.
    FailedPage { before_id: Option<i64> },
    /// Stop the engine (operators only; asked first).
    Shutdown,
}
use crossterm::event::KeyEvent;

#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Watch only: every action that writes is removed.
    pub read_only: bool,
    /// A theme name from `themes/` (default: "default").
    pub theme: Option<String>,
    /// Shown in the title bar.
    pub title: String,
    pub mode: EngineMode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    None,
    Help,
    Detail,
    /// A question before an action that is hard to undo or touches many
    /// records: `y` sends the command, Esc drops it.
    Confirm {
        question: String,
        command: Request,
    },
    /// Quitting this console would stop the engine other consoles watch.
    ConfirmQuit {
        question: String,
    },
}

pub struct App {
    pub snapshot: Snapshot,
    pub keymap: Keymap,
    pub theme: Theme,
    pub read_only: bool,
    pub title: String,
    pub mode: EngineMode,
    /// Index into `snapshot.failed`.
    pub selected: usize,
    pub popup: Popup,
    /// A note of our own ("retry of #12 requested…") until the engine's next notice.
    pub local_notice: Option<String>,
    /// The FAILED list's first visible row and how many rows it showed,
    /// as last drawn: the view keeps the selection in sight by moving the
    /// window only at its edges, and paging moves by what was on screen.
    pub failed_offset: std::cell::Cell<usize>,
    pub failed_rows: std::cell::Cell<usize>,
    /// The wall clock as of the last tick, set by the run loop, so the view
    /// can say when the engine has gone quiet without reading a clock.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// When the current notice was shown.
    pub noticed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the engine last said anything (a snapshot or a heartbeat).
    pub heard: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the earlier FAILED pages started, for `[` to go back.
    pages: Vec<Option<i64>>,
    quit: bool,
}

impl App {
    pub fn new(opts: &ConsoleOptions) -> Self {
        Self::with_theme(
            opts,
            Theme::load("default", None).expect("the default theme is built in"),
        )
    }

    pub fn with_theme(opts: &ConsoleOptions, theme: Theme) -> Self {
        App {
            snapshot: Snapshot::default(),
            keymap: Keymap::new(opts.read_only),
            theme,
            read_only: opts.read_only,
            title: opts.title.clone(),
            mode: opts.mode,
            selected: 0,
            popup: Popup::None,
            local_notice: None,
            failed_offset: std::cell::Cell::new(0),
            failed_rows: std::cell::Cell::new(10),
            now: None,
            heard: None,
            noticed_at: None,
            pages: Vec::new(),
            quit: false,
        }
    }

    pub fn selected_entry(&self) -> Option<&AuditView> {
        self.snapshot.failed.get(self.selected)
    }

    pub fn set_snapshot(&mut self, s: Snapshot) {
        let keep = self
            .selected_entry()
            .map(|a| (a.id, a.object, a.app_id.clone()));
        self.snapshot = s;
        // Follow the same entry; failing that (a retry replaced it), the
        // same record's newer entry.
        if let Some((id, object, app_id)) = &keep
            && let Some(i) = self
                .snapshot
                .failed
                .iter()
                .position(|a| a.id == *id)
                .or_else(|| {
                    self.snapshot
                        .failed
                        .iter()
                        .position(|a| a.object == *object && a.app_id == *app_id)
                })
        {
            self.selected = i;
        }
        let followed = keep.as_ref().is_none_or(|(id, object, app_id)| {
            self.snapshot
                .failed
                .iter()
                .any(|a| a.id == *id || (a.object == *object && a.app_id == *app_id))
        });
        self.selected = self
            .selected
            .min(self.snapshot.failed.len().saturating_sub(1));
        // The record whose detail is open is no longer FAILED (a retry
        // succeeded, or someone dismissed it): close it rather than show
        // another record under the same popup, whose retry `r` would start.
        if self.popup == Popup::Detail && (!followed || self.snapshot.failed.is_empty()) {
            self.popup = Popup::None;
            if let Some((_, _, app_id)) = keep
                && !followed
            {
                self.say(format!(
                    "record {} is no longer FAILED",
                    super::text::sanitize(&app_id)
                ));
            }
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Request> {
        let action = self.keymap.action(&key)?;
        self.update(action)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn notice(&self) -> Option<&str> {
        match (self.noticed_at, self.now) {
            // A notice is news for a while, not a fixture of the footer.
            (Some(at), Some(now)) if (now - at).num_seconds() >= NOTICE_SECS => None,
            _ => self.local_notice.as_deref(),
        }
    }

    /// Shows a line in the footer for [`NOTICE_SECS`].
    pub fn say(&mut self, text: String) {
        self.local_notice = Some(text);
        self.noticed_at = self.now.or_else(|| Some(chrono::Utc::now()));
    }

    /// Other consoles watching the same engine.
    fn others_attached(&self) -> u32 {
        self.snapshot
            .engine
            .as_ref()
            .map_or(0, |e| e.consoles.saturating_sub(1))
    }

    pub fn update(&mut self, action: Action) -> Option<Request> {
        if self.read_only
            && matches!(
                action,
                Action::Retry
                    | Action::RetryCategory
                    | Action::Dismiss
                    | Action::SyncNow
                    | Action::StopEngine
            )
        {
            self.say("read-only: this console only watches (attached to the viewer socket)".into());
            return None;
        }
        if let Popup::ConfirmQuit { .. } = &self.popup {
            match action {
                Action::Confirm | Action::Open => self.quit = true,
                _ => self.popup = Popup::None,
            }
            return None;
        }
        // While a question is open, only its answer counts.
        if let Popup::Confirm { command, .. } = &self.popup {
            return match action {
                Action::Confirm | Action::Open => {
                    let command = command.clone();
                    self.popup = Popup::None;
                    self.say("requested…".into());
                    Some(command)
                }
                Action::Back | Action::Quit => {
                    self.popup = Popup::None;
                    None
                }
                _ => None,
            };
        }
        let last = self.snapshot.failed.len().saturating_sub(1);
        match action {
            Action::Quit => {
                let others = self.others_attached();
                if self.mode == EngineMode::InProcess && others > 0 {
                    self.popup = Popup::ConfirmQuit {
                        question: format!(
                            "This console runs the engine: quitting stops the sync, and {others} other console(s) lose it. Quit? y / Esc"
                        ),
                    };
                } else {
                    self.quit = true;
                }
            }
            Action::StopEngine => {
                self.popup = Popup::Confirm {
                    question: format!(
                        "Stop the engine? The sync stops for every console ({} attached) until it is started again. y / Esc",
                        self.snapshot.engine.as_ref().map_or(1, |e| e.consoles)
                    ),
                    command: Request::Shutdown,
                };
            }
            Action::Help => {
                self.popup = if self.popup == Popup::Help {
                    Popup::None
                } else {
                    Popup::Help
                }
            }
            // Esc leaves a popup and never quits.
            Action::Back => self.popup = Popup::None,
            Action::Down => self.selected = (self.selected + 1).min(last),
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::PageDown => {
                self.selected = (self.selected + self.failed_rows.get().max(1)).min(last)
            }
            Action::PageUp => {
                self.selected = self.selected.saturating_sub(self.failed_rows.get().max(1))
            }
            Action::Top => self.selected = 0,
            Action::Bottom => self.selected = last,
            Action::Open => {
                if self.selected_entry().is_some() {
                    self.popup = Popup::Detail;
                }
            }
            Action::Retry => {
                let entry = self.selected_entry()?;
                let id = entry.id;
                self.say(format!(
                    "retry of #{id} ({}) requested…",
                    super::text::sanitize(&entry.label)
                ));
                return Some(Request::Engine(Command::Retry { audit_id: id }));
            }
            Action::RetryCategory => {
                let category = self.selected_entry()?.category.clone()?;
                let n = self
                    .snapshot
                    .failed
                    .iter()
                    .filter(|a| a.category.as_deref() == Some(&category))
                    .count();
                let more = if self.snapshot.failed_total > self.snapshot.failed.len() as u64 {
                    " (and any not listed)"
                } else {
                    ""
                };
                self.popup = Popup::Confirm {
                    question: format!("Retry all {n} FAILED {category} records{more}? y / Esc"),
                    command: Request::Engine(Command::RetryCategory { category }),
                };
            }
            Action::Dismiss => {
                let entry = self.selected_entry()?;
                self.popup = Popup::Confirm {
                    question: format!(
                        "Dismiss the FAILED entry of {}? It leaves this list without a retry. y / Esc",
                        super::text::sanitize(&entry.label)
                    ),
                    command: Request::Engine(Command::Dismiss { audit_id: entry.id }),
                };
            }
            Action::Confirm => {}
            Action::OlderPage => {
                // Older entries already loaded but below the screen come
                // first: `]` must never say "no older" with some in view.
                let rows = self.failed_rows.get().max(1);
                let bottom = self.failed_offset.get() + rows;
                if bottom < self.snapshot.failed.len() {
                    self.selected = bottom.min(last);
                    self.failed_offset.set(bottom);
                    return None;
                }
                let s = &self.snapshot;
                let listed = s.failed_newer + s.failed.len() as u64;
                let last = s.failed.last()?.id;
                if listed >= s.failed_total {
                    self.say("no older FAILED entries".into());
                    return None;
                }
                self.pages.push(s.failed_before);
                self.selected = 0;
                self.failed_offset.set(0);
                return Some(Request::FailedPage {
                    before_id: Some(last),
                });
            }
            Action::NewerPage => {
                let rows = self.failed_rows.get().max(1);
                let top = self.failed_offset.get();
                if top > 0 {
                    let to = top.saturating_sub(rows);
                    self.selected = to;
                    self.failed_offset.set(to);
                    return None;
                }
                let Some(before) = self.pages.pop() else {
                    self.say("these are the newest FAILED entries".into());
                    return None;
                };
                self.selected = 0;
                self.failed_offset.set(0);
                return Some(Request::FailedPage { before_id: before });
            }
            Action::SyncNow => {
                self.say("sync of contacts requested…".into());
                return Some(Request::Engine(Command::SyncNow {
                    object: ObjectKind::Contacts,
                }));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Direction;
    use crate::status::{AuditAction, AuditStatus};

    fn entry(id: i64, app_id: &str) -> AuditView {
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
        a.update(Action::Up);
        assert_eq!(a.selected, 0);
        for _ in 0..5 {
            a.update(Action::Down);
        }
        assert_eq!(a.selected, 2);
    }

    #[test]
    fn r_retries_the_selected_entry() {
        let mut a = app(false, &[(3, "c"), (2, "b")]);
        a.update(Action::Down);
        assert_eq!(
            a.update(Action::Retry),
            Some(Request::Engine(Command::Retry { audit_id: 2 }))
        );
        assert!(a.notice().unwrap().contains("#2"));
    }

    #[test]
    fn read_only_mode_takes_no_write_action() {
        let mut a = app(true, &[(3, "c")]);
        assert_eq!(a.update(Action::Retry), None);
        assert_eq!(a.update(Action::SyncNow), None);
        assert!(a.keymap.bindings().iter().all(|b| !b.writes));
    }

    #[test]
    fn the_selection_follows_its_entry_when_newer_ones_arrive() {
        let mut a = app(false, &[(3, "c"), (2, "b")]);
        a.update(Action::Down);
        a.set_snapshot(Snapshot {
            failed: vec![entry(5, "e"), entry(3, "c"), entry(2, "b")],
            ..Default::default()
        });
        assert_eq!(a.selected_entry().map(|e| e.id), Some(2));
    }

    #[test]
    fn after_a_retry_the_selection_follows_the_records_new_entry() {
        let mut a = app(false, &[(3, "c"), (2, "b")]);
        a.update(Action::Down);
        a.set_snapshot(Snapshot {
            failed: vec![entry(9, "b"), entry(3, "c")],
            ..Default::default()
        });
        assert_eq!(a.selected_entry().map(|e| e.id), Some(9));
    }

    #[test]
    fn escape_closes_a_popup_and_never_quits() {
        let mut a = app(false, &[(3, "c")]);
        a.update(Action::Open);
        assert_eq!(a.popup, Popup::Detail);
        a.update(Action::Back);
        a.update(Action::Back);
        assert_eq!(a.popup, Popup::None);
        assert!(!a.should_quit());
        a.update(Action::Quit);
        assert!(a.should_quit());
    }

    #[test]
    fn dismiss_asks_first_and_y_sends_it() {
        let mut a = app(false, &[(3, "c"), (2, "b")]);
        assert_eq!(a.update(Action::Dismiss), None);
        assert!(matches!(a.popup, Popup::Confirm { .. }));
        // Other keys do nothing while the question is open.
        assert_eq!(a.update(Action::Down), None);
        assert_eq!(
            a.update(Action::Confirm),
            Some(Request::Engine(Command::Dismiss { audit_id: 3 }))
        );
        assert_eq!(a.popup, Popup::None);
    }

    #[test]
    fn escape_drops_the_question() {
        let mut a = app(false, &[(3, "c")]);
        a.update(Action::Dismiss);
        assert_eq!(a.update(Action::Back), None);
        assert_eq!(a.popup, Popup::None);
        assert_eq!(a.update(Action::Confirm), None, "nothing left to confirm");
    }

    #[test]
    fn retrying_a_category_names_how_many_records_it_touches() {
        let mut a = app(false, &[(3, "c"), (2, "b"), (1, "a")]);
        let mut s = a.snapshot.clone();
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
        a.update(Action::RetryCategory);
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
        a.failed_rows.set(10);
        assert_eq!(
            a.update(Action::OlderPage),
            None,
            "no fetch: 20 more are loaded"
        );
        assert_eq!(a.selected, 10);
        assert_eq!(a.notice(), None, "and no 'no older entries'");
        assert_eq!(a.update(Action::NewerPage), None);
        assert_eq!(a.selected, 0);
    }

    #[test]
    fn an_open_detail_closes_when_its_record_is_no_longer_failed() {
        let mut a = app(false, &[(3, "c"), (2, "b")]);
        a.update(Action::Open);
        assert_eq!(a.popup, Popup::Detail);
        // The retry of c succeeded: only b is left.
        a.set_snapshot(Snapshot {
            failed: vec![entry(2, "b")],
            ..Default::default()
        });
        assert_eq!(a.popup, Popup::None, "not b's detail under c's popup");
        assert!(a.notice().unwrap().contains("no longer FAILED"));
    }

    #[test]
    fn a_notice_leaves_the_footer_after_a_while() {
        let mut a = app(false, &[(3, "c")]);
        let t = chrono::Utc::now();
        a.now = Some(t);
        a.update(Action::Retry);
        assert!(a.notice().is_some());
        a.now = Some(t + chrono::Duration::seconds(NOTICE_SECS + 1));
        assert_eq!(a.notice(), None);
    }

    #[test]
    fn a_write_key_in_read_only_mode_says_why_it_does_nothing() {
        let mut a = app(true, &[(3, "c")]);
        assert_eq!(a.update(Action::Retry), None);
        assert!(
            a.notice().unwrap().contains("read-only"),
            "{:?}",
            a.notice()
        );
    }

    #[test]
    fn quitting_an_in_process_engine_others_watch_asks_first() {
        let mut a = app(false, &[(3, "c")]);
        a.mode = EngineMode::InProcess;
        let mut s = a.snapshot.clone();
        s.engine = Some(crate::status::EngineInfo {
            pid: 1,
            started_at: chrono::Utc::now(),
            version: "0".into(),
            config: "c".into(),
            consoles: 2,
        });
        a.set_snapshot(s);
        a.update(Action::Quit);
        assert!(!a.should_quit());
        assert!(matches!(a.popup, Popup::ConfirmQuit { .. }));
        a.update(Action::Confirm);
        assert!(a.should_quit());
    }

    #[test]
    fn quitting_an_attached_console_never_asks() {
        let mut a = app(false, &[(3, "c")]);
        a.update(Action::Quit);
        assert!(a.should_quit());
    }

    #[test]
    fn stopping_the_engine_asks_first() {
        let mut a = app(false, &[(3, "c")]);
        assert_eq!(a.update(Action::StopEngine), None);
        assert_eq!(a.update(Action::Confirm), Some(Request::Shutdown));
    }

    #[test]
    fn read_only_mode_cannot_dismiss_or_bulk_retry() {
        let mut a = app(true, &[(3, "c")]);
        assert_eq!(a.update(Action::Dismiss), None);
        assert_eq!(a.update(Action::RetryCategory), None);
        assert_eq!(a.popup, Popup::None);
    }

    #[test]
    fn paging_asks_for_older_entries_then_back() {
        let mut a = app(false, &[(9, "i"), (8, "h")]);
        let mut s = a.snapshot.clone();
        s.failed_total = 5;
        a.set_snapshot(s);
        assert_eq!(
            a.update(Action::OlderPage),
            Some(Request::FailedPage { before_id: Some(8) })
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
            a.update(Action::NewerPage),
            Some(Request::FailedPage { before_id: None })
        );
        assert_eq!(a.update(Action::NewerPage), None, "already at the newest");
    }

    #[test]
    fn there_is_no_older_page_when_every_entry_is_listed() {
        let mut a = app(false, &[(9, "i"), (8, "h")]);
        let mut s = a.snapshot.clone();
        s.failed_total = 2;
        a.set_snapshot(s);
        assert_eq!(a.update(Action::OlderPage), None);
        assert_eq!(a.notice(), Some("no older FAILED entries"));
    }
}
