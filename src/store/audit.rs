//! The audit log: one entry per record per attempt. A FAILED entry stays
//! open until a later attempt of the same record supersedes it or an
//! operator dismisses it; entries of jobs an operator asked for carry that
//! operator's OS user, and so does a dismissal.

use super::{Store, parse_ts, ts};
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AuditAction, AuditStatus, AuditView};
use chrono::Utc;
use rusqlite::{OptionalExtension, Row, params};
use std::collections::HashMap;

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

pub(super) const AUDIT_COLS: &str = "id, at, job_id, object, direction, app_id, hubspot_id, action, status, category, message, attempt, label, operator";

pub(super) fn audit_view(r: &Row<'_>) -> rusqlite::Result<AuditView> {
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
        operator: r.get(13)?,
    })
}

impl Store {
    /// Writes one audit entry. A FAILED entry becomes the record's open
    /// failure; any outcome closes the record's earlier open failure, so the
    /// FAILED list shows each record once, at its latest attempt. The entry
    /// names the operator whose job wrote it, if an operator asked for it.
    pub async fn record(&self, e: &NewAudit) -> anyhow::Result<i64> {
        let id = self.record_entry(e.clone()).await?;
        if let Some(observe) = self.audit_observer.get() {
            observe(e);
        }
        Ok(id)
    }

