//! The engine: one per data folder. It runs due jobs one at a time, takes
//! operators' commands, and tells whoever is attached what it is doing.
//!
//! The engine never touches a terminal. Consoles and `hubsync status` reach
//! it through the control sockets (`crate::control`), which call
//! [`Engine::handle`] for commands and subscribe to its snapshots and
//! [`EngineEvent`]s. Its configuration can be replaced while it runs
//! ([`Engine::reload`]); the next job uses the new one.
//!
//! Its pieces: `scheduler` (the queue and the worker), `commands` (what an
//! operator may ask), `snapshot` (what a console draws), `lock` (one engine
//! per data folder), `run` (the tasks and how they stop).

mod commands;
mod config_check;
mod exclusions;
pub mod lock;
pub mod metrics;
mod preview;
pub mod records;
mod retry_records;
mod run;
mod scheduler;
mod snapshot;
mod triage;

pub use commands::Outcome;
pub use preview::Preview;
pub use run::EngineHandle;
pub use snapshot::{FAILED_PAGE, FailedPage, add_page, stored_snapshot};

use crate::appdb::AppDb;
use crate::hubspot::HubSpotClient;
use crate::model::ObjectKind;
use crate::store::Store;
use crate::sync::rules::ObjectSync;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Time between the end of one poll and the start of the next.
    pub poll_interval: Duration,
    /// Records per page and per HubSpot batch (at most 100).
    pub batch_size: usize,
    /// Attempts of a job before it is FAILED, for transient errors.
    pub max_job_attempts: u32,
    /// First delay before a job is retried; doubles per attempt.
    pub job_backoff: Duration,
    /// The audit log keeps at most this many entries…
    pub audit_max_rows: u64,
    /// …none older than this (open FAILED entries excepted).
    pub audit_max_age: Duration,
    /// Share of the portal's daily API budget left to other apps: passes
    /// wait while less than this is left (HubSpot reports the budget to
    /// private-app tokens only).
    pub daily_reserve: f64,
    /// Time between walks over every link that find deleted and merged
    /// records (the change feeds do not report deletions).
    pub scan_interval: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            poll_interval: Duration::from_secs(30),
            batch_size: 100,
            max_job_attempts: 5,
            job_backoff: Duration::from_secs(5),
            audit_max_rows: 2_000_000,
            audit_max_age: Duration::from_secs(90 * 24 * 3600),
            daily_reserve: 0.1,
            scan_interval: Duration::from_secs(3600),
        }
    }
}

/// Something attached consoles should hear about as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// A line for every console: a pause, a reload, a refusal.
    Notice { text: String, warning: bool },
    /// A job finished; the console that asked for it shows `text`.
    JobFinished { job_id: i64, text: String },
}

/// Counts that cost a query or an HTTP call, refreshed after each pass.
#[derive(Debug, Default, Clone)]
struct Cached {
    hubspot: HashMap<ObjectKind, u64>,
    app: HashMap<ObjectKind, u64>,
    app_status: Option<crate::status::ConnectionStatus>,
}

