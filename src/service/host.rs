//! Hosting an engine: the data folder's lock, the engine's tasks, the
//! control sockets and (when configured) the webhook receiver, started
//! together and stopped together. `hubsync run`, a console that finds no
//! engine, and `hubsync demo` all host the same way, so whichever started
//! it, a second engineer can attach.

use crate::control::server::{Reloader, Shared};
use crate::control::{ControlServer, ServerConfig};
use crate::engine::lock::EngineLock;
use crate::engine::{Engine, EngineHandle};
use crate::status::{EngineInfo, Snapshot};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub struct HostOptions {
    pub data_dir: PathBuf,
    pub viewer_group: Option<String>,
    /// The config file, as shown to consoles.
    pub config_label: String,
    pub reload: Reloader,
    /// The config file consoles may edit (`config_apply`); None for a
    /// built-in config.
    pub config_file: Option<PathBuf>,
}

/// A running engine with its control sockets.
pub struct Host {
    pub engine: Arc<Engine>,
    handle: EngineHandle,
    server: ControlServer,
    /// Cancelled by a signal, an operator's shutdown, or [`Host::stop`].
    pub stop: CancellationToken,
    lock: EngineLock,
    reload: Reloader,
}

impl Host {
    /// Starts the engine and its sockets; `lock` proves this process owns
    /// the data folder.
    pub async fn start(
        engine: Arc<Engine>,
        lock: EngineLock,
        opts: HostOptions,
    ) -> anyhow::Result<Host> {
        let stop = CancellationToken::new();
        let handle = engine.spawn(stop.clone()).await?;
        let snapshots = Arc::new(handle.sender());
        let shared = Arc::new(Shared {
            engine: engine.clone(),
            snapshots,
            info: EngineInfo {
                pid: lock.holder.pid,
                started_at: lock.holder.started_at,
                version: lock.holder.version.clone(),
                config: opts.config_label,
                consoles: 0,
            },
            consoles: AtomicU32::new(0),
            stop: stop.clone(),
            reload: opts.reload.clone(),
            editor: crate::control::methods::EditorState::new(opts.config_file.clone()),
        });
        let server = ControlServer::start(
            shared,
            &ServerConfig {
                data_dir: opts.data_dir,
                viewer_group: opts.viewer_group,
            },
        )
        .await?;
        Ok(Host {
            engine,
            handle,
            server,
            stop,
            lock,
            reload: opts.reload,
        })
    }

    /// Re-reads the config as the `reload` request does (SIGHUP).
    pub fn reloader(&self) -> Reloader {
        self.reload.clone()
    }

    /// The shared snapshot, for an in-process watcher that does not go
    /// through a socket (tests).
    pub fn snapshots(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.handle.subscribe()
    }

    /// Stops everything after the batch in flight and releases the folder.
    pub async fn stop(self) {
        self.stop.cancel();
        self.handle.join().await;
        self.server.join().await;
        tracing::info!(lock = %self.lock.path.display(), "engine stopped; data folder released");
        drop(self.lock);
    }
}

/// A reloader for engines that have no config file to re-read (the demo,
/// tests): it says so.
pub fn no_reload(why: &'static str) -> Reloader {
    Arc::new(move || Box::pin(async move { Err(anyhow::anyhow!(why)) }))
}
