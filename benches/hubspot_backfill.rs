//! A HubSpot → app backfill of RECORDS contacts by the real `hubsync run`
//! against the simulator at HubSpot's lowest ceiling (100 requests per
//! 10 s, 5 searches a second, 200 results a page), into an empty SQLite
//! app table. The contacts were imported an hour before (older than the
//! feed's lookback window). Prints, beside each goal: records per second,
//! records the searches returned against the records stored (none read
//! twice), the engine's peak RSS (its own VmHWM), the time per record, and
//! the HubSpot calls of the idle passes that follow. The app table has the
//! indexes a batch's lookups need (the demo's schema creates them). Never fails.
//!
//!     cargo bench --bench hubspot_backfill [-- RECORDS [fresh]]   (default 20,000)
//!
//! With `fresh` the contacts were imported just now instead, so the idle
//! passes fall inside the feed's five-minute lookback of the import.

use hubsync::sim::{SeedData, SimServer, SimSettings};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::service::{Service, fields_toml};

const TOKEN: &str = "pat-bench-backfill";
const TOKEN_ENV: &str = "HUBSYNC_BENCH_BACKFILL_TOKEN";
const TEN_SECOND_LIMIT: u32 = 100;
const SEARCHES_PER_S: u32 = 5;
const GOAL_RECORDS_PER_S: f64 = 950.0;
const GOAL_PEAK_RSS_MB: f64 = 150.0;
const POLL_SECS: u64 = 2;
const FIELDS: [(&str, &str); 5] = [
    ("email", "email"),
    ("first_name", "firstname"),
    ("last_name", "lastname"),
    ("phone", "phone"),
    ("company", "company"),
];

fn app_rows(db: &Path) -> u64 {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    c.query_row("SELECT count(*) FROM contacts", [], |r| r.get::<_, i64>(0))
        .map_or(0, |n| n as u64)
}

/// Polls (the passes after the backfill) finished so far.
fn polls_done(state_db: &Path) -> u64 {
    let Ok(c) =
        rusqlite::Connection::open_with_flags(state_db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return 0;
    };
    c.query_row(
        "SELECT count(*) FROM jobs WHERE kind = 'poll' AND state = 'succeeded'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .map_or(0, |n| n as u64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let fresh = std::env::args().any(|a| a == "fresh");
    let dir = tempfile::tempdir()?;
    let seed: Vec<BTreeMap<String, String>> = (0..records)
        .map(|i| {
            BTreeMap::from([
                ("email".to_string(), format!("backfill{i}@example.com")),
                ("firstname".to_string(), format!("First{i}")),
                ("lastname".to_string(), format!("Last{i}")),
                ("phone".to_string(), format!("+1 555 {:04}", i % 10_000)),
                ("company".to_string(), format!("Company {}", i % 97)),
            ])
        })
        .collect();
    let imported = if fresh {
        chrono::Utc::now()
    } else {
        chrono::Utc::now() - chrono::Duration::hours(1)
    };
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: TEN_SECOND_LIMIT,
            search_per_second: SEARCHES_PER_S,
            ..SimSettings::default()
        },
        SeedData::contacts(seed).stamped_at(imported),
    )
    .await?;
    let app_db = dir.path().join("app.db");
    hubsync::appdb::demo::create(&app_db, &[])?;
    let fields = fields_toml("contacts", &FIELDS);
    let config = dir.path().join("hubsync.toml");
    std::fs::write(
        &config,
        format!(
            r#"[hubspot]
base_url = "{}"
token_env = "{TOKEN_ENV}"
ten_second_limit = {TEN_SECOND_LIMIT}

[app]
database = "{}"

[objects.contacts]
table = "contacts"
id_column = "id"
updated_at_column = "updated_at"
hubspot_id_column = "hubspot_id"
key_column = "email"
direction = "to_app"
poll_interval_secs = {POLL_SECS}
batch_size = 100
{fields}"#,
            sim.base_url(),
            app_db.display()
        ),
    )?;

    let calls_before = sim.state().request_count();
    let started = Instant::now();
    let engine = Service::start(&config, &dir.path().join("data"), &[(TOKEN_ENV, TOKEN)])?;
    // Half-way, for the time per record of the second half against the first.
    let mut half: Option<f64> = None;
    let bound = Duration::from_secs(120 + records as u64 / 200);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let n = app_rows(&app_db);
        if half.is_none() && n as usize >= records / 2 {
            half = Some(started.elapsed().as_secs_f64());
        }
        if n as usize >= records || started.elapsed() > bound {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stored = app_rows(&app_db);
    let calls = sim.state().request_count() - calls_before;
    let searched = sim.state().searched_count();
    let rss = engine.peak_rss_mb();

    // Idle passes: nothing changes on either side. The first pass after a
    // fresh import reads the import's window once; the idle ones follow.
    if fresh {
        let state_db = dir.path().join("data/state.db");
        let settle = Instant::now();
        while polls_done(&state_db) == 0 && settle.elapsed() < Duration::from_secs(300) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let idle_from = sim.state().request_count();
    tokio::time::sleep(Duration::from_secs(POLL_SECS * 5 + 1)).await;
    let idle_calls = sim.state().request_count() - idle_from;
    drop(engine);

    let rate = stored as f64 / elapsed;
    println!(
        "hubspot_backfill: {records} HubSpot contacts (imported {}) → an empty app table at {TEN_SECOND_LIMIT} requests/10 s and {SEARCHES_PER_S} searches/s",
        if fresh { "just now" } else { "an hour ago" }
    );
    println!("  stored             {stored} of {records} in {elapsed:.1} s, {calls} HubSpot calls");
    println!(
        "  records per second {rate:.0}; goal {GOAL_RECORDS_PER_S:.0}: {:.0}% of it (ceiling {} by search pages)",
        100.0 * rate / GOAL_RECORDS_PER_S,
        SEARCHES_PER_S * 200
    );
    // One-record searches return a record too: the backfill's first probe
    // (how many, and the newest stamp) and the engine's count after a pass.
    println!(
        "  records searched   {searched} for {records} stored: {} more, from one-record probe and count searches (goal: no record read twice)",
        searched.saturating_sub(records as u64)
    );
    if let Some(h) = half {
        let first = h / (records / 2).max(1) as f64;
        let second = (elapsed - h) / (records - records / 2).max(1) as f64;
        println!(
            "  time per record    {:.3} ms in the first half, {:.3} ms in the second ({:.2}×)",
            first * 1000.0,
            second * 1000.0,
            second / first
        );
    }
    match rss {
        Some(mb) => println!(
            "  engine peak RSS    {mb:.0} MB; goal under {GOAL_PEAK_RSS_MB:.0} MB: {}",
            if mb < GOAL_PEAK_RSS_MB {
                "met"
            } else {
                "not met"
            }
        ),
        None => println!("  engine peak RSS    unknown (no /proc)"),
    }
    let passes = (POLL_SECS * 5 + 1) / POLL_SECS;
    println!(
        "  idle passes        {idle_calls} HubSpot calls in {} s, about {passes} passes at one per {POLL_SECS} s (goal: at most one per pass: {:.0}% of it)",
        POLL_SECS * 5 + 1,
        100.0 * idle_calls as f64 / passes as f64
    );
    sim.shutdown().await;
    Ok(())
}
