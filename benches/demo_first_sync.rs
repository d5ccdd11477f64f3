//! How long the demo's first full sync takes and how many HTTP calls it
//! makes per record, against the simulator at the demo's default latency.
//! Prints figures; never fails on a slow machine.
//!
//!     cargo bench --bench demo_first_sync [-- LATENCY_MS]

use hubsync::demo;
use hubsync::engine::EngineSettings;
use hubsync::model::ObjectKind;
use hubsync::sim::SimSettings;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let latency_ms: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(120);
    for batch_size in [50, 100] {
        let dir = tempfile::tempdir()?;
        let w = demo::start_world(
            dir.path(),
            SimSettings {
                latency: Duration::from_millis(latency_ms),
                ..SimSettings::default()
            },
            EngineSettings {
                batch_size,
                ..EngineSettings::default()
            },
        )
        .await?;
        w.engine.bootstrap().await?;
        let started = Instant::now();
        // The first pass only: the backfill job, then stop.
        w.engine.run_next_due().await?;
        let took = started.elapsed();
        let job = w.engine.store().recent_jobs(1).await?.remove(0);
        let calls = w.engine.client().request_count();
        let sim_requests = w.sim.state().request_count();
        println!(
            "first full sync, latency {latency_ms} ms, batch {batch_size}: {} records in {:.2} s; \
             {calls} HTTP calls from the client (incl. 1 count), {sim_requests} seen by the simulator, \
             {:.3} calls per record; {} succeeded, {} FAILED; {} contacts in HubSpot, 429s: {}",
            job.done,
            took.as_secs_f64(),
            calls as f64 / job.done.max(1) as f64,
            job.succeeded,
            job.failed,
            w.sim.state().count(ObjectKind::Contacts),
            w.sim.state().rate_limited_count(),
        );
        w.sim.shutdown().await;
    }
    Ok(())
}
