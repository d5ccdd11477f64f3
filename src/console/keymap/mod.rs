//! Keys become actions only through these tables, one per mode, built from
//! the defaults and the user's `[keys]`. The help screen and the footer
//! hints are built from the same tables, so what they show is what the
//! keys do. In read-only mode the actions that write stay in the tables (a
//! key still finds its action, so the console can say why it does
//! nothing) but leave the help and the hints.

mod defaults;
pub mod keys;

use super::action::Action;
use crossterm::event::KeyEvent;
pub use keys::Key;
use std::collections::BTreeMap;

/// What kind of input the console is taking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// Keys are commands.
    Normal,
    /// A line is being typed (`:` command, `/` filter, a value).
    Prompt,
    /// Text is being edited (raw TOML, a field's value).
    Editor,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Normal, Mode::Prompt, Mode::Editor];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Prompt => "prompt",
            Mode::Editor => "editor",
        }
    }
}

/// `[keys]` as read from the config: mode → action name → keys (an empty
/// list unbinds), with where each entry is for error messages.
pub type KeyOverrides = BTreeMap<Mode, Vec<Override>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub action: Action,
    pub keys: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<Key>,
}

impl Binding {
    /// How the keys are written in the help and the hints: `j/↓`.
    pub fn label(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Debug, Clone)]
pub struct Keymap {
    tables: BTreeMap<Mode, Vec<Binding>>,
    read_only: bool,
}

impl Keymap {
    pub fn new(read_only: bool) -> Keymap {
        Keymap::with_overrides(read_only, &KeyOverrides::new())
    }

