//! How long an edit takes to reach the other side, through the real
//! `hubsync run` against the simulator at HubSpot's lowest rate limit,
//! with the simulator delivering webhooks to the engine's receiver and the
//! app polled every second (SQLite), or LISTENed to (`listen = true`, on
//! PostgreSQL when `HUBSYNC_TEST_POSTGRES_URL` names a server; password in
//! `HUBSYNC_TEST_POSTGRES_PASSWORD`).
//!
//! RECORDS HubSpot contacts are edited through the simulator's API (with
//! another app's token, as a user's other integration would) and RECORDS
//! other contacts through the bench's own app-database connection, each
//! once, at random moments over RECORDS/5 seconds (the other app's own
//! limit is 100 requests per 10 s too). Each edit's arrival on the other
//! side is watched every 10 ms; p50/p95/p99 per direction are printed
//! beside the 2 s goal. Never fails.
//!
//!     cargo bench --bench latency [-- RECORDS]   (default 1,000 per direction)

use hubsync::appdb::demo::FixtureContact;
use hubsync::appdb::postgres::Settings;
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings, SimState, WebhookTarget};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;

use common::service::{Service, fields_toml};

const TOKEN: &str = "pat-bench-latency";
const TOKEN_ENV: &str = "HUBSYNC_BENCH_LATENCY_TOKEN";
/// The token of the app that makes the HubSpot edits.
const EDITOR_TOKEN: &str = "pat-bench-latency-editor";
const SECRET: &str = "whsec-bench-latency";
const SECRET_ENV: &str = "HUBSYNC_BENCH_LATENCY_SECRET";
const PASSWORD_ENV: &str = "HUBSYNC_TEST_POSTGRES_PASSWORD";
const TEN_SECOND_LIMIT: u32 = 100;
const GOAL: Duration = Duration::from_secs(2);
/// How long an edit may take before it counts as never arrived.
const GIVE_UP: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn contacts(n: usize) -> Vec<FixtureContact> {
    (0..n)
        .map(|i| FixtureContact {
            email: Some(format!("latency{i}@example.com")),
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            phone: None,
            company: Some(format!("Company {}", i % 97)),
            job_title: None,
        })
        .collect()
}

/// The app database, as the app's own code reaches it.
#[derive(Clone)]
enum App {
    Sqlite(PathBuf),
    Postgres(Arc<tokio_postgres::Client>, String),
}

impl App {
    /// (app id, email, first name, last name, HubSpot id) of every row.
    async fn rows(&self) -> anyhow::Result<Vec<(i64, String, String, String, Option<String>)>> {
        let q = |table: &str| {
            format!("SELECT id, email, first_name, last_name, hubspot_id FROM {table} ORDER BY id")
        };
        match self {
            App::Sqlite(db) => {
                let db = db.clone();
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open_with_flags(
                        &db,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                    )?;
                    c.busy_timeout(Duration::from_secs(5))?;
                    let mut s = c.prepare(&q("contacts"))?;
                    let rows = s
                        .query_map([], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                        })?
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(rows)
                })
                .await?
            }
            App::Postgres(c, table) => Ok(c
                .query(&q(table), &[])
                .await?
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect()),
        }
    }

    /// An app user's edit: a new last name (the table's trigger stamps
    /// `updated_at`, as the app's ORM would).
    async fn set_last_name(&self, id: i64, value: &str) -> anyhow::Result<()> {
        match self {
            App::Sqlite(db) => {
                let (db, value) = (db.clone(), value.to_string());
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(&db)?;
                    c.busy_timeout(Duration::from_secs(5))?;
                    c.execute(
                        "UPDATE contacts SET last_name = ?1 WHERE id = ?2",
                        rusqlite::params![value, id],
                    )?;
                    Ok(())
                })
                .await?
            }
            App::Postgres(c, table) => {
                c.execute(
                    &format!("UPDATE {table} SET last_name = $1 WHERE id = $2"),
                    &[&value, &id],
                )
                .await?;
                Ok(())
            }
        }
    }
}