    async fn record_entry(&self, e: NewAudit) -> anyhow::Result<i64> {
        let moved = self.failed_mover();
        self.write(move |conn| {
            // A HubSpot record with no app record yet is audited under
            // `hs:<id>`; once it has one, its entries close that key's failure.
            let hubspot_key = e
                .hubspot_id
                .as_deref()
                .map_or_else(|| e.app_id.clone(), RecordRef::hubspot_key);
            let tx = conn.transaction()?;
            let prev_attempt: Option<i64> = tx
                .query_row(
                    OPEN_FAILURE_OF_RECORD,
                    params![e.object.api_name(), e.app_id, hubspot_key],
                    |r| r.get(0),
                )
                .optional()?;
            let closed = tx.execute(
                "UPDATE audit INDEXED BY audit_open_by_record SET open = 0
                 WHERE object = ?1 AND app_id IN (?2, ?3) AND open = 1",
                params![e.object.api_name(), e.app_id, hubspot_key],
            )?;
            let attempt = prev_attempt.unwrap_or(0) + 1;
            // Triage groups FAILED entries by what the message names.
            let (sub_category, property) = match (&e.status, &e.message) {
                (AuditStatus::Failed, Some(m)) => crate::hubspot::error::error_detail(m),
                _ => (None, None),
            };
            tx.execute(
                "INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action, status,
                                    category, message, diff, attempt, label, open, operator,
                                    sub_category, property)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
                         (SELECT requested_by FROM jobs WHERE id = ?2), ?15, ?16)",
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
                    sub_category,
                    property,
                ],
            )?;
            let id = tx.last_insert_rowid();
            tx.commit()?;
            if closed > 0 || e.status == AuditStatus::Failed {
                moved();
            }
            Ok(id)
        })
        .await
    }

    pub async fn audit_entry(&self, id: i64) -> anyhow::Result<Option<AuditView>> {
        self.view(move |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {AUDIT_COLS} FROM audit WHERE id = ?1"))?;
            Ok(stmt.query_row(params![id], audit_view).optional()?)
        })
        .await
    }

    /// Every attempt for one record, oldest first.
    pub async fn record_history(
        &self,
        object: ObjectKind,
        app_id: &str,
    ) -> anyhow::Result<Vec<AuditView>> {
        let app_id = app_id.to_string();
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit WHERE object = ?1 AND app_id = ?2 ORDER BY id"
            ))?;
            let rows = stmt.query_map(params![object.api_name(), app_id], audit_view)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// A page of open FAILED entries older than `before` (all if `None`),
    /// newest first: keyset paging on the open entries' index, fast at any
    /// depth however many closed entries lie between them.
    pub async fn open_failures_before(
        &self,
        before: Option<i64>,
        limit: usize,
    ) -> anyhow::Result<Vec<AuditView>> {
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit INDEXED BY audit_open_by_id
                 WHERE open = 1 AND id < ?1 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = stmt.query_map(
                params![before.unwrap_or(i64::MAX), limit as i64],
                audit_view,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// How many open FAILED entries are at or newer than `id`.
    pub async fn open_failures_from(&self, id: i64) -> anyhow::Result<u64> {
        self.view(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM audit INDEXED BY audit_open_by_id WHERE open = 1 AND id >= ?1",
                params![id],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .await
    }

    /// The newest open FAILED entries, at most `limit`.
    pub async fn open_failures(&self, limit: usize) -> anyhow::Result<Vec<AuditView>> {
        self.open_failures_before(None, limit).await
    }

    pub async fn open_failure_count(&self, object: Option<ObjectKind>) -> anyhow::Result<u64> {
        self.view(move |conn| {
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
        })
        .await
    }

    /// Keeps the audit log bounded: drops entries older than `max_age` and
    /// the oldest beyond `max_rows`. Open FAILED entries are kept whatever
    /// their age: an operator has not dealt with them yet. Finished jobs go
    /// by the same age, and beyond the newest [`FINISHED_JOBS_KEPT`]; queued
    /// and running ones stay. Returns how many audit entries went.
    ///
    /// Ids grow with time, so both limits are an id below which rows go:
    /// found from the newest id and from the oldest rows, never by counting
    /// or scanning the table, so a prune after every pass stays cheap at
    /// millions of rows.
    pub async fn prune_audit(
        &self,
        max_rows: u64,
        max_age: chrono::Duration,
    ) -> anyhow::Result<u64> {
        self.write(move |conn| {
            let cutoff = ts(Utc::now() - max_age);
            let audit = prune_below(conn, "audit", "at", "open = 0", max_rows, &cutoff)?;
            prune_below(
                conn,
                "jobs",
                "queued_at",
                "state IN ('succeeded','FAILED')",
                FINISHED_JOBS_KEPT.min(max_rows),
                &cutoff,
            )?;
            Ok(audit)
        })
        .await
    }

    /// How many audit entries there are in all.
    pub async fn audit_len(&self) -> anyhow::Result<u64> {
        self.view(|conn| {
            Ok(conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    /// Closes an open FAILED entry, noting who did. Returns false if it was
    /// not open.
    pub async fn dismiss(&self, audit_id: i64, by: Option<&str>) -> anyhow::Result<bool> {
        let by = by.map(str::to_string);
        let moved = self.failed_mover();
        self.write(move |conn| {
            let dismissed = conn.execute(
                "UPDATE audit SET open = 0, dismissed_by = ?2, dismissed_at = ?3 WHERE id = ?1 AND open = 1",
                params![audit_id, by, ts(Utc::now())],
            )? > 0;
            if dismissed {
                moved();
            }
            Ok(dismissed)
        })
        .await
    }

    /// Who dismissed an entry and when, if anyone did.
    pub async fn dismissal(
        &self,
        audit_id: i64,
    ) -> anyhow::Result<Option<(Option<String>, String)>> {
        self.view(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT dismissed_by, dismissed_at FROM audit WHERE id = ?1 AND dismissed_at IS NOT NULL",
                    params![audit_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
        })
        .await
    }

    /// The open FAILED entries with this error category.
    pub async fn open_failures_in(&self, category: &str) -> anyhow::Result<Vec<AuditView>> {
        let category = category.to_string();
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLS} FROM audit WHERE open = 1 AND category = ?1 ORDER BY id"
            ))?;
            let rows = stmt.query_map(params![category], audit_view)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Entries per status for one job, for tests and reports.
    pub async fn audit_counts_for_job(&self, job_id: i64) -> anyhow::Result<HashMap<String, u64>> {
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT action || ' ' || status, COUNT(*) FROM audit WHERE job_id = ?1 GROUP BY 1",
            )?;
            let rows = stmt.query_map(params![job_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }
}

/// The attempt number of a record's open failure (by app id or `hs:` key).
/// Looked up by the record, whatever else is open: the planner would
/// otherwise walk every open failure of the object for the `ORDER BY`.
pub(super) const OPEN_FAILURE_OF_RECORD: &str =
    "SELECT attempt FROM audit INDEXED BY audit_open_by_record
     WHERE object = ?1 AND app_id IN (?2, ?3) AND open = 1 ORDER BY id DESC LIMIT 1";

/// Finished jobs kept: days of passes, far more than the console shows.
pub(super) const FINISHED_JOBS_KEPT: u64 = 10_000;

/// Deletes the rows of `table` that may go (`deletable`) below the id of
/// the oldest row to keep: the newest `max_rows`, and those stamped (in
/// `stamp`, which grows with the id) at or after `cutoff`.
fn prune_below(
    conn: &rusqlite::Connection,
    table: &str,
    stamp: &str,
    deletable: &str,
    max_rows: u64,
    cutoff: &str,
) -> anyhow::Result<u64> {
    let newest: Option<i64> =
        conn.query_row(&format!("SELECT max(id) FROM {table}"), [], |r| r.get(0))?;
    let Some(newest) = newest else {
        return Ok(0);
    };
    let by_count = newest.saturating_sub(max_rows.min(i64::MAX as u64) as i64) + 1;
    // The walk from the oldest row stops at the first young one: it only
    // passes rows about to go and the open ones kept.
    let by_age: i64 = conn
        .query_row(
            &format!("SELECT id FROM {table} WHERE {stamp} >= ?1 ORDER BY id LIMIT 1"),
            params![cutoff],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(newest + 1);
    let keep_from = by_count.max(by_age);
    Ok(conn.execute(
        &format!("DELETE FROM {table} WHERE id < ?1 AND {deletable}"),
        params![keep_from],
    )? as u64)
}
