//! What can cover the view in front.

use super::Request;

#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    None,
    /// The keys and commands, scrolled this many lines (j/k move it).
    Help {
        scroll: u16,
    },
    /// A question before an action that is hard to undo or touches many
    /// records: `y` (or Enter) sends the command, Esc drops it.
    Confirm {
        question: String,
        command: Request,
    },
    /// Quitting this console would stop the engine other consoles watch.
    ConfirmQuit {
        question: String,
    },
    /// What `c` can copy, picked by number.
    Copy {
        choices: Vec<(&'static str, String)>,
    },
}
