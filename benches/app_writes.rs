//! The app database's write paths alone, on SQLite and on PostgreSQL: RECORDS
//! (default 10,000) rows given HubSpot ids, updated from HubSpot and created
//! from HubSpot, in batches of 100 as the engine sends them. No HubSpot, no
//! rate limit: rows per second of each path is what it costs the engine.
//! Prints figures; never fails.
//!
//!     cargo bench --bench app_writes [-- RECORDS]
//!
//! `HUBSYNC_BENCH_BACKEND=sqlite` or `postgres` runs one.

mod common;

use hubsync::appdb::AppDb;
use hubsync::appdb::demo::FixtureContact;
use hubsync::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;
use std::time::Instant;

const BATCH: usize = 100;

fn contacts(n: usize) -> Vec<FixtureContact> {
    (0..n)
        .map(|i| FixtureContact {
            email: Some(format!("writes{i}@example.com")),
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            phone: None,
            company: Some(format!("Company {}", i % 97)),
            job_title: None,
        })
        .collect()
}

fn per_second(rows: usize, t: Instant) -> String {
    let s = t.elapsed().as_secs_f64();
    format!(
        "{:8.0} rows/s ({s:.2} s)",
        rows as f64 / s.max(f64::MIN_POSITIVE)
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    for backend in common::backends() {
        let dir = tempfile::tempdir()?;
        let (app, table, made) = common::app_with(backend, dir.path(), &contacts(records)).await?;
        let result = run(&app, &table, records, backend.name()).await;
        common::clean_up(made).await?;
        result?;
    }
    Ok(())
}

async fn run(app: &AppDb, table: &str, records: usize, backend: &str) -> anyhow::Result<()> {
    let m = ObjectMapping {
        table: table.to_string(),
        ..ObjectMapping::demo_contacts()
    };
    app.verify(&m).await?;
    let ids: Vec<String> = app
        .changes(&m, None, records)
        .await?
        .rows
        .into_iter()
        .map(|r| r.id)
        .collect();
    println!(
        "app_writes ({backend}): {} rows, batches of {BATCH}",
        ids.len()
    );
    let mut failed = 0;

    let t = Instant::now();
    for (n, chunk) in ids.chunks(BATCH).enumerate() {
        let pairs: Vec<(String, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), (900_000 + n * BATCH + i).to_string()))
            .collect();
        failed += app
            .set_hubspot_ids(&m, &pairs)
            .await?
            .iter()
            .filter(|r| r.is_err())
            .count();
    }
    println!("  HubSpot ids written back  {}", per_second(ids.len(), t));

    let t = Instant::now();
    for chunk in ids.chunks(BATCH) {
        let updates: Vec<(String, BTreeMap<String, String>)> = chunk
            .iter()
            .map(|id| {
                let v = BTreeMap::from([
                    ("job_title".to_string(), format!("Title {id}")),
                    ("phone".to_string(), String::new()),
                ]);
                (id.clone(), v)
            })
            .collect();
        let (u, _) = app.write_batch(&m, &updates, &[]).await?;
        failed += u.iter().filter(|r| r.is_err()).count();
    }
    println!("  updates from HubSpot      {}", per_second(ids.len(), t));

    let t = Instant::now();
    for start in (0..records).step_by(BATCH) {
        let inserts: Vec<(BTreeMap<String, String>, String)> = (start
            ..(start + BATCH).min(records))
            .map(|i| {
                let v = BTreeMap::from([
                    ("email".to_string(), format!("created{i}@example.com")),
                    ("first_name".to_string(), format!("Created{i}")),
                ]);
                (v, (2_000_000 + i).to_string())
            })
            .collect();
        let (_, c) = app.write_batch(&m, &[], &inserts).await?;
        failed += c.iter().filter(|r| r.is_err()).count();
    }
    println!("  rows created from HubSpot {}", per_second(records, t));
    println!("  rows refused              {failed}");
    Ok(())
}
