//! The filter form: one filter (its field, operator and value, and for a
//! new group its direction) as the filters tab edits it, and what it means
//! as an edit of the working copy, checked as typed.

use super::entry::Entry;
use super::session::{EditSession, error_for};
use crate::config::edit::{Edit, FilterSpec};
use crate::config::validate::{FieldType, column_type, property_type};
use crate::console::components::form::{Form, Row, RowKind};
use crate::console::components::picker::{Choice, Picker};
use crate::model::ObjectKind;
use crate::sync::filter::Op;
use serde_json::Value as Json;

/// Where a form's filter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    NewGroup,
    NewFilter(usize),
    Filter(usize, usize),
}

pub(super) struct FilterForm {
    pub target: Target,
    pub form: Form,
    pub kept: bool,
}

/// An operator in a few words, for the picker.
pub(super) fn op_meaning(op: Op) -> &'static str {
    match op {
        Op::Equals => "is the value",
        Op::NotEquals => "is not the value",
        Op::Contains => "contains the text",
        Op::NotContains => "does not contain the text",
        Op::GreaterThan => "more than",
        Op::GreaterOrEqual => "at least",
        Op::LessThan => "less than",
        Op::LessOrEqual => "at most",
        Op::IsEmpty => "has no value",
        Op::IsNotEmpty => "has a value",
        Op::StartsWith => "starts with the text",
        Op::EndsWith => "ends with the text",
        Op::IsAnyOf => "one of a list",
        Op::IsNoneOf => "none of a list",
    }
}

/// A value as the form shows it: lists comma-separated.
pub(super) fn value_text(v: &Option<Json>) -> String {
    fn one(v: &Json) -> String {
        match v {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::Array(a)) => a.iter().map(one).collect::<Vec<_>>().join(", "),
        Some(v) => one(v),
    }
}

/// Typed text as the field's type: what the file should say.
pub(super) fn typed(text: &str, ty: &FieldType) -> Json {
    let t = text.trim();
    match ty {
        FieldType::Number => t
            .parse::<i64>()
            .map(Json::from)
            .or_else(|_| t.parse::<f64>().map(Json::from))
            .unwrap_or_else(|_| Json::String(t.to_string())),
        FieldType::Bool if t == "true" || t == "false" => Json::Bool(t == "true"),
        _ => Json::String(t.to_string()),
    }
}

/// The type of a field a filter of `direction` tests.
pub(super) fn field_type(
    s: &EditSession,
    object: ObjectKind,
    direction: &str,
    field: &str,
) -> FieldType {
    let Some(f) = s.facts.get(&object) else {
        return FieldType::Unknown;
    };
    if direction == "to_app" {
        match &f.properties {
            Ok(p) => p
                .iter()
                .find(|p| p.name == field)
                .map_or(FieldType::Unknown, property_type),
            Err(_) => FieldType::Unknown,
        }
    } else {
        match &f.columns {
            Ok(c) => c
                .iter()
                .find(|c| c.name == field)
                .map_or(FieldType::Unknown, |c| column_type(&c.type_name)),
            Err(_) => FieldType::Unknown,
        }
    }
}

impl FilterForm {
    pub fn direction(&self, s: &EditSession, object: ObjectKind) -> String {
        match self.target {
            Target::NewGroup => self.form.current("direction"),
            Target::NewFilter(g) | Target::Filter(g, _) => s
                .doc
                .filter_groups(object)
                .get(g)
                .map(|g| g.direction.clone())
                .unwrap_or_default(),
        }
    }

