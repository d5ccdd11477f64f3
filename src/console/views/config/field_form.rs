//! The field form: one field mapping (app column ↔ HubSpot property,
//! direction, transform, value map, default, only-if-empty) as the
//! mappings tab edits it, and what it means as an edit of the working
//! copy, checked as typed.

use super::entry::Entry;
use super::session::{EditSession, error_for};
use crate::config::edit::{Edit, FieldSpec};
use crate::console::components::form::{Form, Row, RowKind};
use crate::console::components::picker::{Choice, Picker};
use crate::model::ObjectKind;
use std::collections::BTreeMap;

pub(super) const OBJECTS_DIRECTION: &str = "(the object's)";

pub(super) struct FieldForm {
    /// The field's index in the file; None until a new one first loads.
    pub index: Option<usize>,
    pub form: Form,
    /// Whether the form's values are in the working copy.
    pub kept: bool,
}

pub(super) fn form_for(spec: &FieldSpec, title: String) -> Form {
    let transforms: Vec<String> = crate::sync::transform::Transform::NAMES
        .iter()
        .filter(|n| **n != "value_map")
        .map(|n| n.to_string())
        .collect();
    let values = spec
        .values
        .as_ref()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Form::new(
        title,
        vec![
            Row::new("app", "app column", spec.app.join(", "), RowKind::Pick)
                .hint("Enter picks from the table's columns; e types (two for join_name)"),
            Row::new(
                "hubspot",
                "HubSpot property",
                spec.hubspot.join(", "),
                RowKind::Pick,
            )
            .hint("Enter picks from HubSpot's properties; e types"),
            Row::new(
                "direction",
                "direction",
                spec.direction.clone().unwrap_or(OBJECTS_DIRECTION.into()),
                RowKind::Choice(
                    [OBJECTS_DIRECTION, "both", "to_hubspot", "to_app"]
                        .map(String::from)
                        .to_vec(),
                ),
            ),
            Row::new(
                "transform",
                "transform",
                spec.transform.clone().unwrap_or("none".into()),
                RowKind::Choice(transforms),
            ),
            Row::new("values", "value map", values, RowKind::Text)
                .hint("app value=HubSpot option, comma-separated"),
            Row::new(
                "default",
                "default",
                spec.default.clone().unwrap_or_default(),
                RowKind::Text,
            )
            .hint("written when the app value is empty"),
            Row::new(
                "only_if_empty",
                "only if empty",
                if spec.only_if_empty { "yes" } else { "no" },
                RowKind::Toggle,
            )
            .hint("write only where the other side has no value"),
        ],
    )
}

pub(super) fn names(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form as a field mapping, or the row that cannot be read and why.
pub(super) fn spec_of(f: &Form) -> Result<FieldSpec, (String, String)> {
    let opt = |k: &str| {
        let v = f.current(k).trim().to_string();
        (!v.is_empty()).then_some(v)
    };
    let values = match opt("values") {
        None => None,
        Some(text) => {
            let mut m = BTreeMap::new();
            for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let Some((a, h)) = pair.split_once('=') else {
                    return Err((
                        "values".into(),
                        format!("{pair:?}: write app value=HubSpot option"),
                    ));
                };
                m.insert(a.trim().to_string(), h.trim().to_string());
            }
            Some(m)
        }
    };
    Ok(FieldSpec {
        app: names(&f.current("app")),
        hubspot: names(&f.current("hubspot")),
        direction: opt("direction").filter(|d| d != OBJECTS_DIRECTION),
        transform: opt("transform").filter(|t| t != "none" || values.is_some()),
        values,
        default: opt("default"),
        only_if_empty: f.current("only_if_empty") == "yes",
    })
}

impl FieldForm {
    pub fn edit(&self, object: ObjectKind, spec: FieldSpec) -> Edit {
        match self.index {
            Some(index) => Edit::SetField {
                object,
                index,
                field: spec,
            },
            None => Edit::AddField {
                object,
                field: spec,
                at: None,
            },
        }
    }

    pub fn entry(&self, s: &EditSession, object: ObjectKind) -> String {
        let i = self.index.unwrap_or_else(|| s.doc.fields(object).len());
        format!("fields[{i}]")
    }

