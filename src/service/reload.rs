//! Re-reading the config file while the engine runs (SIGHUP, or an
//! operator's `reload`). The file is validated exactly as at start (its
//! syntax, then `preflight`'s checks against HubSpot); a file
//! that does not pass keeps the running configuration, and the reason goes
//! to the log and to every attached console. What a running engine cannot
//! swap (the HubSpot connection, the app database, the webhook receiver)
//! is named as waiting for a restart instead of being ignored silently.

use crate::config::Config;
use crate::control::server::Reloader;
use crate::engine::Engine;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub fn config_reloader(path: PathBuf, running: Config, engine: Arc<Engine>) -> Reloader {
    let running = Arc::new(Mutex::new(running));
    Arc::new(move || {
        let (path, running, engine) = (path.clone(), running.clone(), engine.clone());
        Box::pin(async move {
            let result = reload(&path, &running, &engine).await;
            match &result {
                Ok(text) => {
                    tracing::info!(config = %path.display(), "{text}");
                    engine.announce(text.clone(), false);
                }
                Err(e) => {
                    let text = format!("config reload refused, the running config stays: {e:#}");
                    tracing::error!(config = %path.display(), "{text}");
                    engine.announce(text, true);
                }
            }
            result
        })
    })
}

async fn reload(
    path: &std::path::Path,
    running: &Mutex<Config>,
    engine: &Engine,
) -> anyhow::Result<String> {
    let new = Config::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    super::preflight::check_properties(&new, engine).await?;
    engine.reload(new.objects.clone()).await?;
    let mut later = Vec::new();
    {
        let old = running.lock().unwrap_or_else(|p| p.into_inner());
        if old.hubspot != new.hubspot {
            later.push("[hubspot]");
        }
        if old.app_database != new.app_database {
            later.push("[app]");
        }
        if old.webhook != new.webhook {
            later.push("[webhook]");
        }
        if old.viewer_group != new.viewer_group {
            later.push("[control]");
        }
    }
    let objects: Vec<String> = new
        .objects
        .iter()
        .map(|o| o.mapping.object.to_string())
        .collect();
    let mut text = format!(
        "config reloaded from {}: {} applied from the next job",
        path.display(),
        objects.join(", ")
    );
    if !later.is_empty() {
        text.push_str(&format!(
            "; changes to {} take effect at the next restart",
            later.join(", ")
        ));
    }
    let mut old = running.lock().unwrap_or_else(|p| p.into_inner());
    // Only what was applied becomes "running"; the rest waits for a restart.
    old.objects = new.objects;
    Ok(text)
}
