//! What an operator may ask of the engine. Each command names its caller
//! (the OS user behind the control socket), which the jobs it queues and
//! the entries it closes carry into the audit log. Viewers never get here:
//! the control server refuses their writes before calling [`Engine::handle`].

use super::{Engine, lock};
use crate::status::{Command, JobKind};
use crate::store::{ClassMatch, JobRecord};
use chrono::Utc;

/// What became of a command: a line for the console that sent it, and the
/// jobs it queued (whose end that console is told about).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub notice: String,
    pub jobs: Vec<i64>,
}

impl Outcome {
    fn said(notice: String) -> Outcome {
        Outcome {
            notice,
            jobs: vec![],
        }
    }
}

impl Engine {
    /// Acts on an operator's command; `by` is their OS user.
    pub async fn handle(&self, cmd: Command, by: Option<&str>) -> anyhow::Result<Outcome> {
        let who = by.unwrap_or("an operator");
        let outcome = match cmd {
            Command::Retry { audit_id } => {
                let Some(entry) = self.store.audit_entry(audit_id).await? else {
                    return Ok(Outcome::said(format!(
                        "retry: audit entry #{audit_id} no longer exists"
                    )));
                };
                let job = self
                    .store
                    .enqueue_by(
                        JobKind::RetryRecord,
                        entry.object,
                        entry.direction,
                        Some(&entry.app_id),
                        Utc::now(),
                        by,
                    )
                    .await?;
                lock(&self.watched).insert(job, entry.label.clone());
                tracing::info!(audit_id, job, by = who, record = %entry.label, "retry requested");
                Outcome {
                    notice: format!("retry of {} queued (job {job})", entry.label),
                    jobs: vec![job],
                }
            }
            Command::RetryCategory { category } => {
                let records = self
                    .store
                    .records_in_class(ClassMatch::Category(category.clone()))
                    .await?;
                self.retry_records(records, &category, by).await?
            }
            Command::RetryClass { class } => {
                let records = self
                    .store
                    .records_in_class(ClassMatch::Exact(class.clone()))
                    .await?;
                self.retry_records(records, &class.label(), by).await?
            }
            Command::RetrySelection { audit_ids } => {
                let records = self.store.records_of_entries(&audit_ids).await?;
                let what = format!("{} selected", audit_ids.len());
                self.retry_records(records, &what, by).await?
            }
            Command::Dismiss { audit_id } => {
                let entry = self.store.audit_entry(audit_id).await?;
                let label = entry.map_or_else(|| format!("#{audit_id}"), |e| e.label);
                if self.store.dismiss(audit_id, by).await? {
                    tracing::info!(audit_id, by = who, "FAILED entry dismissed");
                    Outcome::said(format!("dismissed the FAILED entry of {label}"))
                } else {
                    Outcome::said(format!("{label} has no open FAILED entry #{audit_id}"))
                }
            }
            Command::SyncNow { object } => {
                let Some(o) = self.object(object) else {
                    return Ok(Outcome::said(format!(
                        "{object} are not in the configuration"
                    )));
                };
                // A waiting poll is brought forward rather than doubled.
                if !self.store.hurry_pass(object).await?
                    && !self.store.has_pending_pass(object).await?
                {
                    self.store
                        .enqueue_by(
                            JobKind::SyncNow,
                            object,
                            o.rules.direction,
                            None,
                            Utc::now(),
                            by,
                        )
                        .await?;
                }
                tracing::info!(%object, by = who, "sync now requested");
                Outcome::said(format!("sync of {object} queued"))
            }
        };
        self.wake.notify_one();
        Ok(outcome)
    }

    /// Queues one job that retries these records (never one per record),
    /// so it runs in batches, paced by the rate budget, with one progress
    /// line and one summary for the console that asked.
    async fn retry_records(
        &self,
        records: Vec<JobRecord>,
        what: &str,
        by: Option<&str>,
    ) -> anyhow::Result<Outcome> {
        if records.is_empty() {
            return Ok(Outcome::said(format!(
                "retry: no open FAILED entries of {what}"
            )));
        }
        let n = records.len();
        let job = self.store.enqueue_retry_records(records, by).await?;
        tracing::info!(job, records = n, class = %what, by = by.unwrap_or("an operator"), "retry of many records requested");
        Ok(Outcome {
            notice: format!("retry of {n} record(s) ({what}) queued as job {job}"),
            jobs: vec![job],
        })
    }
}
