//! Keys become actions only through this table, which also builds the help
//! screen and the hint bar, so what `?` shows is always what the keys do.
//! Actions that write carry `writes: true`; `--read-only` drops them from
//! the table, and with them from the help and the hints.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Retry,
    RetryCategory,
    Dismiss,
    SyncNow,
    Confirm,
    OlderPage,
    NewerPage,
    StopEngine,
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written in the help and the hint bar.
    pub label: &'static str,
    pub action: Action,
    pub description: &'static str,
    /// Changes data somewhere (removed in read-only mode).
    pub writes: bool,
    /// Shown in the hint bar, not only in the help.
    pub hint: bool,
}

const NONE: KeyModifiers = KeyModifiers::NONE;

const DEFAULT: &[Binding] = &[
    Binding {
        keys: &[(KeyCode::Char('j'), NONE), (KeyCode::Down, NONE)],
        label: "j/↓",
        action: Action::Down,
        description: "next FAILED entry",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('k'), NONE), (KeyCode::Up, NONE)],
        label: "k/↑",
        action: Action::Up,
        description: "previous FAILED entry",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[
            (KeyCode::PageDown, NONE),
            (KeyCode::Char('f'), KeyModifiers::CONTROL),
        ],
        label: "PgDn",
        action: Action::PageDown,
        description: "a page down",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[
            (KeyCode::PageUp, NONE),
            (KeyCode::Char('b'), KeyModifiers::CONTROL),
        ],
        label: "PgUp",
        action: Action::PageUp,
        description: "a page up",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('g'), NONE), (KeyCode::Home, NONE)],
        label: "g/Home",
        action: Action::Top,
        description: "newest entry",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[
            (KeyCode::Char('G'), KeyModifiers::SHIFT),
            (KeyCode::Char('G'), NONE),
            (KeyCode::End, NONE),
        ],
        label: "G/End",
        action: Action::Bottom,
        description: "oldest entry",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char(']'), NONE)],
        label: "]",
        action: Action::OlderPage,
        description: "older FAILED entries (next page)",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('['), NONE)],
        label: "[",
        action: Action::NewerPage,
        description: "newer FAILED entries (previous page)",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Enter, NONE)],
        label: "Enter",
        action: Action::Open,
        description: "open the selected entry",
        writes: false,
        hint: true,
    },
    Binding {
        keys: &[(KeyCode::Char('r'), NONE)],
        label: "r",
        action: Action::Retry,
        description: "retry the selected record now",
        writes: true,
        hint: true,
    },
    Binding {
        keys: &[
            (KeyCode::Char('R'), KeyModifiers::SHIFT),
            (KeyCode::Char('R'), NONE),
        ],
        label: "R",
        action: Action::RetryCategory,
        description: "retry all FAILED of its category (asks)",
        writes: true,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('d'), NONE)],
        label: "d",
        action: Action::Dismiss,
        description: "dismiss the selected entry (asks)",
        writes: true,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('y'), NONE)],
        label: "y",
        action: Action::Confirm,
        description: "answer yes to the question asked",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[(KeyCode::Char('s'), NONE)],
        label: "s",
        action: Action::SyncNow,
        description: "sync contacts now",
        writes: true,
        hint: true,
    },
    Binding {
        keys: &[(KeyCode::Esc, NONE)],
        label: "Esc",
        action: Action::Back,
        description: "close the popup",
        writes: false,
        hint: false,
    },
    Binding {
        keys: &[
            (KeyCode::Char('?'), NONE),
            (KeyCode::Char('?'), KeyModifiers::SHIFT),
        ],
        label: "?",
        action: Action::Help,
        description: "show or hide this help",
        writes: false,
        hint: true,
    },
    Binding {
        keys: &[
            (KeyCode::Char('Q'), KeyModifiers::SHIFT),
            (KeyCode::Char('Q'), NONE),
        ],
        label: "Q",
        action: Action::StopEngine,
        description: "stop the engine for all consoles (asks)",
        writes: true,
        hint: false,
    },
    Binding {
        keys: &[
            (KeyCode::Char('q'), NONE),
            (KeyCode::Char('c'), KeyModifiers::CONTROL),
        ],
        label: "q",
        action: Action::Quit,
        description: "quit; an attached engine keeps running",
        writes: false,
        hint: true,
    },
];

#[derive(Debug, Clone)]
pub struct Keymap {
    /// Every binding, writes included: in read-only mode a write key still
    /// maps to its action, so the console can say why it does nothing.
    all: Vec<Binding>,
    /// What help and hints show: without the writes in read-only mode.
    bindings: Vec<Binding>,
}

impl Keymap {
    pub fn new(read_only: bool) -> Self {
        Keymap {
            all: DEFAULT.to_vec(),
            bindings: DEFAULT
                .iter()
                .filter(|b| !(read_only && b.writes))
                .copied()
                .collect(),
        }
    }

    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        // Terminals disagree on whether Shift comes with an upper-case
        // letter; compare without it for characters.
        let mods = match key.code {
            KeyCode::Char(_) => key.modifiers - KeyModifiers::SHIFT,
            _ => key.modifiers,
        };
        self.all
            .iter()
            .find(|b| {
                b.keys
                    .iter()
                    .any(|(c, m)| *c == key.code && (*m - KeyModifiers::SHIFT) == mods)
            })
            .map(|b| b.action)
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }
}
