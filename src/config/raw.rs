//! The config file as written, and its checks. Every value that can be
//! wrong is read with its position so the error can point at it.

use super::{Config, ConfigError, HubSpotAuth, HubSpotConfig, ObjectConfig, WebhookConfig};
use crate::model::{Direction, ObjectKind, Side};
use crate::sync::filter::{Filter, FilterGroup, Filters};
use crate::sync::mapping::{FieldMap, KeyMap, ObjectMapping};
use crate::sync::rules::SyncRules;
use crate::sync::transform::{Transform, ValueMap};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    hubspot: Spanned<RawHubSpot>,
    app: Spanned<super::app::RawApp>,
    webhook: Option<Spanned<RawWebhook>>,
    control: Option<RawControl>,
    objects: Spanned<BTreeMap<Spanned<String>, Spanned<RawObject>>>,
    /// The console's keys and settings: read by `console::settings`, which
    /// a console attached to another user's engine reads on its own.
    #[allow(dead_code)]
    keys: Option<toml::Table>,
    #[allow(dead_code)]
    console: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControl {
    /// A group whose members may open the viewer socket.
    viewer_group: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHubSpot {
    #[serde(default = "default_base_url")]
    base_url: String,
    token_env: Option<String>,
    oauth: Option<RawOAuth>,
    #[serde(default = "default_ten_second_limit")]
    ten_second_limit: u32,
}

fn default_base_url() -> String {
    "https://api.hubapi.com".into()
}

fn default_ten_second_limit() -> u32 {
    100
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOAuth {
    client_id: String,
    client_secret_env: String,
    refresh_token_env: String,
    token_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    listen: String,
    public_url: String,
    client_secret_env: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObject {
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
    fields: Spanned<Vec<Spanned<RawField>>>,
    #[serde(default)]
    filter_groups: Vec<Spanned<RawFilterGroup>>,
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

/// A column or property name, or several (a name split or join).
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum OneOrMany {
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
struct RawField {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilterGroup {
    direction: Spanned<String>,
    filters: Vec<Spanned<RawFilter>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
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

/// Turns a byte offset into a 1-based line and column.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let err = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        err(offset, e.message().trim().to_string())
    })?;

    let app_database = super::app::target(raw.app).map_err(|(at, m)| err(at, m))?;
    let hs_span = raw.hubspot.span().start;
    let hs = raw.hubspot.into_inner();
    let auth = match (hs.token_env, hs.oauth) {
        (Some(token_env), None) => HubSpotAuth::PrivateApp { token_env },
        (None, Some(o)) => HubSpotAuth::OAuth {
            client_id: o.client_id,
            client_secret_env: o.client_secret_env,
            refresh_token_env: o.refresh_token_env,
            token_url: o.token_url,
        },
        _ => {
            return Err(err(
                hs_span,
                "[hubspot] needs exactly one of token_env (a private-app token's environment variable) or [hubspot.oauth]"
                    .into(),
            ));
        }
    };
    if !(hs.base_url.starts_with("https://")
        || hs.base_url.starts_with("http://127.0.0.1")
        || hs.base_url.starts_with("http://localhost"))
    {
        return Err(err(
            hs_span,
            format!(
                "[hubspot] base_url {:?} must be https (plain http only to this machine)",
                hs.base_url
            ),
        ));
    }

    let objects_span = raw.objects.span().start;
    let mut objects = Vec::new();
    for (name, obj) in raw.objects.into_inner() {
        let Some(kind) = ObjectKind::parse(name.get_ref()) else {
            return Err(err(
                name.span().start,
                format!(
                    "[objects.{}]: unknown object; expected contacts, companies or deals",
                    name.get_ref()
                ),
            ));
        };
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
        let (create_in_hubspot, create_in_app) = match o
            .create
            .as_ref()
            .map(|c| c.get_ref().as_str())
        {
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
        let mut fields: Vec<FieldMap> = Vec::new();
        let mut field_at: Vec<usize> = Vec::new();
        for f in o.fields.into_inner() {
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
        if fields.is_empty() {
            return Err(err(
                fields_span,
                format!("[objects.{}] maps no fields", name.get_ref()),
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
                        name.get_ref()
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
        let mut to_hubspot_groups = Vec::new();
        let mut to_app_groups = Vec::new();
        for g in o.filter_groups {
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
            for f in g.filters {
                let fat = f.span().start;
                let f = f.into_inner();
                let values = filter_values(f.value.as_ref())
                    .map_err(|e| err(fat, format!("filter on {}: {e}", f.field)))?;
                filters.push(Filter::new(f.field, &f.op, values).map_err(|e| err(fat, e))?);
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
            single.validate_fields(&mapped).map_err(|e| err(at, e))?;
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
        let label_column = o
            .label_column
            .or_else(|| key_columns.first().cloned())
            .unwrap_or_else(|| fields[0].app_columns[0].clone());
        objects.push(ObjectConfig {
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
        });
    }
    if let Some(c) = objects.iter().find(|o| o.mapping.company_column.is_some()) {
        if c.mapping.object != ObjectKind::Contacts {
            return Err(err(
                objects_span,
                format!(
                    "[objects.{}] company_column: only contacts follow a company association",
                    c.mapping.object
                ),
            ));
        }
        if !objects
            .iter()
            .any(|o| o.mapping.object == ObjectKind::Companies)
        {
            return Err(err(
                objects_span,
                "[objects.contacts] company_column needs [objects.companies]: a contact's company can only follow a linked company".into(),
            ));
        }
    }
    // Companies first: a contact's company association can only be
    // written once its company is linked.
    objects.sort_by_key(|o| match o.mapping.object {
        ObjectKind::Companies => 0,
        ObjectKind::Contacts => 1,
        ObjectKind::Deals => 2,
    });
    if objects.is_empty() {
        return Err(err(
            objects_span,
            "[objects] names no object to sync".into(),
        ));
    }
    let webhook = match raw.webhook {
        None => None,
        Some(w) => {
            let at = w.span().start;
            let w = w.into_inner();
            let listen: std::net::SocketAddr = w.listen.parse().map_err(|e| {
                err(
                    at,
                    format!(
                        "[webhook] listen {:?}: not an address and port ({e})",
                        w.listen
                    ),
                )
            })?;
            let url = reqwest::Url::parse(&w.public_url)
                .map_err(|e| err(at, format!("[webhook] public_url {:?}: {e}", w.public_url)))?;
            if url.scheme() != "https"
                && !url
                    .host_str()
                    .is_some_and(|h| h == "127.0.0.1" || h == "localhost")
            {
                return Err(err(
                    at,
                    format!(
                        "[webhook] public_url {:?} must be https: HubSpot only calls https targets",
                        w.public_url
                    ),
                ));
            }
            let public_base = url.origin().ascii_serialization();
            Some(WebhookConfig {
                listen,
                public_base,
                path: url.path().to_string(),
                client_secret_env: w.client_secret_env,
            })
        }
    };
    Ok(Config {
        path: path.to_path_buf(),
        keys: super::keys::Keys::read(text),
        webhook,
        hubspot: HubSpotConfig {
            base_url: hs.base_url,
            auth,
            ten_second_limit: hs.ten_second_limit,
        },
        app_database,
        objects,
        viewer_group: raw.control.and_then(|c| c.viewer_group),
    })
}
