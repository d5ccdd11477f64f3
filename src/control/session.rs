//! One client of a control socket: its role, its OS user, its own place in
//! the FAILED list, and the jobs it asked for (whose end only it is told).
//!
//! Requests are answered in order. Snapshot events are coalesced: a client
//! that reads slowly gets the newest snapshot, never a backlog; one that
//! stops reading for longer than [`WRITE_TIMEOUT`] is disconnected, so it
//! can never hold the engine's memory or its other clients hostage. A bad
//! line gets an error reply and the connection goes on; a line longer than
//! the protocol allows, or an unsupported version, closes it cleanly.

use super::methods;
use super::protocol::{
    MAX_LINE, Notice, Outgoing, PROTOCOL_VERSION, Request, Role, Welcome, code, writes,
};
use super::server::Shared;
use crate::engine::{EngineEvent, FAILED_PAGE, FailedPage};
use crate::model::ObjectKind;
use crate::status::{Command, Snapshot};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

/// How often a subscriber hears from the engine when nothing changes.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a client may leave what the engine sent it unread.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The OS user behind a uid, or the uid itself when it has no name.
pub fn user_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => u.name,
        _ => format!("uid {uid}"),
    }
}

pub struct Session {
    shared: Arc<Shared>,
    role: Role,
    user: String,
    greeted: bool,
    /// Receives the shared snapshot while subscribed.
    snapshots: Option<watch::Receiver<Arc<Snapshot>>>,
    page: FailedPage,
    my_jobs: HashSet<i64>,
    closing: bool,
}

#[derive(Deserialize, Default)]
struct Hello {
    protocol: Option<u32>,
}

#[derive(Deserialize, Default)]
struct PageParams {
    #[serde(default, alias = "failed_before")]
    before: Option<i64>,
    #[serde(default, alias = "failed_limit")]
    limit: Option<usize>,
    /// Filters the FAILED page in the store (see `FailedPage::filter`).
    #[serde(default)]
    filter: Option<String>,
}

#[derive(Deserialize)]
struct HistoryParams {
    object: ObjectKind,
    app_id: String,
}

