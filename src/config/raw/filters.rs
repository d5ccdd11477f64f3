//! Filter groups as written (`[[objects.X.filter_groups]]`): which records
//! are eligible, per direction, and their checks.

use super::Fail;
use crate::model::Direction;
use crate::sync::filter::{Filter, FilterGroup, Filters};
use crate::sync::mapping::FieldMap;
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFilterGroup {
    direction: Spanned<String>,
    filters: Vec<Spanned<RawFilter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFilter {
    field: String,
    op: String,
    value: Option<toml::Value>,
}

/// A filter value as text: strings as written, numbers and booleans in
/// their usual form, arrays element by element.
fn filter_values(v: Option<&toml::Value>) -> Result<Vec<String>, String> {
    fn one(v: &toml::Value) -> Result<String, String> {
        Ok(match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            other => {
                return Err(format!(
                    "a filter value must be text, a number or a date, not {}",
                    other.type_str()
                ));
            }
        })
    }
    match v {
        None => Ok(vec![]),
        Some(toml::Value::Array(a)) => a.iter().map(one).collect(),
        Some(v) => Ok(vec![one(v)?]),
    }
}

/// The object's filters (to HubSpot, to the app), each group checked
/// against the mapped fields of its direction.
pub(super) fn parse(
    direction: Direction,
    obj_span: usize,
    fields: &[FieldMap],
    raw: Vec<Spanned<RawFilterGroup>>,
) -> Result<(Filters, Filters), Fail> {
    let err = |at: usize, m: String| (at, m);
    let flows = |way: Direction| direction == Direction::Both || direction == way;
    let direction_name = direction.as_str();
    let mut to_hubspot_groups = Vec::new();
    let mut to_app_groups = Vec::new();
    for g in raw {
        let at = g.span().start;
        let g = g.into_inner();
        let way = match g.direction.get_ref().as_str() {
            "to_hubspot" => Direction::ToHubSpot,
            "to_app" => Direction::ToApp,
            other => {
                return Err(err(
                    g.direction.span().start,
                    format!(
                        "filter group direction {other:?}: expected to_hubspot (filters on app columns) or to_app (filters on HubSpot properties)"
                    ),
                ));
            }
        };
        let mut filters = Vec::new();
        let mut filter_at = Vec::new();
        for f in g.filters {
            let fat = f.span().start;
            let f = f.into_inner();
            let values = filter_values(f.value.as_ref())
                .map_err(|e| err(fat, format!("filter on {}: {e}", f.field)))?;
            filters.push(Filter::new(f.field, &f.op, values).map_err(|e| err(fat, e))?);
            filter_at.push(fat);
        }
        let group = FilterGroup::new(filters);
        let single = Filters::new(vec![group.clone()]).map_err(|e| err(at, e))?;
        let mapped: Vec<&str> = match way {
            Direction::ToHubSpot => fields
                .iter()
                .flat_map(|f| f.app_columns.iter().map(String::as_str))
                .collect(),
            _ => fields
                .iter()
                .flat_map(|f| f.hubspot_properties.iter().map(String::as_str))
                .collect(),
        };
        // Pointed at the filter that names the unmapped field, so an
        // editor can show it beside that filter.
        single.validate_fields(&mapped).map_err(|e| {
            let bad = group
                .filters()
                .iter()
                .position(|f| !mapped.contains(&f.field()))
                .map_or(at, |i| filter_at[i]);
            err(bad, e)
        })?;
        if !flows(way) {
            return Err(err(
                at,
                format!(
                    "a {} filter group on an object whose direction is {direction_name}: no record flows that way",
                    way.as_str()
                ),
            ));
        }
        match way {
            Direction::ToHubSpot => to_hubspot_groups.push(group),
            _ => to_app_groups.push(group),
        }
    }
    let filters_to_hubspot = Filters::new(to_hubspot_groups).map_err(|e| err(obj_span, e))?;
    let filters_to_app = Filters::new(to_app_groups).map_err(|e| err(obj_span, e))?;
    Ok((filters_to_hubspot, filters_to_app))
}
