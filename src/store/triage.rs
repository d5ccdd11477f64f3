//! Triage by cause and retries of many records as one job: open FAILED
//! entries grouped by error class on the class index (migration 6), the
//! records of a retry job stored with it, and which of them are still to
//! do, judged by the audit log itself so a resumed job never retries a
//! record it has already retried.

use super::{Store, parse_ts, ts};
use crate::model::{Direction, ObjectKind};
use crate::status::{AuditView, JobKind};
use crate::triage::{ErrorClass, FailedGroup};
use chrono::Utc;
use rusqlite::params;

/// Which open FAILED entries a class retry takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassMatch {
    /// Exactly this class (a missing part matches entries without one).
    Exact(ErrorClass),
    /// Every entry of this category, whatever its sub-category or property.
    Category(String),
}

impl ClassMatch {
    fn sql(&self) -> (&'static str, [Option<String>; 3]) {
        match self {
            ClassMatch::Exact(c) => (
                "category = ?1 AND sub_category IS ?2 AND property IS ?3",
                [
                    Some(c.category.clone()),
                    c.sub_category.clone(),
                    c.property.clone(),
                ],
            ),
            ClassMatch::Category(c) => (
                "category = ?1 AND ?2 IS NULL AND ?3 IS NULL",
                [Some(c.clone()), None, None],
            ),
        }
    }
}

/// A record a retry job is to sync again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct JobRecord {
    pub object: ObjectKind,
    /// Its audit key: the app id, or `hs:<id>`.
    pub record: String,
}

/// How a retry job's records came out: each record by its latest entry in
/// the job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobOutcome {
    pub records: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Store {
    /// Open FAILED entries by error class, the largest group first.
    pub async fn failed_groups(&self) -> anyhow::Result<Vec<FailedGroup>> {
        self.view(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT COALESCE(category, ''), sub_category, property, COUNT(*), MIN(at), MAX(at)
                 FROM audit INDEXED BY audit_open_by_class WHERE open = 1
                 GROUP BY category, sub_category, property
                 ORDER BY 4 DESC, 1, 2, 3",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(FailedGroup {
                    class: ErrorClass {
                        category: r.get(0)?,
                        sub_category: r.get(1)?,
                        property: r.get(2)?,
                    },
                    count: r.get::<_, i64>(3)? as u64,
                    first_seen: parse_ts(&r.get::<_, String>(4)?),
                    last_seen: parse_ts(&r.get::<_, String>(5)?),
                    hint: None,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A page of one class's open FAILED entries older than `before`,
    /// newest first.
    pub async fn failed_in_class(
        &self,
        class: ClassMatch,
        before: Option<i64>,
        limit: usize,
    ) -> anyhow::Result<Vec<AuditView>> {
        self.view(move |conn| {
            let (clause, [c, s, p]) = class.sql();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM audit INDEXED BY audit_open_by_class
                 WHERE open = 1 AND {clause} AND id < ?4
                 ORDER BY id DESC LIMIT ?5",
                super::audit::AUDIT_COLS
            ))?;
            let rows = stmt.query_map(
                params![c, s, p, before.unwrap_or(i64::MAX), limit as i64],
                super::audit::audit_view,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The records of a class's open FAILED entries, each once.
    pub async fn records_in_class(&self, class: ClassMatch) -> anyhow::Result<Vec<JobRecord>> {
        self.query(move |conn| {
            let (clause, [c, s, p]) = class.sql();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT DISTINCT object, app_id FROM audit WHERE open = 1 AND {clause} ORDER BY 1, 2"
            ))?;
            let rows = stmt.query_map(params![c, s, p], job_record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect())
        })
        .await
    }

    /// The records these audit entries are about, each once; ids that do
    /// not exist are left out.
    pub async fn records_of_entries(&self, audit_ids: &[i64]) -> anyhow::Result<Vec<JobRecord>> {
        let ids = serde_json::to_string(audit_ids)?;
        self.query(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT object, app_id FROM audit
                 WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY 1, 2",
            )?;
            let rows = stmt.query_map(params![ids], job_record)?;
            Ok(rows
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .collect())
        })
        .await
    }

    /// Queues one job that syncs these records again, storing them with
    /// it in the same transaction: a crash leaves both or neither.
    pub async fn enqueue_retry_records(
        &self,
        records: Vec<JobRecord>,
        requested_by: Option<&str>,
    ) -> anyhow::Result<i64> {
        let requested_by = requested_by.map(str::to_string);
        let object = records.first().map_or(ObjectKind::Contacts, |r| r.object);
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let now = ts(Utc::now());
            tx.execute(
                "INSERT INTO jobs (kind, object, direction, state, queued_at, run_after, requested_by, total)
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?4, ?5, ?6)",
                params![
                    JobKind::RetryRecords.as_str(),
                    object.api_name(),
                    Direction::Both.as_str(),
                    now,
                    requested_by,
                    records.len() as i64
                ],
            )?;
            let job = tx.last_insert_rowid();
            {
                let mut ins = tx.prepare_cached(
                    "INSERT OR IGNORE INTO job_records (job_id, object, record) VALUES (?1, ?2, ?3)",
                )?;
                for r in &records {
                    ins.execute(params![job, r.object.api_name(), r.record])?;
                }
            }
            tx.commit()?;
            Ok(job)
        })
        .await
    }

    /// A retry job's records and which of them are still to do: those with
    /// no audit entry of this job yet (by app id, or for a HubSpot record
    /// by its id, since a retry may give it an app id).
    pub async fn job_records(&self, job_id: i64) -> anyhow::Result<(u64, Vec<JobRecord>)> {
        self.query(move |conn| {
            let total: i64 = conn.query_row(
                "SELECT COUNT(*) FROM job_records WHERE job_id = ?1",
                params![job_id],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare_cached(
                "SELECT r.object, r.record FROM job_records r
                 WHERE r.job_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM audit a INDEXED BY audit_by_record
                                   WHERE a.object = r.object AND a.app_id = r.record AND a.job_id = r.job_id)
                   AND NOT (r.record LIKE 'hs:%' AND EXISTS (
                                   SELECT 1 FROM audit a INDEXED BY audit_by_hubspot
                                   WHERE a.object = r.object AND a.hubspot_id = substr(r.record, 4)
                                     AND a.job_id = r.job_id))
                 ORDER BY r.object, r.record",
            )?;
            let rows = stmt.query_map(params![job_id], job_record)?;
            let pending = rows.collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect();
            Ok((total as u64, pending))
        })
        .await
    }

    /// How a job's records came out, each by its latest entry in the job.
    pub async fn job_outcome(&self, job_id: i64) -> anyhow::Result<JobOutcome> {
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT status, COUNT(*) FROM audit WHERE id IN (
                     SELECT MAX(id) FROM audit INDEXED BY audit_by_job WHERE job_id = ?1
                     GROUP BY object, app_id)
                 GROUP BY status",
            )?;
            let mut out = JobOutcome::default();
            let rows = stmt.query_map(params![job_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            for row in rows {
                let (status, n) = row?;
                out.records += n;
                match status.as_str() {
                    "SUCCESS" => out.succeeded += n,
                    "FAILED" => out.failed += n,
                    _ => out.skipped += n,
                }
            }
            Ok(out)
        })
        .await
    }
}

