//! One object's section as written (`[objects.X]`): its table, settings,
//! matching keys, and (through `fields` and `filters`) its mappings and
//! filters.

use super::{Fail, fields, filters};
use crate::config::ObjectConfig;
use crate::model::{Direction, ObjectKind, Side};
use crate::sync::mapping::{FieldMap, KeyMap, ObjectMapping};
use crate::sync::rules::SyncRules;
use serde::Deserialize;
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawObject {
    table: String,
    #[serde(default = "id")]
    id_column: String,
    #[serde(default = "updated_at")]
    updated_at_column: String,
    #[serde(default = "hubspot_id")]
    hubspot_id_column: String,
    /// One matching key column (contacts: email)…
    key_column: Option<Spanned<String>>,
    /// …or several, tried in order (companies: domain, then name).
    key_columns: Option<Spanned<Vec<String>>>,
    label_column: Option<String>,
    /// Contacts: the column holding the app id of the contact's company.
    company_column: Option<String>,
    /// A unique HubSpot property holding the app id of records hubsync
    /// creates (e.g. app_record_id).
    app_id_property: Option<String>,
    direction: Option<Spanned<String>>,
    /// Which side may create records in the other: both, hubspot, app, none.
    create: Option<Spanned<String>>,
    system_of_record: Option<Spanned<String>>,
    #[serde(default = "thirty")]
    poll_interval_secs: Spanned<u64>,
    #[serde(default = "hundred")]
    batch_size: Spanned<u32>,
    fields: Spanned<Vec<Spanned<fields::RawField>>>,
    #[serde(default)]
    filter_groups: Vec<Spanned<filters::RawFilterGroup>>,
}

fn id() -> String {
    "id".into()
}
fn updated_at() -> String {
    "updated_at".into()
}
fn hubspot_id() -> String {
    "hubspot_id".into()
}
fn thirty() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}
fn hundred() -> Spanned<u32> {
    Spanned::new(0..0, 100)
}