pub struct Engine {
    client: Arc<HubSpotClient>,
    store: Store,
    app: AppDb,
    /// Replaced whole by a reload; each job takes the current one.
    objects: RwLock<Arc<Vec<ObjectSync>>>,
    settings: EngineSettings,
    cached: Mutex<Cached>,
    /// Records created on each side since its count was last read, per
    /// object (`to_hubspot`: created in HubSpot).
    created: Arc<Mutex<HashMap<(ObjectKind, crate::model::Direction), u64>>>,
    /// The plots' last hour.
    metrics: Arc<metrics::Metrics>,
    /// When the plots started counting audit entries as they are written:
    /// the ones before are read back from the log (`run`).
    started_at: chrono::DateTime<chrono::Utc>,
    /// Retry jobs someone waits on: job id → record label.
    watched: Mutex<HashMap<i64, String>>,
    events: broadcast::Sender<EngineEvent>,
    wake: Notify,
    /// HubSpot ids webhook events named, per object, waiting for that
    /// object's one webhook job (see `scheduler`).
    webhook_ids: Mutex<HashMap<ObjectKind, std::collections::BTreeSet<String>>>,
    /// Objects whose HubSpot property list is out of date, since a write
    /// was refused naming a property HubSpot does not have: property →
    /// the refusal. The editor fetches such a list again.
    stale_properties: Arc<Mutex<HashMap<ObjectKind, String>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    pub fn new(
        client: Arc<HubSpotClient>,
        store: Store,
        app: AppDb,
        objects: Vec<ObjectSync>,
        settings: EngineSettings,
    ) -> Arc<Engine> {
        let metrics = Arc::new(metrics::Metrics::default());
        let started_at = chrono::Utc::now();
        let created: Arc<Mutex<HashMap<_, u64>>> = Arc::default();
        let stale_properties: Arc<Mutex<HashMap<ObjectKind, String>>> = Arc::default();
        let events = broadcast::channel(256).0;
        {
            let (metrics, created) = (metrics.clone(), created.clone());
            let (stale, events) = (stale_properties.clone(), events.clone());
            store.observe_audit(Box::new(move |e| {
                stale_property(&stale, &events, e);
                metrics.count(e.object, e.direction, e.status, chrono::Utc::now());
                if e.action == crate::status::AuditAction::Create
                    && e.status == crate::status::AuditStatus::Success
                {
                    *lock(&created).entry((e.object, e.direction)).or_default() += 1;
                }
            }));
        }
        Arc::new(Engine {
            created,
            metrics,
            started_at,
            client,
            store,
            app,
            objects: RwLock::new(Arc::new(objects)),
            settings,
            cached: Mutex::new(Cached::default()),
            watched: Mutex::new(HashMap::new()),
            events,
            stale_properties,
            wake: Notify::new(),
            webhook_ids: Mutex::new(HashMap::new()),
        })
    }

    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn app(&self) -> &AppDb {
        &self.app
    }

    pub fn client(&self) -> &HubSpotClient {
        &self.client
    }

    /// The objects synced now (a reload swaps the whole list).
    pub fn objects(&self) -> Arc<Vec<ObjectSync>> {
        self.objects
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The configuration of a synced object.
    pub fn object(&self, kind: ObjectKind) -> Option<ObjectSync> {
        self.objects()
            .iter()
            .find(|o| o.mapping.object == kind)
            .cloned()
    }

    /// Events as they happen, for one subscriber.
    pub fn events(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }

    fn notice(&self, text: String, warning: bool) {
        let _ = self.events.send(EngineEvent::Notice { text, warning });
    }

    /// Applies a new set of objects from the next job on. The caller has
    /// validated the file; the app tables are checked here, and a refusal
    /// keeps the running configuration.
    pub async fn reload(&self, objects: Vec<ObjectSync>) -> anyhow::Result<()> {
        for o in &objects {
            self.app
                .verify(&o.mapping)
                .await
                .map_err(|e| anyhow::anyhow!("[objects.{}]: {e:#}", o.mapping.object))?;
        }
        let names: Vec<String> = objects
            .iter()
            .map(|o| o.mapping.object.to_string())
            .collect();
        *self.objects.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(objects);
        for o in self.objects().iter() {
            self.schedule_pass(o, Duration::ZERO).await?;
        }
        self.wake.notify_one();
        tracing::info!(objects = ?names, "configuration reloaded");
        Ok(())
    }

    /// Whether a write was refused for a property HubSpot does not have
    /// since the last call for `object`: the refusal, once.
    pub fn take_stale_properties(&self, object: ObjectKind) -> Option<String> {
        lock(&self.stale_properties).remove(&object)
    }

    /// Tells consoles about a reload's outcome.
    pub fn announce(&self, text: String, warning: bool) {
        self.notice(text, warning);
    }
}

/// Marks the object's property list stale when HubSpot refused a write for
/// an unknown property (someone removed or renamed it in HubSpot), and
/// says so once to the consoles.
fn stale_property(
    stale: &Mutex<HashMap<ObjectKind, String>>,
    events: &broadcast::Sender<EngineEvent>,
    e: &crate::store::NewAudit,
) {
    if e.status != crate::status::AuditStatus::Failed {
        return;
    }
    let Some(message) = &e.message else { return };
    let (code, property) = crate::hubspot::error::error_detail(message);
    if code.as_deref() != Some("PROPERTY_DOESNT_EXIST") {
        return;
    }
    let property = property.unwrap_or_else(|| "a mapped property".into());
    let text = format!(
        "HubSpot refused a {} write: property {property} does not exist; its property list will be fetched again",
        e.object
    );
    if lock(stale).insert(e.object, text.clone()).is_none() {
        let _ = events.send(EngineEvent::Notice {
            text,
            warning: true,
        });
    }
}
