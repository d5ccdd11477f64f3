//! The record methods: `audit_page` (the audit log, filtered in the
//! state database), `records_search`, `record_view` and `set_app_field`
//! (see `docs/control-protocol.md`).

use super::super::protocol::code;
use crate::engine::Engine;
use crate::model::ObjectKind;
use crate::store::AuditQuery;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A handler's answer: a result, or an error code and a sentence.
pub type Reply = Result<Value, (&'static str, String)>;

/// Entries per audit page, unless a console asks for fewer.
pub const AUDIT_PAGE: usize = 200;

fn params<T: for<'de> Deserialize<'de>>(
    method: &str,
    shape: &str,
    p: Value,
) -> Result<T, (&'static str, String)> {
    let p = if p.is_null() {
        Value::Object(Default::default())
    } else {
        p
    };
    serde_json::from_value(p)
        .map_err(|e| (code::INVALID_PARAMS, format!("{method} takes {shape}: {e}")))
}

fn answer(v: impl Serialize) -> Reply {
    Ok(serde_json::to_value(v).unwrap_or(Value::Null))
}

fn failed(e: anyhow::Error) -> (&'static str, String) {
    (code::FAILED, format!("{e:#}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditPageParams {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    object: Option<ObjectKind>,
    #[serde(default)]
    failed_only: bool,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<usize>,
}

/// A page of the audit log, newest first, filtered in SQL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<crate::status::AuditView>,
    /// Whether older matching entries follow (ask with `before` = the
    /// last entry's id).
    pub more: bool,
}

pub async fn audit_page(engine: &Engine, p: Value) -> Reply {
    let p: AuditPageParams = params(
        "audit_page",
        "{\"filter\"?, \"object\"?, \"failed_only\"?, \"before\"?, \"limit\"?}",
        p,
    )?;
    let limit = p.limit.unwrap_or(AUDIT_PAGE).clamp(1, AUDIT_PAGE);
    let mut entries = engine
        .store()
        .search_audit(AuditQuery {
            text: p.filter,
            open_only: p.failed_only,
            object: p.object,
            before: p.before,
            // One more than asked says whether there is more.
            limit: limit + 1,
        })
        .await
        .map_err(failed)?;
    let more = entries.len() > limit;
    entries.truncate(limit);
    answer(AuditPage { entries, more })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    object: ObjectKind,
    query: String,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn records_search(engine: &Engine, p: Value) -> Reply {
    let p: SearchParams = params("records_search", "{\"object\", \"query\", \"limit\"?}", p)?;
    let found = engine
        .records_search(p.object, &p.query, p.limit.unwrap_or(50))
        .await
        .map_err(failed)?;
    answer(found)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewParams {
    object: ObjectKind,
    #[serde(default)]
    app_id: Option<String>,
    #[serde(default)]
    hubspot_id: Option<String>,
}

pub async fn record_view(engine: &Engine, p: Value) -> Reply {
    let p: ViewParams = params(
        "record_view",
        "{\"object\", \"app_id\"?, \"hubspot_id\"?} (one of the ids at least)",
        p,
    )?;
    if p.app_id.is_none() && p.hubspot_id.is_none() {
        return Err((
            code::INVALID_PARAMS,
            "record_view needs \"app_id\" or \"hubspot_id\"".into(),
        ));
    }
    let view = engine
        .record_view(p.object, p.app_id.as_deref(), p.hubspot_id.as_deref())
        .await
        .map_err(failed)?;
    answer(view)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFieldParams {
    object: ObjectKind,
    app_id: String,
    field: String,
    value: String,
}

pub async fn set_app_field(engine: &Engine, p: Value, user: &str) -> Reply {
    let p: SetFieldParams = params(
        "set_app_field",
        "{\"object\", \"app_id\", \"field\", \"value\"}",
        p,
    )?;
    let done = engine
        .set_app_field(p.object, &p.app_id, &p.field, &p.value, user)
        .await
        .map_err(failed)?;
    answer(done)
}
