//! What the app-database benchmarks share: which backends to run
//! (`HUBSYNC_BENCH_BACKEND=sqlite|postgres|both`, default both when
//! `HUBSYNC_TEST_POSTGRES_URL` names a server), the fixture contacts in a
//! SQLite file or a PostgreSQL schema of their own with the indexes
//! `hubsync check` asks for (`HUBSYNC_BENCH_NO_KEY_INDEX=1` drops the
//! key's on SQLite), and this process's peak RSS.
#![allow(dead_code)]

pub mod service;

use hubsync::appdb::demo::{self as appdemo, FixtureContact};
use hubsync::appdb::postgres::Settings;
use hubsync::appdb::{AppDb, Target};
use hubsync::sync::mapping::ObjectMapping;
use std::path::Path;

pub const PASSWORD_ENV: &str = "HUBSYNC_TEST_POSTGRES_PASSWORD";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The backends asked for; PostgreSQL only with a server to run on. A
/// peak RSS is a process's whole life, so one backend a run gives clean
/// memory figures.
pub fn backends() -> Vec<Backend> {
    let url = postgres_url();
    let asked = std::env::var("HUBSYNC_BENCH_BACKEND").unwrap_or_default();
    let mut out = Vec::new();
    if asked != "postgres" {
        out.push(Backend::Sqlite);
    }
    if asked != "sqlite" {
        if url.is_some() {
            out.push(Backend::Postgres);
        } else {
            println!("(PostgreSQL skipped: HUBSYNC_TEST_POSTGRES_URL is not set)");
        }
    }
    out
}

pub fn postgres_url() -> Option<String> {
    std::env::var("HUBSYNC_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// An app database holding `contacts`: a SQLite file in `dir`, or a
/// schema of its own on the PostgreSQL server. Returns it, the mapping's
/// table name, and what to drop afterwards.
pub async fn app_with(
    backend: Backend,
    dir: &Path,
    contacts: &[FixtureContact],
) -> anyhow::Result<(AppDb, String, Option<(tokio_postgres::Client, String)>)> {
    match backend {
        Backend::Sqlite => {
            let path = dir.join("app.db");
            appdemo::create(&path, contacts)?;
            // For a figure without it: what every batch's key lookup costs
            // when no index can serve it (as with `hubsync_key()` before).
            if std::env::var("HUBSYNC_BENCH_NO_KEY_INDEX").as_deref() == Ok("1") {
                println!("(SQLite: the key's index dropped: HUBSYNC_BENCH_NO_KEY_INDEX=1)");
                rusqlite::Connection::open(&path)?
                    .execute_batch("DROP INDEX contacts_email_key")?;
            }
            Ok((AppDb::open(&path)?, "contacts".into(), None))
        }
        Backend::Postgres => {
            let url = postgres_url().expect("backends() checked");
            let (client, schema) = postgres_contacts(&url, contacts).await?;
            let app = AppDb::open(&Target::Postgres(settings(&url)?))?;
            let table = format!("{schema}.contacts");
            Ok((app, table, Some((client, schema))))
        }
    }
}

pub fn settings(url: &str) -> anyhow::Result<Settings> {
    Settings::parse(url, Some(PASSWORD_ENV.into())).map_err(|e| anyhow::anyhow!(e))
}

/// Drops what [`app_with`] made on the server.
pub async fn clean_up(made: Option<(tokio_postgres::Client, String)>) -> anyhow::Result<()> {
    if let Some((client, schema)) = made {
        client
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await?;
    }
    Ok(())
}

/// The contacts in a PostgreSQL table with the indexes `hubsync check`
/// asks for.
async fn postgres_contacts(
    url: &str,
    contacts: &[FixtureContact],
) -> anyhow::Result<(tokio_postgres::Client, String)> {
    let mut cfg: tokio_postgres::Config = url.parse()?;
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        cfg.password(p);
    }
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let schema = format!("bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.contacts (id bigserial PRIMARY KEY, email text, first_name text,
               last_name text, phone text, company text, job_title text, hubspot_id text,
               updated_at timestamptz NOT NULL DEFAULT now());"
        ))
        .await?;
    let m = ObjectMapping {
        table: format!("{schema}.contacts"),
        ..ObjectMapping::demo_contacts()
    };
    let stmt = client
        .prepare(&format!(
            "INSERT INTO {schema}.contacts (email, first_name, last_name, phone, company, job_title)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
        ))
        .await?;
    for chunk in contacts.chunks(5_000) {
        let col = |f: fn(&FixtureContact) -> Option<String>| -> Vec<Option<String>> {
            chunk.iter().map(f).collect()
        };
        client
            .execute(
                &stmt,
                &[
                    &col(|c| c.email.clone()),
                    &col(|c| c.first_name.clone()),
                    &col(|c| c.last_name.clone()),
                    &col(|c| c.phone.clone()),
                    &col(|c| c.company.clone()),
                    &col(|c| c.job_title.clone()),
                ],
            )
            .await?;
    }
    let app = AppDb::open(&Target::Postgres(settings(url)?))?;
    for stmt in app.check(&m).await?.create_index {
        client.batch_execute(&stmt).await?;
    }
    client
        .batch_execute(&format!("ANALYZE {schema}.contacts"))
        .await?;
    Ok((client, schema))
}