/// Edits waiting to be seen on the other side: record → (value, sent at).
type Waiting = Arc<Mutex<HashMap<usize, (String, Instant)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Random moments in `0..window`, sorted.
fn moments(n: usize, window: Duration) -> Vec<Duration> {
    let mut m: Vec<Duration> = (0..n)
        .map(|_| window.mul_f64(rand::random::<f64>()))
        .collect();
    m.sort();
    m
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(direction: &str, mut got: Vec<Duration>, sent: usize) {
    got.sort();
    let p95 = percentile(&got, 95.0);
    println!(
        "  {direction:<15} {} of {sent} arrived; p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms; goal p95 within {} s: {:.0}% of it, {}",
        got.len(),
        percentile(&got, 50.0).as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        percentile(&got, 99.0).as_secs_f64() * 1000.0,
        got.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        GOAL.as_secs(),
        100.0 * p95.as_secs_f64() / GOAL.as_secs_f64(),
        if got.len() == sent && p95 <= GOAL {
            "met"
        } else {
            "not met"
        }
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000);
    let dir = tempfile::tempdir()?;
    let app_db = dir.path().join("app.db");
    hubsync::appdb::demo::create(&app_db, &contacts(2 * records))?;
    run(
        records,
        dir.path(),
        App::Sqlite(app_db.clone()),
        &format!("[app]\ndatabase = \"{}\"\n", app_db.display()),
        "contacts",
        "SQLite, a poll every second",
    )
    .await?;
    match std::env::var("HUBSYNC_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let settings =
                Settings::parse(&url, Some(PASSWORD_ENV.into())).map_err(|e| anyhow::anyhow!(e))?;
            let schema =
                hubsync::appdb::postgres::demo::create(&settings, &contacts(2 * records)).await?;
            let table = format!("{schema}.contacts");
            let client = hubsync::appdb::postgres::demo::connect(&settings).await?;
            let mapping = hubsync::sync::mapping::ObjectMapping {
                table: table.clone(),
                ..hubsync::sync::mapping::ObjectMapping::demo_contacts()
            };
            client
                .batch_execute(&hubsync::appdb::postgres::listen::trigger_sql(&mapping))
                .await?;
            let pg_dir = tempfile::tempdir()?;
            let result = run(
                records,
                pg_dir.path(),
                App::Postgres(Arc::new(client), table.clone()),
                &format!(
                    "[app]\nurl = \"{url}\"\npassword_env = \"{PASSWORD_ENV}\"\nlisten = true\n"
                ),
                &table,
                "PostgreSQL, LISTEN and a poll every second",
            )
            .await;
            hubsync::appdb::postgres::demo::drop(&settings, &schema).await?;
            result?;
        }
        _ => println!("(PostgreSQL skipped: HUBSYNC_TEST_POSTGRES_URL is not set)"),
    }
    Ok(())
}

