//! `hubsync demo`: everything on one machine with no set-up. A HubSpot
//! simulator on a free loopback port seeded from `fixtures/`, a fresh app
//! database from `fixtures/`, the engine, and the console on top.
//!
//! The fixtures are compiled into the binary so the demo runs from any
//! folder. While it runs, a small "app activity" task edits and adds app
//! contacts now and then, the way the app's users would, so the polls that
//! follow the first full sync have something to do.

mod config;

use crate::appdb::{AppDb, demo as appdemo};
use crate::console::{self, ConsoleOptions, EngineMode};
use crate::control::{ControlClient, operator_socket, viewer_socket};
use crate::engine::lock::EngineLock;
use crate::engine::{Engine, EngineSettings};
use crate::hubspot::{ClientSettings, HubSpotClient};
use crate::model::ObjectKind;
use crate::service::host::{Host, HostOptions};
use crate::sim::{SeedData, SimServer, SimSettings, WebhookTarget};
use crate::store::Store;
use crate::sync::mapping::ObjectMapping;
use crate::sync::rules::{ObjectSync, SyncRules};
use anyhow::Context;
use secrecy::SecretString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const APP_FIXTURE: &str = include_str!("../../fixtures/app_contacts.json");
pub const HUBSPOT_FIXTURE: &str = include_str!("../../fixtures/hubspot_seed.json");

/// The private-app token the demo's simulator accepts. Not a secret: it
/// only opens a simulator on loopback.
const DEMO_TOKEN: &str = "pat-demo-0000";

/// The demo app's client secret (signs the simulator's webhook deliveries)
/// and the receiver's path. Loopback only, like the token.
const DEMO_CLIENT_SECRET: &str = "demo-client-secret";
const DEMO_HOOK_PATH: &str = "/hubspot/webhook";

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where state, the app database and the log go; a fresh temp folder if None.
    pub data_dir: Option<PathBuf>,
    /// Added to every simulator response, so the first sync can be watched.
    pub latency: Duration,
    pub poll_interval: Duration,
    pub batch_size: usize,
    pub activity: bool,
    pub read_only: bool,
    pub theme: Option<String>,
    /// A PostgreSQL server for the demo's app database (a schema of its
    /// own); a SQLite file in the data folder if None.
    pub app_db: Option<crate::appdb::postgres::Settings>,
}

/// Writes the compiled-in fixtures where `SeedData::load` and the app
/// database builder read them.
fn write_fixtures(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let app = dir.join("app_contacts.json");
    let hub = dir.join("hubspot_seed.json");
    std::fs::write(&app, APP_FIXTURE)?;
    std::fs::write(&hub, HUBSPOT_FIXTURE)?;
    Ok((app, hub))
}

/// Everything the demo runs, started: used by `hubsync demo` and by tests.
pub struct DemoWorld {
    pub sim: SimServer,
    pub engine: Arc<Engine>,
    pub app_db_path: PathBuf,
    /// On PostgreSQL: the server and the demo's schema there.
    pub postgres: Option<(crate::appdb::postgres::Settings, String)>,
}

/// The demo world syncing contacts app → HubSpot only.
pub async fn start_world(
    dir: &Path,
    sim: SimSettings,
    settings: EngineSettings,
) -> anyhow::Result<DemoWorld> {
    start_world_with(dir, sim, settings, SyncRules::to_hubspot()).await
}

/// The demo world with the contacts synced by `rules`.
pub async fn start_world_with(
    dir: &Path,
    sim: SimSettings,
    settings: EngineSettings,
    rules: SyncRules,
) -> anyhow::Result<DemoWorld> {
    start_world_on(dir, sim, settings, rules, None).await
}

