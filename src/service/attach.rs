//! `hubsync`, the console: attached to the data folder's engine when one
//! runs, hosting one in-process when none does.
//!
//! Attached, quitting only detaches: the engine goes on. Hosting, the
//! console is the engine's process, so quitting stops the sync; the console
//! says so in its title bar, and it still opens the control sockets so a
//! second engineer can attach. `--read-only` only ever attaches, on the
//! viewer socket: a console meant to watch must never start a sync.

use crate::config::Config;
use crate::console::{self, ConsoleOptions, EngineMode};
use crate::control::{ConnectError, ControlClient, operator_socket, viewer_socket};
use crate::engine::lock::{EngineLock, LockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long to wait for an engine that holds the lock but is not yet
/// listening (it is starting).
const STARTING_ENGINE_WAIT: Duration = Duration::from_secs(15);

pub async fn console(
    config: Option<PathBuf>,
    data_dir: &Path,
    mut opts: ConsoleOptions,
) -> anyhow::Result<()> {
    let socket = if opts.read_only {
        viewer_socket(data_dir)
    } else {
        operator_socket(data_dir)
    };
    match ControlClient::connect(&socket).await {
        Ok(client) => {
            tracing::info!(socket = %socket.display(), "console attached to a running engine");
            opts.mode = EngineMode::Attached;
            return console::run(opts, client).await;
        }
        Err(ConnectError::Other(e)) => return Err(e),
        Err(ConnectError::NoEngine(_)) => {}
    }
    if opts.read_only {
        if EngineLock::holder(data_dir)?.is_some() {
            let client = wait_for_engine(&socket).await?;
            opts.mode = EngineMode::Attached;
            return console::run(opts, client).await;
        }
        anyhow::bail!(
            "no engine runs on {}: --read-only only attaches to a running one (start it with `hubsync run --data-dir {}`)",
            data_dir.display(),
            data_dir.display()
        );
    }
    let lock = match EngineLock::acquire(data_dir) {
        Ok(l) => l,
        // Another engine took the folder between our look and our lock:
        // it is starting, so attach to it once it listens.
        Err(LockError::Held { .. }) => {
            let client = wait_for_engine(&socket).await?;
            opts.mode = EngineMode::Attached;
            return console::run(opts, client).await;
        }
        Err(e) => return Err(e.into()),
    };
    let cfg = crate::config::load_or_explain(config)?;
    host_and_attach(&cfg, data_dir, lock, opts).await
}

async fn host_and_attach(
    cfg: &Config,
    data_dir: &Path,
    lock: EngineLock,
    mut opts: ConsoleOptions,
) -> anyhow::Result<()> {
    let host = super::run::start(cfg, data_dir, lock).await?;
    let result = match ControlClient::connect(&operator_socket(data_dir)).await {
        Ok(client) => {
            opts.mode = EngineMode::InProcess;
            console::run(opts, client).await
        }
        Err(e) => Err(anyhow::anyhow!("attaching to the engine just started: {e}")),
    };
    host.stop().await;
    result
}

async fn wait_for_engine(socket: &Path) -> anyhow::Result<ControlClient> {
    let deadline = tokio::time::Instant::now() + STARTING_ENGINE_WAIT;
    loop {
        match ControlClient::connect(socket).await {
            Ok(c) => return Ok(c),
            Err(ConnectError::NoEngine(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(ConnectError::NoEngine(s)) => anyhow::bail!(
                "an engine holds the data folder but nothing listens on {s} after {STARTING_ENGINE_WAIT:?}"
            ),
            Err(ConnectError::Other(e)) => return Err(e),
        }
    }
}
