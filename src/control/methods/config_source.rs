//! `config_source {object?, refresh?}`: the config file's text and hash
//! (the `base` of a later `config_apply`), the object's section, and per
//! object the app table's real columns and HubSpot's property list (with
//! when it was fetched; `refresh` fetches it again), so an editor can
//! offer them with fuzzy search.

use super::{EditorState, Reply, hash, invalid};
use crate::control::protocol::code;
use crate::control::server::Shared;
use crate::model::ObjectKind;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, Default)]
struct Params {
    #[serde(default)]
    object: Option<ObjectKind>,
    #[serde(default)]
    refresh: bool,
}

pub async fn handle(shared: &Shared, params: Value) -> Reply {
    let p: Params = if params.is_null() {
        Params::default()
    } else {
        serde_json::from_value(params)
            .map_err(|e| invalid("config_source", "{\"object\"?, \"refresh\"?}", e))?
    };
    let state: &EditorState = &shared.editor;
    let path = state.file()?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| (code::FAILED, format!("reading {}: {e}", path.display())))?;
    let h = hash(&text);
    state.remember(&h, &text);
    let engine = &shared.engine;
    let mut objects = Vec::new();
    for o in engine.objects().iter() {
        let kind = o.mapping.object;
        if p.object.is_some_and(|k| k != kind) {
            continue;
        }
        let columns = match engine.app().table_info(&o.mapping).await {
            Ok(t) => json!(
                t.columns
                    .iter()
                    .map(|c| json!({"name": c.name, "type": c.type_name}))
                    .collect::<Vec<_>>()
            ),
            Err(e) => json!({"error": format!("{e:#}")}),
        };
        let properties = match state.properties(engine, kind, p.refresh).await {
            Ok((props, at)) => json!({
                "fetched_at": at,
                "list": props.iter().map(|x| json!({
                    "name": x.name,
                    "label": x.label,
                    "type": x.kind,
                    "read_only": x.is_read_only(),
                    "unique": x.has_unique_value,
                    "options": x.options.iter().map(|o| &o.value).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }),
            Err(e) => json!({"error": e}),
        };
        objects.push(json!({"object": kind, "table": o.mapping.table, "columns": columns, "properties": properties}));
    }
    let section = match p.object {
        Some(kind) => crate::config::edit::ConfigDoc::parse(path, &text)
            .and_then(|d| d.section(kind))
            .ok(),
        None => None,
    };
    Ok(json!({
        "path": path.display().to_string(),
        "text": text,
        "hash": h,
        "section": section,
        "objects": objects,
    }))
}
