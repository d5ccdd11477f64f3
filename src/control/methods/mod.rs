//! Request handlers of the control protocol, one file per area, so each
//! area's methods live apart from the session that dispatches them. What
//! the config editor's handlers share between requests is [`EditorState`].

pub mod log;
pub mod metrics;
pub mod records;
pub mod triage;

/// A method's answer: its result, or an error code and a sentence.
pub type Reply = Result<serde_json::Value, (&'static str, String)>;

/// Reads a method's params, saying which method and what was wrong.
pub(crate) fn params<T: for<'de> serde::Deserialize<'de>>(
    method: &str,
    shape: &str,
    p: serde_json::Value,
) -> Result<T, (&'static str, String)> {
    let p = if p.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        p
    };
    serde_json::from_value(p).map_err(|e| {
        (
            super::protocol::code::INVALID_PARAMS,
            format!("{method} takes {shape}: {e}"),
        )
    })
}

pub(crate) fn to_value(v: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

pub mod config_apply;
pub mod config_history;
pub mod config_preview;
pub mod config_source;

use crate::hubspot::wire::Property;
use crate::model::ObjectKind;
use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// A property list and when it was fetched.
type Fetched = (Vec<Property>, DateTime<Utc>);

/// What the editor's handlers keep between requests.
pub struct EditorState {
    /// The config file the engine runs on; None for a built-in config.
    pub path: Option<PathBuf>,
    /// Texts handed out by `config_source`, by hash: a refused save shows
    /// what changed on disk since the console loaded the file.
    served: Mutex<HashMap<String, String>>,
    /// HubSpot's property lists, and when each was fetched.
    properties: Mutex<HashMap<ObjectKind, Fetched>>,
    /// One apply at a time: two consoles saving at once must not both
    /// pass the on-disk check.
    pub applying: tokio::sync::Mutex<()>,
}

/// How many served texts are remembered (each console load adds one).
const SERVED: usize = 32;

impl EditorState {
    pub fn new(path: Option<PathBuf>) -> EditorState {
        EditorState {
            path,
            served: Mutex::new(HashMap::new()),
            properties: Mutex::new(HashMap::new()),
            applying: tokio::sync::Mutex::new(()),
        }
    }

    fn remember(&self, hash: &str, text: &str) {
        let mut s = self.served.lock().unwrap_or_else(|p| p.into_inner());
        if s.len() >= SERVED {
            s.clear();
        }
        s.insert(hash.to_string(), text.to_string());
    }

    fn served(&self, hash: &str) -> Option<String> {
        self.served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(hash)
            .cloned()
    }

    /// The config file's path, or why there is none to edit.
    fn file(&self) -> Result<&PathBuf, (&'static str, String)> {
        self.path.as_ref().ok_or((
            crate::control::protocol::code::FAILED,
            "this engine runs on a built-in config: there is no file to edit".into(),
        ))
    }

    /// HubSpot's properties of `object`, fetched when not known or when
    /// `refresh` asks; None (and the reason) when HubSpot cannot be asked.
    async fn properties(
        &self,
        client: &crate::hubspot::HubSpotClient,
        object: ObjectKind,
        refresh: bool,
    ) -> Result<Fetched, String> {
        if !refresh
            && let Some(p) = self
                .properties
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&object)
        {
            return Ok(p.clone());
        }
        let props = client
            .properties(object)
            .await
            .map_err(|e| format!("HubSpot {object} properties: {e}"))?;
        let entry = (props, Utc::now());
        self.properties
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(object, entry.clone());
        Ok(entry)
    }
}

/// The `base` a console sends back with `config_apply`.
pub fn hash(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A unified diff from `a` to `b`, headed with their names.
pub fn diff(a: &str, b: &str, a_name: &str, b_name: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(2)
        .header(a_name, b_name)
        .to_string()
}

fn invalid(method: &str, shape: &str, e: impl std::fmt::Display) -> (&'static str, String) {
    (
        crate::control::protocol::code::INVALID_PARAMS,
        format!("{method} takes {shape}: {e}"),
    )
}

/// The validators' problems for every object of `cfg`, with the facts
/// each needs read from HubSpot and the app database (what cannot be read
/// is skipped, and said in `unchecked`).
async fn problems(
    shared: &crate::control::server::Shared,
    cfg: &crate::config::Config,
) -> (Vec<crate::config::validate::Problem>, Vec<String>) {
    let engine = &shared.engine;
    let mut out = Vec::new();
    let mut unchecked = Vec::new();
    for o in &cfg.objects {
        let kind = o.mapping.object;
        let props = match shared.editor.properties(engine.client(), kind, false).await {
            Ok((p, _)) => Some(p),
            Err(e) => {
                unchecked.push(e);
                None
            }
        };
        let table = match engine.app().table_info(&o.mapping).await {
            Ok(t) => Some(t),
            Err(e) => {
                unchecked.push(format!("[objects.{kind}] app table: {e:#}"));
                None
            }
        };
        if let Some(t) = &table
            && t.columns.is_empty()
        {
            out.push(crate::config::validate::Problem {
                key: format!("objects.{kind}.table"),
                object: kind.to_string(),
                entry: String::new(),
                field: "table".into(),
                context: "table".into(),
                message: format!(
                    "app database {} has no table {}",
                    engine.app().describe(),
                    o.mapping.table
                ),
                line: cfg
                    .keys
                    .position(&format!("objects.{kind}.table"))
                    .map_or(0, |p| p.0),
                column: cfg
                    .keys
                    .position(&format!("objects.{kind}.table"))
                    .map_or(0, |p| p.1),
            });
        }
        out.extend(crate::config::validate::object(
            cfg,
            o,
            &crate::config::validate::Facts {
                properties: props.as_deref(),
                table: table.as_ref(),
            },
        ));
    }
    (out, unchecked)
}

/// A refused config as the editor shows it: where and why.
fn config_error(e: &crate::config::ConfigError) -> Value {
    serde_json::json!({
        "line": e.line,
        "column": e.column,
        "key": e.key,
        "message": e.message,
        "text": e.to_string(),
    })
}
