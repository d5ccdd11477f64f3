//! The first pass both ways over an app and a portal that overlap: 100,000
//! app contacts and 50,000 HubSpot contacts, 25,000 of them sharing an
//! email (and their values), through the real engine, client and simulator
//! over loopback HTTP at HubSpot's Free/Starter limit (100 requests per ten
//! seconds). Prints the calls made beside the minimum: every HubSpot record
//! read once (a search page holds 200) plus one call per 100 records that
//! must be written on HubSpot (the 75,000 app-only contacts; the shared
//! ones already agree). Never fails on a slow machine.
//!
//!     cargo bench --bench two_way_backfill [-- APP_RECORDS]
//!
//! HubSpot holds half as many records as the app, half of them shared.
//! Runs on a SQLite app database, and on PostgreSQL when
//! `HUBSYNC_TEST_POSTGRES_URL` names a server; `HUBSYNC_BENCH_BACKEND=sqlite`
//! or `postgres` runs one (for a clean peak RSS figure).

mod common;

use hubsync::appdb::AppDb;
use hubsync::appdb::demo::FixtureContact;
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::sync::rules::SyncRules;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const TOKEN: &str = "pat-bench-backfill";
const TEN_SECOND_LIMIT: u32 = 100;
const WINDOW: Duration = Duration::from_secs(10);
const BATCH: usize = 100;
const SEARCH_PAGE: usize = 200;

fn contact(i: usize, prefix: &str) -> FixtureContact {
    FixtureContact {
        email: Some(format!("{prefix}{i}@example.com")),
        first_name: Some(format!("First{i}")),
        last_name: Some(format!("Last{i}")),
        phone: (!i.is_multiple_of(3)).then(|| format!("+1 555 {:04}", i % 10_000)),
        company: Some(format!("Company {}", i % 97)),
        job_title: (!i.is_multiple_of(4)).then(|| format!("Title {}", i % 13)),
    }
}

/// A fixture contact as HubSpot holds it.
fn in_hubspot(c: &FixtureContact) -> BTreeMap<String, String> {
    [
        ("email", &c.email),
        ("firstname", &c.first_name),
        ("lastname", &c.last_name),
        ("phone", &c.phone),
        ("company", &c.company),
        ("jobtitle", &c.job_title),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
    .collect()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app_records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let shared = app_records / 4;
    let hubspot_only = app_records / 4;
    let app: Vec<FixtureContact> = (0..app_records).map(|i| contact(i, "bench")).collect();
    let seed: Vec<BTreeMap<String, String>> = (0..shared)
        .map(|i| in_hubspot(&app[i]))
        .chain((0..hubspot_only).map(|i| in_hubspot(&contact(i, "hubspot"))))
        .collect();
    let hubspot_records = seed.len();

    for backend in common::backends() {
        let dir = tempfile::tempdir()?;
        let (app_db, table, made) = common::app_with(backend, dir.path(), &app).await?;
        let result = run(
            backend,
            app_db,
            &table,
            dir.path(),
            seed.clone(),
            app_records,
            shared,
            hubspot_only,
            hubspot_records,
        )
        .await;
        common::clean_up(made).await?;
        result?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn run(
    backend: common::Backend,
    app: AppDb,
    table: &str,
    dir: &std::path::Path,
    seed: Vec<BTreeMap<String, String>>,
    app_records: usize,
    shared: usize,
    hubspot_only: usize,
    hubspot_records: usize,
) -> anyhow::Result<()> {
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: TEN_SECOND_LIMIT,
            rate_window: WINDOW,
            ..SimSettings::default()
        },
        SeedData::contacts(seed),
    )
    .await?;
    let engine = common::engine_on(
        app,
        table,
        dir,
        sim.base_url(),
        TOKEN,
        TEN_SECOND_LIMIT,
        BATCH,
        SyncRules::both(),
    )
    .await?;

    let calls_before = engine.client().request_count();
    let started = Instant::now();
    engine.run_next_due().await?;
    let elapsed = started.elapsed().as_secs_f64();
    let calls = engine.client().request_count() - calls_before;

    let job = engine.store().recent_jobs(1).await?.remove(0);
    let in_hubspot_after = sim.state().count(ObjectKind::Contacts);
    let in_app_after = common::app_count(engine.app(), table).await?;
    let expected = app_records + hubspot_only;
    let reads = hubspot_records.div_ceil(SEARCH_PAGE);
    let written = app_records - shared;
    let writes = written.div_ceil(BATCH);
    let minimum = reads + writes;
    println!(
        "two_way_backfill ({}): {app_records} app contacts, {hubspot_records} HubSpot contacts, {shared} sharing an email; \
         both ways, batch {BATCH}, simulator limit {TEN_SECOND_LIMIT} requests per {} s",
        backend.name(),
        WINDOW.as_secs()
    );
    println!(
        "  job                {} done, {} succeeded, {} FAILED",
        job.done, job.succeeded, job.failed
    );
    println!(
        "  records after      {in_hubspot_after} in HubSpot, {in_app_after} in the app (each should be {expected}: no duplicate either side)"
    );
    println!("  elapsed            {elapsed:.2} s");
    println!(
        "  records per second {:.1} ({expected} records synced)",
        expected as f64 / elapsed.max(f64::MIN_POSITIVE)
    );
    println!(
        "  HTTP calls         {calls} ({:.4} per record synced)",
        calls as f64 / expected.max(1) as f64
    );
    println!(
        "  minimum            {minimum} = {reads} to read {hubspot_records} HubSpot records ({SEARCH_PAGE} a search page) \
         + {writes} to write {written} records on HubSpot ({BATCH} a batch)"
    );
    println!(
        "  calls / minimum    {:.3} (goal at most 1.05)",
        calls as f64 / minimum.max(1) as f64
    );
    println!("  429s answered      {}", sim.state().rate_limited_count());
    common::print_peak_rss();
    sim.shutdown().await;
    Ok(())
}