    pub fn spec(&self, s: &EditSession, object: ObjectKind) -> FilterSpec {
        let field = self.form.current("field").trim().to_string();
        let op = self.form.current("op");
        let ty = field_type(s, object, &self.direction(s, object), &field);
        let text = self.form.current("value");
        let value = match Op::parse(&op) {
            Ok(Op::IsEmpty | Op::IsNotEmpty) => None,
            Ok(Op::IsAnyOf | Op::IsNoneOf) => Some(Json::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| typed(v, &ty))
                    .collect(),
            )),
            _ => Some(typed(&text, &ty)),
        };
        FilterSpec { field, op, value }
    }

    pub fn edit(&self, s: &EditSession, object: ObjectKind) -> Edit {
        let filter = self.spec(s, object);
        match self.target {
            Target::NewGroup => Edit::AddGroup {
                object,
                direction: self.form.current("direction"),
                filter,
            },
            Target::NewFilter(group) => Edit::AddFilter {
                object,
                group,
                filter,
            },
            Target::Filter(group, index) => Edit::SetFilter {
                object,
                group,
                index,
                filter,
            },
        }
    }

    pub fn entry(&self, s: &EditSession, object: ObjectKind) -> String {
        let groups = s.doc.filter_groups(object);
        let (g, i) = match self.target {
            Target::NewGroup => (groups.len(), 0),
            Target::NewFilter(g) => (g, groups.get(g).map_or(0, |g| g.filters.len())),
            Target::Filter(g, i) => (g, i),
        };
        format!("filter_groups[{g}].filters[{i}]")
    }

    pub fn errors(
        &self,
        s: &EditSession,
        object: ObjectKind,
        e: &crate::config::ConfigError,
    ) -> Vec<(String, String)> {
        let (field, message) = error_for(object, &self.entry(s, object), e);
        // Loading names the filter, not which of its parts is wrong: the
        // message says it in words.
        let field = if field.is_empty() {
            let m = message.to_lowercase();
            if m.contains("operator") {
                "op"
            } else if m.contains("value") {
                "value"
            } else if m.contains("field") || m.contains("mapped") {
                "field"
            } else {
                ""
            }
            .to_string()
        } else {
            field
        };
        vec![(field, message)]
    }

    pub fn check(&mut self, s: &EditSession, object: ObjectKind) {
        let entry = self.entry(s, object);
        let errors = match s.try_edit(&self.edit(s, object)) {
            Ok(problems) => problems
                .into_iter()
                .filter(|p| p.entry == entry)
                .map(|p| (p.field, p.message))
                .collect(),
            Err(e) => self.errors(s, object, &e),
        };
        self.form.set_errors(errors);
    }

    pub fn keep(&mut self, s: &mut EditSession, object: ObjectKind) {
        let entry = self.entry(s, object);
        let edit = self.edit(s, object);
        match s.apply(edit) {
            Ok(()) => {
                self.kept = true;
                let groups = s.doc.filter_groups(object);
                self.target = match self.target {
                    Target::NewGroup => Target::Filter(groups.len().saturating_sub(1), 0),
                    Target::NewFilter(g) => Target::Filter(
                        g,
                        groups
                            .get(g)
                            .map_or(0, |g| g.filters.len().saturating_sub(1)),
                    ),
                    t => t,
                };
                self.form.set_errors(s.problems_of(object, &entry));
            }
            Err(e) => {
                self.kept = false;
                let errors = self.errors(s, object, &e);
                self.form.set_errors(errors);
            }
        }
    }
}

pub(super) fn form_for(title: String, new_group: bool, spec: &FilterSpec) -> Form {
    let mut rows = Vec::new();
    if new_group {
        rows.push(
            Row::new(
                "direction",
                "direction",
                "to_hubspot",
                RowKind::Choice(vec!["to_hubspot".into(), "to_app".into()]),
            )
            .hint("to_hubspot tests app columns, to_app HubSpot properties"),
        );
    }
    rows.push(Row::new("field", "field", spec.field.clone(), RowKind::Pick).hint("a mapped field"));
    rows.push(
        Row::new(
            "op",
            "operator",
            if spec.op.is_empty() {
                "equals".into()
            } else {
                spec.op.clone()
            },
            RowKind::Pick,
        )
        .hint("Enter picks one of the fourteen"),
    );
    rows.push(
        Row::new("value", "value", value_text(&spec.value), RowKind::Text)
            .hint("typed as the field's type; is_any_of/is_none_of: comma-separated"),
    );
    Form::new(title, rows)
}

impl Entry for FilterForm {
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
        FilterForm::check(self, s, object)
    }

    fn keep(&mut self, object: ObjectKind, s: &mut EditSession) {
        FilterForm::keep(self, s, object)
    }

    /// A new group's direction alone is not a filter yet.
    fn complete(&self) -> bool {
        !self.form.value("field").is_empty()
    }

    /// The field from the mapped fields of the group's direction; the
    /// operator from the fourteen (nothing else can be picked).
    fn picker(&self, row: &'static str, object: ObjectKind, s: &EditSession) -> Picker {
        let f = self;
        if row == "op" {
            let choices = Op::ALL
                .iter()
                .map(|op| Choice {
                    value: op.as_str().to_string(),
                    detail: op_meaning(*op).to_string(),
                    label: op_meaning(*op).to_string(),
                    warning: None,
                })
                .collect();
            let mut p = Picker::new("operator", choices, f.form.value("op"));
            p.free = false;
            p.source =
                "is_any_of and is_none_of take a list; is_empty and is_not_empty no value".into();
            return p;
        }
        let direction = f.direction(s, object);
        let fields = s.doc.fields(object);
        let to_app = direction == "to_app";
        let names: Vec<String> = fields
            .into_iter()
            .flat_map(|m| if to_app { m.hubspot } else { m.app })
            .collect();
        let choices = names
            .into_iter()
            .map(|n| {
                let ty = field_type(s, object, &direction, &n);
                Choice {
                    detail: format!("{ty:?}").to_lowercase(),
                    label: String::new(),
                    value: n,
                    warning: None,
                }
            })
            .collect();
        let mut p = Picker::new("field", choices, f.form.value("field"));
        p.source = if to_app {
            "mapped HubSpot properties (to_app filters test HubSpot's values)".into()
        } else {
            "mapped app columns (to_hubspot filters test the app's values)".into()
        };
        p
    }
}