/// One object's typed config, or the offset to point at and what is wrong.
pub(super) fn parse(
    text: &str,
    kind: ObjectKind,
    name: &str,
    obj: Spanned<RawObject>,
) -> Result<ObjectConfig, Fail> {
    let err = |at: usize, m: String| (at, m);
    let obj_span = obj.span().start;
    let o = obj.into_inner();
    let at_or = |s: &Option<Spanned<String>>| s.as_ref().map_or(obj_span, |s| s.span().start);
    let default_direction = if kind == ObjectKind::Deals {
        "to_app"
    } else {
        "to_hubspot"
    };
    let direction_name = o
        .direction
        .as_ref()
        .map_or(default_direction, |d| d.get_ref().as_str());
    let Some(direction) = Direction::parse(direction_name) else {
        return Err(err(
            at_or(&o.direction),
            format!("direction {direction_name:?}: expected to_hubspot, to_app or both"),
        ));
    };
    if kind == ObjectKind::Deals && direction != Direction::ToApp {
        return Err(err(
            at_or(&o.direction),
            format!(
                "[objects.deals] direction {direction_name:?}: deals are read-only, HubSpot → app (direction = \"to_app\")"
            ),
        ));
    }
    let flows = |way: Direction| direction == Direction::Both || direction == way;
    let (create_in_hubspot, create_in_app) = match o.create.as_ref().map(|c| c.get_ref().as_str()) {
        None | Some("both") => (flows(Direction::ToHubSpot), flows(Direction::ToApp)),
        Some("hubspot") => (true, false),
        Some("app") => (false, true),
        Some("none") => (false, false),
        Some(other) => {
            return Err(err(
                at_or(&o.create),
                format!(
                    "create {other:?}: expected both, hubspot (create in HubSpot), app (create in the app) or none"
                ),
            ));
        }
    };
    if (create_in_hubspot && !flows(Direction::ToHubSpot))
        || (create_in_app && !flows(Direction::ToApp))
    {
        return Err(err(
            at_or(&o.create),
            format!(
                "create = {:?} does not fit direction {direction_name:?}: records can only be created on the side data flows to",
                o.create.as_ref().map_or("both", |c| c.get_ref().as_str())
            ),
        ));
    }
    let system_of_record = match o.system_of_record.as_ref().map(|c| c.get_ref().as_str()) {
        None | Some("app") => Side::App,
        Some("hubspot") => Side::HubSpot,
        Some(other) => {
            return Err(err(
                at_or(&o.system_of_record),
                format!("system_of_record {other:?}: expected app or hubspot"),
            ));
        }
    };
    let batch = *o.batch_size.get_ref();
    if !(1..=100).contains(&batch) {
        return Err(err(
            o.batch_size.span().start,
            format!("batch_size {batch}: HubSpot takes 1 to 100 records per batch"),
        ));
    }
    let poll = *o.poll_interval_secs.get_ref();
    if poll == 0 {
        return Err(err(
            o.poll_interval_secs.span().start,
            "poll_interval_secs must be at least 1".into(),
        ));
    }
    let fields_span = o.fields.span().start;
    let fields: Vec<FieldMap> =
        fields::parse(text, kind, direction, obj_span, o.fields.into_inner())?;
    if fields.is_empty() {
        return Err(err(
            fields_span,
            format!("[objects.{}] maps no fields", name),
        ));
    }
    let (key_columns, key_at) = match (o.key_column, o.key_columns) {
        (Some(k), None) => (vec![k.get_ref().clone()], k.span().start),
        (None, Some(ks)) => {
            let list = ks.get_ref().clone();
            if list.is_empty() {
                return Err(err(
                    ks.span().start,
                    "key_columns is empty: name the columns that identify a record, strongest first".into(),
                ));
            }
            if let Some(dup) = list
                .iter()
                .enumerate()
                .find_map(|(i, k)| list[..i].contains(k).then_some(k))
            {
                return Err(err(
                    ks.span().start,
                    format!("key_columns names {dup:?} twice"),
                ));
            }
            (list, ks.span().start)
        }
        (None, None) if kind == ObjectKind::Deals => (vec![], obj_span),
        (None, None) => {
            return Err(err(
                obj_span,
                format!(
                    "[objects.{}] needs key_column (contacts: the email column) or key_columns (companies: domain, then name) to match records",
                    name
                ),
            ));
        }
        (Some(k), Some(_)) => {
            return Err(err(
                k.span().start,
                "give key_column or key_columns, not both".into(),
            ));
        }
    };
    let mut keys = Vec::new();
    for key_column in &key_columns {
        let Some(key_field) = fields.iter().find(|f| {
            f.app_columns.len() == 1
                && f.hubspot_properties.len() == 1
                && &f.app_columns[0] == key_column
        }) else {
            return Err(err(
                key_at,
                format!(
                    "key_column {key_column:?} is not mapped: add a field with app = {key_column:?}"
                ),
            ));
        };
        keys.push(KeyMap {
            app_column: key_column.clone(),
            hubspot_property: key_field.hubspot_properties[0].clone(),
        });
    }
    let (filters_to_hubspot, filters_to_app) =
        filters::parse(direction, obj_span, &fields, o.filter_groups)?;
    let label_column = o
        .label_column
        .or_else(|| key_columns.first().cloned())
        .unwrap_or_else(|| fields[0].app_columns[0].clone());
    Ok(ObjectConfig {
        mapping: ObjectMapping {
            object: kind,
            table: o.table,
            id_column: o.id_column,
            updated_at_column: o.updated_at_column,
            hubspot_id_column: o.hubspot_id_column,
            label_column,
            keys,
            fields,
            company_column: o.company_column,
            app_id_property: o.app_id_property,
        },
        rules: SyncRules {
            direction,
            create_in_hubspot,
            create_in_app,
            system_of_record,
            filters_to_hubspot,
            filters_to_app,
        },
        poll_interval: Duration::from_secs(poll),
        batch_size: batch as usize,
    })
}
