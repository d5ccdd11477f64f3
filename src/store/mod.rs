//! The engine's own state, in one SQLite file: which app record is linked to
//! which HubSpot record, how far each change feed has read, the job queue and
//! the audit log.
//!
//! Only the engine writes here. Everything is keyed by object so contacts,
//! companies and deals never collide. Timestamps are stored as RFC 3339 UTC
//! text with milliseconds, which sorts in time order.

mod migrations;

pub use migrations::SCHEMA_VERSION;

use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AuditAction, AuditStatus, AuditView, JobKind, JobState, JobView};
use crate::sync::plan::Link;
use anyhow::{Context, anyhow};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Creates a file readable by its owner only, if it does not exist yet:
/// state and config may hold record data that others on the host must not read.
pub fn create_private_file(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// Creates the data folder readable by its owner only: it holds record data.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// One audit entry about to be written.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub job_id: i64,
    pub object: ObjectKind,
    pub direction: Direction,
    pub app_id: String,
    pub hubspot_id: Option<String>,
    pub action: AuditAction,
    pub status: AuditStatus,
    pub category: Option<String>,
    pub message: Option<String>,
    /// The fields written, as JSON (`{"email": "a@b.c"}`).
    pub diff: Option<String>,
    pub label: String,
}

/// A job as the scheduler needs it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub kind: JobKind,
    pub object: ObjectKind,
    pub direction: Direction,
    pub app_id: Option<String>,
    pub attempts: u32,
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed, owner-only) and migrates the state database.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        create_private_file(path)?;
        let mut conn = Connection::open(path)
            .with_context(|| format!("opening state database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)
            .with_context(|| format!("state database {}", path.display()))?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- links ----

    /// Links an app record to a HubSpot record, remembering what both
    /// sides hold. Linking a HubSpot record that is already linked to
    /// another app record is refused: that would make two app records write
    /// into one HubSpot record.
    pub fn link(
        &self,
        object: ObjectKind,
        app_id: &str,
        hubspot_id: &str,
        memory: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let conn = self.conn();
        let owner: Option<String> = conn
            .query_row(
                "SELECT app_id FROM links WHERE object = ?1 AND hubspot_id = ?2",
                params![object.api_name(), hubspot_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(owner) = owner
            && owner != app_id
        {
            return Err(anyhow!(
                "HubSpot {object} {hubspot_id} is already linked to app record {owner}"
            ));
        }
        conn.execute(
            "INSERT INTO links (object, app_id, hubspot_id, linked_at, memory) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (object, app_id) DO UPDATE SET hubspot_id = excluded.hubspot_id,
                 linked_at = excluded.linked_at, memory = excluded.memory",
            params![
                object.api_name(),
                app_id,
                hubspot_id,
                ts(Utc::now()),
                serde_json::to_string(memory)?
            ],
        )?;
        Ok(())
    }

    /// Replaces a link's memory after a write landed (or was settled):
    /// nothing is pending any more.
    pub fn set_memory(
        &self,
        object: ObjectKind,
        app_id: &str,
        memory: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE links SET memory = ?3, pending = NULL WHERE object = ?1 AND app_id = ?2",
            params![object.api_name(), app_id, serde_json::to_string(memory)?],
        )?;
        Ok(())
    }

    /// Notes, before a batch is sent, the values each link is about to
    /// write to HubSpot (one transaction for the batch).
    pub fn set_pending(
        &self,
        object: ObjectKind,
        writes: &[(&str, &BTreeMap<String, String>)],
    ) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE links SET pending = ?3 WHERE object = ?1 AND app_id = ?2",
            )?;
            for (app_id, values) in writes {
                stmt.execute(params![
                    object.api_name(),
                    app_id,
                    serde_json::to_string(values)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets a write that HubSpot refused: it did not land.
    pub fn clear_pending(&self, object: ObjectKind, app_id: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE links SET pending = NULL WHERE object = ?1 AND app_id = ?2",
            params![object.api_name(), app_id],
        )?;
        Ok(())
    }

    /// Removes a link; both records stay.
    pub fn unlink(&self, object: ObjectKind, app_id: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "DELETE FROM links WHERE object = ?1 AND app_id = ?2",
            params![object.api_name(), app_id],
        )?;
        Ok(())
    }

    /// Removes the link of a deleted app record and remembers its HubSpot
    /// record, so that record is not created in the app again.
    pub fn bury(&self, object: ObjectKind, app_id: &str, hubspot_id: &str) -> anyhow::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM links WHERE object = ?1 AND app_id = ?2",
            params![object.api_name(), app_id],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO tombstones (object, hubspot_id, app_id, at) VALUES (?1, ?2, ?3, ?4)",
            params![object.api_name(), hubspot_id, app_id, ts(Utc::now())],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Which of these HubSpot records lost their app record to a deletion.
    pub fn tombstones_among(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<HashSet<String>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT 1 FROM tombstones WHERE object = ?1 AND hubspot_id = ?2")?;
        let mut out = HashSet::new();
        for id in hubspot_ids {
            if stmt.exists(params![object.api_name(), id])? {
                out.insert(id.clone());
            }
        }
        Ok(out)
    }

    fn link_row(r: &Row<'_>) -> rusqlite::Result<Link> {
        let memory: String = r.get(2)?;
        let pending: Option<String> = r.get(3)?;
        Ok(Link {
            app_id: r.get(0)?,
            hubspot_id: r.get(1)?,
            // A memory that cannot be read is treated as none: the pair is
            // then merged as if newly linked, which never loses a value.
            memory: serde_json::from_str(&memory).unwrap_or_default(),
            pending: pending
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default(),
        })
    }

    /// The links of these app records.
    pub fn links_of_app(
        &self,
        object: ObjectKind,
        app_ids: &[String],
    ) -> anyhow::Result<Vec<Link>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT app_id, hubspot_id, memory, pending FROM links WHERE object = ?1 AND app_id = ?2",
        )?;
        let mut out = Vec::new();
        for id in app_ids {
            if let Some(l) = stmt
                .query_row(params![object.api_name(), id], Self::link_row)
                .optional()?
            {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// The links of these HubSpot records.
    pub fn links_of_hubspot(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<Vec<Link>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT app_id, hubspot_id, memory, pending FROM links WHERE object = ?1 AND hubspot_id = ?2",
        )?;
        let mut out = Vec::new();
        for id in hubspot_ids {
            if let Some(l) = stmt
                .query_row(params![object.api_name(), id], Self::link_row)
                .optional()?
            {
                out.push(l);
            }
        }
        Ok(out)
    }

    /// A page of links in app-id order after `after`: the deletion scan
    /// walks every link this way.
    pub fn links_after(
        &self,
        object: ObjectKind,
        after: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<Link>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT app_id, hubspot_id, memory, pending FROM links WHERE object = ?1 AND app_id > ?2
             ORDER BY app_id LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![object.api_name(), after, limit as i64],
            Self::link_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The HubSpot ids linked to these app records (absent ones are unlinked).
    pub fn links_for(
        &self,
        object: ObjectKind,
        app_ids: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        Ok(self
            .links_of_app(object, app_ids)?
            .into_iter()
            .map(|l| (l.app_id, l.hubspot_id))
            .collect())
    }

    /// The app records these HubSpot ids are linked to, if any.
    pub fn app_ids_for(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        Ok(self
            .links_of_hubspot(object, hubspot_ids)?
            .into_iter()
            .map(|l| (l.hubspot_id, l.app_id))
            .collect())
    }

    pub fn link_count(&self, object: ObjectKind) -> anyhow::Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM links WHERE object = ?1",
            params![object.api_name()],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    // ---- cursors ----

    pub fn cursor(
        &self,
        object: ObjectKind,
        direction: Direction,
    ) -> anyhow::Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT value FROM cursors WHERE object = ?1 AND direction = ?2",
                params![object.api_name(), direction.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn set_cursor(
        &self,
        object: ObjectKind,
        direction: Direction,
        value: &str,
    ) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO cursors (object, direction, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (object, direction) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            params![object.api_name(), direction.as_str(), value, ts(Utc::now())],
        )?;
        Ok(())
    }

    // ---- jobs ----

    pub fn enqueue(
        &self,
        kind: JobKind,
        object: ObjectKind,
        direction: Direction,
        app_id: Option<&str>,
        run_after: DateTime<Utc>,
    ) -> anyhow::Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO jobs (kind, object, direction, state, app_id, queued_at, run_after)
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6)",
            params![
                kind.as_str(),
                object.api_name(),
                direction.as_str(),
                app_id,
                ts(Utc::now()),
                ts(run_after)
            ],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Whether a job of this kind and object is waiting or running.
    pub fn has_pending(&self, object: ObjectKind, kind: JobKind) -> anyhow::Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND kind = ?2
                 AND state IN ('queued','retrying','running'))",
            params![object.api_name(), kind.as_str()],
            |r| r.get(0),
        )?)
    }

    /// Whether a single-record job for this record is waiting (not yet
    /// running: a record changed again while its job runs needs another).
    pub fn has_pending_record(&self, object: ObjectKind, record: &str) -> anyhow::Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND app_id = ?2
                 AND state IN ('queued','retrying'))",
            params![object.api_name(), record],
            |r| r.get(0),
        )?)
    }

    /// Whether a poll or backfill of this object is already waiting, so the
    /// scheduler never stacks passes behind a slow one.
    pub fn has_pending_pass(&self, object: ObjectKind) -> anyhow::Result<bool> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM jobs WHERE object = ?1 AND kind IN ('poll','backfill','sync now')
                 AND state IN ('queued','retrying','running'))",
            params![object.api_name()],
            |r| r.get(0),
        )?)
    }

    /// Brings a waiting pass of this object forward to now. Returns false if
    /// none was waiting.
    pub fn hurry_pass(&self, object: ObjectKind) -> anyhow::Result<bool> {
        Ok(self.conn().execute(
            "UPDATE jobs SET run_after = ?2 WHERE object = ?1 AND kind IN ('poll','backfill','sync now')
                 AND state IN ('queued','retrying')",
            params![object.api_name(), ts(Utc::now())],
        )? > 0)
    }

    /// The next job due now: single-record retries first (an operator is
    /// waiting on them), then by due time.
    pub fn next_due_job(&self, now: DateTime<Utc>) -> anyhow::Result<Option<JobRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, kind, object, direction, app_id, attempts FROM jobs
                 WHERE state IN ('queued','retrying') AND run_after <= ?1
                 ORDER BY (kind IN ('retry', 'webhook')) DESC, run_after, id LIMIT 1",
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
                    })
                },
            )
            .optional()?)
    }

    /// When the earliest waiting job becomes due, so the worker can sleep until then.
    pub fn next_due_at(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        let s: Option<String> = self.conn().query_row(
            "SELECT MIN(run_after) FROM jobs WHERE state IN ('queued','retrying')",
            [],
            |r| r.get(0),
        )?;
        Ok(s.map(|s| parse_ts(&s)))
    }

    pub fn start_job(&self, id: i64) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?2,
                 done = 0, succeeded = 0, failed = 0, error = NULL WHERE id = ?1",
            params![id, ts(Utc::now())],
        )?;
        Ok(())
    }

    pub fn job_progress(
        &self,
        id: i64,
        done: u64,
        total: u64,
        succeeded: u64,
        failed: u64,
    ) -> anyhow::Result<()> {
        self.conn().execute(
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
    }

    pub fn finish_job(&self, id: i64, state: JobState, error: Option<&str>) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE jobs SET state = ?2, finished_at = ?3, error = ?4 WHERE id = ?1",
            params![id, state.as_str(), ts(Utc::now()), error],
        )?;
        Ok(())
    }

    /// Puts a job back in the queue after a transient failure.
    pub fn retry_job_at(
        &self,
        id: i64,
        run_after: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE jobs SET state = 'retrying', run_after = ?2, error = ?3 WHERE id = ?1",
            params![id, ts(run_after), error],
        )?;
        Ok(())
    }

    /// After a crash, jobs left `running` are queued again: a pass is
    /// idempotent, so running it twice is safe.
    pub fn requeue_interrupted(&self) -> anyhow::Result<usize> {
        Ok(self.conn().execute(
            "UPDATE jobs SET state = 'queued', error = 'interrupted; requeued on restart' WHERE state = 'running'",
            [],
        )?)
    }

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
        })
    }

    fn jobs_where(&self, clause: &str, limit: usize) -> anyhow::Result<Vec<JobView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id, kind, object, direction, state, done, total, succeeded, failed,
                    queued_at, started_at, finished_at, error, run_after
             FROM jobs WHERE {clause} LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64], Self::job_view)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn running_job(&self) -> anyhow::Result<Option<JobView>> {
        Ok(self
            .jobs_where("state = 'running' ORDER BY id", 1)?
            .into_iter()
            .next())
    }

    pub fn queued_jobs(&self, limit: usize) -> anyhow::Result<Vec<JobView>> {
        self.jobs_where(
            "state IN ('queued','retrying') ORDER BY run_after, id",
            limit,
        )
    }

    pub fn recent_jobs(&self, limit: usize) -> anyhow::Result<Vec<JobView>> {
        self.jobs_where(
            "state IN ('succeeded','FAILED') ORDER BY finished_at DESC, id DESC",
            limit,
        )
    }

    pub fn job(&self, id: i64) -> anyhow::Result<Option<JobView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, object, direction, state, done, total, succeeded, failed,
                    queued_at, started_at, finished_at, error, run_after FROM jobs WHERE id = ?1",
        )?;
        Ok(stmt.query_row(params![id], Self::job_view).optional()?)
    }

    // ---- audit ----

    /// Writes one audit entry. A FAILED entry becomes the record's open
    /// failure; any outcome closes the record's earlier open failure, so the
    /// FAILED list shows each record once, at its latest attempt.
    pub fn record(&self, e: &NewAudit) -> anyhow::Result<i64> {
        // A HubSpot record with no app record yet is audited under
        // `hs:<id>`; once it has one, its entries close that key's failure.
        let hubspot_key = e
            .hubspot_id
            .as_deref()
            .map_or_else(|| e.app_id.clone(), RecordRef::hubspot_key);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let prev_attempt: Option<i64> = tx
            .query_row(
                "SELECT attempt FROM audit WHERE object = ?1 AND app_id IN (?2, ?3) AND open = 1 ORDER BY id DESC LIMIT 1",
                params![e.object.api_name(), e.app_id, hubspot_key],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "UPDATE audit SET open = 0 WHERE object = ?1 AND app_id IN (?2, ?3) AND open = 1",
            params![e.object.api_name(), e.app_id, hubspot_key],
        )?;
        let attempt = prev_attempt.unwrap_or(0) + 1;
        tx.execute(
            "INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action, status,
                                category, message, diff, attempt, label, open)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                ts(Utc::now()),
                e.job_id,
                e.object.api_name(),
                e.direction.as_str(),
                e.app_id,
                e.hubspot_id,
                e.action.as_str(),
                e.status.as_str(),
                e.category,
                e.message,
                e.diff,
                attempt,
                e.label,
                (e.status == AuditStatus::Failed) as i64,
            ],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(id)
    }

    fn audit_view(r: &Row<'_>) -> rusqlite::Result<AuditView> {
        Ok(AuditView {
            id: r.get(0)?,
            at: parse_ts(&r.get::<_, String>(1)?),
            job_id: r.get(2)?,
            object: ObjectKind::parse(&r.get::<_, String>(3)?).unwrap_or(ObjectKind::Contacts),
            direction: Direction::parse(&r.get::<_, String>(4)?).unwrap_or(Direction::ToHubSpot),
            app_id: r.get(5)?,
            hubspot_id: r.get(6)?,
            action: AuditAction::parse(&r.get::<_, String>(7)?).unwrap_or(AuditAction::Skip),
            status: AuditStatus::parse(&r.get::<_, String>(8)?).unwrap_or(AuditStatus::Failed),
            category: r.get(9)?,
            message: r.get(10)?,
            attempt: r.get::<_, i64>(11)? as u32,
            label: r.get(12)?,
        })
    }

    const AUDIT_COLS: &str = "id, at, job_id, object, direction, app_id, hubspot_id, action, status, category, message, attempt, label";

    pub fn audit_entry(&self, id: i64) -> anyhow::Result<Option<AuditView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit WHERE id = ?1",
            Self::AUDIT_COLS
        ))?;
        Ok(stmt.query_row(params![id], Self::audit_view).optional()?)
    }

    /// Every attempt for one record, oldest first.
    pub fn record_history(
        &self,
        object: ObjectKind,
        app_id: &str,
    ) -> anyhow::Result<Vec<AuditView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit WHERE object = ?1 AND app_id = ?2 ORDER BY id",
            Self::AUDIT_COLS
        ))?;
        let rows = stmt.query_map(params![object.api_name(), app_id], Self::audit_view)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A page of open FAILED entries older than `before` (all if `None`),
    /// newest first: keyset paging on the partial index, fast at any depth.
    pub fn open_failures_before(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> anyhow::Result<Vec<AuditView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit WHERE open = 1 AND id < ?1 ORDER BY id DESC LIMIT ?2",
            Self::AUDIT_COLS
        ))?;
        let rows = stmt.query_map(
            params![before.unwrap_or(i64::MAX), limit as i64],
            Self::audit_view,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many open FAILED entries are at or newer than `id`.
    pub fn open_failures_from(&self, id: i64) -> anyhow::Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM audit WHERE open = 1 AND id >= ?1",
            params![id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// The newest open FAILED entries, at most `limit`.
    pub fn open_failures(&self, limit: usize) -> anyhow::Result<Vec<AuditView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit WHERE open = 1 ORDER BY id DESC LIMIT ?1",
            Self::AUDIT_COLS
        ))?;
        let rows = stmt.query_map(params![limit as i64], Self::audit_view)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn open_failure_count(&self, object: Option<ObjectKind>) -> anyhow::Result<u64> {
        let conn = self.conn();
        let n: i64 = match object {
            Some(o) => conn.query_row(
                "SELECT COUNT(*) FROM audit WHERE open = 1 AND object = ?1",
                params![o.api_name()],
                |r| r.get(0),
            )?,
            None => conn.query_row("SELECT COUNT(*) FROM audit WHERE open = 1", [], |r| {
                r.get(0)
            })?,
        };
        Ok(n as u64)
    }

    /// Keeps the audit log bounded: drops entries older than `max_age` and
    /// the oldest beyond `max_rows`. Open FAILED entries are kept whatever
    /// their age: an operator has not dealt with them yet. Returns how many
    /// went.
    pub fn prune_audit(&self, max_rows: u64, max_age: chrono::Duration) -> anyhow::Result<u64> {
        let conn = self.conn();
        let cutoff = ts(Utc::now() - max_age);
        let by_age = conn.execute(
            "DELETE FROM audit WHERE open = 0 AND at < ?1",
            params![cutoff],
        )?;
        // The id below which rows are surplus: ids grow with time.
        let threshold: Option<i64> = conn
            .query_row(
                "SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?1",
                params![max_rows as i64],
                |r| r.get(0),
            )
            .optional()?;
        let by_count = match threshold {
            Some(id) => {
                conn.execute("DELETE FROM audit WHERE open = 0 AND id <= ?1", params![id])?
            }
            None => 0,
        };
        Ok((by_age + by_count) as u64)
    }

    /// How many audit entries there are in all.
    pub fn audit_len(&self) -> anyhow::Result<u64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Closes an open FAILED entry. Returns false if it was not open.
    pub fn dismiss(&self, audit_id: i64) -> anyhow::Result<bool> {
        Ok(self.conn().execute(
            "UPDATE audit SET open = 0 WHERE id = ?1 AND open = 1",
            params![audit_id],
        )? > 0)
    }

    /// The open FAILED entries with this error category.
    pub fn open_failures_in(&self, category: &str) -> anyhow::Result<Vec<AuditView>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {} FROM audit WHERE open = 1 AND category = ?1 ORDER BY id",
            Self::AUDIT_COLS
        ))?;
        let rows = stmt.query_map(params![category], Self::audit_view)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Entries per status for one job, for tests and reports.
    pub fn audit_counts_for_job(&self, job_id: i64) -> anyhow::Result<HashMap<String, u64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT action || ' ' || status, COUNT(*) FROM audit WHERE job_id = ?1 GROUP BY 1",
        )?;
        let rows = stmt.query_map(params![job_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("state.db")).unwrap();
        (dir, s)
    }

    fn failed(app_id: &str) -> NewAudit {
        NewAudit {
            job_id: 1,
            object: ObjectKind::Contacts,
            direction: Direction::ToHubSpot,
            app_id: app_id.into(),
            hubspot_id: None,
            action: AuditAction::Create,
            status: AuditStatus::Failed,
            category: Some("VALIDATION_ERROR".into()),
            message: Some("Email address x is invalid".into()),
            diff: None,
            label: "x".into(),
        }
    }

    #[test]
    fn reopening_the_state_database_keeps_its_schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Store::open(&path).unwrap());
        let s = Store::open(&path).unwrap();
        let v: i64 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, SCHEMA_VERSION);
    }

    #[cfg(unix)]
    #[test]
    fn the_state_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, s) = store();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }

    #[test]
    fn a_hubspot_record_cannot_be_linked_to_two_app_records() {
        let (_d, s) = store();
        s.link(ObjectKind::Contacts, "1", "501", &BTreeMap::new())
            .unwrap();
        assert!(
            s.link(ObjectKind::Contacts, "2", "501", &BTreeMap::new())
                .is_err()
        );
        assert_eq!(s.link_count(ObjectKind::Contacts).unwrap(), 1);
    }

    #[test]
    fn a_second_failure_of_a_record_supersedes_the_first_and_counts_the_attempt() {
        let (_d, s) = store();
        s.record(&failed("7")).unwrap();
        let second = s.record(&failed("7")).unwrap();
        let open = s.open_failures(10).unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].id, open[0].attempt), (second, 2));
    }

    #[test]
    fn a_success_closes_the_records_open_failure() {
        let (_d, s) = store();
        s.record(&failed("7")).unwrap();
        let mut ok = failed("7");
        ok.status = AuditStatus::Success;
        s.record(&ok).unwrap();
        assert_eq!(s.open_failure_count(None).unwrap(), 0);
        assert_eq!(
            s.record_history(ObjectKind::Contacts, "7").unwrap().len(),
            2
        );
    }

    #[test]
    fn retention_drops_the_oldest_entries_but_keeps_open_failures() {
        let (_d, s) = store();
        s.record(&failed("1")).unwrap();
        for i in 2..=10 {
            let mut ok = failed(&i.to_string());
            ok.status = AuditStatus::Success;
            s.record(&ok).unwrap();
        }
        let gone = s.prune_audit(4, chrono::Duration::days(90)).unwrap();
        assert_eq!(gone, 5);
        assert_eq!(
            s.audit_len().unwrap(),
            5,
            "four newest plus the open failure"
        );
        assert_eq!(s.open_failures(10).unwrap()[0].app_id, "1");
    }

    #[test]
    fn retention_drops_entries_past_their_age() {
        let (_d, s) = store();
        let mut ok = failed("2");
        ok.status = AuditStatus::Success;
        s.record(&ok).unwrap();
        s.record(&failed("3")).unwrap();
        s.conn()
            .execute("UPDATE audit SET at = '2020-01-01T00:00:00.000Z'", [])
            .unwrap();
        assert_eq!(
            s.prune_audit(1000, chrono::Duration::days(90)).unwrap(),
            1,
            "the old open failure stays"
        );
        assert_eq!(s.open_failure_count(None).unwrap(), 1);
    }

    #[test]
    fn interrupted_jobs_are_requeued() {
        let (_d, s) = store();
        let id = s
            .enqueue(
                JobKind::Backfill,
                ObjectKind::Contacts,
                Direction::ToHubSpot,
                None,
                Utc::now(),
            )
            .unwrap();
        s.start_job(id).unwrap();
        assert_eq!(s.requeue_interrupted().unwrap(), 1);
        assert_eq!(s.next_due_job(Utc::now()).unwrap().map(|j| j.id), Some(id));
    }
}
