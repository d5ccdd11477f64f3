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
mod tests;