/// How many rows the app table holds.
pub async fn app_count(app: &AppDb, table: &str) -> anyhow::Result<u64> {
    let m = ObjectMapping {
        table: table.to_string(),
        ..ObjectMapping::demo_contacts()
    };
    app.count(&m).await
}

/// This process's peak resident memory (VmHWM) in MB: the engine, the
/// simulator and, on SQLite, the app database's page cache together.
pub fn peak_rss_mb() -> Option<f64> {
    vm_hwm_mb("/proc/self/status")
}

/// The peak resident memory (VmHWM) a `/proc/…/status` file reports, in MB.
fn vm_hwm_mb(status: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn print_peak_rss() {
    match peak_rss_mb() {
        Some(mb) => println!(
            "  peak RSS           {mb:.0} MB (this process: engine, simulator and fixture together)"
        ),
        None => println!("  peak RSS           unknown (no /proc)"),
    }
}

/// The engine in this process, syncing the demo's contacts in `table` with
/// the simulator at `base_url` under `rules`: batches of `batch`, the
/// client held to `ten_second_limit`, its state database in `dir`;
/// bootstrapped, its first pass not yet run.
#[allow(clippy::too_many_arguments)]
pub async fn engine_on(
    app: AppDb,
    table: &str,
    dir: &Path,
    base_url: String,
    token: &str,
    ten_second_limit: u32,
    batch: usize,
    rules: hubsync::sync::rules::SyncRules,
) -> anyhow::Result<std::sync::Arc<hubsync::engine::Engine>> {
    use hubsync::engine::{Engine, EngineSettings};
    use hubsync::hubspot::{ClientSettings, HubSpotClient};
    let mapping = ObjectMapping {
        table: table.to_string(),
        ..ObjectMapping::demo_contacts()
    };
    app.verify(&mapping).await?;
    let store = hubsync::store::Store::open(&dir.join("state.db")).await?;
    let client = HubSpotClient::new(ClientSettings {
        ten_second_limit,
        ..ClientSettings::new(base_url, secrecy::SecretString::from(token))
    })?;
    let settings = EngineSettings {
        batch_size: batch,
        ..EngineSettings::default()
    };
    let contacts = hubsync::sync::rules::ObjectSync {
        mapping,
        rules,
        poll_interval: settings.poll_interval,
        batch_size: batch,
    };
    let engine = Engine::new(
        std::sync::Arc::new(client),
        store,
        app,
        vec![contacts],
        settings,
    );
    engine.bootstrap().await?;
    Ok(engine)
}
