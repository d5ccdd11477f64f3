//! The plots' data: `metrics` answers the engine's last hour, a minute at
//! a time (records synced per object and direction, FAILED outcomes, the
//! rate budget used), and the running job's pace.

use super::{Reply, to_value};
use crate::control::server::Shared;
use crate::status::JobProgress;
use chrono::Utc;
use serde_json::json;

pub async fn metrics(shared: &Shared) -> Reply {
    let now = Utc::now();
    let running = shared.engine.store().running_job().await.map_err(|e| {
        (
            crate::control::protocol::code::FAILED,
            format!("reading the running job: {e:#}"),
        )
    })?;
    let progress = running.as_ref().and_then(|j| JobProgress::of(j, now));
    Ok(json!({
        "minutes": to_value(shared.engine.metrics().last_hour(now)),
        "running": to_value(running),
        "progress": to_value(progress),
    }))
}
