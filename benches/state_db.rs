//! The state database at size: what an audit entry costs with 0 and with
//! OPEN (default 100,000) open FAILED entries of other records, what the
//! retention run after every pass costs with ROWS (default 1,000,000)
//! audit entries kept, and what the console's recent-jobs query costs with
//! 100,000 finished jobs before and after retention. Bulk rows are written
//! straight into the SQLite file; the timed calls go through `Store`.
//! Prints figures; never fails.
//!
//!     cargo bench --bench state_db [-- OPEN ROWS]

use hubsync::model::{Direction, ObjectKind};
use hubsync::status::{AuditAction, AuditStatus};
use hubsync::store::{NewAudit, Store};
use std::path::Path;
use std::time::Instant;

const ENTRIES: usize = 2_000;
const FINISHED_JOBS: usize = 100_000;

fn entry(app_id: String, status: AuditStatus) -> NewAudit {
    NewAudit {
        job_id: 1,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id,
        hubspot_id: None,
        action: AuditAction::Update,
        status,
        category: None,
        message: None,
        diff: Some(r#"{"firstname":"Ada"}"#.into()),
        label: "ada@example.com".into(),
    }
}

/// Milliseconds per recent-jobs query, as the console asks it.
async fn recent(store: &Store) -> anyhow::Result<f64> {
    let t = Instant::now();
    for _ in 0..20 {
        store.recent_jobs(20).await?;
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / 20.0)
}

/// Microseconds per audit entry written through the store.
async fn per_entry(store: &Store, round: usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    for i in 0..ENTRIES {
        store
            .record(&entry(format!("r{round}-{i}"), AuditStatus::Success))
            .await?;
    }
    Ok(t.elapsed().as_secs_f64() * 1e6 / ENTRIES as f64)
}

fn bulk(
    path: &Path,
    sql: &str,
    n: usize,
    row: impl Fn(usize) -> Vec<String>,
) -> anyhow::Result<()> {
    let mut c = rusqlite::Connection::open(path)?;
    c.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = c.transaction()?;
    {
        let mut stmt = tx.prepare(sql)?;
        for i in 0..n {
            stmt.execute(rusqlite::params_from_iter(row(i)))?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let open = nums.first().copied().unwrap_or(100_000);
    let rows = nums.get(1).copied().unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.db");
    let store = Store::open(&path).await?;

    let clean = per_entry(&store, 0).await?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let audit_sql = "INSERT INTO audit (at, job_id, object, direction, app_id, action, status, attempt, label, open)
                     VALUES (?1, 1, 'contacts', 'to_hubspot', ?2, 'create', ?3, 1, 'x', ?4)";
    bulk(&path, audit_sql, open, |i| {
        vec![now.clone(), format!("bad{i}"), "FAILED".into(), "1".into()]
    })?;
    let with_open = per_entry(&store, 1).await?;
    println!(
        "state_db: an audit entry costs {clean:.0} µs with no open failures, {with_open:.0} µs with {open} open FAILED entries of other records ({:.2}×; goal: the same)",
        with_open / clean
    );

    bulk(&path, audit_sql, rows, |i| {
        vec![now.clone(), format!("ok{i}"), "SUCCESS".into(), "0".into()]
    })?;
    let t = Instant::now();
    let runs = 20;
    for _ in 0..runs {
        store
            .prune_audit(2_000_000, chrono::Duration::days(90))
            .await?;
    }
    let prune_ms = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
    println!(
        "state_db: retention with {} audit entries kept (none due) takes {prune_ms:.2} ms a run, after every pass",
        store.audit_len().await?
    );

    let old = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    bulk(
        &path,
        "INSERT INTO jobs (kind, object, direction, state, queued_at, run_after, started_at, finished_at)
         VALUES ('poll', 'contacts', 'to_hubspot', 'succeeded', ?1, ?1, ?1, ?1)",
        FINISHED_JOBS,
        |_| vec![old.clone()],
    )?;
    let before = recent(&store).await?;
    store
        .prune_audit(2_000_000, chrono::Duration::days(90))
        .await?;
    let after = recent(&store).await?;
    println!(
        "state_db: the recent-jobs query takes {before:.2} ms with {FINISHED_JOBS} finished jobs, {after:.2} ms once retention ran"
    );
    Ok(())
}
