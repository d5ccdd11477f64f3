//! The job queue: scheduled polls and backfills, deletion scans, webhook
//! and operator record syncs. A job is queued → running → succeeded |
//! retrying | FAILED; the worker takes the next due one.

use super::{Store, parse_ts, ts};
use crate::model::{Direction, ObjectKind};
use crate::status::{JobKind, JobState, JobView};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

/// A job as the scheduler needs it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub kind: JobKind,
    pub object: ObjectKind,
    pub direction: Direction,
    pub app_id: Option<String>,
    pub attempts: u32,
    /// The OS user of the operator who asked for it, if one did.
    pub requested_by: Option<String>,
}

const JOB_COLS: &str = "id, kind, object, direction, state, done, total, succeeded, failed,
     queued_at, started_at, finished_at, error, run_after, requested_by";

fn job_view(r: &Row<'_>) -> rusqlite::Result<JobView> {
    Ok(JobView {
        id: r.get(0)?,
        kind: JobKind::parse(&r.get::<_, String>(1)?).unwrap_or(JobKind::Poll),
        object: ObjectKind::parse(&r.get::<_, String>(2)?).unwrap_or(ObjectKind::Contacts),
        direction: Direction::parse(&r.get::<_, String>(3)?).unwrap_or(Direction::ToHubSpot),
        state: JobState::parse(&r.get::<_, String>(4)?).unwrap_or(JobState::Queued),
        done: r.get::<_, i64>(5)? as u64,
        total: r.get::<_, i64>(6)? as u64,
        succeeded: r.get::<_, i64>(7)? as u64,
        failed: r.get::<_, i64>(8)? as u64,
        queued_at: parse_ts(&r.get::<_, String>(9)?),
        started_at: r.get::<_, Option<String>>(10)?.map(|s| parse_ts(&s)),
        finished_at: r.get::<_, Option<String>>(11)?.map(|s| parse_ts(&s)),
        error: r.get(12)?,
        run_after: parse_ts(&r.get::<_, String>(13)?),
        requested_by: r.get(14)?,
    })
}

