//! Where each key of the config file is, for problems found after parsing:
//! a secret's environment variable that is not set, an app database that
//! is missing, a table or column it does not have. Those are found when
//! the engine starts or `hubsync check` runs, long after the typed config
//! was built, so the file is read once more as plain TOML and every key's
//! position kept by its dotted path (`app.database`,
//! `objects.contacts.fields[2].app`).

use std::collections::BTreeMap;
use toml::de::{DeTable, DeValue};

/// One key: its line and column (1-based), and its value when that is
/// text (so a column can be traced to the key that names it).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    offset: usize,
    line: usize,
    column: usize,
    text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    entries: BTreeMap<String, Entry>,
}

impl Keys {
    /// Every key of `text`; empty if it does not parse (then the typed
    /// parse has already refused it, with its own position).
    pub fn read(text: &str) -> Keys {
        let mut keys = Keys::default();
        if let Ok(root) = DeTable::parse(text) {
            keys.table(text, "", root.get_ref());
        }
        keys
    }

    fn table(&mut self, text: &str, prefix: &str, t: &DeTable<'_>) {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.value(text, path, k.span().start, v.get_ref());
        }
    }

    fn value(&mut self, text: &str, path: String, at: usize, v: &DeValue<'_>) {
        let (line, column) = super::raw::position(text, at);
        let entry = |text: Option<String>| Entry {
            offset: at,
            line,
            column,
            text,
        };
        match v {
            DeValue::String(s) => {
                self.entries.insert(path, entry(Some(s.to_string())));
            }
            DeValue::Table(t) => {
                self.entries.entry(path.clone()).or_insert(entry(None));
                self.table(text, &path, t);
            }
            DeValue::Array(items) => {
                self.entries.entry(path.clone()).or_insert(entry(None));
                for (i, item) in items.iter().enumerate() {
                    // Elements of an array of tables are best found at their
                    // own `[[header]]` or `{`; scalars at their value.
                    self.value(
                        text,
                        format!("{path}[{i}]"),
                        item.span().start,
                        item.get_ref(),
                    );
                }
            }
            _ => {
                self.entries.insert(path, entry(None));
            }
        }
    }

    /// The line and column of `key`, or of the nearest enclosing key that
    /// the file has (a default value has no line of its own: its table
    /// does); `None` only for a file with none of them.
    pub fn position(&self, key: &str) -> Option<(usize, usize)> {
        let mut k = key;
        loop {
            if let Some(e) = self.entries.get(k) {
                return Some((e.line, e.column));
            }
            k = &k[..k.rfind(['.', '['])?];
        }
    }

    /// The key a problem found at byte `offset` belongs to: the last key
    /// that starts at or before it (the deepest, when several start there).
    pub fn key_at(&self, offset: usize) -> Option<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.offset <= offset)
            .max_by_key(|(k, e)| (e.offset, k.len()))
            .map(|(k, _)| k.clone())
    }

    /// Whether the file has exactly this key.
    pub fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// The text value of exactly this key, when it is text.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.entries.get(key).and_then(|e| e.text.as_deref())
    }

    /// The first key under `prefix` (in file order) whose text is `value`.
    pub fn naming(&self, prefix: &str, value: &str) -> Option<String> {
        self.entries
            .iter()
            .filter(|(k, e)| {
                k.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(['.', '[']))
                    && e.text.as_deref() == Some(value)
            })
            .min_by_key(|(_, e)| (e.line, e.column))
            .map(|(k, _)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[app]\ndatabase = \"app.db\"\n\n[objects.contacts]\ntable = \"people\"\n\n[[objects.contacts.fields]]\napp = \"email\"\n\n[[objects.contacts.fields]]\napp = [\"first\", \"last\"]\n";

    #[test]
    fn each_key_is_found_at_its_line_and_column() {
        let k = Keys::read(TEXT);
        assert_eq!(k.position("app.database"), Some((2, 1)));
        assert_eq!(k.position("objects.contacts.table"), Some((5, 1)));
        assert_eq!(k.position("objects.contacts.fields[1].app"), Some((11, 1)));
    }

    #[test]
    fn a_key_the_file_lacks_is_found_at_its_table() {
        let k = Keys::read(TEXT);
        assert_eq!(k.position("objects.contacts.id_column"), Some((4, 10)));
    }

    #[test]
    fn a_column_leads_to_the_key_that_names_it() {
        let k = Keys::read(TEXT);
        assert_eq!(
            k.naming("objects.contacts", "last").as_deref(),
            Some("objects.contacts.fields[1].app[1]")
        );
        assert_eq!(k.naming("objects.companies", "last"), None);
    }
}
