//! The engine's tasks and how they stop.
//!
//! Two tasks share one [`Engine`]: the worker runs due jobs one at a time
//! and sleeps until the next is due (or a command wakes it); the publisher
//! rebuilds the shared snapshot when the state database changed or a
//! connection's status moved, and only while a console is subscribed, so an
//! idle engine with nobody attached does no work at all. Cancelling the
//! token stops both; a job cut short is put back in the queue by
//! [`EngineHandle::join`], so `status` never shows it running after a clean
//! stop (after a crash, the next start requeues it).

use super::Engine;
use crate::status::Snapshot;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The fastest the shared snapshot is rebuilt during a busy sync.
const PUBLISH_EVERY: Duration = Duration::from_millis(250);

/// How often the rate budget is sampled for the plots.
const BUDGET_SAMPLE: Duration = Duration::from_secs(2);

/// What a caller holds while the engine runs in the background.
pub struct EngineHandle {
    pub engine: Arc<Engine>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    cancel: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl EngineHandle {
    /// The shared snapshot, kept fresh while at least one receiver lives.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.subscribe()
    }

    /// The publishing end, for servers that subscribe a receiver per client.
    pub fn sender(&self) -> watch::Sender<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits for the engine's tasks after its token was cancelled, then
    /// puts a job the stop cut short back in the queue.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
        match self
            .engine
            .store
            .requeue_running("cut short by a clean stop; runs again at the next start")
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "requeued the job the stop cut short"),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "requeueing after the stop"),
        }
    }
}

impl Engine {
    /// Starts the worker and the publisher.
    pub async fn spawn(
        self: &Arc<Self>,
        cancel: CancellationToken,
    ) -> anyhow::Result<EngineHandle> {
        self.bootstrap().await?;
        let (snap_tx, _) = watch::channel(Arc::new(Snapshot::default()));
        let mut tasks = Vec::new();

        let me = self.clone();
        let c = cancel.clone();
        tasks.push(tokio::spawn(async move {
            tokio::select! {
                _ = c.cancelled() => return,
                _ = me.refresh_counts() => {}
            }
            loop {
                let ran = tokio::select! {
                    _ = c.cancelled() => break,
                    r = me.run_next_due() => r,
                };
                match ran {
                    Ok(true) => continue,
                    Ok(false) => {}
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "engine worker"),
                }
                let sleep = match me.store.next_due_at().await {
                    Ok(Some(at)) => (at - Utc::now())
                        .to_std()
                        .unwrap_or_default()
                        .min(Duration::from_secs(60)),
                    _ => Duration::from_secs(60),
                };
                tokio::select! {
                    _ = c.cancelled() => break,
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        }));

        // The plots' last hour, as the audit log has it from before this
        // start (what happens from now on is counted as it is audited).
        let me = self.clone();
        tasks.push(tokio::spawn(async move {
            let now = Utc::now();
            let since = now - chrono::Duration::minutes(crate::engine::metrics::MINUTES as i64);
            match me.store.outcomes_between(since, me.started_at).await {
                Ok(earlier) => me.metrics.restore(&earlier, Utc::now()),
                Err(e) => tracing::warn!(error = %format!("{e:#}"), "reading the last hour's outcomes for the plots"),
            }
        }));

        // The plots' budget line: HubSpot's last answer, sampled whether
        // or not anyone is attached, so a console attaching later sees it.
        let me = self.clone();
        let c = cancel.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(BUDGET_SAMPLE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = c.cancelled() => return,
                    _ = tick.tick() => {}
                }
                if let Some(b) = me.client.connection_status().budget {
                    me.metrics.sample_budget(&b, Utc::now());
                }
            }
        }));

        let me = self.clone();
        let c = cancel.clone();
        let tx = snap_tx.clone();
        tasks.push(tokio::spawn(async move { me.publish(tx, c).await }));

        Ok(EngineHandle {
            engine: self.clone(),
            snapshots: snap_tx,
            cancel,
            tasks,
        })
    }

    /// Keeps the shared snapshot fresh for whoever is subscribed.
    async fn publish(&self, tx: watch::Sender<Arc<Snapshot>>, cancel: CancellationToken) {
        let mut changes = self.store.changes();
        let mut last_connections = Vec::new();
        let mut stale = true;
        let mut tick = tokio::time::interval(PUBLISH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            if changes.has_changed().unwrap_or(false) {
                changes.borrow_and_update();
                stale = true;
            }
            // Nobody attached: nothing is built, however much changes.
            if tx.receiver_count() == 0 {
                continue;
            }
            let connections = self.connections();
            if connections != last_connections {
                stale = true;
            }
            if !stale {
                continue;
            }
            match self.shared_snapshot().await {
                Ok(s) => {
                    last_connections = connections;
                    stale = false;
                    tx.send_replace(Arc::new(s));
                }
                Err(e) => tracing::error!(error = %format!("{e:#}"), "building a snapshot"),
            }
        }
    }
}
