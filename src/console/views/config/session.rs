//! The config being edited in this console: the file as the engine served
//! it (`config_source`: its text, its hash, the app tables' real columns
//! and HubSpot's property lists), the working copy with every edit made
//! since, and what the validators say about it. It lives in the console's
//! shared context, not in a view, so leaving the editor and coming back
//! (or going from `:mappings` to `:filters`) keeps the unsaved edits.
//!
//! Checking happens here, in the console, with the same code the engine
//! runs before it saves (config loading, then `config::validate` over the
//! facts the engine sent), so an error shows beside the field as it is
//! typed without a round trip, and says what `hubsync check` would.

use crate::appdb::{ColumnInfo, TableInfo};
use crate::config::edit::{ConfigDoc, Edit};
use crate::config::validate::{self, Facts, Problem};
use crate::config::{Config, ConfigError};
use crate::hubspot::wire::{Property, PropertyModificationMetadata, PropertyOption};
use crate::model::ObjectKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What the engine told about one object's two sides.
#[derive(Debug, Clone)]
pub struct ObjectFacts {
    pub table: String,
    /// The app table's columns, or why they could not be read.
    pub columns: Result<Vec<ColumnInfo>, String>,
    /// HubSpot's properties, or why they could not be fetched.
    pub properties: Result<Vec<Property>, String>,
    /// When the property list was fetched (RFC 3339).
    pub fetched_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EditSession {
    pub path: PathBuf,
    /// The hash `config_apply` is given back: the file as loaded.
    pub base: String,
    /// The file's text as loaded.
    pub loaded: String,
    pub doc: ConfigDoc,
    /// The edits made since loading, replayed onto the file when it has
    /// to be loaded again (someone else saved meanwhile).
    pub edits: Vec<Edit>,
    /// The working copy before each edit, for undo.
    undo: Vec<ConfigDoc>,
    pub facts: BTreeMap<ObjectKind, ObjectFacts>,
    /// The validators' problems with the working copy.
    pub problems: Vec<Problem>,
    /// Why the working copy does not load (a raw edit can leave it so).
    pub load_error: Option<ConfigError>,
}

fn facts_from(v: &Value) -> BTreeMap<ObjectKind, ObjectFacts> {
    let mut out = BTreeMap::new();
    for o in v["objects"].as_array().into_iter().flatten() {
        let Ok(kind) = serde_json::from_value::<ObjectKind>(o["object"].clone()) else {
            continue;
        };
        let columns = match o["columns"].as_array() {
            Some(list) => Ok(list
                .iter()
                .map(|c| ColumnInfo {
                    name: c["name"].as_str().unwrap_or("").to_string(),
                    type_name: c["type"].as_str().unwrap_or("").to_string(),
                })
                .collect()),
            None => Err(o["columns"]["error"]
                .as_str()
                .unwrap_or("the engine did not say")
                .to_string()),
        };
        let p = &o["properties"];
        let properties = match p["list"].as_array() {
            Some(list) => Ok(list.iter().map(property).collect()),
            None => Err(p["error"]
                .as_str()
                .unwrap_or("the engine did not say")
                .to_string()),
        };
        out.insert(
            kind,
            ObjectFacts {
                table: o["table"].as_str().unwrap_or("").to_string(),
                columns,
                properties,
                fetched_at: p["fetched_at"].as_str().map(str::to_string),
            },
        );
    }
    out
}

/// A property as `config_source` describes it, in HubSpot's own shape so
/// the validators read it as they read HubSpot's answer.
fn property(v: &Value) -> Property {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    Property {
        name: s("name"),
        label: s("label"),
        kind: s("type"),
        field_type: String::new(),
        has_unique_value: v["unique"].as_bool().unwrap_or(false),
        calculated: false,
        options: v["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str())
            .map(|o| PropertyOption {
                label: o.to_string(),
                value: o.to_string(),
            })
            .collect(),
        modification_metadata: Some(PropertyModificationMetadata {
            read_only_value: v["read_only"].as_bool().unwrap_or(false),
            read_only_definition: false,
        }),
    }
}

impl EditSession {
    /// The session for `config_source`'s answer.
    pub fn from_source(v: &Value) -> Result<EditSession, String> {
        let text = v["text"].as_str().ok_or("the engine sent no config text")?;
        let path = PathBuf::from(v["path"].as_str().unwrap_or("hubsync.toml"));
        let doc = ConfigDoc::parse(&path, text).map_err(|e| e.to_string())?;
        let mut s = EditSession {
            path,
            base: v["hash"].as_str().unwrap_or("").to_string(),
            loaded: text.to_string(),
            doc,
            edits: Vec::new(),
            undo: Vec::new(),
            facts: facts_from(v),
            problems: Vec::new(),
            load_error: None,
        };
        s.revalidate();
        Ok(s)
    }

    /// New facts (a refreshed property list) for the same working copy.
    pub fn refresh_facts(&mut self, v: &Value) {
        for (k, f) in facts_from(v) {
            self.facts.insert(k, f);
        }
        self.revalidate();
    }

    /// The file as it is now on disk with this console's edits made on it
    /// again; the edits that no longer apply are dropped and listed.
    pub fn rebase(&mut self, v: &Value) -> Result<Vec<String>, String> {
        let mut fresh = EditSession::from_source(v)?;
        let mut dropped = Vec::new();
        for e in std::mem::take(&mut self.edits) {
            if let Err(err) = fresh.apply(e.clone()) {
                dropped.push(format!("{}: {}", describe(&e), err.message));
            }
        }
        *self = fresh;
        Ok(dropped)
    }

    pub fn text(&self) -> String {
        self.doc.text()
    }

    /// The working copy was saved as the file with this hash: it is the
    /// file as loaded now, with nothing to undo or replay.
    pub fn saved(&mut self, hash: &str) {
        self.loaded = self.doc.text();
        self.base = hash.to_string();
        self.edits.clear();
        self.undo.clear();
    }

    /// Whether the working copy differs from the file as loaded.
    pub fn dirty(&self) -> bool {
        self.doc.text() != self.loaded
    }

    /// Makes an edit to the working copy if the result loads; otherwise
    /// leaves it as it was and says where and why.
    pub fn apply(&mut self, edit: Edit) -> Result<(), ConfigError> {
        let before = self.doc.clone();
        self.doc.apply(&edit)?;
        self.undo.push(before);
        self.edits.push(edit);
        self.revalidate();
        Ok(())
    }

    /// What an edit would meet without making it: the loading error, or
    /// the validators' problems with the result (for errors as typed).
    pub fn try_edit(&self, edit: &Edit) -> Result<Vec<Problem>, ConfigError> {
        let mut doc = self.doc.clone();
        let cfg = doc.apply(edit)?;
        Ok(self.validate(&cfg))
    }

    /// Goes back one edit; false when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(doc) = self.undo.pop() else {
            return false;
        };
        self.doc = doc;
        self.edits.pop();
        self.revalidate();
        true
    }

