//! What a console draws. The engine keeps one shared snapshot (connections,
//! counts, the queue, the FAILED total), rebuilt only when the state
//! database changed or a connection's status moved, and only while someone
//! is attached; each console adds its own page of FAILED entries, so two
//! consoles never move each other's lists.

use super::{Engine, lock};
use crate::model::Direction;
use crate::model::ObjectKind;
use crate::status::{ConnState, ConnectionStatus, JobProgress, ObjectCounts, Snapshot};
use crate::store::Store;
use chrono::Utc;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// FAILED entries listed per page, unless a console asks for fewer.
pub const FAILED_PAGE: usize = 200;

/// One console's place in the FAILED list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPage {
    /// List the open FAILED entries older than this audit id (`None`: the newest).
    pub before: Option<i64>,
    pub limit: usize,
    /// Only entries whose label, ids, message or category contain this
    /// (as the console's `/` filters the list), matched in the store.
    pub filter: Option<String>,
}

impl Default for FailedPage {
    fn default() -> Self {
        FailedPage {
            before: None,
            limit: FAILED_PAGE,
            filter: None,
        }
    }
}

/// What the state database alone says: links, FAILED entries, jobs. No
/// connection is touched, so `hubsync status` works with no engine running,
/// and without credentials.
pub async fn stored_snapshot(
    store: &Store,
    objects: &[(ObjectKind, Option<u64>)],
    page: FailedPage,
) -> anyhow::Result<Snapshot> {
    let mut s = shared_part(store, objects).await?;
    add_page(store, &mut s, page).await?;
    Ok(s)
}

async fn shared_part(
    store: &Store,
    objects: &[(ObjectKind, Option<u64>)],
) -> anyhow::Result<Snapshot> {
    // One read: counts shown together are of the same moment.
    let o = store
        .overview(objects.iter().map(|(k, _)| *k).collect(), 10)
        .await?;
    let counts = o
        .objects
        .iter()
        .zip(objects)
        .map(|(&(object, linked, failed), &(_, app))| ObjectCounts {
            object,
            hubspot: None,
            app,
            linked,
            failed,
        })
        .collect();
    let now = Utc::now();
    Ok(Snapshot {
        failed_version: store.failed_version(),
        taken_at: Some(now),
        counts,
        progress: o.running.as_ref().and_then(|j| JobProgress::of(j, now)),
        running: o.running,
        queued: o.queued,
        recent: o.recent,
        failed_total: o.failed_total,
        ..Snapshot::default()
    })
}

/// Fills in one console's page of FAILED entries.
pub async fn add_page(store: &Store, s: &mut Snapshot, page: FailedPage) -> anyhow::Result<()> {
    let filter = page
        .filter
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    s.failed_before = page.before;
    s.failed_matches = None;
    let Some(filter) = filter else {
        s.failed = store.open_failures_before(page.before, page.limit).await?;
        s.failed_newer = match page.before {
            Some(id) => store.open_failures_from(id).await?,
            None => 0,
        };
        return Ok(());
    };
    let found = store.search_failed(filter, page.before, page.limit).await?;
    s.failed = found.entries;
    s.failed_newer = found.newer;
    s.failed_matches = Some(found.matches);
    Ok(())
}

impl Engine {
    /// Re-reads the counts that cost a call: records in HubSpot and in the app.
    pub async fn refresh_counts(&self) {
        let mut hubspot = HashMap::new();
        let mut app = HashMap::new();
        let mut app_error = None;
        let mut app_time = Duration::ZERO;
        for o in self.objects().iter() {
            let kind = o.mapping.object;
            match self.client.count(kind).await {
                Ok(n) => {
                    hubspot.insert(kind, n);
                }
                Err(e) => tracing::warn!(object = %kind, error = %e, "counting HubSpot records"),
            }
            let t = Instant::now();
            match self.app.count(&o.mapping).await {
                Ok(n) => {
                    app.insert(kind, n);
                }
                Err(e) => app_error = Some(format!("{e:#}")),
            }
            app_time += t.elapsed();
        }
        let mut c = lock(&self.cached);
        // A fresh count includes what was created before it.
        let mut created = lock(&self.created);
        for k in hubspot.keys() {
            created.remove(&(*k, Direction::ToHubSpot));
        }
        for k in app.keys() {
            created.remove(&(*k, Direction::ToApp));
        }
        drop(created);
        c.hubspot.extend(hubspot);
        c.app.extend(app);
        let target = self.app.describe();
        c.app_status = Some(match app_error {
            None => ConnectionStatus {
                name: "App DB".into(),
                target,
                state: ConnState::Connected,
                latency_ms: Some(app_time.as_millis() as u64),
                budget: None,
                last_error: None,
            },
            Some(e) => ConnectionStatus {
                name: "App DB".into(),
                target,
                state: ConnState::Down,
                latency_ms: None,
                budget: None,
                last_error: Some(e),
            },
        });
    }

    fn app_status(&self) -> ConnectionStatus {
        lock(&self.cached)
            .app_status
            .clone()
            .unwrap_or_else(|| ConnectionStatus {
                name: "App DB".into(),
                target: self.app.describe(),
                state: ConnState::Connecting,
                latency_ms: None,
                budget: None,
                last_error: None,
            })
    }

    /// The connections' status now: in memory, cheap to ask often.
    pub fn connections(&self) -> Vec<ConnectionStatus> {
        vec![self.client.connection_status(), self.app_status()]
    }

    /// The part of the snapshot every console shares, read from the store now.
    pub async fn shared_snapshot(&self) -> anyhow::Result<Snapshot> {
        let mut s = {
            let objects: Vec<(ObjectKind, Option<u64>)> = self
                .objects()
                .iter()
                .map(|o| (o.mapping.object, None))
                .collect();
            shared_part(&self.store, &objects).await?
        };
        // The counts that cost a call are as of their last refresh, plus
        // the records this engine created since: mid-sync, HubSpot's count
        // keeps up with the links instead of lagging a whole pass behind.
        let cached = lock(&self.cached).clone();
        let created = lock(&self.created).clone();
        let since = |k: ObjectKind, d: Direction| created.get(&(k, d)).copied().unwrap_or(0);
        for c in &mut s.counts {
            c.hubspot = cached
                .hubspot
                .get(&c.object)
                .map(|n| n + since(c.object, Direction::ToHubSpot));
            c.app = cached
                .app
                .get(&c.object)
                .map(|n| n + since(c.object, Direction::ToApp));
        }
        s.connections = self.connections();
        Ok(s)
    }

    /// A whole snapshot with the newest page of FAILED entries (tests, status).
    pub async fn snapshot(&self) -> anyhow::Result<Snapshot> {
        self.snapshot_at(FailedPage::default()).await
    }

    /// A whole snapshot with this page of FAILED entries.
    pub async fn snapshot_at(&self, page: FailedPage) -> anyhow::Result<Snapshot> {
        let mut s = self.shared_snapshot().await?;
        add_page(&self.store, &mut s, page).await?;
        Ok(s)
    }
}
