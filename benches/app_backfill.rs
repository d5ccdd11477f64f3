//! An app → HubSpot backfill of RECORDS new app contacts by the real
//! `hubsync run` against the simulator, into an empty portal. Prints,
//! beside each goal: the engine's peak RSS (its own VmHWM, read from /proc)
//! against 150 MB, and the time per record over the first and the last
//! 50,000 records (or tenth, when smaller; the first counted from after the
//! first rate window's burst) against 1.2× of the first. The
//! app table has the indexes `hubsync check` asks for. Never fails.
//!
//!     cargo bench --bench app_backfill [-- RECORDS [TEN_SECOND_LIMIT]]
//!
//! RECORDS defaults to 50,000; the limit to HubSpot's lowest, 100 requests
//! per 10 s (1,000 records a second at 100 a batch). A higher limit shows
//! the engine's own cost per record rather than the rate limit's.

mod common;

use common::service::{Service, fields_toml};
use std::path::Path;
use std::time::{Duration, Instant};

use hubsync::sim::{SeedData, SimServer, SimSettings};

const TOKEN: &str = "pat-bench-app-backfill";
const TOKEN_ENV: &str = "HUBSYNC_BENCH_APP_BACKFILL_TOKEN";
const GOAL_PEAK_RSS_MB: f64 = 150.0;
const GOAL_GROWTH: f64 = 1.2;
const SEGMENT: usize = 50_000;
/// Seconds after the start by which the first rate window's burst is over.
const BURST_OVER_S: f64 = 12.0;

/// RECORDS contacts, inserted in one transaction (the demo's fixture path
/// holds them all in memory first; this one streams).
fn fill(db: &Path, records: usize) -> anyhow::Result<()> {
    hubsync::appdb::demo::create(db, &[])?;
    let mut c = rusqlite::Connection::open(db)?;
    let tx = c.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO contacts (email, first_name, last_name, phone, company, job_title, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let start = chrono::Utc::now() - chrono::Duration::hours(1);
        for i in 0..records {
            // Stamps spread over the past hour, oldest first.
            let at =
                start + chrono::Duration::milliseconds((i as i64 * 3_600_000) / records as i64);
            stmt.execute(rusqlite::params![
                format!("appfill{i}@example.com"),
                format!("First{i}"),
                format!("Last{i}"),
                (i % 3 != 0).then(|| format!("+1 555 {:04}", i % 10_000)),
                format!("Company {}", i % 97),
                (i % 4 != 0).then(|| format!("Title {}", i % 13)),
                at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            ])?;
        }
    }
    tx.commit()?;
    // The index `hubsync check` asks for on the HubSpot id column; the
    // demo's schema now carries it too.
    c.execute_batch("CREATE INDEX IF NOT EXISTS contacts_hubspot_id ON contacts (hubspot_id);")?;
    Ok(())
}

/// App rows carrying their HubSpot id: linked and written back.
fn linked(db: &Path) -> u64 {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    let _ = c.busy_timeout(Duration::from_secs(2));
    c.query_row(
        "SELECT count(*) FROM contacts WHERE hubspot_id IS NOT NULL",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map_or(0, |n| n as u64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let records = args.next().unwrap_or(50_000);
    let limit = args.next().unwrap_or(100) as u32;
    let segment = SEGMENT.min(records / 10).max(1);
    let dir = tempfile::tempdir()?;
    let app_db = dir.path().join("app.db");
    let seeding = Instant::now();
    fill(&app_db, records)?;
    println!(
        "app_backfill: {records} app contacts → an empty portal at {limit} requests/10 s (seeded in {:.1} s)",
        seeding.elapsed().as_secs_f64()
    );
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: limit,
            daily_limit: u64::MAX / 2,
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await?;
    let config = dir.path().join("hubsync.toml");
    std::fs::write(
        &config,
        format!(
            r#"[hubspot]
base_url = "{}"
token_env = "{TOKEN_ENV}"
ten_second_limit = {limit}

[app]
database = "{}"

[objects.contacts]
table = "contacts"
id_column = "id"
updated_at_column = "updated_at"
hubspot_id_column = "hubspot_id"
key_column = "email"
direction = "to_hubspot"
poll_interval_secs = 5
batch_size = 100
{}"#,
            sim.base_url(),
            app_db.display(),
            fields_toml(
                "contacts",
                &[
                    ("email", "email"),
                    ("first_name", "firstname"),
                    ("last_name", "lastname"),
                    ("phone", "phone"),
                    ("company", "company"),
                    ("job_title", "jobtitle"),
                ]
            )
        ),
    )?;

    let started = Instant::now();
    let engine = Service::start(&config, &dir.path().join("data"), &[(TOKEN_ENV, TOKEN)])?;
    // The rolling limit lets a whole window's calls through at once, so
    // the first segment starts once that burst is over: (linked, time) then,
    // when the first segment had landed, and when the last one began.
    let mut first_from: Option<(u64, f64)> = None;
    let mut first: Option<(u64, f64)> = None;
    let mut last_from: Option<(u64, f64)> = None;
    // Generous: a tenth of the ceiling's pace, plus start-up.
    let bound = Duration::from_secs(120 + (records as u64 * 100) / (limit as u64 * 10).max(1));
    let mut done;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        done = linked(&app_db);
        let t = started.elapsed().as_secs_f64();
        if first_from.is_none() && done > 0 && t >= BURST_OVER_S {
            first_from = Some((done, t));
        }
        if let (Some((from, _)), None) = (first_from, first)
            && (done - from) as usize >= segment
        {
            first = Some((done, t));
        }
        if last_from.is_none() && done as usize >= records - segment {
            last_from = Some((done, t));
        }
        if done as usize >= records || started.elapsed() > bound {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss = engine.peak_rss_mb();
    let in_hubspot = sim.state().count(hubsync::model::ObjectKind::Contacts);
    let calls = sim.state().request_count();
    drop(engine);

    println!(
        "  linked             {done} of {records} in {elapsed:.1} s ({:.0} records/s); {in_hubspot} in HubSpot; {calls} HubSpot calls ({:.4} per record), {} answered 429",
        done as f64 / elapsed,
        calls as f64 / records.max(1) as f64,
        sim.state().rate_limited_count()
    );
    if let (Some((f0, t0)), Some((f1, t1)), Some((l0, tl))) = (first_from, first, last_from)
        && l0 >= f1
    {
        let per_first = (t1 - t0) / (f1 - f0).max(1) as f64;
        let per_last = (elapsed - tl) / done.saturating_sub(l0).max(1) as f64;
        let ratio = per_last / per_first;
        println!(
            "  time per record    {:.3} ms over {} records from {f0} (after the first window), {:.3} ms over the last {}: {ratio:.2}× (goal at most {GOAL_GROWTH}×: {:.0}% of it, {})",
            per_first * 1000.0,
            f1 - f0,
            per_last * 1000.0,
            done.saturating_sub(l0),
            100.0 * ratio / GOAL_GROWTH,
            if ratio <= GOAL_GROWTH {
                "met"
            } else {
                "not met"
            }
        );
    }
    match rss {
        Some(mb) => println!(
            "  engine peak RSS    {mb:.0} MB; goal under {GOAL_PEAK_RSS_MB:.0} MB: {:.0}% of it, {}",
            100.0 * mb / GOAL_PEAK_RSS_MB,
            if mb < GOAL_PEAK_RSS_MB {
                "met"
            } else {
                "not met"
            }
        ),
        None => println!("  engine peak RSS    unknown (no /proc)"),
    }
    sim.shutdown().await;
    Ok(())
}
