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

    /// HubSpot's properties of `object`, fetched when not known, when
    /// `refresh` asks, or when a write was refused for an unknown property
    /// since (the list is out of date); the reason when HubSpot cannot be
    /// asked.
    async fn properties(
        &self,
        engine: &crate::engine::Engine,
        object: ObjectKind,
        refresh: bool,
    ) -> Result<Fetched, String> {
        let stale = engine.take_stale_properties(object).is_some();
        if !refresh
            && !stale
            && let Some(p) = self
                .properties
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&object)
        {
            return Ok(p.clone());
        }
        let props = match engine.client().properties(object).await {
            Ok(p) => p,
            Err(e) => {
                if stale {
                    // Asked again next time rather than forgotten.
                    self.properties
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&object);
                }
                return Err(format!("HubSpot {object} properties: {e}"));
            }
        };
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

/// The validators' problems for every object of `cfg`, with HubSpot's
/// property lists from the editor's cache (what cannot be read is skipped,
/// and said in `unchecked`).
async fn problems(
    shared: &crate::control::server::Shared,
    cfg: &crate::config::Config,
) -> (Vec<crate::config::validate::Problem>, Vec<String>) {
    let engine = &shared.engine;
    let mut lists = HashMap::new();
    for o in &cfg.objects {
        let kind = o.mapping.object;
        let list = shared.editor.properties(engine, kind, false).await;
        lists.insert(kind, list.map(|(p, _)| p));
    }
    engine.config_problems(cfg, &lists).await
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
