//! The config file as written, and its checks. Every value that can be
//! wrong is read with its position so the error can point at it (and, by
//! `keys`, at the dotted key an editor shows it beside). This file reads
//! the top level; `object`, `fields` and `filters` read an object's
//! section, its field mappings and its filter groups.

mod fields;
mod filters;
mod object;

use super::{Config, ConfigError, HubSpotAuth, HubSpotConfig, WebhookConfig};
use crate::model::ObjectKind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// Where in the text a problem is (a byte offset), and what it is.
type Fail = (usize, String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    hubspot: Spanned<RawHubSpot>,
    app: Spanned<super::app::RawApp>,
    webhook: Option<Spanned<RawWebhook>>,
    control: Option<RawControl>,
    objects: Spanned<BTreeMap<Spanned<String>, Spanned<object::RawObject>>>,
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

/// Turns a byte offset into a 1-based line and column.
pub(super) fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let keys = super::keys::Keys::read(text);
    let err = |offset: usize, message: String| {
        let (line, column) = position(text, offset);
        ConfigError {
            file: path.to_path_buf(),
            line,
            column,
            key: keys.key_at(offset),
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
        objects.push(object::parse(text, kind, name.get_ref(), obj).map_err(|(at, m)| err(at, m))?);
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
        keys: keys.clone(),
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
