//! One field mapping as written (`[[objects.X.fields]]`), and its checks.

use super::{Fail, position};
use crate::model::{Direction, ObjectKind};
use crate::sync::mapping::FieldMap;
use crate::sync::transform::{Transform, ValueMap};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A column or property name, or several (a name split or join).
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(super) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    app: OneOrMany,
    hubspot: OneOrMany,
    transform: Option<Spanned<String>>,
    direction: Option<Spanned<String>>,
    default: Option<String>,
    #[serde(default)]
    only_if_empty: bool,
    /// A value map: app value → HubSpot option value.
    values: Option<BTreeMap<String, String>>,
}

/// The fields of one object, checked one by one and against each other.
pub(super) fn parse(
    text: &str,
    kind: ObjectKind,
    direction: Direction,
    obj_span: usize,
    raw: Vec<Spanned<RawField>>,
) -> Result<Vec<FieldMap>, Fail> {
    let err = |at: usize, m: String| (at, m);
    let flows = |way: Direction| direction == Direction::Both || direction == way;
    let at_or = |s: &Option<Spanned<String>>| s.as_ref().map_or(obj_span, |s| s.span().start);
    let mut fields: Vec<FieldMap> = Vec::new();
    let mut field_at: Vec<usize> = Vec::new();
    for f in raw {
        let at = f.span().start;
        let f = f.into_inner();
        let (app, hubspot) = (f.app.names(), f.hubspot.names());
        let transform = match (
            &f.values,
            f.transform.as_ref().map(|t| t.get_ref().as_str()),
        ) {
            (Some(map), None | Some("value_map")) => Transform::ValueMap(ValueMap {
                to_hubspot: map.clone(),
            }),
            (Some(_), Some(other)) => {
                return Err(err(
                    at,
                    format!(
                        "a field with values (a value map) cannot also have transform {other:?}"
                    ),
                ));
            }
            (None, None) => Transform::None,
            (None, Some(name)) => Transform::parse(name).ok_or_else(|| {
                let t = f.transform.as_ref().map_or(at, |t| t.span().start);
                err(
                    t,
                    format!(
                        "transform {name:?}: expected one of {}, or a values table (value map)",
                        Transform::NAMES.join(", ")
                    ),
                )
            })?,
        };
        if app.iter().chain(&hubspot).any(|n| n.trim().is_empty()) {
            return Err(err(
                at,
                "a field needs both app (a column) and hubspot (a property)".into(),
            ));
        }
        let (na, nh) = transform.arity();
        if (app.len(), hubspot.len()) != (na, nh) {
            return Err(err(
                at,
                format!(
                    "transform {} maps {na} app column(s) to {nh} HubSpot propert{}; this field has {} and {}",
                    transform.name(),
                    if nh == 1 { "y" } else { "ies" },
                    app.len(),
                    hubspot.len()
                ),
            ));
        }
        let field_direction = match f.direction.as_ref().map(|d| d.get_ref().as_str()) {
            None => direction,
            Some(d) => Direction::parse(d).ok_or_else(|| {
                err(
                    at_or(&f.direction),
                    format!("field direction {d:?}: expected to_hubspot, to_app or both"),
                )
            })?,
        };
        if kind == ObjectKind::Deals && field_direction != Direction::ToApp {
            return Err(err(
                at_or(&f.direction),
                "deals are read-only: their fields flow to the app only".into(),
            ));
        }
        if let Some(dup) = hubspot
            .iter()
            .find(|h| fields.iter().any(|x| x.hubspot_properties.contains(h)))
        {
            return Err(err(at, format!("HubSpot property {dup} is mapped twice")));
        }
        // Two properties written into one column overwrite each other
        // on every pass (HubSpot's company "Acme" became "Berlin").
        let writes_app = |d: Direction| flows(Direction::ToApp) && d != Direction::ToHubSpot;
        if writes_app(field_direction)
            && let Some((column, (other, other_at))) = app.iter().find_map(|c| {
                fields
                    .iter()
                    .zip(&field_at)
                    .find(|(x, _)| writes_app(x.direction) && x.app_columns.contains(c))
                    .map(|found| (c, found))
            })
        {
            let (line, col) = position(text, *other_at);
            return Err(err(
                at,
                format!(
                    "app column {column:?} is written from two HubSpot properties: {} (the field at line {line}, column {col}) and {}; each would overwrite the other in the app. Give one of them direction = \"to_hubspot\", or map it to another column",
                    other.hubspot_properties.join(" + "),
                    hubspot.join(" + ")
                ),
            ));
        }
        field_at.push(at);
        fields.push(FieldMap {
            app_columns: app,
            hubspot_properties: hubspot,
            direction: field_direction,
            transform,
            default: f.default,
            only_if_empty: f.only_if_empty,
        });
    }
    Ok(fields)
}