async fn run(
    records: usize,
    dir: &Path,
    app: App,
    app_section: &str,
    table: &str,
    backend: &str,
) -> anyhow::Result<()> {
    let port = free_port();
    let hook = format!("http://127.0.0.1:{port}/hubspot/webhook");
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            other_app_tokens: vec![EDITOR_TOKEN.into()],
            ten_second_limit: TEN_SECOND_LIMIT,
            webhook: Some(WebhookTarget {
                retry_base: Duration::from_secs(1),
                ..WebhookTarget::new(&hook, SECRET)
            }),
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await?;
    let config = dir.join("hubsync.toml");
    std::fs::write(
        &config,
        format!(
            r#"[hubspot]
base_url = "{}"
token_env = "{TOKEN_ENV}"
ten_second_limit = {TEN_SECOND_LIMIT}

{app_section}
[webhook]
listen = "127.0.0.1:{port}"
public_url = "{hook}"
client_secret_env = "{SECRET_ENV}"

[objects.contacts]
table = "{table}"
id_column = "id"
updated_at_column = "updated_at"
hubspot_id_column = "hubspot_id"
key_column = "email"
direction = "both"
poll_interval_secs = 1
batch_size = 100

{}"#,
            sim.base_url(),
            fields_toml(
                "contacts",
                &[
                    ("email", "email"),
                    ("first_name", "firstname"),
                    ("last_name", "lastname"),
                ]
            ),
        ),
    )?;
    let mut engine = Service::start(
        &config,
        &dir.join("data"),
        &[(TOKEN_ENV, TOKEN), (SECRET_ENV, SECRET)],
    )?;

    // The first pass creates every app contact in HubSpot and links it.
    let started = Instant::now();
    let rows = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(st) = engine.0.try_wait()? {
            anyhow::bail!(
                "hubsync run exited ({st}):\n{}",
                std::fs::read_to_string(dir.join("data/hubsync.log")).unwrap_or_default()
            );
        }
        let rows = app.rows().await?;
        if rows.iter().all(|r| r.4.is_some()) {
            break rows;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "the first pass did not link every contact within 300 s"
        );
    };
    // Let the creations' webhooks (echoes) and the first polls settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls_before = sim.state().request_count();

    // Records 0..records are edited in HubSpot, the rest in the app.
    let window = Duration::from_secs((records as u64 / 5).max(10));
    let hubspot_edits: Waiting = Arc::default();
    let app_edits: Waiting = Arc::default();
    let hubspot_ids: Vec<String> = rows.iter().map(|r| r.4.clone().unwrap()).collect();
    let app_ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let t0 = Instant::now();

    let hubspot_editor = {
        let waiting = hubspot_edits.clone();
        let ids = hubspot_ids.clone();
        let base = sim.base_url();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut refused = 0u32;
            for (i, at) in moments(records, window).into_iter().enumerate() {
                tokio::time::sleep_until((t0 + at).into()).await;
                let value = format!("Hub{i}");
                loop {
                    let sent = Instant::now();
                    let r = http
                        .patch(format!("{base}/crm/v3/objects/contacts/{}", ids[i]))
                        .bearer_auth(EDITOR_TOKEN)
                        .json(&serde_json::json!({"properties": {"firstname": value}}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            lock(&waiting).insert(i, (value, sent));
                            break;
                        }
                        _ => {
                            refused += 1;
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }
            refused
        })
    };
    let app_editor = {
        let waiting = app_edits.clone();
        let (app, ids) = (app.clone(), app_ids.clone());
        tokio::spawn(async move {
            for (k, at) in moments(records, window).into_iter().enumerate() {
                tokio::time::sleep_until((t0 + at).into()).await;
                let i = records + k;
                let value = format!("App{k}");
                let sent = Instant::now();
                app.set_last_name(ids[i], &value).await?;
                lock(&waiting).insert(i, (value, sent));
            }
            anyhow::Ok(())
        })
    };

    // Watch both sides until every edit has arrived or given up.
    let (mut to_app, mut to_hubspot) = (Vec::new(), Vec::new());
    let (mut lost_to_app, mut lost_to_hubspot) = (0usize, 0usize);
    let state: SimState = sim.state().clone();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = Instant::now();
        if !lock(&hubspot_edits).is_empty() {
            let rows = app.rows().await?;
            let now = Instant::now();
            lock(&hubspot_edits).retain(|i, (value, sent)| {
                if rows[*i].2 == *value {
                    to_app.push(now - *sent);
                    false
                } else if now - *sent > GIVE_UP {
                    lost_to_app += 1;
                    false
                } else {
                    true
                }
            });
        }
        lock(&app_edits).retain(|i, (value, sent)| {
            let there = state
                .get(ObjectKind::Contacts, &hubspot_ids[*i])
                .and_then(|p| p.get("lastname").cloned());
            if there.as_deref() == Some(value.as_str()) {
                to_hubspot.push(now - *sent);
                false
            } else if now - *sent > GIVE_UP {
                lost_to_hubspot += 1;
                false
            } else {
                true
            }
        });
        let all_sent = hubspot_editor.is_finished() && app_editor.is_finished();
        if all_sent && lock(&hubspot_edits).is_empty() && lock(&app_edits).is_empty() {
            break;
        }
    }
    let refused = hubspot_editor.await?;
    app_editor.await??;
    let elapsed = t0.elapsed().as_secs_f64();
    let calls = sim.state().request_count() - calls_before;
    drop(engine);

    println!(
        "latency ({backend}; webhooks on): {records} edits each way at random moments over {} s, HubSpot at {TEN_SECOND_LIMIT} requests/10 s",
        window.as_secs()
    );
    report("HubSpot → app", to_app, records);
    report("app → HubSpot", to_hubspot, records);
    println!(
        "  lost             {lost_to_app} to the app, {lost_to_hubspot} to HubSpot (not there after {} s)",
        GIVE_UP.as_secs()
    );
    println!(
        "  HubSpot calls    {calls} in {elapsed:.0} s, the editor's {records} included ({refused} of its edits answered 429 and were sent again)"
    );
    sim.shutdown().await;
    Ok(())
}