    fn revalidate(&mut self) {
        match self.doc.check() {
            Ok(cfg) => {
                self.problems = self.validate(&cfg);
                self.load_error = None;
            }
            Err(e) => {
                self.problems.clear();
                self.load_error = Some(e);
            }
        }
    }

    fn validate(&self, cfg: &Config) -> Vec<Problem> {
        let mut out = Vec::new();
        for o in &cfg.objects {
            let facts = self.facts.get(&o.mapping.object);
            let table = facts
                .and_then(|f| f.columns.as_ref().ok())
                .map(|c| TableInfo {
                    table: o.mapping.table.clone(),
                    columns: c.clone(),
                    leading_index_columns: Vec::new(),
                });
            let props = facts.and_then(|f| f.properties.as_ref().ok());
            out.extend(validate::object(
                cfg,
                o,
                &Facts {
                    properties: props.map(Vec::as_slice),
                    table: table.as_ref(),
                },
            ));
        }
        out
    }

    /// The problems of one entry (`fields[2]`) of one object, as (field,
    /// message) pairs for a form.
    pub fn problems_of(&self, object: ObjectKind, entry: &str) -> Vec<(String, String)> {
        self.problems
            .iter()
            .filter(|p| p.object == object.to_string() && p.entry == entry)
            .map(|p| (p.field.clone(), p.message.clone()))
            .collect()
    }
}

/// An edit in a few words, for "this edit no longer applies".
pub fn describe(e: &Edit) -> String {
    match e {
        Edit::AddField { field, .. } => format!("add field {}", field.app.join("+")),
        Edit::SetField { index, .. } => format!("change field {}", index + 1),
        Edit::RemoveField { index, .. } => format!("remove field {}", index + 1),
        Edit::MoveField { from, to, .. } => format!("move field {} to {}", from + 1, to + 1),
        Edit::AddGroup { direction, .. } => format!("add a {direction} filter group"),
        Edit::RemoveGroup { group, .. } => format!("remove filter group {}", group + 1),
        Edit::AddFilter { group, .. } => format!("add a filter to group {}", group + 1),
        Edit::SetFilter { group, index, .. } => {
            format!("change filter {} of group {}", index + 1, group + 1)
        }
        Edit::RemoveFilter { group, index, .. } => {
            format!("remove filter {} of group {}", index + 1, group + 1)
        }
        Edit::SetSetting { key, .. } => format!("set {key}"),
        Edit::SetSection { .. } => "the section's text".into(),
    }
}

/// A loading error as (field, message) for a form whose entry is
/// `entry` of `object`: beside the field it names, or the form's own.
pub fn error_for(object: ObjectKind, entry: &str, e: &ConfigError) -> (String, String) {
    let key = e.key.as_deref().unwrap_or("");
    let (at, field) = validate::entry_and_field(&object.to_string(), key);
    if at == entry {
        (field, e.message.clone())
    } else {
        (String::new(), e.message.clone())
    }
}
