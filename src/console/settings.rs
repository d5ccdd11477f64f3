//! The console's own part of the config file: `[keys]` (rebind or unbind
//! any key, per mode) and `[console]` (`mouse`, `copy`). A console reads it
//! itself, because an attached console does not load the engine's config
//! (the engine may run as another user with secrets this one cannot read).
//! Errors point at the file, line and column of the entry.

use super::keymap::{KeyOverrides, parse_overrides};
use crate::config::keys::Keys;
use std::path::Path;

/// How copying reaches the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyMethod {
    /// OSC 52, wrapped for tmux and screen when inside them: works over SSH.
    #[default]
    Osc52,
    /// Copying is off (a terminal that prints the sequence instead).
    Off,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Clicks select and the wheel scrolls (off: the terminal keeps its own
    /// selection, which most people over SSH want).
    pub mouse: bool,
    pub copy: CopyMethod,
    pub keys: KeyOverrides,
}

impl Settings {
    /// Reads `[keys]` and `[console]` from a config file; no file, no
    /// settings (the defaults).
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                return Ok(Settings::default());
            }
            Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        };
        Settings::parse(&text).map_err(|(at, msg)| {
            let place = Keys::read(&text)
                .position(&at)
                .map_or(String::new(), |(l, c)| format!(":{l}:{c}"));
            anyhow::anyhow!("{}{place}: {msg}", path.display())
        })
    }

    /// Errors are (dotted key, message).
    pub fn parse(text: &str) -> Result<Settings, (String, String)> {
        // A syntax error is the engine config loader's to report, with its
        // position; here it only means there are no console settings.
        let Ok(doc) = text.parse::<toml::Table>() else {
            return Ok(Settings::default());
        };
        let mut s = Settings::default();
        if let Some(keys) = doc.get("keys") {
            let t = keys
                .as_table()
                .ok_or(("keys".to_string(), "[keys] is a table of modes".to_string()))?;
            s.keys = parse_overrides(t)?;
        }
        if let Some(console) = doc.get("console") {
            let t = console.as_table().ok_or((
                "console".to_string(),
                "[console] is a table (mouse = true, copy = \"osc52\")".to_string(),
            ))?;
            for (k, v) in t {
                let at = format!("console.{k}");
                match k.as_str() {
                    "mouse" => {
                        s.mouse = v
                            .as_bool()
                            .ok_or((at, "mouse is true or false".to_string()))?
                    }
                    "copy" => {
                        s.copy = match v.as_str() {
                            Some("osc52") => CopyMethod::Osc52,
                            Some("off") => CopyMethod::Off,
                            _ => return Err((at, "copy is \"osc52\" or \"off\"".into())),
                        }
                    }
                    _ => {
                        return Err((
                            at,
                            format!(
                                "unknown console setting {k:?}; the settings are mouse and copy"
                            ),
                        ));
                    }
                }
            }
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mouse_is_off_and_copy_is_osc52_unless_the_config_says_otherwise() {
        let s = Settings::parse("[hubspot]\n").unwrap();
        assert!(!s.mouse);
        assert_eq!(s.copy, CopyMethod::Osc52);
        let s = Settings::parse("[console]\nmouse = true\ncopy = \"off\"\n").unwrap();
        assert!(s.mouse);
        assert_eq!(s.copy, CopyMethod::Off);
    }

    #[test]
    fn a_bad_setting_is_refused_at_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hubsync.toml");
        std::fs::write(&path, "[hubspot]\n\n[keys.normal]\nretry = \"hyper-r\"\n").unwrap();
        let e = Settings::load(&path).unwrap_err().to_string();
        assert!(e.contains("hubsync.toml:4:1"), "{e}");
        assert!(e.contains("not a key"), "{e}");
    }
}
