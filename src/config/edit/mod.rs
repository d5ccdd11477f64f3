//! Editing the config file in place: one object's field mappings, filter
//! groups and settings, or the raw text of its section, keeping every
//! comment and the layout of everything the edit does not touch
//! (`toml_edit`). Each edit is checked as config loading checks a file
//! before it is accepted: a refused edit leaves the document as it was and
//! says what is wrong and where (`ConfigError::key` names the entry).
//!
//! `mappings`, `filters`, `settings` and `section` are the four kinds of
//! edit; [`Edit`] is all of them, as a console or the protocol sends them.

mod filters;
mod mappings;
mod read;
mod section;
mod settings;

pub use filters::FilterSpec;
pub use mappings::FieldSpec;
pub use read::GroupSpec;
pub use settings::SETTINGS;

use super::{Config, ConfigError};
use crate::model::ObjectKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use toml_edit::DocumentMut;

/// One change to one object's section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum Edit {
    /// A new field mapping, at `at` (the end if None).
    AddField {
        object: ObjectKind,
        field: FieldSpec,
        #[serde(default)]
        at: Option<usize>,
    },
    SetField {
        object: ObjectKind,
        index: usize,
        field: FieldSpec,
    },
    RemoveField {
        object: ObjectKind,
        index: usize,
    },
    MoveField {
        object: ObjectKind,
        from: usize,
        to: usize,
    },
    /// A new filter group (ORed with the others of its direction) holding
    /// one filter: a group with none is refused.
    AddGroup {
        object: ObjectKind,
        direction: String,
        filter: FilterSpec,
    },
    RemoveGroup {
        object: ObjectKind,
        group: usize,
    },
    /// A filter ANDed into group `group` (its index in the file).
    AddFilter {
        object: ObjectKind,
        group: usize,
        filter: FilterSpec,
    },
    SetFilter {
        object: ObjectKind,
        group: usize,
        index: usize,
        filter: FilterSpec,
    },
    RemoveFilter {
        object: ObjectKind,
        group: usize,
        index: usize,
    },
    /// `direction`, `create`, `system_of_record`, `poll_interval_secs` or
    /// `batch_size`; None removes the key (its default applies).
    SetSetting {
        object: ObjectKind,
        key: String,
        #[serde(default)]
        value: Option<serde_json::Value>,
    },
    /// The whole `[objects.X]` section as TOML text.
    SetSection {
        object: ObjectKind,
        toml: String,
    },
}

/// A config file being edited.
#[derive(Debug, Clone)]
pub struct ConfigDoc {
    path: PathBuf,
    doc: DocumentMut,
}

impl ConfigDoc {
    /// Reads config text; refuses text that is not TOML (at its line and
    /// column) but not a config that TOML-parses and is wrong, so a file
    /// with a mistake can still be opened and fixed.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigDoc, ConfigError> {
        let doc = text.parse::<DocumentMut>().map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |s| super::raw_position(text, s.start));
            ConfigError {
                file: path.to_path_buf(),
                line,
                column,
                key: None,
                message: e.message().trim().to_string(),
            }
        })?;
        Ok(ConfigDoc {
            path: path.to_path_buf(),
            doc,
        })
    }

    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// The config this text means, checked as loading checks it.
    pub fn check(&self) -> Result<Config, ConfigError> {
        Config::parse(&self.path, &self.text())
    }

    /// Applies one edit if the result is a valid config; otherwise leaves
    /// the document as it was.
    pub fn apply(&mut self, edit: &Edit) -> Result<Config, ConfigError> {
        let mut next = self.clone();
        if let Edit::SetSection { object, toml } = edit {
            let text =
                section::replace(&self.text(), *object, toml).map_err(|(key, message)| {
                    ConfigError {
                        file: self.path.clone(),
                        line: 0,
                        column: 0,
                        key,
                        message,
                    }
                })?;
            // Parsed whole, so a syntax error is at the file's line.
            next = ConfigDoc::parse(&self.path, &text)?;
        }
        next.change(edit).map_err(|(key, message)| ConfigError {
            file: self.path.clone(),
            line: 0,
            column: 0,
            key,
            message,
        })?;
        let cfg = next.check()?;
        *self = next;
        Ok(cfg)
    }

    fn change(&mut self, edit: &Edit) -> Result<(), Refusal> {
        match edit {
            Edit::AddField { object, field, at } => {
                mappings::add(self.object_mut(*object)?, field, *at)
            }
            Edit::SetField {
                object,
                index,
                field,
            } => mappings::set(self.object_mut(*object)?, *index, field),
            Edit::RemoveField { object, index } => {
                mappings::remove(self.object_mut(*object)?, *index)
            }
            Edit::MoveField { object, from, to } => {
                mappings::reorder(self.object_mut(*object)?, *from, *to)
            }
            Edit::AddGroup {
                object,
                direction,
                filter,
            } => filters::add_group(self.object_mut(*object)?, direction, filter),
            Edit::RemoveGroup { object, group } => {
                filters::remove_group(self.object_mut(*object)?, *group)
            }
            Edit::AddFilter {
                object,
                group,
                filter,
            } => filters::add(self.object_mut(*object)?, *group, filter),
            Edit::SetFilter {
                object,
                group,
                index,
                filter,
            } => filters::set(self.object_mut(*object)?, *group, *index, filter),
            Edit::RemoveFilter {
                object,
                group,
                index,
            } => filters::remove(self.object_mut(*object)?, *group, *index),
            Edit::SetSetting { object, key, value } => {
                settings::set(self.object_mut(*object)?, key, value.as_ref())
            }
            // Done by `apply`, which parses the whole text again.
            Edit::SetSection { .. } => Ok(()),
        }
    }

    /// The raw text of `[objects.X]` and its tables, as the file has it.
    pub fn section(&self, object: ObjectKind) -> Result<String, ConfigError> {
        section::get(&self.text(), object).map_err(|(key, message)| ConfigError {
            file: self.path.clone(),
            line: 0,
            column: 0,
            key,
            message,
        })
    }

    fn object_mut(&mut self, object: ObjectKind) -> Result<&mut toml_edit::Table, Refusal> {
        self.doc
            .get_mut("objects")
            .and_then(|o| o.as_table_like_mut())
            .and_then(|o| o.get_mut(object.api_name()))
            .and_then(|o| o.as_table_mut())
            .ok_or_else(|| {
                (
                    Some("objects".into()),
                    format!("the file has no [objects.{object}] section to edit"),
                )
            })
    }
}

/// The key an edit was refused at, and why.
type Refusal = (Option<String>, String);
