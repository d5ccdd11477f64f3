//! Running a retry of many records (a class of FAILED entries, or an
//! operator's selection) as one job: its records are stored with it, each
//! object's go through one selection pass in batches, and the console that
//! asked hears one summary when it ends.
//!
//! Crash-safe as every job is: a job cut short is queued again, and what is
//! left to do is read from the audit log (a record with an entry of this
//! job was retried), so nothing is retried twice and the summary counts
//! every record once, whichever run retried it.

use super::{Engine, EngineEvent};
use crate::model::{ObjectKind, RecordRef};
use crate::status::JobState;
use crate::store::{JobOutcome, JobRow};
use crate::sync::pass::{Pass, Progress, Scope};
use chrono::Utc;
use std::collections::BTreeMap;

/// "31 retried: 29 SUCCESS, 2 FAILED" (and the skipped, when any were).
pub fn summary(o: &JobOutcome) -> String {
    let mut s = format!(
        "{} retried: {} SUCCESS, {} FAILED",
        o.records, o.succeeded, o.failed
    );
    if o.skipped > 0 {
        s.push_str(&format!(", {} SKIPPED", o.skipped));
    }
    s
}

impl Engine {
    pub(super) async fn run_retry_records(&self, job: &JobRow) -> anyhow::Result<()> {
        self.store.start_job(job.id).await?;
        let (total, pending) = self.store.job_records(job.id).await?;
        let before = self.store.job_outcome(job.id).await?;
        let done_before = total.saturating_sub(pending.len() as u64);
        self.store
            .job_progress(job.id, done_before, total, before.succeeded, before.failed);
        let mut by_object: BTreeMap<ObjectKind, Vec<RecordRef>> = BTreeMap::new();
        for r in pending {
            by_object
                .entry(r.object)
                .or_default()
                .push(RecordRef::parse(&r.record));
        }
        let mut so_far = Progress {
            done: done_before,
            total,
            ..Default::default()
        };
        so_far.tally.succeeded = before.succeeded;
        so_far.tally.failed = before.failed;
        let mut stopped = None;
        for (kind, refs) in by_object {
            let Some(object) = self.object(kind) else {
                tracing::warn!(job = job.id, object = %kind, records = refs.len(),
                    "retry: the object is no longer in the configuration; its records are left FAILED");
                so_far.done += refs.len() as u64;
                continue;
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
            let base = so_far;
            let store = &self.store;
            match pass
                .run(Scope::Selection(refs), |p: Progress| {
                    store.job_progress(
                        job.id,
                        base.done + p.done,
                        total,
                        base.tally.succeeded + p.tally.succeeded,
                        base.tally.failed + p.tally.failed,
                    )
                })
                .await
            {
                Ok(p) => {
                    so_far.done += p.done;
                    so_far.tally.succeeded += p.tally.succeeded;
                    so_far.tally.failed += p.tally.failed;
                }
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            }
        }
        let attempts = job.attempts + 1;
        let outcome = self.store.job_outcome(job.id).await?;
        let text = match stopped {
            None => {
                tracing::info!(
                    job = job.id,
                    records = total,
                    succeeded = outcome.succeeded,
                    failed = outcome.failed,
                    skipped = outcome.skipped,
                    "retry of many records finished"
                );
                self.store
                    .finish_job(job.id, JobState::Succeeded, None)
                    .await?;
                summary(&outcome)
            }
            Some(e) if e.is_transient() && attempts < self.settings.max_job_attempts => {
                let delay = self.job_backoff(attempts);
                tracing::warn!(job = job.id, attempts, ?delay, error = %e, "retry of many records will go on later");
                let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                self.store.retry_job_at(job.id, at, &e.to_string()).await?;
                // Not the end: the console hears when the job is done.
                return Ok(());
            }
            Some(e) => {
                tracing::error!(job = job.id, attempts, error = %e, "retry of many records FAILED");
                self.store
                    .finish_job(job.id, JobState::Failed, Some(&e.to_string()))
                    .await?;
                format!("retry stopped ({e}); {}", summary(&outcome))
            }
        };
        let _ = self.events.send(EngineEvent::JobFinished {
            job_id: job.id,
            text,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_counts_each_outcome() {
        let o = JobOutcome {
            records: 31,
            succeeded: 29,
            failed: 2,
            skipped: 0,
        };
        assert_eq!(summary(&o), "31 retried: 29 SUCCESS, 2 FAILED");
        let o = JobOutcome {
            records: 3,
            succeeded: 1,
            failed: 1,
            skipped: 1,
        };
        assert_eq!(summary(&o), "3 retried: 1 SUCCESS, 1 FAILED, 1 SKIPPED");
    }
}
