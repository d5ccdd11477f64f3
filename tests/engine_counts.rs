//! The counts a console shows together agree with each other mid-sync, and
//! a two-way pass's progress counts the records of both sides; through the
//! real engine, simulator and a SQLite app database (the demo world). The
//! plots' hour outlives a restart of the real binary.

mod support;

use hubsync::demo;
use hubsync::engine::EngineSettings;
use hubsync::model::ObjectKind;
use hubsync::sim::SimSettings;
use hubsync::status::{JobKind, Snapshot};
use hubsync::sync::pass::{Pass, Progress, Scope};
use hubsync::sync::rules::SyncRules;
use std::sync::{Arc, Mutex};

async fn world(dir: &std::path::Path, rules: SyncRules) -> demo::DemoWorld {
    let settings = EngineSettings {
        batch_size: 20,
        ..EngineSettings::default()
    };
    let sim = SimSettings {
        latency: std::time::Duration::from_millis(5),
        ..SimSettings::default()
    };
    demo::start_world_with(dir, sim, settings, rules)
        .await
        .expect("demo world starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mid_sync_hubspot_holds_every_linked_record_and_failed_agrees_with_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path(), SyncRules::to_hubspot()).await;
    w.engine.bootstrap().await.unwrap();
    w.engine.refresh_counts().await;
    let seen: Arc<Mutex<Vec<Snapshot>>> = Arc::default();
    let engine = w.engine.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (seen, done) = (seen.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let s = engine.shared_snapshot().await.unwrap();
                seen.lock().unwrap().push(s);
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
        })
    };
    w.engine.run_until_idle().await.unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.await.unwrap();

    let seen = seen.lock().unwrap();
    let mid: Vec<&Snapshot> = seen
        .iter()
        .filter(|s| {
            s.running
                .as_ref()
                .is_some_and(|j| j.kind == JobKind::Backfill)
        })
        .collect();
    assert!(mid.len() > 3, "only {} snapshots mid-sync", mid.len());
    assert!(
        mid.iter()
            .any(|s| s.counts[0].linked > 0 && s.counts[0].failed > 0),
        "no snapshot caught the sync under way"
    );
    for s in &mid {
        let c = &s.counts[0];
        let job = s.running.as_ref().unwrap();
        let hubspot = c.hubspot.expect("counted before the pass");
        assert!(
            hubspot >= c.linked,
            "linked {} with {hubspot} in HubSpot",
            c.linked
        );
        // Every open failure is this first job's: both say the same.
        assert_eq!(
            c.failed, job.failed,
            "FAILED {} while the job says ✗{}",
            c.failed, job.failed
        );
        assert_eq!(s.failed_total, c.failed);
        assert!(job.done >= job.succeeded + job.failed, "{job:?}");
        if let Some(p) = &s.progress {
            assert_eq!(p.job_id, job.id);
            assert!(p.rate_per_s > 0.0, "{p:?}");
        }
    }
    assert!(
        mid.iter()
            .any(|s| s.progress.as_ref().is_some_and(|p| p.eta_s.is_some()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_way_pass_counts_the_changes_of_both_sides_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path(), SyncRules::both()).await;
    w.engine.bootstrap().await.unwrap();
    w.engine.run_until_idle().await.unwrap();

    let app = rusqlite::Connection::open(&w.app_db_path).unwrap();
    let changed_app = app
        .execute(
            "UPDATE contacts SET first_name = first_name || ' (app)'
             WHERE id IN (SELECT id FROM contacts WHERE hubspot_id IS NOT NULL ORDER BY id LIMIT 3)",
            [],
        )
        .unwrap();
    assert_eq!(changed_app, 3);
    let others: Vec<String> = app
        .prepare(
            "SELECT hubspot_id FROM contacts WHERE hubspot_id IS NOT NULL ORDER BY id DESC LIMIT 4",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for id in &others {
        w.sim
            .state()
            .set_property(ObjectKind::Contacts, id, "jobtitle", "Changed in HubSpot");
    }

    let object = w.engine.object(ObjectKind::Contacts).unwrap();
    let pass = Pass {
        client: w.engine.client(),
        store: w.engine.store(),
        app: w.engine.app(),
        mapping: &object.mapping,
        rules: &object.rules,
        batch_size: 1,
        job_id: 0,
    };
    let mut reports: Vec<Progress> = Vec::new();
    let end = pass.run(Scope::Changes, |p| reports.push(p)).await.unwrap();
    let both = (changed_app + others.len()) as u64;
    assert!(end.done >= both, "{end:?}");
    let first = reports.first().unwrap();
    assert!(
        first.total >= both,
        "the first report counts {} records, of {both} changed on both sides",
        first.total
    );
    // While the app's rows are written (one a batch), HubSpot's are
    // already in the total.
    for p in reports
        .iter()
        .filter(|p| p.done > 0 && p.done <= changed_app as u64)
    {
        assert!(p.total >= both, "{p:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plots_last_hour_outlives_a_restart_of_the_engine() {
    let w = support::World::start(5, 1);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    support::wait_until(
        "five contacts in HubSpot",
        std::time::Duration::from_secs(30),
        || {
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(w.hubspot_total())
            }) == 5
        },
    );
    engine.signal("TERM");
    engine.wait_exit(std::time::Duration::from_secs(20));

    let mut again = w.run();
    w.wait_for_engine(&mut again);
    let c = hubsync::control::ControlClient::connect(&w.data.join("control.sock"))
        .await
        .unwrap();
    let m = c.request("metrics", serde_json::Value::Null).await.unwrap();
    let minutes = m["minutes"].as_array().unwrap();
    let synced: u64 = minutes
        .iter()
        .flat_map(|b| b["synced"].as_array().cloned().unwrap_or_default())
        .filter(|f| f["object"] == "contacts" && f["direction"] == "to_hubspot")
        .map(|f| f["records"].as_u64().unwrap())
        .sum();
    let errors: u64 = minutes.iter().map(|b| b["errors"].as_u64().unwrap()).sum();
    assert_eq!(
        synced, 5,
        "the first run's five records, read back from the audit log"
    );
    assert_eq!(errors, 1, "and its one refused email");
}