    /// The defaults with `[keys]` applied: a rebound action loses its
    /// default keys, and a key given to one action is taken from any other
    /// in the same mode (the user's word wins over the defaults).
    pub fn with_overrides(read_only: bool, overrides: &KeyOverrides) -> Keymap {
        let mut tables = BTreeMap::new();
        for mode in Mode::ALL {
            let mut table: Vec<Binding> = defaults::table(mode)
                .into_iter()
                .map(|(action, keys)| Binding { action, keys })
                .collect();
            for o in overrides.get(&mode).into_iter().flatten() {
                for b in &mut table {
                    b.keys.retain(|k| !o.keys.contains(k));
                }
                match table.iter_mut().find(|b| b.action == o.action) {
                    Some(b) => b.keys = o.keys.clone(),
                    None => table.push(Binding {
                        action: o.action,
                        keys: o.keys.clone(),
                    }),
                }
            }
            table.retain(|b| !b.keys.is_empty());
            tables.insert(mode, table);
        }
        Keymap { tables, read_only }
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The action a key stands for in a mode (writes included: see the
    /// module comment).
    pub fn action(&self, mode: Mode, key: &KeyEvent) -> Option<Action> {
        let key = Key::of(key);
        self.tables
            .get(&mode)?
            .iter()
            .find(|b| b.keys.contains(&key))
            .map(|b| b.action)
    }

    /// What the help and hints show for a mode.
    pub fn bindings(&self, mode: Mode) -> impl Iterator<Item = &Binding> {
        let ro = self.read_only;
        self.tables
            .get(&mode)
            .into_iter()
            .flatten()
            .filter(move |b| !(ro && b.action.writes()))
    }

    /// The binding of one action, if it has keys and is shown.
    pub fn binding(&self, mode: Mode, action: Action) -> Option<&Binding> {
        self.bindings(mode).find(|b| b.action == action)
    }
}

/// Reads `[keys]`: `[keys.normal] retry = "r"` or `retry = ["r", "ctrl-r"]`,
/// `dismiss = []` to unbind. Errors name the entry (`keys.normal.retry`)
/// and say what is wrong; the caller adds the file and line.
pub fn parse_overrides(table: &toml::Table) -> Result<KeyOverrides, (String, String)> {
    let mut out = KeyOverrides::new();
    for (mode_name, actions) in table {
        let Some(mode) = Mode::ALL.into_iter().find(|m| m.name() == mode_name) else {
            return Err((
                format!("keys.{mode_name}"),
                format!(
                    "[keys.{mode_name}]: the modes are normal, prompt and editor (e.g. [keys.normal] retry = \"r\")"
                ),
            ));
        };
        let Some(actions) = actions.as_table() else {
            return Err((
                format!("keys.{mode_name}"),
                format!("keys.{mode_name} is a table of action = key(s)"),
            ));
        };
        let list = out.entry(mode).or_default();
        for (name, value) in actions {
            let at = format!("keys.{mode_name}.{name}");
            let in_mode = |a: &Action| defaults::table(mode).iter().any(|(d, _)| d == a);
            let Some(action) = Action::named(name).filter(in_mode) else {
                let names: Vec<_> = defaults::table(mode)
                    .into_iter()
                    .map(|(a, _)| a.info().name)
                    .collect();
                return Err((
                    at,
                    format!(
                        "no action {name:?} in {mode_name} mode; its actions are {}",
                        names.join(", ")
                    ),
                ));
            };
            let specs: Vec<&str> = match value {
                toml::Value::String(s) => vec![s.as_str()],
                toml::Value::Array(a) => {
                    let mut v = Vec::with_capacity(a.len());
                    for item in a {
                        match item.as_str() {
                            Some(s) => v.push(s),
                            None => {
                                return Err((
                                    at,
                                    format!("{name}: each key is a string, like \"ctrl-r\""),
                                ));
                            }
                        }
                    }
                    v
                }
                _ => {
                    return Err((
                        at,
                        format!(
                            "{name} takes a key (\"r\") or a list ([\"r\", \"ctrl-r\"]; [] unbinds)"
                        ),
                    ));
                }
            };
            let mut keys = Vec::with_capacity(specs.len());
            for s in specs {
                keys.push(Key::parse(s).map_err(|e| (at.clone(), format!("{name}: {e}")))?);
            }
            list.push(Override { action, keys });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn press(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn overrides(text: &str) -> KeyOverrides {
        let t: toml::Table = text.parse().unwrap();
        parse_overrides(t["keys"].as_table().unwrap()).unwrap()
    }

    #[test]
    fn a_rebound_action_answers_its_new_key_and_not_its_old_one() {
        let map = Keymap::with_overrides(false, &overrides("[keys.normal]\nretry = \"t\""));
        assert_eq!(map.action(Mode::Normal, &press('t')), Some(Action::Retry));
        assert_eq!(map.action(Mode::Normal, &press('r')), None);
    }

    #[test]
    fn a_key_given_to_another_action_is_taken_from_its_default_one() {
        let map = Keymap::with_overrides(false, &overrides("[keys.normal]\nsync_now = \"r\""));
        assert_eq!(map.action(Mode::Normal, &press('r')), Some(Action::SyncNow));
        assert!(map.binding(Mode::Normal, Action::Retry).is_none());
    }

    #[test]
    fn an_empty_list_unbinds_an_action_and_it_leaves_the_help() {
        let map = Keymap::with_overrides(false, &overrides("[keys.normal]\ndismiss = []"));
        assert_eq!(map.action(Mode::Normal, &press('d')), None);
        assert!(
            map.bindings(Mode::Normal)
                .all(|b| b.action != Action::Dismiss)
        );
    }

    #[test]
    fn read_only_hides_writes_but_still_recognises_their_keys() {
        let map = Keymap::new(true);
        assert!(map.bindings(Mode::Normal).all(|b| !b.action.writes()));
        assert_eq!(map.action(Mode::Normal, &press('r')), Some(Action::Retry));
    }

    #[test]
    fn the_same_key_means_different_things_per_mode() {
        let map = Keymap::new(false);
        let tab = KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE);
        assert_eq!(map.action(Mode::Normal, &tab), Some(Action::FocusNext));
        assert_eq!(map.action(Mode::Prompt, &tab), Some(Action::Complete));
        // In a prompt, letters are text, not commands.
        assert_eq!(map.action(Mode::Prompt, &press('q')), None);
    }

    #[test]
    fn bad_key_entries_name_the_entry_and_what_is_allowed() {
        let t: toml::Table = "[keys.normal]\nretyr = \"r\"".parse().unwrap();
        let (at, msg) = parse_overrides(t["keys"].as_table().unwrap()).unwrap_err();
        assert_eq!(at, "keys.normal.retyr");
        assert!(msg.contains("retry"), "{msg}");
        let t: toml::Table = "[keys.normal]\nretry = \"hyper-r\"".parse().unwrap();
        let (_, msg) = parse_overrides(t["keys"].as_table().unwrap()).unwrap_err();
        assert!(msg.contains("not a key"), "{msg}");
        let t: toml::Table = "[keys.insert]\nretry = \"r\"".parse().unwrap();
        let (at, _) = parse_overrides(t["keys"].as_table().unwrap()).unwrap_err();
        assert_eq!(at, "keys.insert");
    }
}