fn job_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<JobRecord>> {
    Ok(
        ObjectKind::parse(&r.get::<_, String>(0)?).map(|object| JobRecord {
            object,
            record: r.get(1).unwrap_or_default(),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{AuditAction, AuditStatus};
    use crate::store::NewAudit;

    fn entry(job_id: i64, app_id: &str, hubspot_id: Option<&str>, status: AuditStatus) -> NewAudit {
        NewAudit {
            job_id,
            object: ObjectKind::Contacts,
            direction: Direction::ToHubSpot,
            app_id: app_id.into(),
            hubspot_id: hubspot_id.map(str::to_string),
            action: AuditAction::Create,
            status,
            category: Some("VALIDATION_ERROR".into()),
            message: Some(
                r#"Property values were not valid: [{"error":"INVALID_EMAIL","name":"email"}]"#
                    .into(),
            ),
            diff: None,
            label: app_id.into(),
        }
    }

    fn rec(record: &str) -> JobRecord {
        JobRecord {
            object: ObjectKind::Contacts,
            record: record.into(),
        }
    }

    #[tokio::test]
    async fn a_resumed_retry_job_skips_the_records_it_already_retried() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("state.db")).await.unwrap();
        let job = s
            .enqueue_retry_records(vec![rec("1"), rec("2"), rec("hs:77")], Some("ops"))
            .await
            .unwrap();
        assert_eq!(s.job_records(job).await.unwrap().1.len(), 3);
        s.record(&entry(job, "1", None, AuditStatus::Success))
            .await
            .unwrap();
        // The HubSpot record was created in the app: audited under its new
        // app id, found by its HubSpot id.
        s.record(&entry(job, "9", Some("77"), AuditStatus::Failed))
            .await
            .unwrap();
        // An entry of another job does not count.
        s.record(&entry(job + 1, "2", None, AuditStatus::Success))
            .await
            .unwrap();
        let (total, pending) = s.job_records(job).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(pending, vec![rec("2")]);
        let o = s.job_outcome(job).await.unwrap();
        assert_eq!((o.records, o.succeeded, o.failed), (2, 1, 1));
    }

    #[tokio::test]
    async fn failed_entries_group_by_the_class_their_message_names() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("state.db")).await.unwrap();
        for id in ["1", "2"] {
            s.record(&entry(1, id, None, AuditStatus::Failed))
                .await
                .unwrap();
        }
        let mut other = entry(1, "3", None, AuditStatus::Failed);
        other.category = Some("APP_DB".into());
        other.message = Some("disk I/O error".into());
        s.record(&other).await.unwrap();
        let groups = s.failed_groups().await.unwrap();
        let summary: Vec<(String, u64)> =
            groups.iter().map(|g| (g.class.label(), g.count)).collect();
        assert_eq!(
            summary,
            vec![
                ("VALIDATION_ERROR / INVALID_EMAIL / email".to_string(), 2),
                ("APP_DB".to_string(), 1)
            ]
        );
        let by_category = s
            .records_in_class(ClassMatch::Category("VALIDATION_ERROR".into()))
            .await
            .unwrap();
        assert_eq!(by_category, vec![rec("1"), rec("2")]);
    }
}
