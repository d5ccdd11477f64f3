//! The config file as written, and its checks. Every value that can be
//! wrong is read with its position so the error can point at it.

use super::{Config, ConfigError, HubSpotAuth, HubSpotConfig, ObjectConfig, field};
use crate::model::{Direction, ObjectKind};
use crate::sync::mapping::{ObjectMapping, Transform};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    hubspot: Spanned<RawHubSpot>,
    app: RawApp,
    objects: Spanned<BTreeMap<Spanned<String>, Spanned<RawObject>>>,
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
struct RawApp {
    database: PathBuf,
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
    key_column: Spanned<String>,
    label_column: Option<String>,
    #[serde(default = "to_hubspot")]
    direction: Spanned<String>,
    #[serde(default = "thirty")]
    poll_interval_secs: Spanned<u64>,
    #[serde(default = "hundred")]
    batch_size: Spanned<u32>,
    fields: Spanned<Vec<Spanned<RawField>>>,
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
fn to_hubspot() -> Spanned<String> {
    Spanned::new(0..0, "to_hubspot".into())
}
fn thirty() -> Spanned<u64> {
    Spanned::new(0..0, 30)
}
fn hundred() -> Spanned<u32> {
    Spanned::new(0..0, 100)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    app: String,
    hubspot: String,
    transform: Option<Spanned<String>>,
}

/// Turns a byte offset into a 1-based line and column.
fn position(text: &str, offset: usize) -> (usize, usize) {
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
        let kind = match name.get_ref().as_str() {
            "contacts" => ObjectKind::Contacts,
            "companies" | "deals" => {
                return Err(err(
                    name.span().start,
                    format!(
                        "[objects.{}]: only contacts sync in this version",
                        name.get_ref()
                    ),
                ));
            }
            other => {
                return Err(err(
                    name.span().start,
                    format!(
                        "[objects.{other}]: unknown object; expected contacts, companies or deals"
                    ),
                ));
            }
        };
        let o = obj.into_inner();
        let direction = match o.direction.get_ref().as_str() {
            "to_hubspot" => Direction::ToHubSpot,
            "to_app" | "both" => {
                return Err(err(
                    o.direction.span().start,
                    format!(
                        "direction {:?}: only to_hubspot is supported in this version",
                        o.direction.get_ref()
                    ),
                ));
            }
            other => {
                return Err(err(
                    o.direction.span().start,
                    format!("direction {other:?}: expected to_hubspot, to_app or both"),
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
        let mut fields = Vec::new();
        for f in o.fields.into_inner() {
            let at = f.span().start;
            let f = f.into_inner();
            let transform = match f.transform.as_ref().map(|t| t.get_ref().as_str()) {
                None | Some("none") => Transform::None,
                Some("lowercase_trim") => Transform::LowercaseTrim,
                Some(other) => {
                    let t = f.transform.as_ref().map_or(at, |t| t.span().start);
                    return Err(err(
                        t,
                        format!("transform {other:?}: expected none or lowercase_trim"),
                    ));
                }
            };
            if f.app.trim().is_empty() || f.hubspot.trim().is_empty() {
                return Err(err(
                    at,
                    "a field needs both app (a column) and hubspot (a property)".into(),
                ));
            }
            if fields
                .iter()
                .any(|x: &crate::sync::mapping::FieldMap| x.hubspot_property == f.hubspot)
            {
                return Err(err(
                    at,
                    format!("HubSpot property {} is mapped twice", f.hubspot),
                ));
            }
            fields.push(field(&f.app, &f.hubspot, transform));
        }
        if fields.is_empty() {
            return Err(err(
                fields_span,
                format!("[objects.{}] maps no fields", name.get_ref()),
            ));
        }
        let key_column = o.key_column.get_ref().clone();
        let Some(key_field) = fields.iter().find(|f| f.app_column == key_column) else {
            return Err(err(
                o.key_column.span().start,
                format!(
                    "key_column {key_column:?} is not mapped: add a field with app = {key_column:?}"
                ),
            ));
        };
        let key_property = key_field.hubspot_property.clone();
        objects.push(ObjectConfig {
            mapping: ObjectMapping {
                object: kind,
                table: o.table,
                id_column: o.id_column,
                updated_at_column: o.updated_at_column,
                hubspot_id_column: o.hubspot_id_column,
                label_column: o.label_column.unwrap_or_else(|| key_column.clone()),
                key_column,
                key_property,
                fields,
            },
            direction,
            poll_interval: Duration::from_secs(poll),
            batch_size: batch as usize,
        });
    }
    if objects.is_empty() {
        return Err(err(
            objects_span,
            "[objects] names no object to sync".into(),
        ));
    }
    Ok(Config {
        path: path.to_path_buf(),
        hubspot: HubSpotConfig {
            base_url: hs.base_url,
            auth,
            ten_second_limit: hs.ten_second_limit,
        },
        app_database: raw.app.database,
        objects,
    })
}
