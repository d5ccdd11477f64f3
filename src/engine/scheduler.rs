//! The job queue's worker side: what is scheduled when, and running the
//! next due job to its end. Passes run one at a time so two never write the
//! same record at once; single-record jobs (an operator's retry, a webhook)
//! go before scheduled passes.

use super::{Engine, EngineEvent, lock};
use crate::hubspot::error::message_summary;
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AuditStatus, JobKind, JobState};
use crate::sync::pass::{Pass, Progress, Scope};
use crate::sync::rules::ObjectSync;
use chrono::Utc;
use std::time::Duration;

/// The least a follow-up webhook job waits, gathering its burst.
const WEBHOOK_GATHER: Duration = Duration::from_millis(500);

/// Records one webhook job syncs: ten batch reads.
const WEBHOOK_IDS_PER_JOB: usize = 1000;

impl Engine {
    fn first_object(&self) -> ObjectKind {
        self.objects()
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
        for o in self.objects().iter() {
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

    /// Queues a sync of HubSpot records webhook events reported. A flood
    /// of events must not starve the sync: the ids gather per object (each
    /// once, however many events name it) for one webhook job, which reads
    /// them 100 per batch read. While events keep coming, each next job
    /// waits as long as the last one ran (at least [`WEBHOOK_GATHER`]), so
    /// what arrives meanwhile is one job and polls and operators' jobs get
    /// their turn: webhooks take about half the time and the rate budget.
    ///
    /// The ids are kept in memory: after a crash the next poll finds the
    /// same changes by their modification time, so nothing is lost.
    pub async fn enqueue_webhook(
        &self,
        object: ObjectKind,
        hubspot_id: &str,
    ) -> anyhow::Result<()> {
        self.enqueue_webhooks(object, std::slice::from_ref(&hubspot_id.to_string()))
            .await
    }

    /// [`Engine::enqueue_webhook`] for many records of one object.
    pub async fn enqueue_webhooks(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<()> {
        if self.object(object).is_none() || hubspot_ids.is_empty() {
            return Ok(());
        }
        lock(&self.webhook_ids)
            .entry(object)
            .or_default()
            .extend(hubspot_ids.iter().cloned());
        self.schedule_webhooks(object, Duration::ZERO).await
    }

    /// Queues the object's webhook job unless one is waiting or running
    /// (a running one queues the next when it ends).
    async fn schedule_webhooks(&self, object: ObjectKind, delay: Duration) -> anyhow::Result<()> {
        if self.store.has_pending(object, JobKind::Webhook).await? {
            return Ok(());
        }
        let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
        self.store
            .enqueue(JobKind::Webhook, object, Direction::ToApp, None, at)
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// The ids the object's webhook job syncs now: at most
    /// [`WEBHOOK_IDS_PER_JOB`], the rest left for the next job.
    fn take_webhook_ids(&self, object: ObjectKind) -> Vec<String> {
        let mut all = lock(&self.webhook_ids);
        let Some(ids) = all.get_mut(&object) else {
            return vec![];
        };
        let keep = ids.len().saturating_sub(WEBHOOK_IDS_PER_JOB);
        let rest = if keep > 0 {
            let cut = ids.iter().nth(WEBHOOK_IDS_PER_JOB).cloned();
            cut.map(|c| ids.split_off(&c)).unwrap_or_default()
        } else {
            Default::default()
        };
        std::mem::replace(ids, rest).into_iter().collect()
    }

    fn webhook_ids_waiting(&self, object: ObjectKind) -> bool {
        lock(&self.webhook_ids)
            .get(&object)
            .is_some_and(|ids| !ids.is_empty())
    }

    /// Queues the next pass of the object unless one is already waiting:
    /// a backfill the first time, then polls.
    pub(super) async fn schedule_pass(
        &self,
        o: &ObjectSync,
        delay: Duration,
    ) -> anyhow::Result<()> {
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

    /// Runs the next due job to its end. Returns false when none was due.
    pub async fn run_next_due(&self) -> anyhow::Result<bool> {
        let Some(job) = self.store.next_due_job(Utc::now()).await? else {
            return Ok(false);
        };
        // Other apps share the daily budget: stop short of the reserve.
        // An operator's single-record retry still goes through.
        if !matches!(job.kind, JobKind::RetryRecord | JobKind::RetryRecords)
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
            self.notice(why, true);
            return Ok(true);
        }
        if job.kind == JobKind::RetryRecords {
            self.run_retry_records(&job).await?;
            self.refresh_counts().await;
            return Ok(true);
        }
        let Some(object) = self.object(job.object) else {
            let why = format!("{} are no longer in the configuration", job.object);
            self.store
                .finish_job(job.id, JobState::Failed, Some(&why))
                .await?;
            return Ok(true);
        };
        self.store.start_job(job.id).await?;
        let started = std::time::Instant::now();
        let taken = match (&job.kind, &job.app_id) {
            (JobKind::Webhook, None) => self.take_webhook_ids(job.object),
            _ => vec![],
        };
        let scope = match (&job.kind, &job.app_id) {
            (JobKind::RetryRecord | JobKind::Webhook, Some(id)) => {
                Scope::Record(RecordRef::parse(id))
            }
            (JobKind::Webhook, None) => Scope::Records(taken.clone()),
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
                // The retry syncs the same records (and any named since).
                lock(&self.webhook_ids)
                    .entry(job.object)
                    .or_default()
                    .extend(taken);
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
            let _ = self.events.send(EngineEvent::JobFinished {
                job_id: job.id,
                text: format!("retry of {label}: {outcome}"),
            });
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
        } else if job.kind == JobKind::Webhook {
            if self.webhook_ids_waiting(job.object) {
                let fair = started.elapsed().max(WEBHOOK_GATHER);
                self.schedule_webhooks(job.object, fair).await?;
            }
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

    pub(super) fn job_backoff(&self, attempts: u32) -> Duration {
        let base = self
            .settings
            .job_backoff
            .saturating_mul(1 << attempts.saturating_sub(1).min(8));
        let capped = base.min(Duration::from_secs(300));
        // Full jitter keeps many failing jobs from retrying in lockstep.
        capped.mul_f64(0.5 + rand::random::<f64>() * 0.5)
    }
}
