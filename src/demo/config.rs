//! The demo's config file: written into its data folder from
//! `fixtures/demo.toml` (with comments that explain each part) and run
//! from, so the editing workflow can be tried on a real file. A file kept
//! by `--data-dir` is used again as it was edited; only what changes every
//! run (the simulator's address, the app database's path) is rewritten,
//! in place, leaving comments and edits alone.

use crate::config::Config;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TEMPLATE: &str = include_str!("../../fixtures/demo.toml");

/// The file's name in the data folder.
pub const FILE: &str = "hubsync.toml";

/// Writes (or updates) the demo's config in `dir`; its path and meaning.
pub fn write(
    dir: &Path,
    base_url: &str,
    app_db: &Path,
    poll_interval: Duration,
) -> anyhow::Result<(PathBuf, Config)> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => TEMPLATE.replacen(
            "poll_interval_secs = 2",
            &format!("poll_interval_secs = {}", poll_interval.as_secs().max(1)),
            1,
        ),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| {
        format!(
            "{} is not TOML: fix it, or delete it for a fresh one",
            path.display()
        )
    })?;
    doc["hubspot"]["base_url"] = toml_edit::value(base_url);
    doc["app"]["database"] = toml_edit::value(app_db.display().to_string());
    let text = doc.to_string();
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let cfg = Config::parse(&path, &text).map_err(|e| {
        anyhow::anyhow!("{e} (fix the demo's config, or delete it for a fresh one)")
    })?;
    Ok((path, cfg))
}
