//! Keys as people write them in `[keys]` and read them in the help:
//! `j`, `G`, `?`, `enter`, `esc`, `tab`, `shift-tab`, `ctrl-f`, `alt-x`,
//! `pagedown`, `f5`, `space`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::fmt;

/// One key with its modifiers, as a binding matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    /// Control and Alt only: Shift is part of the character (`G`, `?`),
    /// which terminals report with or without the Shift flag.
    pub mods: KeyModifiers,
}

impl Key {
    pub const fn plain(code: KeyCode) -> Key {
        Key {
            code,
            mods: KeyModifiers::NONE,
        }
    }

    pub const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            mods: KeyModifiers::CONTROL,
        }
    }

    /// The key a terminal event stands for, normalised the way bindings are.
    pub fn of(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            // Shift-Tab arrives as BackTab on most terminals, Tab+Shift on some.
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            // Ctrl with a letter may come upper-case (Ctrl-Shift-F): one key.
            KeyCode::Char(c) if mods.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            c => c,
        };
        if code == KeyCode::BackTab {
            mods -= KeyModifiers::SHIFT;
        }
        Key { code, mods }
    }

    /// Reads a key as `[keys]` spells it.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err("an empty key".into());
        }
        // A lone `-` is the minus key, not a separator.
        while rest.len() > 1 {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").or(lower.strip_prefix("c-")) {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-").or(lower.strip_prefix("m-")) {
                mods |= KeyModifiers::ALT;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("shift-") {
                let tail = &rest[rest.len() - r.len()..];
                if tail.eq_ignore_ascii_case("tab") {
                    return Ok(Key {
                        code: KeyCode::BackTab,
                        mods,
                    });
                }
                let mut chars = tail.chars();
                return match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Key {
                        code: KeyCode::Char(c.to_ascii_uppercase()),
                        mods,
                    }),
                    _ => Err(format!(
                        "{s:?}: shift- goes with a letter or tab (write `G`, not `shift-g`, if you like)"
                    )),
                };
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if mods.contains(KeyModifiers::CONTROL) {
                c.to_ascii_lowercase()
            } else {
                c
            }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "{s:?} is not a key hubsync knows (a character, or enter, esc, tab, shift-tab, space, backspace, delete, up, down, left, right, home, end, pageup, pagedown, f1–f24, with ctrl- or alt- before it)"
                    ));
                }
            },
        };
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn keys_parse_as_config_spells_them() {
        assert_eq!(Key::parse("j"), Ok(Key::ch('j')));
        assert_eq!(Key::parse("G"), Ok(Key::ch('G')));
        assert_eq!(Key::parse("ctrl-f"), Ok(Key::ctrl('f')));
        assert_eq!(Key::parse("Ctrl-F"), Ok(Key::ctrl('f')));
        assert_eq!(Key::parse("shift-tab"), Ok(Key::plain(KeyCode::BackTab)));
        assert_eq!(Key::parse("pagedown"), Ok(Key::plain(KeyCode::PageDown)));
        assert_eq!(Key::parse("-"), Ok(Key::ch('-')));
        assert_eq!(Key::parse("f5"), Ok(Key::plain(KeyCode::F(5))));
        assert_eq!(
            Key::parse("alt-x"),
            Ok(Key {
                code: KeyCode::Char('x'),
                mods: KeyModifiers::ALT
            })
        );
    }

    #[test]
    fn an_unknown_key_name_says_what_keys_exist() {
        let e = Key::parse("hyper-q").unwrap_err();
        assert!(e.contains("\"hyper-q\"") && e.contains("pagedown"), "{e}");
        assert!(Key::parse("").is_err());
    }

    #[test]
    fn terminal_events_match_with_or_without_the_shift_flag() {
        let with = Key::of(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT));
        let without = Key::of(&ev(KeyCode::Char('G'), KeyModifiers::NONE));
        assert_eq!(with, Key::ch('G'));
        assert_eq!(without, Key::ch('G'));
        assert_eq!(
            Key::of(&ev(KeyCode::Tab, KeyModifiers::SHIFT)),
            Key::plain(KeyCode::BackTab)
        );
        assert_eq!(
            Key::of(&ev(
                KeyCode::Char('F'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            )),
            Key::ctrl('f')
        );
    }
}
