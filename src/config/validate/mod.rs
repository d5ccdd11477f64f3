//! The checks that need more than the file: HubSpot's property list and
//! the app table's columns. One set, used by `hubsync check`, by the
//! editor's validation as a change is typed, and by `config_apply` before
//! a file is written, so all three say the same thing in the same words.
//! (What the file alone can tell, config loading says: `super::raw`.)
//!
//! Each problem names its key (`objects.contacts.fields[2].hubspot`), so
//! an editor can show it beside the entry and field it belongs to.

mod columns;
mod properties;
mod types;

use super::{Config, ObjectConfig};
use crate::appdb::TableInfo;
use crate::hubspot::wire::Property;
use serde::Serialize;
use std::fmt;

pub use types::{FieldType, column_type, property_type};

/// One problem with one entry of an object's section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The dotted key the problem belongs to.
    pub key: String,
    /// The object (`contacts`).
    pub object: String,
    /// The entry within the object (`fields[2]`,
    /// `filter_groups[0].filters[1]`), or empty for the object itself.
    pub entry: String,
    /// The field of that entry (`hubspot`, `op`, `value`), or empty.
    pub field: String,
    /// The entry for people: `field job_title → jobtitle`.
    pub context: String,
    pub message: String,
    /// The file's line and column of the key (or its table), when known.
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            write!(f, "[objects.{}]: {}", self.object, self.message)
        } else {
            write!(
                f,
                "[objects.{}] {}: {}",
                self.object, self.context, self.message
            )
        }
    }
}

/// What the checks look at, each when it could be read.
pub struct Facts<'a> {
    pub properties: Option<&'a [Property]>,
    pub table: Option<&'a TableInfo>,
}

/// Every problem with one object of `cfg`, given HubSpot's properties and
/// the app table (each check runs only when what it needs is known).
pub fn object(cfg: &Config, o: &ObjectConfig, facts: &Facts<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut say = |key: String, context: String, message: String| {
        out.push(problem(cfg, o, key, context, message));
    };
    if let Some(props) = facts.properties {
        properties::check(o, props, &mut say);
    }
    if let Some(table) = facts.table {
        columns::check(o, table, &mut say);
    }
    types::check(cfg, o, facts, &mut say);
    out
}

fn problem(
    cfg: &Config,
    o: &ObjectConfig,
    key: String,
    context: String,
    message: String,
) -> Problem {
    let object = o.mapping.object.to_string();
    let (entry, field) = entry_and_field(&object, &key);
    let (line, column) = cfg.keys.position(&key).unwrap_or((0, 0));
    Problem {
        key,
        object,
        entry,
        field,
        context,
        message,
        line,
        column,
    }
}

/// A dotted key as the entry of `object` it is in and that entry's
/// field: `objects.contacts.fields[2].hubspot[1]` → (`fields[2]`,
/// `hubspot`); a setting is (``, `direction`).
pub fn entry_and_field(object: &str, key: &str) -> (String, String) {
    let prefix = format!("objects.{object}");
    let rest = key
        .strip_prefix(&prefix)
        .map(|r| r.trim_start_matches('.'))
        .unwrap_or("");
    let (entry, field) = match rest.rfind('.') {
        Some(i) if rest[..i].contains('[') => (rest[..i].to_string(), rest[i + 1..].to_string()),
        _ if rest.contains('[') => (rest.to_string(), String::new()),
        _ => (String::new(), rest.to_string()),
    };
    let field = field.split('[').next().unwrap_or("").to_string();
    (entry, field)
}

/// The key of the `i`-th filter group of one direction: the file mixes
/// both directions' groups in one array, the typed config splits them.
pub(super) fn filter_group_key(
    cfg: &Config,
    o: &ObjectConfig,
    way: crate::model::Direction,
    i: usize,
) -> String {
    let prefix = format!("objects.{}.filter_groups", o.mapping.object);
    let file_index = (0..)
        .take_while(|k| cfg.keys.has(&format!("{prefix}[{k}]")))
        .filter(|k| cfg.keys.text(&format!("{prefix}[{k}].direction")) == Some(way.as_str()))
        .nth(i)
        .unwrap_or(i);
    format!("{prefix}[{file_index}]")
}

/// Names close to `wanted` among `names`, closest first, for "did you
/// mean": by edit distance, on the name and on its label.
pub fn nearest<'a>(wanted: &str, names: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<&'a str> {
    let w = wanted.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|(name, label)| {
            let by_name = strsim::normalized_damerau_levenshtein(&w, &name.to_lowercase());
            let by_label = strsim::normalized_damerau_levenshtein(&w, &label.to_lowercase());
            (by_name.max(by_label), name)
        })
        .filter(|(score, _)| *score >= 0.5)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}
