//! What every view and component reads: the engine's latest snapshot, the
//! theme, the keys, the clock as of the last tick, and the footer's notice.
//! Views own their own state; this is the part they share.

use super::app::EngineMode;
use super::keymap::Keymap;
use super::settings::Settings;
use super::theme::Theme;
use crate::status::Snapshot;
use chrono::{DateTime, Utc};

/// How long a notice stays in the footer.
pub const NOTICE_SECS: i64 = 10;

pub struct Ctx {
    pub snapshot: Snapshot,
    pub theme: Theme,
    pub keymap: Keymap,
    pub settings: Settings,
    /// Watch only: actions that write are refused with a reason.
    pub read_only: bool,
    pub title: String,
    pub mode: EngineMode,
    /// The wall clock as of the last tick, set by the run loop, so drawing
    /// reads no clock.
    pub now: Option<DateTime<Utc>>,
    /// When the engine last said anything (a snapshot or a heartbeat).
    pub heard: Option<DateTime<Utc>>,
    /// The config being edited, kept while the editor's views come and
    /// go so unsaved edits survive them.
    pub edit: Option<super::views::config::EditSession>,
    notice: Option<String>,
    noticed_at: Option<DateTime<Utc>>,
    /// A notice that stays until replaced (the engine has gone).
    sticky: bool,
}

impl Ctx {
    pub fn new(theme: Theme, keymap: Keymap, settings: Settings) -> Ctx {
        Ctx {
            snapshot: Snapshot::default(),
            read_only: keymap.read_only(),
            theme,
            keymap,
            settings,
            title: String::new(),
            mode: EngineMode::default(),
            now: None,
            heard: None,
            edit: None,
            notice: None,
            noticed_at: None,
            sticky: false,
        }
    }

    /// Shows a line in the footer for [`NOTICE_SECS`].
    pub fn say(&mut self, text: impl Into<String>) {
        self.notice = Some(text.into());
        self.noticed_at = self.now.or_else(|| Some(Utc::now()));
        self.sticky = false;
    }

    /// Shows a line that stays: the state of things, not news.
    pub fn say_until_replaced(&mut self, text: impl Into<String>) {
        self.say(text);
        self.sticky = true;
    }

    pub fn notice(&self) -> Option<&str> {
        match (self.noticed_at, self.now) {
            // A notice is news for a while, not a fixture of the footer.
            (Some(at), Some(now)) if !self.sticky && (now - at).num_seconds() >= NOTICE_SECS => {
                None
            }
            _ => self.notice.as_deref(),
        }
    }

    /// Refuses an action that writes on a read-only console, saying why.
    pub fn refuse_write(&mut self, what: &str) -> bool {
        if self.read_only {
            self.say(format!(
                "read-only: {what} changes data, and this console only watches (attached to the viewer socket)"
            ));
        }
        self.read_only
    }

    /// Other consoles watching the same engine.
    pub fn others_attached(&self) -> u32 {
        self.snapshot
            .engine
            .as_ref()
            .map_or(0, |e| e.consoles.saturating_sub(1))
    }
}
