//! Running hubsync on a real configuration: `hubsync run` (the engine with
//! no console, for a service manager) and `hubsync check` (configuration,
//! credentials and mappings against HubSpot's live property list).

use crate::appdb::AppDb;
use crate::config::Config;
use crate::hubspot::HubSpotClient;
use crate::model::ObjectKind;
use crate::store::Store;
use crate::sync::engine::{Engine, EngineSettings};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// The engine for a configuration, its state kept in `data_dir`.
pub fn build_engine(cfg: &Config, data_dir: &Path) -> anyhow::Result<Arc<Engine>> {
    let object = cfg
        .object(ObjectKind::Contacts)
        .context("the configuration syncs no contacts")?;
    crate::store::create_private_dir(data_dir)?;
    let store = Store::open(&data_dir.join("state.db"))?;
    let app = AppDb::open(&cfg.app_database)?;
    app.verify(&object.mapping)?;
    let client = HubSpotClient::new(cfg.client_settings()?)?;
    let settings = EngineSettings {
        poll_interval: object.poll_interval,
        batch_size: object.batch_size,
        ..EngineSettings::default()
    };
    Ok(Engine::new(
        Arc::new(client),
        store,
        app,
        object.mapping.clone(),
        settings,
    ))
}

/// Runs the engine until SIGTERM or SIGINT, then stops after the batch in flight.
pub async fn run(cfg: &Config, data_dir: &Path) -> anyhow::Result<()> {
    let engine = build_engine(cfg, data_dir)?;
    let cancel = CancellationToken::new();
    let handle = engine.spawn(cancel.clone())?;
    tracing::info!(config = %cfg.path.display(), data = %data_dir.display(), "engine running");
    eprintln!(
        "hubsync run: syncing per {}; state and log in {} (SIGTERM stops)",
        cfg.path.display(),
        data_dir.display()
    );
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: stopping"),
    }
    cancel.cancel();
    handle.join().await;
    tracing::info!("engine stopped");
    Ok(())
}

/// The console over the engine: `hubsync` with no subcommand.
pub async fn console(
    cfg: &Config,
    data_dir: &Path,
    opts: crate::console::ConsoleOptions,
) -> anyhow::Result<()> {
    let engine = build_engine(cfg, data_dir)?;
    let cancel = CancellationToken::new();
    let handle = engine.spawn(cancel.clone())?;
    let result = crate::console::run(opts, handle.snapshots.clone(), handle.commands.clone()).await;
    cancel.cancel();
    handle.join().await;
    result
}

/// `hubsync status`: what the state database says, without touching
/// HubSpot (the counts of HubSpot records are left out).
pub fn status(cfg: &Config, data_dir: &Path) -> anyhow::Result<crate::status::Snapshot> {
    let object = cfg
        .object(ObjectKind::Contacts)
        .context("the configuration syncs no contacts")?;
    let state = data_dir.join("state.db");
    if !state.exists() {
        anyhow::bail!(
            "no state at {}: hubsync has not run with this data folder",
            state.display()
        );
    }
    let store = Store::open(&state)?;
    let app_count = AppDb::open(&cfg.app_database)
        .and_then(|a| a.count(&object.mapping))
        .ok();
    crate::sync::engine::stored_snapshot(&store, ObjectKind::Contacts, app_count, None)
}

/// What `hubsync check` found: one line per problem, empty when all is well.
pub async fn check(cfg: &Config) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let app = match AppDb::open(&cfg.app_database) {
        Ok(a) => Some(a),
        Err(e) => {
            problems.push(format!("app database: {e:#}"));
            None
        }
    };
    let client = HubSpotClient::new(cfg.client_settings()?)?;
    for o in &cfg.objects {
        let m = &o.mapping;
        if let Some(app) = &app
            && let Err(e) = app.verify(m)
        {
            problems.push(format!("[objects.{}]: {e:#}", m.object));
        }
        match client.properties(m.object).await {
            Err(e) => problems.push(format!("HubSpot {} properties: {e}", m.object)),
            Ok(props) => {
                for f in &m.fields {
                    match props.iter().find(|p| p.name == f.hubspot_property) {
                        None => problems.push(format!(
                            "[objects.{}] field {} → {}: HubSpot has no such {} property",
                            m.object, f.app_column, f.hubspot_property, m.object
                        )),
                        Some(p) if p.is_read_only() => problems.push(format!(
                            "[objects.{}] field {} → {}: the property is read-only in HubSpot",
                            m.object, f.app_column, f.hubspot_property
                        )),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    Ok(problems)
}
