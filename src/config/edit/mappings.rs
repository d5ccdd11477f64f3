//! Field mappings (`[[objects.X.fields]]`): add, change, remove, reorder.
//! A field's table keeps its comments and position when it is changed;
//! moving one moves its comments with it.

use super::Refusal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml_edit::{ArrayOfTables, Item, Table, value};

/// One field mapping as an editor fills it in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FieldSpec {
    /// One column, or two (join_name).
    pub app: Vec<String>,
    /// One property, or two (split_name).
    pub hubspot: Vec<String>,
    /// to_hubspot, to_app or both; None follows the object.
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub transform: Option<String>,
    /// A value map: app value → HubSpot option value.
    #[serde(default)]
    pub values: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub only_if_empty: bool,
}

fn names(v: &[String]) -> Item {
    match v {
        [one] => value(one.as_str()),
        many => {
            let mut a = toml_edit::Array::new();
            for n in many {
                a.push(n.as_str());
            }
            value(a)
        }
    }
}

/// Writes `spec` into `t`, keeping `t`'s decor and the order of the keys
/// it already has.
fn fill(t: &mut Table, spec: &FieldSpec) {
    t.insert("app", names(&spec.app));
    t.insert("hubspot", names(&spec.hubspot));
    let mut opt = |key: &str, v: Option<Item>| match v {
        Some(v) => {
            t.insert(key, v);
        }
        None => {
            t.remove(key);
        }
    };
    opt("direction", spec.direction.as_deref().map(value));
    opt("transform", spec.transform.as_deref().map(value));
    opt("default", spec.default.as_deref().map(value));
    opt("only_if_empty", spec.only_if_empty.then(|| value(true)));
    opt(
        "values",
        spec.values.as_ref().map(|m| {
            let mut inline = toml_edit::InlineTable::new();
            for (k, v) in m {
                inline.insert(k, v.as_str().into());
            }
            value(inline)
        }),
    );
}

fn fields(object: &mut Table) -> Result<&mut ArrayOfTables, Refusal> {
    object
        .entry("fields")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| {
            (
                Some("fields".into()),
                "fields is written as an inline array here; edit it in the raw TOML view".into(),
            )
        })
}

fn out_of_range(i: usize, len: usize) -> Refusal {
    (
        None,
        format!("there is no field {i}: the object maps {len} field(s)"),
    )
}

pub(super) fn add(object: &mut Table, spec: &FieldSpec, at: Option<usize>) -> Result<(), Refusal> {
    let fields = fields(object)?;
    let mut t = Table::new();
    fill(&mut t, spec);
    let len = fields.len();
    match at {
        None => fields.push(t),
        Some(i) if i <= len => {
            // An inserted table is drawn where its position says: take the
            // slot's, and the rest move down after it.
            fields.insert(i, t);
            renumber(fields);
        }
        Some(i) => return Err(out_of_range(i, len)),
    }
    Ok(())
}

pub(super) fn set(object: &mut Table, i: usize, spec: &FieldSpec) -> Result<(), Refusal> {
    let fields = fields(object)?;
    let len = fields.len();
    let t = fields.get_mut(i).ok_or_else(|| out_of_range(i, len))?;
    fill(t, spec);
    Ok(())
}

pub(super) fn remove(object: &mut Table, i: usize) -> Result<(), Refusal> {
    let fields = fields(object)?;
    if i >= fields.len() {
        return Err(out_of_range(i, fields.len()));
    }
    fields.remove(i);
    Ok(())
}

pub(super) fn reorder(object: &mut Table, from: usize, to: usize) -> Result<(), Refusal> {
    let fields = fields(object)?;
    let len = fields.len();
    if from >= len || to >= len {
        return Err(out_of_range(from.max(to), len));
    }
    let t = fields.remove(from);
    fields.insert(to, t);
    renumber(fields);
    Ok(())
}

/// Gives the tables, in their new order, the document positions the
/// slots had, so the file shows them in that order where they were.
fn renumber(fields: &mut ArrayOfTables) {
    let mut slots: Vec<isize> = fields.iter().filter_map(Table::position).collect();
    slots.sort_unstable();
    if slots.len() + 1 == fields.len() {
        // One new table: it takes the place after the last one.
        slots.push(slots.last().copied().unwrap_or(0));
    }
    if slots.len() != fields.len() {
        return;
    }
    for (t, p) in fields.iter_mut().zip(slots) {
        t.set_position(Some(p));
    }
}
