//! `config_apply {toml, base}` (writes): saves the text as the config file
//! and has the engine apply it from the next job on, as SIGHUP does.
//!
//! Refused, with nothing written, when the file changed on disk since the
//! console loaded it (`base` is the hash `config_source` gave; the answer
//! carries the difference), when the text does not load, or when the
//! validators find a problem. The file is replaced atomically (a temporary
//! file in the same folder, renamed over it, with the old file's mode), and
//! the text is written as the editor made it, comments and all. Linked
//! records the new filters exclude get a SKIPPED entry naming the filter;
//! the applied text goes into the config history with who applied it.

use super::{Reply, config_error, diff, hash, invalid, problems};
use crate::config::Config;
use crate::control::protocol::code;
use crate::control::server::Shared;
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

#[derive(Deserialize)]
struct Params {
    toml: String,
    base: String,
}

pub async fn handle(shared: &Shared, params: Value, user: &str) -> Reply {
    let p: Params = serde_json::from_value(params)
        .map_err(|e| invalid("config_apply", "{\"toml\", \"base\"}", e))?;
    let state = &shared.editor;
    let path = state.file()?.clone();
    let _one = state.applying.lock().await;
    let failed = |m: String| (code::FAILED, m);
    let on_disk = std::fs::read_to_string(&path)
        .map_err(|e| failed(format!("reading {}: {e}", path.display())))?;
    let disk_hash = hash(&on_disk);
    if disk_hash != p.base {
        let changed = match state.served(&p.base) {
            Some(loaded) => diff(&loaded, &on_disk, "as loaded", "on disk now"),
            None => diff(&on_disk, &p.toml, "on disk now", "yours"),
        };
        return Err((
            code::CONFLICT,
            format!(
                "{} changed on disk since this console loaded it; nothing was written. Load it again and redo the edit. The difference:\n{changed}",
                path.display()
            ),
        ));
    }
    let cfg = Config::parse(&path, &p.toml).map_err(|e| {
        (
            code::INVALID_PARAMS,
            config_error(&e)["text"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    })?;
    let (found, _) = problems(shared, &cfg).await;
    if !found.is_empty() {
        let list: Vec<String> = found.iter().map(ToString::to_string).collect();
        return Err((
            code::INVALID_PARAMS,
            format!(
                "the config has problems; nothing was written:\n{}",
                list.join("\n")
            ),
        ));
    }
    let store = shared.engine.store();
    let history_empty = store
        .config_versions(1)
        .await
        .map_err(|e| failed(format!("{e:#}")))?
        .is_empty();
    if history_empty {
        // The file as it was first, so the first change can be reverted.
        store
            .add_config_version(None, &path.display().to_string(), &disk_hash, &on_disk, "")
            .await
            .map_err(|e| failed(format!("{e:#}")))?;
    }
    let old = shared.engine.objects();
    write_atomically(&path, &p.toml).map_err(|e| failed(format!("{e:#}")))?;
    let notice = match (shared.reload)().await {
        Ok(n) => n,
        Err(e) => {
            // The running config stays; so must the file it came from.
            let restored = write_atomically(&path, &on_disk)
                .map(|_| "the file was put back as it was".to_string())
                .unwrap_or_else(|r| format!("putting the file back failed too: {r:#}"));
            return Err(failed(format!(
                "the engine refused the config ({e:#}); {restored}"
            )));
        }
    };
    tracing::info!(user, config = %path.display(), "config applied from a console");
    let new = shared.engine.objects();
    let skipped = shared
        .engine
        .audit_newly_excluded(&old, &new, Some(user))
        .await
        .map_err(|e| failed(format!("{e:#}")))?;
    let change = diff(&on_disk, &p.toml, "before", "after");
    let new_hash = hash(&p.toml);
    let id = store
        .add_config_version(
            Some(user),
            &path.display().to_string(),
            &new_hash,
            &p.toml,
            &change,
        )
        .await
        .map_err(|e| failed(format!("{e:#}")))?;
    state.remember(&new_hash, &p.toml);
    Ok(json!({
        "notice": notice,
        "id": id,
        "hash": new_hash,
        "skipped": skipped,
        "diff": change,
    }))
}

/// Replaces `path` with `text` in one rename, keeping the file's mode.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing a new {} in {}", path.display(), dir.display()))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
