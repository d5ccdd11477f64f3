//! `hubsync run`: the engine as a service. It takes the data folder's lock
//! (refusing to start, and naming the engine that has it, when another
//! runs there), serves the control sockets so consoles can attach, and runs
//! until SIGTERM or SIGINT (or an operator's shutdown request), stopping
//! after the batch in flight. SIGHUP re-reads the config.

use super::host::{Host, HostOptions};
use super::reload::config_reloader;
use crate::config::Config;
use crate::engine::lock::EngineLock;
use std::path::Path;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(cfg: &Config, data_dir: &Path) -> anyhow::Result<()> {
    let lock = EngineLock::acquire(data_dir)?;
    let host = start(cfg, data_dir, lock).await?;
    eprintln!(
        "hubsync run: syncing per {}; state and log in {}; attach with `hubsync --data-dir {}` (SIGTERM stops, SIGHUP reloads the config)",
        cfg.path.display(),
        data_dir.display(),
        data_dir.display()
    );
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    let reload = host.reloader();
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: stopping"); break }
            _ = int.recv() => { tracing::info!("SIGINT: stopping"); break }
            _ = host.stop.cancelled() => break,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading the config");
                // The reloader logs and announces either outcome itself.
                let _ = reload().await;
            }
        }
    }
    host.stop().await;
    Ok(())
}

/// Hosts the engine of `cfg` in this process, its control sockets open.
pub(super) async fn start(cfg: &Config, data_dir: &Path, lock: EngineLock) -> anyhow::Result<Host> {
    let engine = super::build_engine(cfg, data_dir).await?;
    super::preflight::check_properties(cfg, &engine).await?;
    let host = Host::start(
        engine.clone(),
        lock,
        HostOptions {
            data_dir: data_dir.to_path_buf(),
            viewer_group: cfg.viewer_group.clone(),
            config_label: cfg.path.display().to_string(),
            reload: config_reloader(cfg.path.clone(), cfg.clone(), engine.clone()),
            config_file: Some(cfg.path.clone()),
        },
    )
    .await?;
    super::start_webhooks(cfg, &engine, &host.stop).await?;
    super::listen::start_app_listener(cfg, &engine, &host.stop);
    tracing::info!(config = %cfg.path.display(), data = %data_dir.display(), pid = std::process::id(), "engine running");
    Ok(host)
}