/// The demo world with its app database on `postgres` when given.
pub async fn start_world_on(
    dir: &Path,
    sim: SimSettings,
    settings: EngineSettings,
    rules: SyncRules,
    postgres: Option<&crate::appdb::postgres::Settings>,
) -> anyhow::Result<DemoWorld> {
    crate::store::create_private_dir(dir)?;
    let (app_fixture, hub_fixture) = write_fixtures(dir)?;
    let seed = SeedData::load(&hub_fixture)?;
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![DEMO_TOKEN.into()],
            ..sim
        },
        seed,
    )
    .await
    .context("starting the HubSpot simulator")?;

    let app_db_path = dir.join("app.db");
    let fixture = appdemo::load_fixture(&app_fixture)?;
    let mut mapping = ObjectMapping::demo_contacts();
    let (app, postgres) = match postgres {
        None => {
            appdemo::create(&app_db_path, &fixture)?;
            (AppDb::open(&app_db_path)?, None)
        }
        Some(pg) => {
            let schema = crate::appdb::postgres::demo::create(pg, &fixture).await?;
            tracing::info!(schema = %schema, db = %pg.describe(), "demo app database on PostgreSQL");
            mapping.table = format!("{schema}.contacts");
            let app = AppDb::open(&crate::appdb::Target::Postgres(pg.clone()))?;
            (app, Some((pg.clone(), schema)))
        }
    };
    app.verify(&mapping).await?;
    let store = Store::open(&dir.join("state.db")).await?;
    let client = HubSpotClient::new(ClientSettings::new(
        sim.base_url(),
        SecretString::from(DEMO_TOKEN),
    ))?;
    let contacts = ObjectSync {
        mapping,
        rules,
        poll_interval: settings.poll_interval,
        batch_size: settings.batch_size,
    };
    let engine = Engine::new(Arc::new(client), store, app, vec![contacts], settings);
    Ok(DemoWorld {
        sim,
        engine,
        app_db_path,
        postgres,
    })
}

pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    let temp;
    let dir = match &opts.data_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new().prefix("hubsync-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let _log = crate::logging::to_file(&dir, "hubsync.log")?;
    tracing::info!(dir = %dir.display(), "demo starting");
    // HubSpot's changes reach the demo's engine by webhook, as they would
    // a deployed one: the simulator signs and delivers them to a receiver
    // on loopback.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook_base = format!("http://{}", hook.local_addr()?);
    let world = start_world_on(
        &dir,
        SimSettings {
            latency: opts.latency,
            webhook: Some(WebhookTarget::new(
                format!("{hook_base}{DEMO_HOOK_PATH}"),
                DEMO_CLIENT_SECRET,
            )),
            ..SimSettings::default()
        },
        EngineSettings {
            poll_interval: opts.poll_interval,
            batch_size: opts.batch_size,
            ..EngineSettings::default()
        },
        SyncRules::both(),
        opts.app_db.as_ref(),
    )
    .await?;

    // The demo's engine is hosted like any other: it holds the folder's
    // lock and opens the control sockets, so `hubsync --data-dir DIR` in a
    // second terminal attaches to it.
    let lock = EngineLock::acquire(&dir)?;
    // The demo runs from a real config file in its folder, so its editor
    // (and SIGHUP-style reloads) edit a file as they would in production.
    let app_db = match &world.postgres {
        None => config::DemoApp::Sqlite(&world.app_db_path),
        Some((pg, schema)) => config::DemoApp::Postgres(pg, schema),
    };
    let (path, cfg) = config::write(&dir, &world.sim.base_url(), app_db, opts.poll_interval)?;
    world.engine.reload(cfg.objects.clone()).await?;
    let reload = crate::service::config_reloader(path.clone(), cfg, world.engine.clone());
    let (config_file, config_label) = (Some(path.clone()), path.display().to_string());
    let host = Host::start(
        world.engine.clone(),
        lock,
        HostOptions {
            data_dir: dir.clone(),
            viewer_group: None,
            config_label,
            reload,
            config_file,
        },
    )
    .await?;
    let cancel = host.stop.clone();
    let (events_tx, events_rx) = tokio::sync::mpsc::channel(10_000);
    let receiver = crate::webhook::router(
        crate::webhook::ReceiverConfig {
            client_secret: SecretString::from(DEMO_CLIENT_SECRET),
            public_base: hook_base,
            path: DEMO_HOOK_PATH.into(),
        },
        events_tx,
    );
    let c = cancel.clone();
    tokio::spawn(async move {
        let _ = axum::serve(hook, receiver)
            .with_graceful_shutdown(async move { c.cancelled().await })
            .await;
    });
    tokio::spawn(crate::webhook::intake::feed(
        world.engine.clone(),
        events_rx,
        cancel.clone(),
    ));
    let activity = opts.activity.then(|| {
        let path = world.app_db_path.clone();
        let postgres = world.postgres.clone();
        let sim = world.sim.state().clone();
        let c = cancel.clone();
        tokio::spawn(async move {
            let users = match &postgres {
                None => appdemo::Users::open(&path).map(appdemo::AppUsers::Sqlite),
                Some((pg, schema)) => crate::appdb::postgres::demo::Users::open(pg, schema)
                    .await
                    .map(appdemo::AppUsers::Postgres),
            };
            let run = async { app_activity(&users?, &sim, c).await };
            if let Err(e) = run.await {
                tracing::error!(error = %format!("{e:#}"), "demo app activity stopped");
            }
        })
    });

    let socket = if opts.read_only {
        viewer_socket(&dir)
    } else {
        operator_socket(&dir)
    };
    let result = match ControlClient::connect(&socket).await {
        Ok(client) => {
            console::run(
                ConsoleOptions {
                    read_only: opts.read_only,
                    theme: opts.theme.clone(),
                    title: "hubsync demo".into(),
                    mode: EngineMode::InProcess,
                    settings: Default::default(),
                },
                client,
            )
            .await
        }
        Err(e) => Err(anyhow::anyhow!("attaching the demo's console: {e}")),
    };

    host.stop().await;
    if let Some(a) = activity {
        let _ = a.await;
    }
    world.sim.shutdown().await;
    tracing::info!("demo stopped");
    if opts.data_dir.is_some() {
        println!(
            "hubsync demo: state, app database, log and config ({}) kept in {}",
            config::FILE,
            dir.display()
        );
    }
    if let Some((pg, schema)) = &world.postgres {
        // Like the temp folder: kept only when asked to keep the files.
        if opts.data_dir.is_some() {
            println!(
                "hubsync demo: the app's contacts are kept in {schema}.contacts on {}",
                pg.describe()
            );
        } else if let Err(e) = crate::appdb::postgres::demo::drop(pg, schema).await {
            eprintln!("hubsync demo: {e:#}");
        }
    }
    result
}

/// Edits a random app contact every few seconds and now and then adds one,
/// a few with emails HubSpot will refuse, as an app's users would; and,
/// as HubSpot's users would, edits a contact there now and then.
async fn app_activity(
    users: &appdemo::AppUsers,
    sim: &crate::sim::SimState,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let titles = [
        "Engineer",
        "Support Lead",
        "CTO",
        "Account Manager",
        "Designer",
        "Analyst",
    ];
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(4)) => {}
        }
        n += 1;
        let title = titles[(n as usize) % titles.len()];
        users.retitle_someone(title).await?;
        if n.is_multiple_of(2)
            && let Some(id) = users.someone_linked().await?
        {
            let phone = format!("+1 555 {:04}", n % 10_000);
            sim.set_property(ObjectKind::Contacts, &id, "phone", &phone);
        }
        if n.is_multiple_of(3) {
            let email = if n.is_multiple_of(12) {
                format!("new.signup{n}@example")
            } else {
                format!("new.signup{n}@example.com")
            };
            users.sign_up(&email, &format!("Signup {n}")).await?;
        }
    }
}
