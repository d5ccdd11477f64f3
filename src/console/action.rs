//! Everything a key can ask of the console, in one enum. Each action has a
//! name (how `[keys]` in the config spells it), a sentence for the help
//! screen, and whether it writes: read-only consoles drop the actions that
//! write from their tables and say so when such a key is pressed.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    // Anywhere in normal mode.
    Quit,
    StopEngine,
    Help,
    Back,
    Command,
    Filter,
    FocusNext,
    FocusPrev,
    Zoom,
    // Lists.
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    OlderPage,
    NewerPage,
    Copy,
    Mark,
    // Records.
    Retry,
    RetryCategory,
    Dismiss,
    SyncNow,
    EditField,
    Refresh,
    // Questions.
    Confirm,
    // The prompt (`:` and `/`).
    Submit,
    Cancel,
    Complete,
    CompletePrev,
    HistoryPrev,
    HistoryNext,
    // The editor (raw TOML and field editors).
    Save,
    // The config editor's lists and forms.
    Add,
    AddGroup,
    Remove,
    MoveUp,
    MoveDown,
    Undo,
    Apply,
    PreviewRecord,
    // The audit log.
    FailedOnly,
    // Config history.
    PreviewConfig,
    RevertConfig,
}

/// What the tables and the help say about an action.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    pub action: Action,
    /// The name `[keys]` uses: `retry = ["r"]`.
    pub name: &'static str,
    /// A few words for the footer hints.
    pub hint: &'static str,
    /// A sentence for the help screen.
    pub description: &'static str,
    /// Changes data somewhere (refused in read-only mode).
    pub writes: bool,
}

const fn info(
    action: Action,
    name: &'static str,
    hint: &'static str,
    description: &'static str,
    writes: bool,
) -> ActionInfo {
    ActionInfo {
        action,
        name,
        hint,
        description,
        writes,
    }
}

use Action::*;

pub const ACTIONS: &[ActionInfo] = &[
    info(
        Quit,
        "quit",
        "quit",
        "quit; an attached engine keeps running",
        false,
    ),
    info(
        StopEngine,
        "stop_engine",
        "stop engine",
        "stop the engine for all consoles (asks)",
        true,
    ),
    info(Help, "help", "help", "show or hide the keys", false),
    info(
        Back,
        "back",
        "back",
        "close a popup, or go back a view (never quits)",
        false,
    ),
    info(
        Command,
        "command",
        "command",
        "open the command line (:failed, :jobs, :quit …)",
        false,
    ),
    info(
        Filter,
        "filter",
        "find",
        "filter the focused list as you type",
        false,
    ),
    info(
        FocusNext,
        "focus_next",
        "next pane",
        "move the focus to the next pane",
        false,
    ),
    info(
        FocusPrev,
        "focus_prev",
        "prev pane",
        "move the focus to the previous pane",
        false,
    ),
    info(
        Zoom,
        "zoom",
        "zoom",
        "show the focused pane alone, or all panes again",
        false,
    ),
    info(Up, "up", "up", "previous entry", false),
    info(Down, "down", "down", "next entry", false),
    info(PageUp, "page_up", "page up", "a page up", false),
    info(PageDown, "page_down", "page down", "a page down", false),
    info(Top, "top", "top", "first entry", false),
    info(Bottom, "bottom", "bottom", "last entry", false),
    info(Open, "open", "open", "open the selected entry", false),
    info(
        OlderPage,
        "older_page",
        "older",
        "older entries (next page)",
        false,
    ),
    info(
        NewerPage,
        "newer_page",
        "newer",
        "newer entries (previous page)",
        false,
    ),
    info(
        Copy,
        "copy",
        "copy",
        "copy the selected record's id, email or error (OSC 52)",
        false,
    ),
    info(
        Mark,
        "mark",
        "mark",
        "mark or unmark the selected entry (r retries the marked ones)",
        false,
    ),
    info(
        Retry,
        "retry",
        "retry",
        "retry the selected record now",
        true,
    ),
    info(
        RetryCategory,
        "retry_category",
        "retry all",
        "retry every FAILED record of its category (asks)",
        true,
    ),
    info(
        Dismiss,
        "dismiss",
        "dismiss",
        "dismiss the selected FAILED entry (asks)",
        true,
    ),
    info(
        SyncNow,
        "sync_now",
        "sync",
        "sync the focused object now",
        true,
    ),
    info(
        EditField,
        "edit_field",
        "edit",
        "edit the selected app value of this record (asks before writing)",
        true,
    ),
    info(
        Refresh,
        "refresh",
        "reload",
        "read the record again from both sides",
        false,
    ),
    info(
        Confirm,
        "confirm",
        "yes",
        "answer yes to the question asked",
        false,
    ),
    info(
        Submit,
        "submit",
        "ok",
        "run the command, keep the filter, the value typed or the pick",
        false,
    ),
    info(
        Cancel,
        "cancel",
        "cancel",
        "leave the prompt without running it (or drop the value typed)",
        false,
    ),
    info(
        Complete,
        "complete",
        "complete",
        "complete the command (again: the next match)",
        false,
    ),
    info(
        CompletePrev,
        "complete_prev",
        "prev match",
        "the previous completion",
        false,
    ),
    info(
        HistoryPrev,
        "history_prev",
        "previous",
        "the previous command line (in a picker: the previous match)",
        false,
    ),
    info(
        HistoryNext,
        "history_next",
        "next",
        "the next command line (in a picker: the next match)",
        false,
    ),
    info(
        Save,
        "save",
        "keep",
        "keep the text typed in the working copy (checked first; the file is written by apply)",
        false,
    ),
    info(
        Add,
        "add",
        "add",
        "add an entry (a field mapping, a filter)",
        false,
    ),
    info(
        AddGroup,
        "add_group",
        "add group",
        "add a filter group (ORed with the others)",
        false,
    ),
    info(
        Remove,
        "remove",
        "remove",
        "remove the selected entry from the working copy",
        false,
    ),
    info(
        MoveUp,
        "move_up",
        "move up",
        "move the selected entry up",
        false,
    ),
    info(
        MoveDown,
        "move_down",
        "move down",
        "move the selected entry down",
        false,
    ),
    info(Undo, "undo", "undo", "undo the last unsaved edit", false),
    info(
        Apply,
        "apply",
        "save & apply",
        "save the edited config to its file and apply it from the next job (previews first, then y)",
        true,
    ),
    info(
        FailedOnly,
        "failed_only",
        "FAILED only",
        "show only the open FAILED entries, or everything again",
        false,
    ),
    info(
        PreviewRecord,
        "preview_record",
        "preview record",
        "preview one record of your choosing before → after",
        false,
    ),
    info(
        PreviewConfig,
        "preview_config",
        "preview",
        "what going back to the shown config would do, written nowhere",
        false,
    ),
    info(
        RevertConfig,
        "revert_config",
        "revert",
        "go back to the shown config: saved and applied from the next job",
        true,
    ),
];

impl Action {
    pub fn info(self) -> &'static ActionInfo {
        ACTIONS
            .iter()
            .find(|i| i.action == self)
            .expect("every action has an entry in ACTIONS")
    }

    pub fn writes(self) -> bool {
        self.info().writes
    }

    pub fn named(name: &str) -> Option<Action> {
        ACTIONS.iter().find(|i| i.name == name).map(|i| i.action)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.info().name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_one_entry_and_a_unique_name() {
        let mut names: Vec<_> = ACTIONS.iter().map(|i| i.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len(), "action names repeat");
        for i in ACTIONS {
            assert_eq!(Action::named(i.name), Some(i.action));
        }
    }
}
