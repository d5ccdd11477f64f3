//! `hubsync status`: asked of the live engine when one runs on the data
//! folder (over the viewer socket: it never needs to write), read from the
//! state database when none does. It says which, and its exit status tells
//! a monitor whether anything needs a person: non-zero when a record is
//! FAILED or a connection is down.

use crate::appdb::AppDb;
use crate::config::Config;
use crate::control::{ConnectError, ControlClient, viewer_socket};
use crate::engine::{FailedPage, stored_snapshot};
use crate::model::ObjectKind;
use crate::status::{ConnState, Snapshot};
use crate::store::Store;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// `engine` (asked of the running engine) or `state` (read from the
    /// state database; no engine runs).
    pub source: &'static str,
    #[serde(flatten)]
    pub snapshot: Snapshot,
}

impl StatusReport {
    /// The report for a person: where it came from, counts, jobs, problems.
    pub fn text(&self) -> String {
        let s = &self.snapshot;
        let mut out = String::new();
        match (&self.source, &s.engine) {
            (&"engine", Some(e)) => out.push_str(&format!(
                "engine: running, pid {} since {} ({} console(s) attached)\n",
                e.pid,
                e.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                e.consoles
            )),
            _ => out.push_str("engine: not running; read from the state database\n"),
        }
        for c in &s.connections {
            out.push_str(&format!(
                "{}: {}{}\n",
                c.name,
                c.state.label(),
                c.last_error
                    .as_deref()
                    .map(|e| format!(" ({})", crate::console::sanitize(e)))
                    .unwrap_or_default()
            ));
        }
        for c in &s.counts {
            let n = |v: Option<u64>| v.map_or("?".into(), |n| n.to_string());
            out.push_str(&format!(
                "{}: {} in HubSpot, {} in the app, {} linked, {} FAILED\n",
                c.object,
                n(c.hubspot),
                n(c.app),
                c.linked,
                c.failed
            ));
        }
        if let Some(j) = &s.running {
            out.push_str(&format!(
                "running: job {} {} {} {}/{}\n",
                j.id,
                j.kind.as_str(),
                j.object,
                j.done,
                j.total
            ));
        }
        for j in s.recent.iter().take(3) {
            out.push_str(&format!(
                "recent: job {} {} {} {} ({} done, {} FAILED)\n",
                j.id,
                j.kind.as_str(),
                j.object,
                j.state.as_str(),
                j.done,
                j.failed
            ));
        }
        out
    }

    /// What makes the exit status non-zero, one line each.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.snapshot.failed_total > 0 {
            out.push(format!("{} FAILED record(s)", self.snapshot.failed_total));
        }
        for c in &self.snapshot.connections {
            if matches!(c.state, ConnState::Down | ConnState::AuthError) {
                out.push(format!(
                    "{} is {}{}",
                    c.name,
                    c.state.label(),
                    c.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ));
            }
        }
        out
    }
}

/// The status of the data folder's engine, or of its state.
pub async fn status(config: Option<PathBuf>, data_dir: &Path) -> anyhow::Result<StatusReport> {
    match ControlClient::connect(&viewer_socket(data_dir)).await {
        Ok(client) => {
            let v = client.request("status", serde_json::json!({})).await?;
            return Ok(StatusReport {
                source: "engine",
                snapshot: serde_json::from_value(v)?,
            });
        }
        Err(ConnectError::Other(e)) => return Err(e),
        Err(ConnectError::NoEngine(_)) => {}
    }
    let state = data_dir.join("state.db");
    if !state.exists() {
        anyhow::bail!(
            "no engine runs on {} and it holds no state: hubsync has not run with this data folder",
            data_dir.display()
        );
    }
    let store = Store::open(&state).await?;
    // Without an engine, the config only adds the app's own counts.
    let objects: Vec<(ObjectKind, Option<u64>)> = match config.map(|p| Config::load(&p)) {
        Some(Ok(cfg)) => {
            let app = AppDb::open(&cfg.app_database).ok();
            let mut objects = Vec::new();
            for o in &cfg.objects {
                let n = match &app {
                    Some(a) => a.count(&o.mapping).await.ok(),
                    None => None,
                };
                objects.push((o.mapping.object, n));
            }
            objects
        }
        Some(Err(e)) => return Err(e.into()),
        None => ObjectKind::ALL.iter().map(|&k| (k, None)).collect(),
    };
    let mut snapshot = stored_snapshot(&store, &objects, FailedPage::default()).await?;
    // With no config to say which objects sync, those without a trace in
    // the state are left out.
    snapshot
        .counts
        .retain(|c| c.app.is_some() || c.linked > 0 || c.failed > 0);
    Ok(StatusReport {
        source: "state",
        snapshot,
    })
}