    /// What the validators say about the form as it stands (typed text
    /// included), without changing the working copy.
    pub fn check(&mut self, object: ObjectKind, s: &EditSession) {
        let entry = self.entry(s, object);
        let errors = match spec_of(&self.form) {
            Err(e) => vec![e],
            Ok(spec) => match s.try_edit(&self.edit(object, spec)) {
                Ok(problems) => problems
                    .into_iter()
                    .filter(|p| p.entry == entry)
                    .map(|p| (p.field, p.message))
                    .collect(),
                Err(e) => vec![error_for(object, &entry, &e)],
            },
        };
        self.form.set_errors(errors);
    }

    /// Takes the form into the working copy if it loads.
    pub fn keep(&mut self, object: ObjectKind, s: &mut EditSession) {
        let entry = self.entry(s, object);
        let spec = match spec_of(&self.form) {
            Ok(spec) => spec,
            Err(e) => {
                self.kept = false;
                self.form.set_errors(vec![e]);
                return;
            }
        };
        if self.kept
            && self
                .index
                .is_some_and(|i| s.doc.fields(object).get(i) == Some(&spec))
        {
            return self.check(object, s);
        }
        match s.apply(self.edit(object, spec)) {
            Ok(()) => {
                self.kept = true;
                if self.index.is_none() {
                    self.index = Some(s.doc.fields(object).len().saturating_sub(1));
                }
                self.form.set_errors(s.problems_of(object, &entry));
            }
            Err(e) => {
                self.kept = false;
                self.form.set_errors(vec![error_for(object, &entry, &e)]);
            }
        }
    }
}

impl Entry for FieldForm {
    fn form(&self) -> &Form {
        &self.form
    }

    fn form_mut(&mut self) -> &mut Form {
        &mut self.form
    }

    fn kept(&self) -> bool {
        self.kept
    }

    fn check(&mut self, object: ObjectKind, s: &EditSession) {
        FieldForm::check(self, object, s)
    }

    fn keep(&mut self, object: ObjectKind, s: &mut EditSession) {
        FieldForm::keep(self, object, s)
    }

    /// The app column from the table's real columns (those mapped
    /// already marked), the property from HubSpot's list (read-only ones
    /// marked).
    fn picker(&self, row: &'static str, object: ObjectKind, s: &EditSession) -> Picker {
        let current = self.form.value(row).to_string();
        let facts = s.facts.get(&object);
        let (title, choices, source) = if row == "app" {
            let mapped: Vec<String> = s
                .doc
                .fields(object)
                .into_iter()
                .flat_map(|f| f.app)
                .collect();
            let choices = match facts.map(|f| &f.columns) {
                Some(Ok(cols)) => cols
                    .iter()
                    .map(|c| Choice {
                        value: c.name.clone(),
                        detail: c.type_name.clone(),
                        label: String::new(),
                        warning: mapped.contains(&c.name).then(|| "already mapped".into()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let source = match facts.map(|f| &f.columns) {
                Some(Err(e)) => format!("the table's columns could not be read: {e}"),
                _ => format!(
                    "columns of {}",
                    facts.map_or("the table", |f| f.table.as_str())
                ),
            };
            ("app column", choices, source)
        } else {
            let choices = match facts.map(|f| &f.properties) {
                Some(Ok(props)) => props
                    .iter()
                    .map(|p| Choice {
                        value: p.name.clone(),
                        detail: format!("{} · {}", p.kind, p.label),
                        label: p.label.clone(),
                        warning: p.is_read_only().then(|| "read-only in HubSpot".into()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let source = match facts.map(|f| (&f.properties, &f.fetched_at)) {
                Some((Err(e), _)) => format!("HubSpot's properties could not be fetched: {e}"),
                Some((_, Some(at))) => format!(
                    "HubSpot's {object} properties, fetched {} · F5 (outside the picker) fetches again",
                    at.get(11..19).unwrap_or(at)
                ),
                _ => "HubSpot's properties".into(),
            };
            ("HubSpot property", choices, source)
        };
        let mut p = Picker::new(title, choices, &current);
        p.source = source;
        p
    }
}
