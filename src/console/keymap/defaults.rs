//! The keys hubsync ships with, per mode. `[keys]` in the config rebinds or
//! unbinds any of them; the help and the footer are built from the result.

use super::Mode;
use super::keys::Key;
use crate::console::action::Action::{self, *};
use crossterm::event::KeyCode as K;

pub fn table(mode: Mode) -> Vec<(Action, Vec<Key>)> {
    let k = Key::ch;
    let p = Key::plain;
    match mode {
        Mode::Normal => vec![
            (Down, vec![k('j'), p(K::Down)]),
            (Up, vec![k('k'), p(K::Up)]),
            (PageDown, vec![p(K::PageDown), Key::ctrl('f')]),
            (PageUp, vec![p(K::PageUp), Key::ctrl('b')]),
            (Top, vec![k('g'), p(K::Home)]),
            (Bottom, vec![k('G'), p(K::End)]),
            (OlderPage, vec![k(']')]),
            (NewerPage, vec![k('[')]),
            (Open, vec![p(K::Enter)]),
            (Filter, vec![k('/')]),
            (Command, vec![k(':')]),
            (FocusNext, vec![p(K::Tab)]),
            (FocusPrev, vec![p(K::BackTab)]),
            (Zoom, vec![k('z')]),
            (Retry, vec![k('r')]),
            (RetryCategory, vec![k('R')]),
            (Dismiss, vec![k('d')]),
            (SyncNow, vec![k('s')]),
            (EditField, vec![k('e')]),
            (Refresh, vec![Key::ctrl('r'), p(K::F(5))]),
            (Copy, vec![k('c')]),
            (PreviewConfig, vec![k('p')]),
            (RevertConfig, vec![k('u')]),
            (Add, vec![k('a')]),
            (AddGroup, vec![k('A')]),
            (Remove, vec![k('x')]),
            (MoveUp, vec![k('K')]),
            (MoveDown, vec![k('J')]),
            (Undo, vec![Key::ctrl('z')]),
            (Apply, vec![Key::ctrl('s')]),
            (PreviewRecord, vec![k('P')]),
            (FailedOnly, vec![k('f')]),
            (Mark, vec![k(' ')]),
            (Confirm, vec![k('y')]),
            (Back, vec![p(K::Esc)]),
            (Help, vec![k('?')]),
            (StopEngine, vec![k('Q')]),
            (Quit, vec![k('q'), Key::ctrl('c')]),
        ],
        // Everything else typed in a prompt is text.
        Mode::Prompt => vec![
            (Submit, vec![p(K::Enter)]),
            (Cancel, vec![p(K::Esc), Key::ctrl('c')]),
            (Complete, vec![p(K::Tab)]),
            (CompletePrev, vec![p(K::BackTab)]),
            (HistoryPrev, vec![p(K::Up)]),
            (HistoryNext, vec![p(K::Down)]),
        ],
        // Everything else goes to the text being edited.
        Mode::Editor => vec![(Save, vec![Key::ctrl('s')]), (Cancel, vec![p(K::Esc)])],
    }
}
