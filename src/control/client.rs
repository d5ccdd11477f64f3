//! The console's side of a control socket: connect, greet, subscribe, and
//! send requests whose replies arrive out of band.
//!
//! A reader task turns the engine's lines into three things the console
//! waits on: the newest snapshot (a `watch`, so a burst coalesces into the
//! last one), notices (a bounded queue), and replies to requests (each
//! awaited by whoever sent it). When the engine goes away the snapshot
//! channel closes, which the console shows.

use super::protocol::{ErrorBody, MAX_LINE, Notice, PROTOCOL_VERSION, Role, Welcome};
use crate::status::Snapshot;
use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::codec::{FramedRead, LinesCodec};

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, ErrorBody>>>>>;

/// How long a request waits for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to a running engine.
pub struct ControlClient {
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    pending: Pending,
    next_id: AtomicU64,
    pub welcome: Welcome,
    snapshots: watch::Receiver<Option<Snapshot>>,
    heard: watch::Receiver<Option<DateTime<Utc>>>,
    notices: Mutex<Option<mpsc::Receiver<Notice>>>,
}

/// Why a connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No engine listens there (no socket, or a stale one).
    #[error("no engine is listening on {0}")]
    NoEngine(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ControlClient {
    /// Connects and greets. `NoEngine` means nobody listens there.
    pub async fn connect(socket: &Path) -> Result<ControlClient, ConnectError> {
        let stream = match UnixStream::connect(socket).await {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(ConnectError::NoEngine(socket.display().to_string()));
            }
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("connecting to {}", socket.display()))
                    .into());
            }
        };
        let (read, write) = stream.into_split();
        let pending: Pending = Arc::default();
        let (snap_tx, snap_rx) = watch::channel(None);
        let (heard_tx, heard_rx) = watch::channel(None);
        let (notice_tx, notice_rx) = mpsc::channel(64);
        tokio::spawn(read_loop(
            FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE)),
            pending.clone(),
            snap_tx,
            heard_tx,
            notice_tx,
        ));
        let mut client = ControlClient {
            writer: tokio::sync::Mutex::new(write),
            pending,
            next_id: AtomicU64::new(1),
            welcome: Welcome {
                protocol: PROTOCOL_VERSION,
                role: Role::Viewer,
                user: String::new(),
                engine: crate::status::EngineInfo {
                    pid: 0,
                    started_at: chrono::Utc::now(),
                    version: String::new(),
                    config: String::new(),
                    consoles: 0,
                },
            },
            snapshots: snap_rx,
            heard: heard_rx,
            notices: Mutex::new(Some(notice_rx)),
        };
        let hello = client
            .request(
                "hello",
                json!({"protocol": PROTOCOL_VERSION, "client": "hubsync"}),
            )
            .await
            .with_context(|| format!("greeting the engine on {}", socket.display()))?;
        client.welcome = serde_json::from_value(hello).context("reading the engine's hello")?;
        Ok(client)
    }

    /// Sends a request and waits for its reply; an error reply becomes an
    /// error carrying the engine's message.
    pub async fn request(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, tx);
        let mut line =
            serde_json::to_string(&json!({"id": id, "method": method, "params": params}))?;
        line.push('\n');
        self.writer
            .lock()
            .await
            .write_all(line.as_bytes())
            .await
            .context("the engine closed the control connection")?;
        match tokio::time::timeout(REPLY_TIMEOUT, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(e))) => Err(anyhow!("{}", e.message)),
            Ok(Err(_)) => Err(anyhow!("the engine closed the control connection")),
            Err(_) => Err(anyhow!(
                "the engine did not answer {method} within {REPLY_TIMEOUT:?}"
            )),
        }
    }

    /// Subscribes to snapshots; the first comes back at once.
    pub async fn subscribe(&self) -> anyhow::Result<Snapshot> {
        let v = self.request("subscribe", json!({})).await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Snapshots pushed by the engine (`None` until the first arrives); the
    /// channel closes when the connection does.
    pub fn snapshots(&self) -> watch::Receiver<Option<Snapshot>> {
        self.snapshots.clone()
    }

    /// When the engine last sent anything (a snapshot or a heartbeat).
    pub fn heard(&self) -> watch::Receiver<Option<DateTime<Utc>>> {
        self.heard.clone()
    }

    /// The engine's notices, taken once by whoever shows them.
    pub fn take_notices(&self) -> Option<mpsc::Receiver<Notice>> {
        self.notices
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

async fn read_loop(
    mut lines: FramedRead<tokio::net::unix::OwnedReadHalf, LinesCodec>,
    pending: Pending,
    snapshots: watch::Sender<Option<Snapshot>>,
    heard: watch::Sender<Option<DateTime<Utc>>>,
    notices: mpsc::Sender<Notice>,
) {
    while let Some(Ok(line)) = lines.next().await {
        heard.send_replace(Some(Utc::now()));
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            tracing::warn!("the engine sent a line that is not JSON");
            continue;
        };
        if let Some(event) = v.get("event").and_then(Value::as_str) {
            let data = v.get("data").cloned().unwrap_or(Value::Null);
            match event {
                "snapshot" => match serde_json::from_value::<Snapshot>(data) {
                    Ok(s) => {
                        snapshots.send_replace(Some(s));
                    }
                    Err(e) => tracing::warn!(error = %e, "reading a snapshot from the engine"),
                },
                "notice" => {
                    if let Ok(n) = serde_json::from_value::<Notice>(data) {
                        let _ = notices.try_send(n);
                    }
                }
                "shutdown" => {
                    let _ = notices.try_send(Notice {
                        text: "the engine is stopping".into(),
                        warning: true,
                        job_id: None,
                    });
                }
                _ => {}
            }
            continue;
        }
        let Some(id) = v.get("id").and_then(Value::as_u64) else {
            if let Some(e) = v.get("error") {
                tracing::warn!(error = %e, "the engine refused a line");
            }
            continue;
        };
        let Some(tx) = pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
        else {
            continue;
        };
        let answer = match (v.get("result"), v.get("error")) {
            (Some(r), _) => Ok(r.clone()),
            (None, Some(e)) => Err(serde_json::from_value(e.clone()).unwrap_or(ErrorBody {
                code: "failed".into(),
                message: e.to_string(),
            })),
            (None, None) => Ok(Value::Null),
        };
        let _ = tx.send(answer);
    }
    // Dropping `snapshots` tells the console the engine is gone.
}
