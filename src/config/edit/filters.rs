//! Filter groups (`[[objects.X.filter_groups]]`, each with its
//! `filters = [ {field, op, value}, … ]`): add and remove groups (ORed),
//! add, change and remove the filters in one (ANDed). A value is written
//! with its JSON type (a number stays a number, a list a list), so it is
//! compared as the field's type.

use super::Refusal;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use toml_edit::{Array, ArrayOfTables, InlineTable, Item, Table, Value, value};

/// One filter as an editor fills it in: one of the fourteen operators.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FilterSpec {
    pub field: String,
    pub op: String,
    /// None for is_empty and is_not_empty; a list for is_any_of and
    /// is_none_of; one value otherwise.
    #[serde(default)]
    pub value: Option<Json>,
}

fn scalar(j: &Json) -> Result<Value, String> {
    Ok(match j {
        Json::String(s) => s.as_str().into(),
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        other => {
            return Err(format!(
                "a filter value is text, a number or true/false, not {other}"
            ));
        }
    })
}

fn inline(spec: &FilterSpec) -> Result<InlineTable, Refusal> {
    let mut t = InlineTable::new();
    t.insert("field", spec.field.as_str().into());
    t.insert("op", spec.op.as_str().into());
    let bad = |m: String| {
        (
            Some("value".to_string()),
            format!("filter on {}: {m}", spec.field),
        )
    };
    match &spec.value {
        None | Some(Json::Null) => {}
        Some(Json::Array(items)) => {
            let mut a = Array::new();
            for i in items {
                a.push(scalar(i).map_err(bad)?);
            }
            t.insert("value", Value::Array(a));
        }
        Some(v) => {
            t.insert("value", scalar(v).map_err(bad)?);
        }
    }
    Ok(t)
}

fn groups(object: &mut Table) -> Result<&mut ArrayOfTables, Refusal> {
    object
        .entry("filter_groups")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| {
            (
                Some("filter_groups".into()),
                "filter_groups is written as an inline array here; edit it in the raw TOML view"
                    .into(),
            )
        })
}

fn group(object: &mut Table, g: usize) -> Result<&mut Array, Refusal> {
    let groups = groups(object)?;
    let len = groups.len();
    let t = groups.get_mut(g).ok_or_else(|| {
        (
            None,
            format!("there is no filter group {g}: the object has {len}"),
        )
    })?;
    t.entry("filters")
        .or_insert(value(Array::new()))
        .as_array_mut()
        .ok_or_else(|| {
            (
                Some(format!("filter_groups[{g}].filters")),
                "these filters are written as tables here; edit them in the raw TOML view".into(),
            )
        })
}

/// A multi-line list of filters reads as the example file writes it.
fn tidy(a: &mut Array) {
    for v in a.iter_mut() {
        v.decor_mut().set_prefix("\n  ");
    }
    a.set_trailing(",\n");
    a.set_trailing_comma(false);
}

pub(super) fn add_group(
    object: &mut Table,
    direction: &str,
    spec: &FilterSpec,
) -> Result<(), Refusal> {
    let mut a = Array::new();
    a.push(inline(spec)?);
    tidy(&mut a);
    let mut t = Table::new();
    t.insert("direction", value(direction));
    t.insert("filters", value(a));
    groups(object)?.push(t);
    Ok(())
}

pub(super) fn remove_group(object: &mut Table, g: usize) -> Result<(), Refusal> {
    let groups = groups(object)?;
    if g >= groups.len() {
        return Err((
            None,
            format!(
                "there is no filter group {g}: the object has {}",
                groups.len()
            ),
        ));
    }
    groups.remove(g);
    if groups.is_empty() {
        object.remove("filter_groups");
    }
    Ok(())
}

pub(super) fn add(object: &mut Table, g: usize, spec: &FilterSpec) -> Result<(), Refusal> {
    let a = group(object, g)?;
    a.push(inline(spec)?);
    tidy(a);
    Ok(())
}

pub(super) fn set(
    object: &mut Table,
    g: usize,
    i: usize,
    spec: &FilterSpec,
) -> Result<(), Refusal> {
    let a = group(object, g)?;
    let len = a.len();
    let old = a.get_mut(i).ok_or_else(|| {
        (
            None,
            format!("there is no filter {i} in group {g}: it has {len}"),
        )
    })?;
    let decor = old.decor().clone();
    let mut new = Value::InlineTable(inline(spec)?);
    *new.decor_mut() = decor;
    *old = new;
    Ok(())
}

pub(super) fn remove(object: &mut Table, g: usize, i: usize) -> Result<(), Refusal> {
    let a = group(object, g)?;
    if i >= a.len() {
        return Err((
            None,
            format!("there is no filter {i} in group {g}: it has {}", a.len()),
        ));
    }
    a.remove(i);
    Ok(())
}
