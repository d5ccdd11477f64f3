//! Syncing 10,000 new app contacts to HubSpot (app → HubSpot) through the
//! real engine, client and simulator over loopback HTTP, with the
//! simulator holding HubSpot's Free/Starter limit of 100 requests per ten
//! seconds and batches of 100. How close does the engine get to the rate
//! ceiling, and does it stay under it? Prints figures; never fails on a
//! slow machine. Runs on a SQLite app database, and again on PostgreSQL
//! (a table in a schema of its own) when `HUBSYNC_TEST_POSTGRES_URL` names
//! a server (password in `HUBSYNC_TEST_POSTGRES_PASSWORD`).
//!
//!     cargo bench --bench ten_thousand_contacts [-- RECORDS]
//!
//! `HUBSYNC_BENCH_BACKEND=sqlite` or `postgres` runs one (for a clean peak
//! RSS figure).

mod common;

use hubsync::appdb::AppDb;
use hubsync::appdb::demo::FixtureContact;
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::sync::rules::SyncRules;
use std::time::{Duration, Instant};

const TOKEN: &str = "pat-bench-10k";
const TEN_SECOND_LIMIT: u32 = 100;
const WINDOW: Duration = Duration::from_secs(10);
const BATCH: usize = 100;

fn contacts(n: usize) -> Vec<FixtureContact> {
    (0..n)
        .map(|i| FixtureContact {
            email: Some(format!("bench{i}@example.com")),
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            phone: (i % 3 != 0).then(|| format!("+1 555 {:04}", i % 10_000)),
            company: Some(format!("Company {}", i % 97)),
            job_title: (i % 4 != 0).then(|| format!("Title {}", i % 13)),
        })
        .collect()
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
        let result = run(records, app, &table, backend.name()).await;
        common::clean_up(made).await?;
        result?;
    }
    Ok(())
}

async fn run(records: usize, app: AppDb, table: &str, backend: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: TEN_SECOND_LIMIT,
            rate_window: WINDOW,
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await?;
    let engine = common::engine_on(
        app,
        table,
        dir.path(),
        sim.base_url(),
        TOKEN,
        TEN_SECOND_LIMIT,
        BATCH,
        SyncRules::to_hubspot(),
    )
    .await?;

    let calls_before = engine.client().request_count();
    let started = Instant::now();
    // How many had landed when the first window closed: the rolling limit
    // lets a burst of a whole window's calls through at the start, so the
    // sustained rate is what comes after it.
    let at_first_window = {
        let state = sim.state().clone();
        tokio::spawn(async move {
            tokio::time::sleep(WINDOW).await;
            (state.count(ObjectKind::Contacts), started.elapsed())
        })
    };
    // The first pass only (the backfill job), then stop.
    engine.run_next_due().await?;
    let elapsed = started.elapsed().as_secs_f64();
    let first_window = if at_first_window.is_finished() {
        Some(at_first_window.await?)
    } else {
        at_first_window.abort();
        None
    };

    let job = engine.store().recent_jobs(1).await?.remove(0);
    let calls = engine.client().request_count() - calls_before;
    let sim_requests = sim.state().request_count();
    let rate_limited = sim.state().rate_limited_count();
    let in_hubspot = sim.state().count(ObjectKind::Contacts);
    // A rolling window allows a full window's calls at once, then as many
    // again each time a window has passed: the first window counts too.
    let ceiling = ((elapsed / WINDOW.as_secs_f64()).floor() + 1.0) * TEN_SECOND_LIMIT as f64;
    println!(
        "ten_thousand_contacts ({backend}): {records} new app contacts → HubSpot, batch {BATCH}, \
         simulator limit {TEN_SECOND_LIMIT} requests per {} s",
        WINDOW.as_secs()
    );
    println!("  records            {records}");
    println!(
        "  job                {} done, {} succeeded, {} FAILED; {in_hubspot} contacts in HubSpot",
        job.done, job.succeeded, job.failed
    );
    println!("  elapsed            {elapsed:.2} s");
    println!(
        "  HTTP calls         {calls} from the client (incl. its count), {sim_requests} seen by the simulator"
    );
    println!(
        "  calls per record   {:.4} (goal at most 0.0105; the floor is 1/{BATCH} = {:.4})",
        calls as f64 / records.max(1) as f64,
        1.0 / BATCH as f64
    );
    println!(
        "  rate ceiling used  {:.1}% ({calls} calls of {ceiling:.0} allowed in {elapsed:.1} s)",
        100.0 * calls as f64 / ceiling.max(f64::MIN_POSITIVE)
    );
    println!("  429s answered      {rate_limited}");
    println!(
        "  records per second {:.1} overall",
        records as f64 / elapsed.max(f64::MIN_POSITIVE)
    );
    match first_window {
        Some((landed, at)) => {
            let rest = elapsed - at.as_secs_f64();
            let rate = (in_hubspot.saturating_sub(landed)) as f64 / rest.max(f64::MIN_POSITIVE);
            let goal = 950.0;
            println!(
                "  after the first window: {rate:.1} records/s ({landed} landed in the first {:.0} s; goal at least {goal:.0}, {:.0}% of it; ceiling {} records/s)",
                at.as_secs_f64(),
                100.0 * rate / goal,
                TEN_SECOND_LIMIT as usize * BATCH / WINDOW.as_secs() as usize
            );
        }
        None => println!("  after the first window: the run ended within it"),
    }
    common::print_peak_rss();
    sim.shutdown().await;
    Ok(())
}
