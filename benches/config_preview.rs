//! How long the config editor's preview takes (issue 10's "Done when"):
//! 100,000 app contacts (one in ten at company "Internal"), synced and
//! linked by the real engine into the simulator, then `config_preview`
//! asked over the real control socket, as a console asks it, for a filter
//! change (`company is_none_of ["Internal"]`) and a mapping change
//! (`job_title` → `city` instead of `jobtitle`). Prints the figures and
//! what each preview found; never fails on a slow machine. SQLite, and
//! PostgreSQL when `HUBSYNC_TEST_POSTGRES_URL` names a server.
//!
//!     cargo bench --bench config_preview [-- RECORDS]
//!
//! `HUBSYNC_BENCH_BACKEND=sqlite` or `postgres` runs one.

mod common;

use hubsync::appdb::AppDb;
use hubsync::appdb::demo::FixtureContact;
use hubsync::config::Config;
use hubsync::control::ControlClient;
use hubsync::engine::lock::EngineLock;
use hubsync::engine::{Engine, EngineSettings};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::service::host::{Host, HostOptions, no_reload};
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::store::Store;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "pat-bench-preview";
/// High, so building the fixture is not what the benchmark waits on.
const TEN_SECOND_LIMIT: u32 = 5_000;

fn contacts(n: usize) -> Vec<FixtureContact> {
    (0..n)
        .map(|i| FixtureContact {
            email: Some(format!("preview{i}@example.com")),
            first_name: Some(format!("First{i}")),
            last_name: Some(format!("Last{i}")),
            phone: None,
            company: Some(if i % 10 == 0 {
                "Internal".into()
            } else {
                format!("Company {}", i % 97)
            }),
            job_title: (i % 4 != 0).then(|| format!("Title {}", i % 13)),
        })
        .collect()
}

const FILTER: &str = "\n[[objects.contacts.filter_groups]]\ndirection = \"to_hubspot\"\nfilters = [ { field = \"company\", op = \"is_none_of\", value = [\"Internal\"] } ]\n";

fn config_text(base_url: &str, app: &str, table: &str) -> String {
    let mut fields = String::new();
    for (a, h) in [
        ("email", "email"),
        ("first_name", "firstname"),
        ("last_name", "lastname"),
        ("company", "company"),
        ("job_title", "jobtitle"),
    ] {
        fields.push_str(&format!(
            "\n[[objects.contacts.fields]]\napp = \"{a}\"\nhubspot = \"{h}\"\n"
        ));
    }
    format!(
        "[hubspot]\nbase_url = \"{base_url}\"\ntoken_env = \"HUBSYNC_BENCH_TOKEN\"\nten_second_limit = {TEN_SECOND_LIMIT}\n\n[app]\n{app}\n\n[objects.contacts]\ntable = \"{table}\"\nid_column = \"id\"\nupdated_at_column = \"updated_at\"\nhubspot_id_column = \"hubspot_id\"\nkey_column = \"email\"\ndirection = \"both\"\npoll_interval_secs = 3600\nbatch_size = 100\n{fields}"
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    for backend in common::backends() {
        let dir = tempfile::tempdir()?;
        let (app, table, made) = common::app_with(backend, dir.path(), &contacts(records)).await?;
        let app_line = match backend {
            common::Backend::Sqlite => {
                format!("database = \"{}\"", dir.path().join("app.db").display())
            }
            common::Backend::Postgres => format!(
                "url = \"{}\"\npassword_env = \"{}\"",
                common::postgres_url().unwrap_or_default(),
                common::PASSWORD_ENV
            ),
        };
        let result = run(records, app, &table, &app_line, dir.path(), backend.name()).await;
        common::clean_up(made).await?;
        result?;
    }
    Ok(())
}

async fn run(
    records: usize,
    app: AppDb,
    table: &str,
    app_line: &str,
    dir: &Path,
    backend: &str,
) -> anyhow::Result<()> {
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ten_second_limit: TEN_SECOND_LIMIT,
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await?;
    let path = dir.join("hubsync.toml");
    let text = config_text(&sim.base_url(), app_line, table);
    std::fs::write(&path, &text)?;
    let cfg = Config::parse(&path, &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let data = dir.join("data");
    hubsync::store::create_private_dir(&data)?;
    let store = Store::open(&data.join("state.db")).await?;
    let client = HubSpotClient::new(ClientSettings {
        ten_second_limit: TEN_SECOND_LIMIT,
        ..ClientSettings::new(sim.base_url(), SecretString::from(TOKEN))
    })?;
    let engine = Engine::new(
        Arc::new(client),
        store,
        app,
        cfg.objects.clone(),
        EngineSettings::default(),
    );
    println!(
        "config_preview ({backend}): {records} app contacts, {} at company \"Internal\"",
        records.div_ceil(10)
    );
    let started = Instant::now();
    engine.bootstrap().await?;
    engine.run_next_due().await?;
    println!(
        "  fixture            {} contacts in HubSpot, linked, in {:.1} s",
        sim.state().count(ObjectKind::Contacts),
        started.elapsed().as_secs_f64()
    );

    let host = Host::start(
        engine.clone(),
        EngineLock::acquire(&data)?,
        HostOptions {
            data_dir: data.clone(),
            viewer_group: None,
            config_label: path.display().to_string(),
            reload: no_reload("the benchmark does not reload"),
            config_file: Some(path.clone()),
        },
    )
    .await?;
    let c = ControlClient::connect(&data.join("control.sock")).await?;
    let source = c
        .request("config_source", json!({"object": "contacts"}))
        .await?;
    let text = source["text"].as_str().unwrap_or_default().to_string();
    let moved = text.replacen("hubspot = \"jobtitle\"", "hubspot = \"city\"", 1);
    for (what, toml) in [
        ("filter change", format!("{text}{FILTER}")),
        ("mapping change", moved),
    ] {
        let mut times = Vec::new();
        let mut last = Value::Null;
        for _ in 0..3 {
            let t = Instant::now();
            last = c
                .request(
                    "config_preview",
                    json!({"toml": toml, "record": {"object": "contacts", "app_id": "1"}}),
                )
                .await?;
            times.push(t.elapsed());
        }
        times.sort();
        let o = &last["preview"]["objects"][0];
        println!(
            "  {what:<18} median {:>7.1} ms, worst {:>7.1} ms (3 runs, over the socket; the engine's own took_ms {})",
            ms(times[1]),
            ms(times[2]),
            last["took_ms"]
        );
        println!(
            "  {:<18} to HubSpot {}, to the app {}, linked {}",
            "",
            o["to_hubspot"],
            o["to_app"]["before"]
                .as_u64()
                .map_or("?".into(), |b| format!("{b} → {}", o["to_app"]["after"])),
            json!({
                "checked": o["linked"]["checked"],
                "to_hubspot_fields": o["linked"]["to_hubspot_fields"],
                "to_app_fields": o["linked"]["to_app_fields"],
                "not_checked": o["linked"]["not_checked"],
            })
        );
        println!("  {:<18} parts (ms) {}", "", o["took_ms"]);
    }
    host.stop().await;
    sim.shutdown().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