pub(super) fn jobs_where(
    conn: &Connection,
    clause: &str,
    limit: usize,
) -> anyhow::Result<Vec<JobView>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM jobs {clause} LIMIT ?1"))?;
    let rows = stmt.query_map(params![limit as i64], job_view)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl Store {
    pub async fn enqueue(
        &self,
        kind: JobKind,
        object: ObjectKind,
        direction: Direction,
        app_id: Option<&str>,
        run_after: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        self.enqueue_by(kind, object, direction, app_id, run_after, None)
            .await
    }

    /// Queues a job an operator asked for: its audit entries carry their name.
    pub async fn enqueue_by(
        &self,
        kind: JobKind,
        object: ObjectKind,
        direction: Direction,
        app_id: Option<&str>,
        run_after: DateTime<Utc>,
        requested_by: Option<&str>,
    ) -> anyhow::Result<i64> {
        let app_id = app_id.map(str::to_string);
        let requested_by = requested_by.map(str::to_string);
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO jobs (kind, object, direction, state, app_id, queued_at, run_after, requested_by)
                 VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7)",
                params![
                    kind.as_str(),
                    object.api_name(),
                    direction.as_str(),
                    app_id,
                    ts(Utc::now()),
                    ts(run_after),
                    requested_by
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    /// Whether a job of this kind and object is waiting or running.
    pub async fn has_pending(&self, object: ObjectKind, kind: JobKind) -> anyhow::Result<bool> {
        self.query(move |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND kind = ?2
                     AND state IN ('queued','retrying','running'))",
                params![object.api_name(), kind.as_str()],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Whether a single-record job for this record is waiting (not yet
    /// running: a record changed again while its job runs needs another).
    pub async fn has_pending_record(
        &self,
        object: ObjectKind,
        record: &str,
    ) -> anyhow::Result<bool> {
        let record = record.to_string();
        self.query(move |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND app_id = ?2
                     AND state IN ('queued','retrying'))",
                params![object.api_name(), record],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Whether a poll or backfill of this object is already waiting, so the
    /// scheduler never stacks passes behind a slow one.
    pub async fn has_pending_pass(&self, object: ObjectKind) -> anyhow::Result<bool> {
        self.query(move |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND kind IN ('poll','backfill','sync now')
                     AND state IN ('queued','retrying','running'))",
                params![object.api_name()],
                |r| r.get(0),
            )?)
        })
        .await
    }

    /// Brings a waiting pass of this object forward to now. Returns false if
    /// none was waiting.
    pub async fn hurry_pass(&self, object: ObjectKind) -> anyhow::Result<bool> {
        self.write(move |conn| {
            Ok(conn.execute(
                "UPDATE jobs SET run_after = ?2 WHERE object = ?1 AND kind IN ('poll','backfill','sync now')
                     AND state IN ('queued','retrying')",
                params![object.api_name(), ts(Utc::now())],
            )? > 0)
        })
        .await
    }

    /// The next job due now: single-record retries first (an operator is
    /// waiting on them), then by due time.
    pub async fn next_due_job(&self, now: DateTime<Utc>) -> anyhow::Result<Option<JobRow>> {
        self.query(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, kind, object, direction, app_id, attempts, requested_by FROM jobs
                     WHERE state IN ('queued','retrying') AND run_after <= ?1
                     ORDER BY (kind IN ('retry', 'retry records', 'webhook')) DESC, run_after, id LIMIT 1",
                    params![ts(now)],
                    |r| {
                        Ok(JobRow {
                            id: r.get(0)?,
                            kind: JobKind::parse(&r.get::<_, String>(1)?).unwrap_or(JobKind::Poll),
                            object: ObjectKind::parse(&r.get::<_, String>(2)?)
                                .unwrap_or(ObjectKind::Contacts),
                            direction: Direction::parse(&r.get::<_, String>(3)?)
                                .unwrap_or(Direction::ToHubSpot),
                            app_id: r.get(4)?,
                            attempts: r.get::<_, i64>(5)? as u32,
                            requested_by: r.get(6)?,
                        })
                    },
                )
                .optional()?)
        })
        .await
    }

    /// When the earliest waiting job becomes due, so the worker can sleep until then.
    pub async fn next_due_at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        self.query(|conn| {
            let s: Option<String> = conn.query_row(
                "SELECT MIN(run_after) FROM jobs WHERE state IN ('queued','retrying')",
                [],
                |r| r.get(0),
            )?;
            Ok(s.map(|s| parse_ts(&s)))
        })
        .await
    }

    pub async fn start_job(&self, id: i64) -> anyhow::Result<()> {
        self.write(move |conn| {
            conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?2,
                     done = 0, succeeded = 0, failed = 0, error = NULL WHERE id = ?1",
                params![id, ts(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }

    /// Records a running job's progress without waiting for the write: it
    /// is called between batches and must not slow them.
    pub fn job_progress(&self, id: i64, done: u64, total: u64, succeeded: u64, failed: u64) {
        self.write_later(move |conn| {
            conn.execute(
                "UPDATE jobs SET done = ?2, total = ?3, succeeded = ?4, failed = ?5 WHERE id = ?1",
                params![
                    id,
                    done as i64,
                    total as i64,
                    succeeded as i64,
                    failed as i64
                ],
            )?;
            Ok(())
        });
    }

    pub async fn finish_job(
        &self,
        id: i64,
        state: JobState,
        error: Option<&str>,
    ) -> anyhow::Result<()> {
        let error = error.map(str::to_string);
        self.write(move |conn| {
            conn.execute(
                "UPDATE jobs SET state = ?2, finished_at = ?3, error = ?4 WHERE id = ?1",
                params![id, state.as_str(), ts(Utc::now()), error],
            )?;
            Ok(())
        })
        .await
    }

    /// Puts a job back in the queue after a transient failure.
    pub async fn retry_job_at(
        &self,
        id: i64,
        run_after: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        let error = error.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE jobs SET state = 'retrying', run_after = ?2, error = ?3 WHERE id = ?1",
                params![id, ts(run_after), error],
            )?;
            Ok(())
        })
        .await
    }

    /// Jobs left `running` are queued again, saying why: after a crash (on
    /// the next start) or when a clean stop cut them short. A pass is
    /// idempotent, so running it twice is safe.
    pub async fn requeue_running(&self, why: &str) -> anyhow::Result<usize> {
        let why = why.to_string();
        self.write(move |conn| {
            Ok(conn.execute(
                "UPDATE jobs SET state = 'queued', error = ?1 WHERE state = 'running'",
                params![why],
            )?)
        })
        .await
    }

    pub async fn running_job(&self) -> anyhow::Result<Option<JobView>> {
        self.view(|conn| {
            Ok(jobs_where(conn, "WHERE state = 'running' ORDER BY id", 1)?
                .into_iter()
                .next())
        })
        .await
    }

    pub async fn queued_jobs(&self, limit: usize) -> anyhow::Result<Vec<JobView>> {
        self.view(move |conn| {
            jobs_where(
                conn,
                "WHERE state IN ('queued','retrying') ORDER BY run_after, id",
                limit,
            )
        })
        .await
    }

    pub async fn recent_jobs(&self, limit: usize) -> anyhow::Result<Vec<JobView>> {
        self.view(move |conn| {
            jobs_where(
                conn,
                // In the index's order, not sorted: the planner would
                // rather pick the jobs by state and sort them all.
                "INDEXED BY jobs_finished WHERE state IN ('succeeded','FAILED')
                 ORDER BY finished_at DESC, id DESC",
                limit,
            )
        })
        .await
    }

    pub async fn job(&self, id: i64) -> anyhow::Result<Option<JobView>> {
        self.view(move |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"))?;
            Ok(stmt.query_row(params![id], job_view).optional()?)
        })
        .await
    }
}
