//! Triage by cause: `failed_groups` (open FAILED entries by error class,
//! with counts, first and last seen, and a fix hint) and
//! `failed_in_class` (one class's entries, a page at a time). Retrying a
//! class or a selection are commands (`retry_class`, `retry_selection`),
//! run by the session like every command.

use super::{Reply, params, to_value};
use crate::control::protocol::code;
use crate::control::server::Shared;
use crate::engine::FAILED_PAGE;
use crate::store::ClassMatch;
use crate::triage::ErrorClass;
use serde::Deserialize;
use serde_json::{Value, json};

pub async fn failed_groups(shared: &Shared) -> Reply {
    let groups = shared
        .engine
        .failed_groups()
        .await
        .map_err(|e| (code::FAILED, format!("reading the FAILED groups: {e:#}")))?;
    let total: u64 = groups.iter().map(|g| g.count).sum();
    Ok(json!({ "groups": to_value(groups), "total": total }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InClass {
    class: ErrorClass,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn failed_in_class(shared: &Shared, p: Value) -> Reply {
    let p: InClass = params(
        "failed_in_class",
        "{\"class\": {\"category\", \"sub_category\", \"property\"}, \"before\"?, \"limit\"?}",
        p,
    )?;
    let limit = p.limit.unwrap_or(FAILED_PAGE).clamp(1, FAILED_PAGE);
    let label = p.class.label();
    let entries = shared
        .engine
        .store()
        .failed_in_class(ClassMatch::Exact(p.class), p.before, limit)
        .await
        .map_err(|e| {
            (
                code::FAILED,
                format!("reading the FAILED entries of {label}: {e:#}"),
            )
        })?;
    Ok(json!({ "entries": to_value(entries) }))
}
