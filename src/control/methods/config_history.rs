//! `config_history {limit?}` (the applied configs, newest first, without
//! their text) and `config_get {id}` (one, with its text and diff).
//! Reverting is `config_preview` and `config_apply` of a `config_get`'s
//! text: the same checks and the same record.

use super::{Reply, invalid};
use crate::control::protocol::code;
use crate::control::server::Shared;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct GetParams {
    id: i64,
}

pub async fn list(shared: &Shared, params: Value) -> Reply {
    let p: ListParams = if params.is_null() {
        ListParams::default()
    } else {
        serde_json::from_value(params).map_err(|e| invalid("config_history", "{\"limit\"?}", e))?
    };
    let versions = shared
        .engine
        .store()
        .config_versions(p.limit.unwrap_or(50).clamp(1, 500))
        .await
        .map_err(|e| (code::FAILED, format!("{e:#}")))?;
    Ok(json!({ "versions": versions }))
}

pub async fn get(shared: &Shared, params: Value) -> Reply {
    let p: GetParams =
        serde_json::from_value(params).map_err(|e| invalid("config_get", "{\"id\"}", e))?;
    match shared.engine.store().config_version(p.id).await {
        Ok(Some(v)) => Ok(serde_json::to_value(v).unwrap_or(Value::Null)),
        Ok(None) => Err((
            code::INVALID_PARAMS,
            format!("config_get: no applied config with id {}", p.id),
        )),
        Err(e) => Err((code::FAILED, format!("{e:#}"))),
    }
}