type Reply = Result<Value, (&'static str, String)>;

impl Session {
    pub fn new(shared: Arc<Shared>, role: Role, user: String) -> Session {
        Session {
            shared,
            role,
            user,
            greeted: false,
            snapshots: None,
            page: FailedPage::default(),
            my_jobs: HashSet::new(),
            closing: false,
        }
    }

    pub async fn serve(mut self, stream: UnixStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_LINE));
        let (out, mut out_rx) = mpsc::channel::<String>(16);
        let writer = tokio::spawn(async move {
            while let Some(mut line) = out_rx.recv().await {
                line.push('\n');
                match tokio::time::timeout(WRITE_TIMEOUT, write.write_all(line.as_bytes())).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
        });
        let mut events = self.shared.engine.events();
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let sent = tokio::select! {
                line = lines.next() => match line {
                    None => break,
                    Some(Err(LinesCodecError::MaxLineLengthExceeded)) => {
                        let _ = send(&out, &Outgoing::error(Value::Null, code::LINE_TOO_LONG,
                            format!("a line is limited to {MAX_LINE} bytes; closing the connection"))).await;
                        break;
                    }
                    Some(Err(LinesCodecError::Io(_))) => break,
                    Some(Ok(line)) if line.trim().is_empty() => true,
                    Some(Ok(line)) => {
                        let reply = self.handle_line(&line).await;
                        send(&out, &reply).await
                    }
                },
                changed = next_snapshot(&mut self.snapshots) => match changed {
                    Some(s) => match self.view_of(&s).await {
                        Ok(view) => send(&out, &Outgoing::event("snapshot", view)).await,
                        Err(e) => {
                            tracing::error!(error = %format!("{e:#}"), "reading a console's page");
                            true
                        }
                    },
                    None => break,
                },
                ev = events.recv() => match ev {
                    Ok(EngineEvent::Notice { text, warning }) => {
                        send(&out, &Outgoing::event("notice", Notice { text, warning, job_id: None })).await
                    }
                    Ok(EngineEvent::JobFinished { job_id, text }) if self.my_jobs.remove(&job_id) => {
                        send(&out, &Outgoing::event("notice", Notice { text, warning: false, job_id: Some(job_id) })).await
                    }
                    Ok(EngineEvent::JobFinished { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                // Snapshots come only when something changed; a subscriber
                // still hears from a live engine this often, so silence
                // means trouble.
                _ = heartbeat.tick(), if self.snapshots.is_some() => {
                    send(&out, &Outgoing::event("heartbeat", json!({"at": chrono::Utc::now()}))).await
                }
                _ = self.shared.stop.cancelled() => {
                    let _ = send(&out, &Outgoing::event("shutdown", json!({"text": "the engine is stopping"}))).await;
                    break;
                }
            };
            if !sent || self.closing {
                break;
            }
        }
        if self.snapshots.is_some() {
            self.shared.consoles.fetch_sub(1, Ordering::Relaxed);
        }
        drop(out);
        let _ = writer.await;
    }

    /// One console's snapshot: the shared one with its own FAILED page.
    async fn view_of(&self, shared: &Snapshot) -> anyhow::Result<Snapshot> {
        let mut s = shared.clone();
        crate::engine::add_page(self.shared.engine.store(), &mut s, self.page.clone()).await?;
        s.engine = Some(self.info());
        Ok(s)
    }

    async fn fresh_view(&self) -> anyhow::Result<Snapshot> {
        let mut s = self.shared.engine.snapshot_at(self.page.clone()).await?;
        s.engine = Some(self.info());
        Ok(s)
    }

    fn info(&self) -> crate::status::EngineInfo {
        let mut info = self.shared.info.clone();
        info.consoles = self.shared.consoles.load(Ordering::Relaxed);
        info
    }

    async fn handle_line(&mut self, line: &str) -> Outgoing {
        let req: Request = match serde_json::from_str::<Value>(line) {
            Err(e) => {
                return Outgoing::error(
                    Value::Null,
                    code::PARSE_ERROR,
                    format!(
                        "the line is not JSON ({e}); each request is one JSON object on one line"
                    ),
                );
            }
            Ok(v) => {
                let id = v.get("id").cloned().unwrap_or(Value::Null);
                match serde_json::from_value::<Request>(v) {
                    Ok(r) => r,
                    Err(e) => {
                        return Outgoing::error(
                            id,
                            code::INVALID_REQUEST,
                            format!("a request is {{\"id\", \"method\", \"params\"}}: {e}"),
                        );
                    }
                }
            }
        };
        let id = req.id.clone();
        match self.dispatch(req).await {
            Ok(result) => Outgoing::Reply { id, result },
            Err((code, message)) => Outgoing::error(id, code, message),
        }
    }

    async fn dispatch(&mut self, req: Request) -> Reply {
        let method = req.method.as_str();
        let Some(writes) = writes(method) else {
            return Err((
                code::UNKNOWN_METHOD,
                format!("there is no method {method:?} in protocol version {PROTOCOL_VERSION}"),
            ));
        };
        if method == "hello" {
            return self.hello(req.params);
        }
        if !self.greeted {
            return Err((
                code::HELLO_FIRST,
                "send hello with the protocol version first: {\"id\":1,\"method\":\"hello\",\"params\":{\"protocol\":1}}".into(),
            ));
        }
        if writes && self.role == Role::Viewer {
            tracing::warn!(user = %self.user, method, "refused a write on the viewer socket");
            return Err((
                code::FORBIDDEN,
                format!(
                    "{method} changes data, and this console is attached read-only (the viewer socket); \
                     attach without --read-only, as the engine's user, to do it"
                ),
            ));
        }
        let failed = |e: anyhow::Error| (code::FAILED, format!("{e:#}"));
        match method {
            "subscribe" | "failed_page" => {
                let p: PageParams = params(req.params)?;
                self.page = FailedPage {
                    before: p.before,
                    limit: p.limit.unwrap_or(FAILED_PAGE).clamp(1, FAILED_PAGE),
                    filter: p.filter,
                };
                if self.snapshots.is_none() && method == "subscribe" {
                    self.snapshots = Some(self.shared.snapshots.subscribe());
                    self.shared.consoles.fetch_add(1, Ordering::Relaxed);
                }
                // A subscriber's next page is the snapshot it already
                // has with another page: only the page is read, not the
                // counts and jobs again (which cost a second at a million
                // open entries and come with the next push anyway).
                let shared = match (&self.snapshots, method) {
                    // Until the first publish it holds an empty snapshot.
                    (Some(rx), "failed_page") if rx.borrow().taken_at.is_some() => {
                        Some(rx.borrow().clone())
                    }
                    _ => None,
                };
                let view = match shared {
                    Some(s) => self.view_of(&s).await,
                    None => self.fresh_view().await,
                }
                .map_err(failed)?;
                Ok(serde_json::to_value(view).unwrap_or(Value::Null))
            }
            "unsubscribe" => {
                if self.snapshots.take().is_some() {
                    self.shared.consoles.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(json!({}))
            }
            "status" => {
                let mut s = self.shared.engine.snapshot().await.map_err(failed)?;
                s.engine = Some(self.info());
                Ok(serde_json::to_value(s).unwrap_or(Value::Null))
            }
            "record_history" => {
                let p: HistoryParams = serde_json::from_value(req.params).map_err(|e| {
                    (
                        code::INVALID_PARAMS,
                        format!("record_history takes {{\"object\", \"app_id\"}}: {e}"),
                    )
                })?;
                let h = self
                    .shared
                    .engine
                    .store()
                    .record_history(p.object, &p.app_id)
                    .await
                    .map_err(failed)?;
                Ok(serde_json::to_value(h).unwrap_or(Value::Null))
            }
            "audit_page" => methods::records::audit_page(&self.shared.engine, req.params).await,
            "records_search" => {
                methods::records::records_search(&self.shared.engine, req.params).await
            }
            "record_view" => methods::records::record_view(&self.shared.engine, req.params).await,
            "set_app_field" => {
                methods::records::set_app_field(&self.shared.engine, req.params, &self.user).await
            }
            "retry" | "retry_category" | "dismiss" | "sync_now" => {
                let cmd: Command =
                    serde_json::from_value(json!({"method": method, "params": req.params}))
                        .map_err(|e| (code::INVALID_PARAMS, format!("{method}: {e}")))?;
                let outcome = self
                    .shared
                    .engine
                    .handle(cmd, Some(&self.user))
                    .await
                    .map_err(failed)?;
                self.my_jobs.extend(outcome.jobs.iter().copied());
                Ok(json!({"notice": outcome.notice, "jobs": outcome.jobs}))
            }
            "failed_groups" => super::methods::triage::failed_groups(&self.shared).await,
            "failed_in_class" => {
                super::methods::triage::failed_in_class(&self.shared, req.params).await
            }
            "log_tail" => super::methods::log::log_tail(req.params),
            "metrics" => super::methods::metrics::metrics(&self.shared).await,
            "retry_class" => self.command(method, req.params).await,
            "retry_selection" => self.command(method, req.params).await,
            "reload" => {
                tracing::info!(user = %self.user, "reload requested");
                let text = (self.shared.reload)().await.map_err(failed)?;
                Ok(json!({ "notice": text }))
            }
            "shutdown" => {
                tracing::info!(user = %self.user, "shutdown requested by an operator");
                // Not `closing`: this connection, like every other, is told
                // `shutdown` (by the stop branch of `serve`) before it closes.
                self.shared.stop.cancel();
                Ok(json!({"notice": "the engine is stopping after the batch in flight"}))
            }
            "config_source" => {
                super::methods::config_source::handle(&self.shared, req.params).await
            }
            "config_preview" => {
                super::methods::config_preview::handle(&self.shared, req.params).await
            }
            "config_apply" => {
                super::methods::config_apply::handle(&self.shared, req.params, &self.user).await
            }
            "config_history" => {
                super::methods::config_history::list(&self.shared, req.params).await
            }
            "config_get" => super::methods::config_history::get(&self.shared, req.params).await,
            _ => Err((code::UNKNOWN_METHOD, format!("no method {method:?}"))),
        }
    }

    /// An operator's command: the jobs it queues are this connection's,
    /// whose end only it is told.
    async fn command(&mut self, method: &str, params: Value) -> Reply {
        let cmd: Command = serde_json::from_value(json!({"method": method, "params": params}))
            .map_err(|e| (code::INVALID_PARAMS, format!("{method}: {e}")))?;
        let outcome = self
            .shared
            .engine
            .handle(cmd, Some(&self.user))
            .await
            .map_err(|e| (code::FAILED, format!("{e:#}")))?;
        self.my_jobs.extend(outcome.jobs.iter().copied());
        Ok(json!({"notice": outcome.notice, "jobs": outcome.jobs}))
    }

    fn hello(&mut self, p: Value) -> Reply {
        let h: Hello = params(p)?;
        match h.protocol {
            Some(PROTOCOL_VERSION) => {}
            other => {
                self.closing = true;
                return Err((
                    code::UNSUPPORTED_VERSION,
                    format!(
                        "this engine speaks protocol version {PROTOCOL_VERSION}, not {}; closing the connection",
                        other.map_or("(none given)".to_string(), |v| v.to_string())
                    ),
                ));
            }
        }
        self.greeted = true;
        let w = Welcome {
            protocol: PROTOCOL_VERSION,
            role: self.role,
            user: self.user.clone(),
            engine: self.info(),
        };
        Ok(serde_json::to_value(w).unwrap_or(Value::Null))
    }
}

fn params<T: for<'de> Deserialize<'de> + Default>(p: Value) -> Result<T, (&'static str, String)> {
    if p.is_null() {
        return Ok(T::default());
    }
    serde_json::from_value(p).map_err(|e| (code::INVALID_PARAMS, e.to_string()))
}

/// The next shared snapshot, when subscribed; pending forever otherwise.
async fn next_snapshot(rx: &mut Option<watch::Receiver<Arc<Snapshot>>>) -> Option<Arc<Snapshot>> {
    match rx {
        None => std::future::pending().await,
        Some(rx) => match rx.changed().await {
            Ok(()) => Some(rx.borrow_and_update().clone()),
            Err(_) => None,
        },
    }
}

/// Queues a message for the client; false when the client is gone or has
/// not read for [`WRITE_TIMEOUT`].
async fn send(out: &mpsc::Sender<String>, msg: &Outgoing) -> bool {
    let line = serde_json::to_string(msg).unwrap_or_default();
    matches!(
        tokio::time::timeout(WRITE_TIMEOUT, out.send(line)).await,
        Ok(Ok(()))
    )
}
