//! The engine: a job queue worker that runs sync passes, takes operator
//! commands, and publishes what it is doing as [`Snapshot`]s.
//!
//! Three tasks share one [`Engine`]: the worker runs due jobs one at a time
//! (passes are sequential so two never write the same record at once); the
//! command task turns console commands into jobs and wakes the worker; the
//! publisher builds a snapshot from the store a few times a second and sends
//! it only when it changed (or once a second, to keep relative times fresh).
//! Cancelling the token stops all three; a job cut short stays `running` in
//! the store and is requeued on the next start.

use super::pass::{Pass, Progress, Scope};
use super::rules::ObjectSync;
use crate::appdb::AppDb;
use crate::hubspot::HubSpotClient;
use crate::hubspot::error::message_summary;
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{
    AuditStatus, Command, ConnState, ConnectionStatus, JobKind, JobState, ObjectCounts, Snapshot,
};
use crate::store::Store;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Time between the end of one poll and the start of the next.
    pub poll_interval: Duration,
    /// Records per page and per HubSpot batch (at most 100).
    pub batch_size: usize,
    /// Attempts of a job before it is FAILED, for transient errors.
    pub max_job_attempts: u32,
    /// First delay before a job is retried; doubles per attempt.
    pub job_backoff: Duration,
    /// The audit log keeps at most this many entries…
    pub audit_max_rows: u64,
    /// …none older than this (open FAILED entries excepted).
    pub audit_max_age: Duration,
    /// Share of the portal's daily API budget left to other apps: passes
    /// wait while less than this is left (HubSpot reports the budget to
    /// private-app tokens only).
    pub daily_reserve: f64,
    /// Time between walks over every link that find deleted and merged
    /// records (the change feeds do not report deletions).
    pub scan_interval: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            poll_interval: Duration::from_secs(30),
            batch_size: 100,
            max_job_attempts: 5,
            job_backoff: Duration::from_secs(5),
            audit_max_rows: 2_000_000,
            audit_max_age: Duration::from_secs(90 * 24 * 3600),
            daily_reserve: 0.1,
            scan_interval: Duration::from_secs(3600),
        }
    }
}

/// Counts that cost a query or an HTTP call, refreshed after each pass.
#[derive(Debug, Default, Clone)]
struct Cached {
    hubspot: HashMap<ObjectKind, u64>,
    app: HashMap<ObjectKind, u64>,
    app_status: Option<ConnectionStatus>,
}

pub struct Engine {
    client: Arc<HubSpotClient>,
    store: Store,
    app: AppDb,
    objects: Vec<ObjectSync>,
    settings: EngineSettings,
    cached: Mutex<Cached>,
    /// The outcome line of the last operator command.
    notice: Mutex<Option<String>>,
    /// Which page of FAILED entries the console lists.
    failed_before: Mutex<Option<i64>>,
    /// Retry jobs an operator is waiting on: job id → record label.
    watched: Mutex<HashMap<i64, String>>,
    wake: Notify,
}

/// FAILED entries listed per snapshot.
pub const FAILED_PAGE: usize = 200;

/// What the state database alone says: links, FAILED entries, jobs. No
/// connection is touched, so `hubsync status` works while the engine runs
/// elsewhere, and without credentials.
pub async fn stored_snapshot(
    store: &Store,
    objects: &[(ObjectKind, Option<u64>)],
    failed_before: Option<i64>,
) -> anyhow::Result<Snapshot> {
    let mut counts = Vec::with_capacity(objects.len());
    for &(object, app) in objects {
        counts.push(ObjectCounts {
            object,
            hubspot: None,
            app,
            linked: store.link_count(object).await?,
            failed: store.open_failure_count(Some(object)).await?,
        });
    }
    Ok(Snapshot {
        taken_at: Some(Utc::now()),
        connections: vec![],
        counts,
        running: store.running_job().await?,
        queued: store.queued_jobs(10).await?,
        recent: store.recent_jobs(10).await?,
        failed: store
            .open_failures_before(failed_before, FAILED_PAGE)
            .await?,
        failed_total: store.open_failure_count(None).await?,
        failed_before,
        failed_newer: match failed_before {
            Some(id) => store.open_failures_from(id).await?,
            None => 0,
        },
        notice: None,
    })
}

