//! Triage by cause at size: `failed_groups` (open FAILED entries grouped by
//! error class), a page of one class, the records of a class a retry
//! takes, and the audit entry write the class index adds to, with ROWS
//! (default 1,000,000) audit entries of which OPEN (default 100,000) are
//! open FAILED entries in a handful of classes. Bulk rows are written
//! straight into the SQLite file; the timed calls go through `Store`.
//! Prints figures; never fails.
//!
//!     cargo bench --bench failed_groups [-- ROWS OPEN]

use hubsync::model::{Direction, ObjectKind};
use hubsync::status::{AuditAction, AuditStatus};
use hubsync::store::{ClassMatch, NewAudit, Store};
use hubsync::triage::ErrorClass;
use std::time::Instant;

const CLASSES: [(&str, Option<&str>, Option<&str>); 5] = [
    ("VALIDATION_ERROR", Some("INVALID_EMAIL"), Some("email")),
    (
        "VALIDATION_ERROR",
        Some("PROPERTY_DOESNT_EXIST"),
        Some("hs_score"),
    ),
    ("VALIDATION_ERROR", Some("INVALID_LONG"), Some("employees")),
    ("APP_DB", None, None),
    ("MAY_HAVE_LANDED", None, None),
];

fn ms(t: Instant, n: usize) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0 / n as f64
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = nums.first().copied().unwrap_or(1_000_000);
    let open = nums.get(1).copied().unwrap_or(100_000).min(rows);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.db");
    drop(Store::open(&path).await?);

    let t = Instant::now();
    {
        let mut c = rusqlite::Connection::open(&path)?;
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO audit (at, job_id, object, direction, app_id, action, status, category,
                                    sub_category, property, message, attempt, label, open)
                 VALUES (?1, ?2, 'contacts', 'to_hubspot', ?3, 'update', ?4, ?5, ?6, ?7, ?8, 1, ?3, ?9)",
            )?;
            let start = chrono::Utc::now() - chrono::Duration::days(30);
            // Open failures are spread over the whole log, one in every
            // rows/open entries, as they accumulate over weeks.
            let every = (rows / open.max(1)).max(1);
            for i in 0..rows {
                let at = hubsync::store::ts(start + chrono::Duration::seconds(i as i64 * 2));
                let failed = i % every == 0 && i / every < open;
                let (cat, sub, prop) = CLASSES[(i / every) % CLASSES.len()];
                stmt.execute(rusqlite::params![
                    at,
                    (i / 1000) as i64,
                    format!("{i}"),
                    if failed { "FAILED" } else { "SUCCESS" },
                    failed.then_some(cat),
                    if failed { sub } else { None },
                    if failed { prop } else { None },
                    failed.then_some("Property values were not valid"),
                    failed as i64,
                ])?;
            }
        }
        tx.commit()?;
    }
    println!(
        "{rows} audit entries, {open} open FAILED in {} classes, written in {:.1} s",
        CLASSES.len(),
        t.elapsed().as_secs_f64()
    );

    let store = Store::open(&path).await?;
    let t = Instant::now();
    let groups = store.failed_groups().await?;
    println!("failed_groups, first (cold): {:.1} ms", ms(t, 1));
    let t = Instant::now();
    for _ in 0..10 {
        store.failed_groups().await?;
    }
    println!(
        "failed_groups: {:.1} ms ({} groups, {} entries)",
        ms(t, 10),
        groups.len(),
        groups.iter().map(|g| g.count).sum::<u64>()
    );

    let email = ErrorClass {
        category: "VALIDATION_ERROR".into(),
        sub_category: Some("INVALID_EMAIL".into()),
        property: Some("email".into()),
    };
    let t = Instant::now();
    let mut before = None;
    for _ in 0..10 {
        let page = store
            .failed_in_class(ClassMatch::Exact(email.clone()), before, 200)
            .await?;
        before = page.last().map(|e| e.id);
    }
    println!("failed_in_class, a page of 200: {:.2} ms", ms(t, 10));

    let t = Instant::now();
    let records = store.records_in_class(ClassMatch::Exact(email)).await?;
    println!(
        "records_in_class (what a class retry queues): {:.1} ms for {} records",
        ms(t, 1),
        records.len()
    );
    let t = Instant::now();
    let job = store.enqueue_retry_records(records, Some("bench")).await?;
    println!("enqueue_retry_records, one job: {:.1} ms", ms(t, 1));
    let t = Instant::now();
    let (total, pending) = store.job_records(job).await?;
    println!(
        "job_records (what a resumed job has left): {:.1} ms, {} of {total}",
        ms(t, 1),
        pending.len()
    );

    const WRITES: usize = 2_000;
    let t = Instant::now();
    for i in 0..WRITES {
        store
            .record(&NewAudit {
                job_id: job,
                object: ObjectKind::Contacts,
                direction: Direction::ToHubSpot,
                app_id: format!("new{i}"),
                hubspot_id: None,
                action: AuditAction::Create,
                status: AuditStatus::Failed,
                category: Some("VALIDATION_ERROR".into()),
                message: Some(
                    r#"Property values were not valid: [{"error":"INVALID_EMAIL","name":"email"}]"#
                        .into(),
                ),
                diff: None,
                label: format!("new{i}@example"),
            })
            .await?;
    }
    println!(
        "a FAILED audit entry written (class indexed): {:.0} µs",
        t.elapsed().as_secs_f64() * 1e6 / WRITES as f64
    );
    Ok(())
}
