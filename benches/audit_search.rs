//! Finding audit entries as an operator types, at ROWS (default 1,000,000)
//! audit entries of which OPEN (default 10,000) are open FAILED ones: the
//! latency of a search of the whole log and of the FAILED list, for a rare
//! text (one record's email), a common one (a domain most entries share)
//! and a two-character one (below the trigram index), and of paging on
//! through a common text's matches. Also what an audit entry costs to
//! write now that the index is kept in step. Bulk rows are written
//! straight into the SQLite file (the index's triggers fill it); the timed
//! calls go through `Store`. Prints figures; never fails.
//!
//!     cargo bench --bench audit_search [-- ROWS OPEN]

use hubsync::model::{Direction, ObjectKind};
use hubsync::status::{AuditAction, AuditStatus};
use hubsync::store::{AuditQuery, FailedSearch, NewAudit, Store};
use std::time::Instant;

const RUNS: usize = 20;

/// Milliseconds per search (the median of RUNS), and how many it found.
async fn timed(store: &Store, q: &AuditQuery) -> anyhow::Result<(f64, usize)> {
    let mut times = Vec::with_capacity(RUNS);
    let mut n = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        n = store.search_audit(q.clone()).await?.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[RUNS / 2], n))
}

/// [`timed`] for the FAILED list's filter, which also counts its matches.
async fn timed_failed(store: &Store, text: &str) -> anyhow::Result<(f64, FailedSearch)> {
    let mut times = Vec::with_capacity(RUNS);
    let mut found = FailedSearch::default();
    for _ in 0..RUNS {
        let t = Instant::now();
        found = store.search_failed(text, None, 50).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[RUNS / 2], found))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let nums: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rows = nums.first().copied().unwrap_or(1_000_000);
    let open = nums.get(1).copied().unwrap_or(10_000).min(rows);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.db");
    drop(Store::open(&path).await?);

    let t = Instant::now();
    {
        let mut c = rusqlite::Connection::open(&path)?;
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action, status,
                                    category, message, diff, attempt, label, open)
                 VALUES ('2026-01-01T00:00:00.000Z', 1, 'contacts', 'to_hubspot', ?1, ?2, 'update', ?3,
                         ?4, ?5, '{\"firstname\":\"Ada\"}', 1, ?6, ?7)",
            )?;
            // Every OPEN-th-of-the-rows entry is an open failure, spread
            // over the whole log.
            let every = (rows / open.max(1)).max(1);
            for i in 0..rows {
                let failed = open > 0 && i % every == 0 && i / every < open;
                stmt.execute(rusqlite::params![
                    format!("{}", 100_000 + i),
                    format!("{}", 9_000_000 + i),
                    if failed { "FAILED" } else { "SUCCESS" },
                    failed.then_some("VALIDATION_ERROR"),
                    failed.then(|| format!("Email address user{i}@example is invalid")),
                    format!("user{i}@example.com"),
                    failed as i64,
                ])?;
            }
        }
        tx.commit()?;
    }
    println!(
        "{rows} audit entries ({open} open FAILED) written and indexed in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let store = Store::open(&path).await?;
    let rare = format!("user{}@example.com", rows / 2);
    let cases: Vec<(&str, String)> = vec![
        ("one record's email", rare),
        ("a common domain", "example.com".into()),
        ("two characters", "r7".into()),
        (
            "an id on HubSpot's side",
            format!("{}", 9_000_000 + rows / 3),
        ),
        ("error text", "is invalid".into()),
    ];
    for open_only in [false, true] {
        let list = if open_only {
            "FAILED list"
        } else {
            "audit log"
        };
        for (what, text) in &cases {
            let q = AuditQuery {
                text: Some(text.clone()),
                open_only,
                limit: 50,
                ..AuditQuery::default()
            };
            if open_only {
                // As the console asks: the page with its count of matches.
                let (ms, found) = timed_failed(&store, text).await?;
                let m = found.matches;
                println!(
                    "{list:>11}, {what:<24} {text:?}: {ms:8.2} ms for a page ({} found; {}{} match{})",
                    found.entries.len(),
                    m.count,
                    if m.more { "+" } else { "" },
                    if m.searched_to.is_some() {
                        " so far"
                    } else {
                        ""
                    }
                );
                continue;
            }
            let (ms, n) = timed(&store, &q).await?;
            println!("{list:>11}, {what:<24} {text:?}: {ms:8.2} ms for a page ({n} found)");
        }
    }

    // Paging on through a common text: ten pages, each from the last.
    for open_only in [false, true] {
        let list = if open_only {
            "FAILED list"
        } else {
            "audit log"
        };
        let mut before = None;
        let mut times = Vec::new();
        for _ in 0..10 {
            let q = AuditQuery {
                text: Some("example".into()),
                open_only,
                before,
                limit: 50,
                ..AuditQuery::default()
            };
            let t = Instant::now();
            let page = store.search_audit(q).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            before = page.last().map(|e| e.id);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{list:>11}, paging 10 pages of \"example\": median {:.2} ms, worst {:.2} ms a page",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    // Deep in the log: a page starting half-way back.
    let q = AuditQuery {
        text: Some("example".into()),
        before: Some((rows / 2) as i64),
        limit: 50,
        ..AuditQuery::default()
    };
    let (ms, _) = timed(&store, &q).await?;
    println!("  audit log, a page half-way back: {ms:.2} ms");

    let t = Instant::now();
    let n = 2_000;
    for i in 0..n {
        store
            .record(&NewAudit {
                job_id: 1,
                object: ObjectKind::Contacts,
                direction: Direction::ToHubSpot,
                app_id: format!("new{i}"),
                hubspot_id: Some(format!("{}", 8_000_000 + i)),
                action: AuditAction::Update,
                status: AuditStatus::Success,
                category: None,
                message: None,
                diff: Some(r#"{"firstname":"Ada"}"#.into()),
                label: format!("new{i}@example.com"),
            })
            .await?;
    }
    println!(
        "an audit entry written through the store, index kept: {:.1} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    Ok(())
}