/// What a caller holds while the engine runs in the background.
pub struct EngineHandle {
    pub snapshots: watch::Receiver<Snapshot>,
    pub commands: mpsc::Sender<Command>,
    pub engine: Arc<Engine>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl EngineHandle {
    /// Waits for the engine's tasks after its token was cancelled.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    pub fn new(
        client: Arc<HubSpotClient>,
        store: Store,
        app: AppDb,
        objects: Vec<ObjectSync>,
        settings: EngineSettings,
    ) -> Arc<Engine> {
        Arc::new(Engine {
            client,
            store,
            app,
            objects,
            settings,
            cached: Mutex::new(Cached::default()),
            notice: Mutex::new(None),
            watched: Mutex::new(HashMap::new()),
            failed_before: Mutex::new(None),
            wake: Notify::new(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn app(&self) -> &AppDb {
        &self.app
    }

    pub fn client(&self) -> &HubSpotClient {
        &self.client
    }

    /// The configuration of a synced object.
    pub fn object(&self, kind: ObjectKind) -> Option<&ObjectSync> {
        self.objects.iter().find(|o| o.mapping.object == kind)
    }

    fn first_object(&self) -> ObjectKind {
        self.objects
            .first()
            .map_or(ObjectKind::Contacts, |o| o.mapping.object)
    }

    /// Readies the queue after a start: requeues jobs a crash cut short and
    /// makes sure a pass is scheduled.
    pub async fn bootstrap(&self) -> anyhow::Result<()> {
        let n = self
            .store
            .requeue_running("interrupted; requeued on restart")
            .await?;
        if n > 0 {
            tracing::warn!(jobs = n, "requeued jobs interrupted by the last shutdown");
        }
        for o in &self.objects {
            self.schedule_pass(o, Duration::ZERO).await?;
            self.schedule_scan(o.mapping.object, self.settings.scan_interval)
                .await?;
        }
        Ok(())
    }

    /// Queues the next deletion scan of the object unless one is waiting.
    async fn schedule_scan(&self, object: ObjectKind, delay: Duration) -> anyhow::Result<()> {
        if self.store.has_pending(object, JobKind::Scan).await? {
            return Ok(());
        }
        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        self.store
            .enqueue(JobKind::Scan, object, Direction::Both, None, at)
            .await?;
        Ok(())
    }

    /// Queues a sync of one HubSpot record a webhook reported, unless one
    /// is already waiting for it.
    pub async fn enqueue_webhook(
        &self,
        object: ObjectKind,
        hubspot_id: &str,
    ) -> anyhow::Result<()> {
        if self.object(object).is_none() {
            return Ok(());
        }
        let key = RecordRef::HubSpot(hubspot_id.to_string()).key();
        if !self.store.has_pending_record(object, &key).await? {
            self.store
                .enqueue(
                    JobKind::Webhook,
                    object,
                    Direction::ToApp,
                    Some(&key),
                    Utc::now(),
                )
                .await?;
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Queues the next pass of the object unless one is already waiting:
    /// a backfill the first time, then polls.
    async fn schedule_pass(&self, o: &ObjectSync, delay: Duration) -> anyhow::Result<()> {
        let object = o.mapping.object;
        let direction = o.rules.direction;
        if self.store.has_pending_pass(object).await? {
            return Ok(());
        }
        let first_way = if o.rules.flows(Direction::ToHubSpot) {
            Direction::ToHubSpot
        } else {
            Direction::ToApp
        };
        let kind = if self.store.cursor(object, first_way).await?.is_some() {
            JobKind::Poll
        } else {
            JobKind::Backfill
        };
        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        self.store
            .enqueue(kind, object, direction, None, at)
            .await?;
        Ok(())
    }

    /// Acts on an operator's command.
    pub async fn handle(&self, cmd: Command) -> anyhow::Result<()> {
        match cmd {
            Command::Retry { audit_id } => {
                let Some(entry) = self.store.audit_entry(audit_id).await? else {
                    self.set_notice(format!("retry: audit entry #{audit_id} no longer exists"));
                    return Ok(());
                };
                let job = self
                    .store
                    .enqueue(
                        JobKind::RetryRecord,
                        entry.object,
                        entry.direction,
                        Some(&entry.app_id),
                        Utc::now(),
                    )
                    .await?;
                lock(&self.watched).insert(job, entry.label.clone());
                self.set_notice(format!("retry of {} queued (job {job})", entry.label));
            }
            Command::RetryCategory { category } => {
                let entries = self.store.open_failures_in(&category).await?;
                for e in &entries {
                    let job = self
                        .store
                        .enqueue(
                            JobKind::RetryRecord,
                            e.object,
                            e.direction,
                            Some(&e.app_id),
                            Utc::now(),
                        )
                        .await?;
                    lock(&self.watched).insert(job, e.label.clone());
                }
                self.set_notice(format!(
                    "retry of {} {category} record(s) queued",
                    entries.len()
                ));
            }
            Command::FailedPage { before_id } => {
                *lock(&self.failed_before) = before_id;
            }
            Command::Dismiss { audit_id } => {
                let entry = self.store.audit_entry(audit_id).await?;
                let label = entry.map_or_else(|| format!("#{audit_id}"), |e| e.label);
                if self.store.dismiss(audit_id, None).await? {
                    tracing::info!(audit_id, "FAILED entry dismissed by the operator");
                    self.set_notice(format!("dismissed the FAILED entry of {label}"));
                } else {
                    self.set_notice(format!("{label} has no open FAILED entry #{audit_id}"));
                }
            }
            Command::SyncNow { object } => {
                let Some(o) = self.object(object) else {
                    self.set_notice(format!("{object} are not in the configuration"));
                    return Ok(());
                };
                // A waiting poll is brought forward rather than doubled.
                if !self.store.hurry_pass(object).await?
                    && !self.store.has_pending_pass(object).await?
                {
                    self.store
                        .enqueue(
                            JobKind::SyncNow,
                            object,
                            o.rules.direction,
                            None,
                            Utc::now(),
                        )
                        .await?;
                }
                self.set_notice(format!("sync of {object} queued"));
            }
            Command::Shutdown => {}
        }
        self.wake.notify_one();
        Ok(())
    }

    /// The daily budget (left, max) when it is below the reserve. The
    /// figures come from HubSpot's last answer; when they say "below", one
    /// cheap request refreshes them first, so a pause ends once the budget
    /// is back (HubSpot resets it at midnight) instead of lasting forever.
    async fn daily_budget_below_reserve(&self) -> Option<(u64, u64)> {
        let below = || {
            let b = self.client.connection_status().budget?;
            let (left, max) = (b.daily_remaining?, b.daily_max?);
            ((left as f64) < self.settings.daily_reserve * max as f64).then_some((left, max))
        };
        below()?;
        if let Err(e) = self
            .client
            .list_page(self.first_object(), &[], None, 1)
            .await
        {
            tracing::warn!(error = %e, "refreshing the daily API budget");
        }
        below()
    }

    fn set_notice(&self, s: String) {
        *lock(&self.notice) = Some(s);
    }

    /// Runs the next due job to its end. Returns false when none was due.
    pub async fn run_next_due(&self) -> anyhow::Result<bool> {
        let Some(job) = self.store.next_due_job(Utc::now()).await? else {
            return Ok(false);
        };
        // Other apps share the daily budget: stop short of the reserve.
        // An operator's single-record retry still goes through.
        if job.kind != JobKind::RetryRecord
            && let Some((left, max)) = self.daily_budget_below_reserve().await
        {
            let why = format!(
                "paused: {left} of the portal's {max} daily API calls left, below the {:.0}% reserve kept for other apps",
                self.settings.daily_reserve * 100.0
            );
            tracing::warn!(job = job.id, "{why}");
            self.store
                .retry_job_at(job.id, Utc::now() + chrono::Duration::minutes(15), &why)
                .await?;
            self.set_notice(why);
            return Ok(true);
        }
        let Some(object) = self.object(job.object).cloned() else {
            let why = format!("{} are no longer in the configuration", job.object);
            self.store
                .finish_job(job.id, JobState::Failed, Some(&why))
                .await?;
            return Ok(true);
        };
        self.store.start_job(job.id).await?;
        let scope = match (&job.kind, &job.app_id) {
            (JobKind::RetryRecord | JobKind::Webhook, Some(id)) => {
                Scope::Record(RecordRef::parse(id))
            }
            (JobKind::Scan, _) => Scope::Scan,
            _ => Scope::Changes,
        };
        let pass = Pass {
            client: &self.client,
            store: &self.store,
            app: &self.app,
            mapping: &object.mapping,
            rules: &object.rules,
            batch_size: object.batch_size.min(self.settings.batch_size),
            job_id: job.id,
        };
        let store = &self.store;
        let result = pass
            .run(scope, |p: Progress| {
                store.job_progress(job.id, p.done, p.total, p.tally.succeeded, p.tally.failed)
            })
            .await;
        let attempts = job.attempts + 1;
        // A pass that found nothing changed leaves the counts as they were:
        // an idle engine costs one call per object per side, not two.
        let quiet = matches!(&result, Ok(p) if p.done == 0)
            && lock(&self.cached).hubspot.contains_key(&job.object);
        match result {
            Ok(p) => {
                tracing::info!(
                    job = job.id,
                    kind = job.kind.as_str(),
                    done = p.done,
                    succeeded = p.tally.succeeded,
                    failed = p.tally.failed,
                    skipped = p.tally.skipped,
                    "job finished"
                );
                self.store
                    .finish_job(job.id, JobState::Succeeded, None)
                    .await?;
            }
            Err(e) if e.is_transient() && attempts < self.settings.max_job_attempts => {
                let delay = self.job_backoff(attempts);
                tracing::warn!(job = job.id, attempts, ?delay, error = %e, "job will be retried");
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.store.retry_job_at(job.id, at, &e.to_string()).await?;
            }
            Err(e) => {
                tracing::error!(job = job.id, attempts, error = %e, "job FAILED");
                self.store
                    .finish_job(job.id, JobState::Failed, Some(&e.to_string()))
                    .await?;
            }
        }
        let watched = lock(&self.watched).remove(&job.id);
        if let Some(label) = watched {
            let outcome = match self
                .store
                .record_history(job.object, job.app_id.as_deref().unwrap_or(""))
                .await?
                .last()
            {
                Some(a) if a.job_id == job.id => match (a.status, &a.message) {
                    (AuditStatus::Failed, Some(m)) => format!("FAILED: {}", message_summary(m)),
                    (s, _) => s.as_str().to_string(),
                },
                _ => self
                    .store
                    .job(job.id)
                    .await?
                    .and_then(|j| j.error)
                    .map_or("no change".into(), |e| format!("job error: {e}")),
            };
            self.set_notice(format!("retry of {label}: {outcome}"));
        }
        // A retry may have created a record too, so counts follow retries
        // as well as passes; but a burst of retries (a whole category)
        // refreshes once, when it is done, not once per record: counting
        // is a search, and search is limited to a few calls a second.
        let single = matches!(job.kind, JobKind::RetryRecord | JobKind::Webhook);
        if !quiet && (!single || self.store.next_due_job(Utc::now()).await?.is_none()) {
            self.refresh_counts().await;
        }
        if job.kind == JobKind::Scan {
            self.schedule_scan(job.object, self.settings.scan_interval)
                .await?;
        } else if !single {
            let age = chrono::Duration::from_std(self.settings.audit_max_age)
                .unwrap_or(chrono::Duration::MAX);
            let pruned = self
                .store
                .prune_audit(self.settings.audit_max_rows, age)
                .await?;
            if pruned > 0 {
                tracing::info!(pruned, "audit entries past retention removed");
            }
            self.schedule_pass(&object, object.poll_interval).await?;
        }
        Ok(true)
    }

    /// Runs due jobs until none is due (tests and `hubsync run --once`).
    pub async fn run_until_idle(&self) -> anyhow::Result<()> {
        while self.run_next_due().await? {}
        Ok(())
    }

    fn job_backoff(&self, attempts: u32) -> Duration {
        let base = self
            .settings
            .job_backoff
            .saturating_mul(1 << attempts.saturating_sub(1).min(8));
        let capped = base.min(Duration::from_secs(300));
        // Full jitter keeps many failing jobs from retrying in lockstep.
        capped.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }

    /// Re-reads the counts that cost a call: records in HubSpot and in the app.
    pub async fn refresh_counts(&self) {
        let mut hubspot = HashMap::new();
        let mut app = HashMap::new();
        let mut app_error = None;
        let mut app_time = Duration::ZERO;
        for o in &self.objects {
            let kind = o.mapping.object;
            match self.client.count(kind).await {
                Ok(n) => {
                    hubspot.insert(kind, n);
                }
                Err(e) => tracing::warn!(object = %kind, error = %e, "counting HubSpot records"),
            }
            let t = Instant::now();
            match self.app.count(&o.mapping) {
                Ok(n) => {
                    app.insert(kind, n);
                }
                Err(e) => app_error = Some(format!("{e:#}")),
            }
            app_time += t.elapsed();
        }
        let mut c = lock(&self.cached);
        c.hubspot.extend(hubspot);
        c.app.extend(app);
        let target = self.app.path().display().to_string();
        c.app_status = Some(match app_error {
            None => ConnectionStatus {
                name: "App DB".into(),
                target,
                state: ConnState::Connected,
                latency_ms: Some(app_time.as_millis() as u64),
                budget: None,
                last_error: None,
            },
            Some(e) => ConnectionStatus {
                name: "App DB".into(),
                target,
                state: ConnState::Down,
                latency_ms: None,
                budget: None,
                last_error: Some(e),
            },
        });
    }

    /// What the console shows, read from the store now.
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        let cached = lock(&self.cached).clone();
        let app_status = cached.app_status.unwrap_or_else(|| ConnectionStatus {
            name: "App DB".into(),
            target: self.app.path().display().to_string(),
            state: ConnState::Connecting,
            latency_ms: None,
            budget: None,
            last_error: None,
        });
        let before = *lock(&self.failed_before);
        let objects: Vec<(ObjectKind, Option<u64>)> = self
            .objects
            .iter()
            .map(|o| (o.mapping.object, cached.app.get(&o.mapping.object).copied()))
            .collect();
        let mut s = stored_snapshot(&self.store, &objects, before).await?;
        s.connections = vec![self.client.connection_status(), app_status];
        for c in &mut s.counts {
            c.hubspot = cached.hubspot.get(&c.object).copied();
        }
        s.notice = lock(&self.notice).clone();
        Ok(s)
    }

    /// Starts the worker, command and publisher tasks.
    pub async fn spawn(
        self: &Arc<Self>,
        cancel: CancellationToken,
    ) -> anyhow::Result<EngineHandle> {
        self.bootstrap().await?;
        let (snap_tx, snap_rx) = watch::channel(self.snapshot().await?);
        let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(64);
        let mut tasks = Vec::new();

        let me = self.clone();
        let c = cancel.clone();
        tasks.push(tokio::spawn(async move {
            me.refresh_counts().await;
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
                        .min(Duration::from_secs(5)),
                    _ => Duration::from_secs(1),
                };
                tokio::select! {
                    _ = c.cancelled() => break,
                    _ = me.wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        }));

        let me = self.clone();
        let c = cancel.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let cmd = tokio::select! {
                    _ = c.cancelled() => break,
                    cmd = cmd_rx.recv() => cmd,
                };
                match cmd {
                    None | Some(Command::Shutdown) => {
                        c.cancel();
                        break;
                    }
                    Some(cmd) => {
                        if let Err(e) = me.handle(cmd.clone()).await {
                            tracing::error!(?cmd, error = %format!("{e:#}"), "handling command");
                            me.set_notice(format!("{cmd:?} failed: {e}"));
                        }
                    }
                }
            }
        }));

        let me = self.clone();
        let c = cancel;
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            let mut last_sent = Instant::now();
            loop {
                tokio::select! {
                    _ = c.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let snap = match me.snapshot().await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "building snapshot");
                        continue;
                    }
                };
                let stale = last_sent.elapsed() >= Duration::from_secs(1);
                snap_tx.send_if_modified(|old| {
                    let mut same = snap.clone();
                    same.taken_at = old.taken_at;
                    if stale || same != *old {
                        *old = snap;
                        last_sent = Instant::now();
                        true
                    } else {
                        false
                    }
                });
            }
        }));

        Ok(EngineHandle {
            snapshots: snap_rx,
            commands: cmd_tx,
            engine: self.clone(),
            tasks,
        })
    }
}
