//! `config_preview {toml, record?: {object, app_id}}`: what saving this
//! text would do, computed without writing: the same checks as loading
//! and `hubsync check`, then `Engine::preview`'s counts and record.
//! A text that does not pass answers `ok: false` with where and why,
//! not an error: the editor shows it beside the field.

use super::{Reply, config_error, invalid, problems};
use crate::config::Config;
use crate::control::protocol::code;
use crate::control::server::Shared;
use crate::model::ObjectKind;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Record {
    object: ObjectKind,
    app_id: String,
}

#[derive(Deserialize)]
struct Params {
    toml: String,
    #[serde(default)]
    record: Option<Record>,
}

pub async fn handle(shared: &Shared, params: Value) -> Reply {
    let p: Params = serde_json::from_value(params).map_err(|e| {
        invalid(
            "config_preview",
            "{\"toml\", \"record\"?: {\"object\", \"app_id\"}}",
            e,
        )
    })?;
    let path = shared.editor.file()?;
    let cfg = match Config::parse(path, &p.toml) {
        Ok(c) => c,
        Err(e) => return Ok(json!({"ok": false, "error": config_error(&e), "problems": []})),
    };
    let (problems, unchecked) = problems(shared, &cfg).await;
    let started = std::time::Instant::now();
    let preview = shared
        .engine
        .preview(&cfg.objects, p.record.map(|r| (r.object, r.app_id)))
        .await
        .map_err(|e| (code::FAILED, format!("{e:#}")))?;
    Ok(json!({
        "ok": problems.is_empty(),
        "problems": problems,
        "unchecked": unchecked,
        "preview": preview,
        "took_ms": started.elapsed().as_millis() as u64,
    }))
}
