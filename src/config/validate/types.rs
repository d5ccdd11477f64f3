//! Types: a field whose app column cannot hold what its HubSpot property
//! does (a text column written to a number or date property), a filter
//! operator that does not fit its field's type (`greater_than` on text,
//! `contains` on a number), and a filter value that is not of that type.

use super::{Facts, filter_group_key};
use crate::config::{Config, ObjectConfig};
use crate::hubspot::wire::Property;
use crate::model::Direction;
use crate::sync::filter::{self, Op};
use crate::sync::transform::Transform;
use serde::Serialize;

/// What kind of value a column or property holds, as far as hubsync's
/// checks care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    Date,
    Bool,
    /// A dropdown: one of these option values.
    Enumeration(Vec<String>),
    /// Not known (SQLite's untyped column, a type hubsync does not know).
    Unknown,
}

impl FieldType {
    fn name(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "a number",
            FieldType::Date => "a date",
            FieldType::Bool => "a boolean",
            FieldType::Enumeration(_) => "a dropdown",
            FieldType::Unknown => "of unknown type",
        }
    }
}

/// A column's type from its declared name, SQLite's or PostgreSQL's.
pub fn column_type(type_name: &str) -> FieldType {
    let t = type_name.to_ascii_lowercase();
    if t.is_empty() {
        FieldType::Unknown
    } else if t.contains("bool") {
        FieldType::Bool
    } else if t.contains("date") || t.contains("time") {
        FieldType::Date
    } else if t.contains("char") || t.contains("text") || t.contains("clob") || t == "citext" {
        FieldType::Text
    } else if ["int", "real", "numeric", "decimal", "double", "float"]
        .iter()
        .any(|n| t.contains(n))
    {
        FieldType::Number
    } else {
        FieldType::Unknown
    }
}

/// A HubSpot property's type.
pub fn property_type(p: &Property) -> FieldType {
    match p.kind.as_str() {
        "string" | "phone_number" => FieldType::Text,
        "number" => FieldType::Number,
        "date" | "datetime" => FieldType::Date,
        "bool" => FieldType::Bool,
        "enumeration" if p.field_type == "booleancheckbox" => FieldType::Bool,
        "enumeration" => {
            FieldType::Enumeration(p.options.iter().map(|o| o.value.clone()).collect())
        }
        _ => FieldType::Unknown,
    }
}

pub(super) fn check(
    cfg: &Config,
    o: &ObjectConfig,
    facts: &Facts<'_>,
    say: &mut impl FnMut(String, String, String),
) {
    let m = &o.mapping;
    let object = m.object;
    let column = |name: &str| {
        facts
            .table
            .and_then(|t| t.columns.iter().find(|c| c.name == name))
            .map(|c| column_type(&c.type_name))
    };
    let property = |name: &str| {
        facts
            .properties
            .and_then(|ps| ps.iter().find(|p| p.name == name))
            .map(property_type)
    };
    for (i, f) in m.fields.iter().enumerate() {
        let plain = f.app_columns.len() == 1
            && f.hubspot_properties.len() == 1
            && !matches!(f.transform, Transform::ValueMap(_));
        if !(plain && f.flows(Direction::ToHubSpot) && o.rules.flows(Direction::ToHubSpot)) {
            continue;
        }
        let (c, p) = (&f.app_columns[0], &f.hubspot_properties[0]);
        // A read-only property is refused as such (`properties`); its type
        // is beside the point.
        let read_only = facts
            .properties
            .and_then(|ps| ps.iter().find(|x| &x.name == p))
            .is_some_and(Property::is_read_only);
        if read_only {
            continue;
        }
        if let (Some(FieldType::Text), Some(pt @ (FieldType::Number | FieldType::Date))) =
            (column(c), property(p))
        {
            say(
                format!("objects.{object}.fields[{i}].app"),
                format!("field {}", f.label()),
                format!(
                    "app column {c} is text and HubSpot property {p} is {}: HubSpot refuses any value that is not {}; map a {} column, or give the field direction = \"to_app\"",
                    pt.name(),
                    pt.name(),
                    if pt == FieldType::Number {
                        "numeric"
                    } else {
                        "date"
                    }
                ),
            );
        }
    }
    for (way, filters) in [
        (Direction::ToHubSpot, &o.rules.filters_to_hubspot),
        (Direction::ToApp, &o.rules.filters_to_app),
    ] {
        for (gi, g) in filters.groups().iter().enumerate() {
            let group_key = filter_group_key(cfg, o, way, gi);
            for (fi, f) in g.filters().iter().enumerate() {
                let ty = match way {
                    Direction::ToHubSpot => column(f.field()),
                    _ => property(f.field()),
                };
                let Some(ty) = ty else { continue };
                let key = format!("{group_key}.filters[{fi}]");
                let context = format!(
                    "filter group {} ({}) filter {}",
                    gi + 1,
                    way.as_str(),
                    fi + 1
                );
                if let Some(m) = operator_misfit(f.op(), &ty) {
                    say(format!("{key}.op"), context.clone(), format!("{f}: {m}"));
                } else if let Some(m) = value_misfit(f.values(), &ty) {
                    say(format!("{key}.value"), context.clone(), format!("{f}: {m}"));
                }
            }
        }
    }
}

fn operator_misfit(op: Op, ty: &FieldType) -> Option<String> {
    let text_only = matches!(
        op,
        Op::Contains | Op::NotContains | Op::StartsWith | Op::EndsWith
    );
    match ty {
        FieldType::Text | FieldType::Enumeration(_) if op.is_ordering() => Some(format!(
            "{op} compares numbers or dates, and the field is {}; use equals, contains, starts_with or is_any_of",
            ty.name()
        )),
        FieldType::Number | FieldType::Date | FieldType::Bool if text_only => Some(format!(
            "{op} looks inside text, and the field is {}; use equals, greater_than or less_than",
            ty.name()
        )),
        FieldType::Bool if op.is_ordering() => Some(format!(
            "{op} has no meaning for a boolean; use equals true or equals false"
        )),
        _ => None,
    }
}

fn value_misfit(values: &[String], ty: &FieldType) -> Option<String> {
    let bad: Vec<&str> = values
        .iter()
        .map(String::as_str)
        .filter(|v| match ty {
            FieldType::Number => filter::number(v).is_none(),
            FieldType::Date => filter::date(v).is_none(),
            FieldType::Bool => !matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"),
            FieldType::Enumeration(options) => {
                !options.is_empty() && !options.iter().any(|o| o.eq_ignore_ascii_case(v.trim()))
            }
            FieldType::Text | FieldType::Unknown => false,
        })
        .collect();
    if bad.is_empty() {
        return None;
    }
    let wanted = match ty {
        FieldType::Number => "a number".to_string(),
        FieldType::Date => "a date (2026-01-31 or 2026-01-31T09:00:00Z)".to_string(),
        FieldType::Bool => "true or false".to_string(),
        FieldType::Enumeration(o) => format!("one of the dropdown's options ({})", o.join(", ")),
        _ => String::new(),
    };
    Some(format!(
        "{} {} not {wanted}, as the field's type needs",
        bad.iter()
            .map(|b| format!("{b:?}"))
            .collect::<Vec<_>>()
            .join(", "),
        if bad.len() == 1 { "is" } else { "are" }
    ))
}
