//! The counts a console shows side by side, read in one transaction on
//! one read connection: links, open failures, the queue and the running
//! job all as of the same moment, so they never disagree with each other
//! (a FAILED entry counted while the job that wrote it still says ✗0).

use super::Store;
use super::jobs::jobs_where;
use crate::model::ObjectKind;
use crate::status::JobView;
use rusqlite::params;

/// What the state database says at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    /// Per object asked for, in that order: (links, open failures).
    pub objects: Vec<(ObjectKind, u64, u64)>,
    pub failed_total: u64,
    pub running: Option<JobView>,
    pub queued: Vec<JobView>,
    pub recent: Vec<JobView>,
}

impl Store {
    pub async fn overview(
        &self,
        objects: Vec<ObjectKind>,
        jobs_listed: usize,
    ) -> anyhow::Result<Overview> {
        self.view(move |conn| {
            // A read transaction: every query below sees one snapshot of
            // the WAL, whatever the writer commits meanwhile.
            let tx = conn.transaction()?;
            let mut out = Overview::default();
            for o in objects {
                let linked: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM links WHERE object = ?1",
                    params![o.api_name()],
                    |r| r.get(0),
                )?;
                let failed: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM audit WHERE open = 1 AND object = ?1",
                    params![o.api_name()],
                    |r| r.get(0),
                )?;
                out.objects.push((o, linked as u64, failed as u64));
            }
            out.failed_total =
                tx.query_row("SELECT COUNT(*) FROM audit WHERE open = 1", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64;
            out.running = jobs_where(&tx, "WHERE state = 'running' ORDER BY id", 1)?
                .into_iter()
                .next();
            // The running job's progress row is written after each batch;
            // its FAILED entries as they happen. Its failures are counted
            // from the entries, as the FAILED total is.
            if let Some(j) = &mut out.running {
                let failed: i64 = tx.query_row(
                    "SELECT COUNT(*) FROM audit INDEXED BY audit_by_job
                     WHERE job_id = ?1 AND status = 'FAILED'",
                    params![j.id],
                    |r| r.get(0),
                )?;
                j.failed = j.failed.max(failed as u64);
                j.done = j.done.max(j.succeeded + j.failed);
                j.total = j.total.max(j.done);
            }
            out.queued = jobs_where(
                &tx,
                "WHERE state IN ('queued','retrying') ORDER BY run_after, id",
                jobs_listed,
            )?;
            out.recent = jobs_where(
                &tx,
                "INDEXED BY jobs_finished WHERE state IN ('succeeded','FAILED')
                 ORDER BY finished_at DESC, id DESC",
                jobs_listed,
            )?;
            tx.finish()?;
            Ok(out)
        })
        .await
    }
}
