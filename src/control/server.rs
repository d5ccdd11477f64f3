//! The engine's side of the control sockets.
//!
//! Two sockets in the data folder: `control.sock` for operators (mode 0600:
//! the engine's own user only, and its peer's uid is checked too) and
//! `viewer.sock` for people who only watch (0600, or 0660 for the config's
//! `viewer_group`, whose members then also get traverse on the data
//! folder). The socket a client came in on is its role; the engine, not the
//! console's keymap, refuses a viewer's writes. Each connection is served
//! by its own task (`session`), so a slow or hostile client only ever slows
//! itself.

use super::protocol::Role;
use super::session::{self, Session};
use crate::engine::Engine;
use crate::status::{EngineInfo, Snapshot};
use anyhow::Context;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use tokio::net::UnixListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The operator socket's name in the data folder.
pub const OPERATOR_SOCKET: &str = "control.sock";
/// The viewer socket's name in the data folder.
pub const VIEWER_SOCKET: &str = "viewer.sock";

pub fn operator_socket(data_dir: &Path) -> PathBuf {
    data_dir.join(OPERATOR_SOCKET)
}

pub fn viewer_socket(data_dir: &Path) -> PathBuf {
    data_dir.join(VIEWER_SOCKET)
}

/// Re-reads the config file and applies it; answers what happened.
pub type Reloader =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<String>> + Send>> + Send + Sync>;

/// What every session shares.
pub struct Shared {
    pub engine: Arc<Engine>,
    pub snapshots: Arc<watch::Sender<Arc<Snapshot>>>,
    /// The engine's identity; `consoles` is filled in per snapshot.
    pub info: EngineInfo,
    pub consoles: AtomicU32,
    /// Cancelling it stops the whole service (an operator's `shutdown`).
    pub stop: CancellationToken,
    pub reload: Reloader,
    /// The config editor's file and caches (`methods`).
    pub editor: super::methods::EditorState,
}

/// Where and to whom the sockets are open.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub data_dir: PathBuf,
    /// A group whose members may attach as viewers.
    pub viewer_group: Option<String>,
}

/// The listening sockets; dropping it does not stop them, cancelling does.
pub struct ControlServer {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    paths: Vec<PathBuf>,
}

impl ControlServer {
    /// Binds both sockets. The caller holds the data folder's engine lock,
    /// so a socket file left by a dead engine is stale and is replaced.
    pub async fn start(shared: Arc<Shared>, cfg: &ServerConfig) -> anyhow::Result<ControlServer> {
        let operator = bind(&operator_socket(&cfg.data_dir))?;
        let viewer_path = viewer_socket(&cfg.data_dir);
        let viewer = bind(&viewer_path)?;
        if let Some(group) = &cfg.viewer_group {
            open_to_group(&cfg.data_dir, &viewer_path, group)?;
        }
        let mut tasks = Vec::new();
        for (listener, role) in [(operator, Role::Operator), (viewer, Role::Viewer)] {
            let shared = shared.clone();
            tasks.push(tokio::spawn(accept(listener, role, shared)));
        }
        tracing::info!(
            operator = %operator_socket(&cfg.data_dir).display(),
            viewer = %viewer_path.display(),
            viewer_group = cfg.viewer_group.as_deref().unwrap_or("(owner only)"),
            "control sockets listening"
        );
        Ok(ControlServer {
            tasks,
            paths: vec![operator_socket(&cfg.data_dir), viewer_path],
        })
    }

    /// Waits for the accept loops (they end when the stop token is
    /// cancelled) and removes the socket files.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
        for p in &self.paths {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn bind(path: &Path) -> anyhow::Result<UnixListener> {
    // The kernel keeps at most ~107 bytes of a socket path.
    if path.as_os_str().len() > 100 {
        anyhow::bail!(
            "the control socket path {} is too long for a Unix socket; use a shorter --data-dir",
            path.display()
        );
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("removing the stale socket {}", path.display()));
        }
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("listening on {}", path.display()))?;
    set_mode(path, 0o600)?;
    Ok(listener)
}

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting mode {mode:o} on {}", path.display()))
}

/// Lets a group reach the viewer socket: the socket 0660 in that group, the
/// data folder 0710 (traverse only: its files stay owner-only).
fn open_to_group(data_dir: &Path, socket: &Path, group: &str) -> anyhow::Result<()> {
    let gid = nix::unistd::Group::from_name(group)
        .with_context(|| format!("looking up viewer_group {group:?}"))?
        .with_context(|| format!("viewer_group {group:?}: no such group on this host"))?
        .gid
        .as_raw();
    std::os::unix::fs::chown(socket, None, Some(gid))
        .with_context(|| format!("giving {} to group {group}", socket.display()))?;
    set_mode(socket, 0o660)?;
    std::os::unix::fs::chown(data_dir, None, Some(gid))
        .with_context(|| format!("giving {} to group {group}", data_dir.display()))?;
    set_mode(data_dir, 0o710)
}

async fn accept(listener: UnixListener, role: Role, shared: Arc<Shared>) {
    let own_uid = nix::unistd::geteuid().as_raw();
    loop {
        let stream = tokio::select! {
            _ = shared.stop.cancelled() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of descriptors, most likely: back off, keep serving.
                    tracing::warn!(error = %e, ?role, "accepting a control connection");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let (uid, user) = match stream.peer_cred() {
            Ok(c) => (c.uid(), session::user_name(c.uid())),
            Err(e) => {
                tracing::warn!(error = %e, "reading a control peer's credentials; refused");
                continue;
            }
        };
        // The socket's mode already keeps others out; this holds even if
        // someone loosened it by hand.
        if role == Role::Operator && uid != own_uid && uid != 0 {
            tracing::warn!(%user, uid, "refused an operator connection from another user");
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            tracing::info!(%user, ?role, "console attached");
            Session::new(shared, role, user.clone()).serve(stream).await;
            tracing::info!(%user, ?role, "console detached");
        });
    }
}
