//! The engine against the HubSpot simulator over real loopback HTTP, with a
//! real SQLite app database built from the demo fixtures.

use hubsync::demo::{self, APP_FIXTURE, HUBSPOT_FIXTURE};
use hubsync::engine::{EngineSettings, FAILED_PAGE, FailedPage};
use hubsync::model::{ObjectKind, email_key};
use hubsync::sim::SimSettings;
use hubsync::status::{AuditAction, AuditStatus, Command, JobKind};
use std::collections::{HashMap, HashSet};

/// The fixture emails HubSpot must refuse, listed here rather than derived
/// from the code under test.
const INVALID: [&str; 6] = [
    "maria.garcia@example",
    "li.wei@@example.com",
    "john smith@example.com",
    "olga.petrova.example.com",
    "sam.okafor@example.c0m",
    "ken.tanaka@example.com,",
];

/// The fixture row whose email another row already has (row 12's, in
/// another case and with spaces): it fails as a duplicate, not as invalid.
const DUPLICATE: &str = "  DENNIS.TURING11@HOOLI.EXAMPLE ";

/// The labels of open failures in one category.
fn labels_in<'a>(failed: &'a [hubsync::status::AuditView], category: &str) -> HashSet<&'a str> {
    failed
        .iter()
        .filter(|a| a.category.as_deref() == Some(category))
        .map(|a| a.label.as_str())
        .collect()
}

struct Fixture {
    /// Normalised emails of app rows that should end up in HubSpot.
    valid_keys: HashSet<String>,
    hubspot_seed_keys: HashSet<String>,
}

fn fixture() -> Fixture {
    let app: Vec<serde_json::Value> = serde_json::from_str(APP_FIXTURE).unwrap();
    let valid_keys = app
        .iter()
        .filter_map(|r| r["email"].as_str())
        .filter(|e| !e.trim().is_empty() && !INVALID.contains(e))
        .map(email_key)
        .collect();
    let seed: serde_json::Value = serde_json::from_str(HUBSPOT_FIXTURE).unwrap();
    let hubspot_seed_keys = seed["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| email_key(c["email"].as_str().unwrap()))
        .collect();
    Fixture {
        valid_keys,
        hubspot_seed_keys,
    }
}

async fn world(dir: &std::path::Path) -> demo::DemoWorld {
    world_with(dir, SimSettings::default()).await
}

/// A demo world after its first full sync.
async fn synced_world(dir: &std::path::Path) -> demo::DemoWorld {
    let w = world(dir).await;
    w.engine.bootstrap().await.unwrap();
    w.engine.run_until_idle().await.unwrap();
    w
}

async fn world_with(dir: &std::path::Path, sim: SimSettings) -> demo::DemoWorld {
    let settings = EngineSettings {
        batch_size: 100,
        ..EngineSettings::default()
    };
    demo::start_world(dir, sim, settings)
        .await
        .expect("demo world starts")
}

/// app id → (email, hubspot_id) for every app row.
fn app_rows(w: &demo::DemoWorld) -> HashMap<i64, (Option<String>, Option<String>)> {
    let conn = rusqlite::Connection::open(&w.app_db_path).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, email, hubspot_id FROM contacts")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_valid_contact_ends_linked_to_exactly_one_hubspot_contact() {
    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    let f = fixture();
    w.engine.bootstrap().await.unwrap();
    w.engine.run_until_idle().await.unwrap();

    let rows = app_rows(&w);
    let mut seen_hubspot_ids = HashMap::new();
    for key in &f.valid_keys {
        let (hs_id, _) = w
            .sim
            .state()
            .find_by_email(key)
            .unwrap_or_else(|| panic!("{key} is not in HubSpot"));
        let holders: Vec<_> = rows
            .iter()
            .filter(|(_, (_, h))| h.as_deref() == Some(hs_id.as_str()))
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "{key}: HubSpot {hs_id} is written back to app rows {holders:?}"
        );
        assert!(seen_hubspot_ids.insert(hs_id, key).is_none());
    }
    // The seed's contacts plus one per valid app email HubSpot did not have.
    let expected =
        f.hubspot_seed_keys.len() + f.valid_keys.difference(&f.hubspot_seed_keys).count();
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), expected);
    assert_eq!(
        w.engine
            .store()
            .link_count(ObjectKind::Contacts)
            .await
            .unwrap() as usize,
        f.valid_keys.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_emails_are_failed_with_hubspots_category_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;

    let failed = w.engine.store().open_failures(100).await.unwrap();
    assert_eq!(
        labels_in(&failed, "VALIDATION_ERROR"),
        INVALID.iter().copied().collect::<HashSet<_>>()
    );
    assert_eq!(
        labels_in(&failed, "DUPLICATE_KEY"),
        HashSet::from([DUPLICATE])
    );
    assert_eq!(failed.len(), INVALID.len() + 1, "{failed:?}");
    for a in failed.iter().filter(|a| a.label != DUPLICATE) {
        assert_eq!(
            (a.action, a.status),
            (AuditAction::Create, AuditStatus::Failed)
        );
        assert_eq!(a.category.as_deref(), Some("VALIDATION_ERROR"), "{a:?}");
        let msg = a.message.as_deref().unwrap_or("");
        assert!(
            msg.contains("INVALID_EMAIL") && msg.contains("is invalid"),
            "{msg}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pass_over_every_record_creates_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;
    let contacts = w.sim.state().count(ObjectKind::Contacts);

    // Touch every row so the next pass reads all of them again.
    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second')",
            [],
        )
        .unwrap();
    w.engine
        .handle(
            Command::SyncNow {
                object: ObjectKind::Contacts,
            },
            None,
        )
        .await
        .unwrap();
    w.engine.run_until_idle().await.unwrap();

    assert_eq!(w.sim.state().count(ObjectKind::Contacts), contacts);
    let last = w.engine.store().recent_jobs(1).await.unwrap().remove(0);
    assert_eq!(last.done, 1000, "the second pass read every row");
    let outcomes = w
        .engine
        .store()
        .audit_counts_for_job(last.id)
        .await
        .unwrap();
    let wrote: u64 = outcomes
        .iter()
        .filter(|(k, _)| {
            k.starts_with("create SUCCESS") || k.starts_with("update") || k.starts_with("link")
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(wrote, 0, "second pass outcomes: {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_record_fixed_in_the_app_and_retried_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;
    let entry = w
        .engine
        .store()
        .open_failures(100)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.label == "maria.garcia@example")
        .expect("maria's invalid email failed");

    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET email = 'maria.garcia@example.com' WHERE id = ?1",
            rusqlite::params![entry.app_id],
        )
        .unwrap();
    w.engine
        .handle(Command::Retry { audit_id: entry.id }, None)
        .await
        .unwrap();
    // Run only the retry job: the poll that would also pick up the fix is not due yet.
    assert!(w.engine.run_next_due().await.unwrap());

    let history = w
        .engine
        .store()
        .record_history(ObjectKind::Contacts, &entry.app_id)
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.status, last.attempt),
        (AuditStatus::Success, 2),
        "{history:?}"
    );
    let (hs_id, _) = w
        .sim
        .state()
        .find_by_email("maria.garcia@example.com")
        .expect("created in HubSpot");
    assert_eq!(last.hubspot_id.as_deref(), Some(hs_id.as_str()));
    assert!(
        !w.engine
            .store()
            .open_failures(100)
            .await
            .unwrap()
            .iter()
            .any(|a| a.app_id == entry.app_id)
    );
    let job = w.engine.store().job(last.job_id).await.unwrap().unwrap();
    assert_eq!(
        (job.kind, job.done, job.succeeded, job.failed),
        (JobKind::RetryRecord, 1, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_409_links_the_existing_contact_and_writes_the_app_values() {
    use hubsync::sync::execute::{Executor, Records};
    use hubsync::sync::mapping::ObjectMapping;
    use hubsync::sync::plan::Decision;

    let dir = tempfile::tempdir().unwrap();
    let w = world(dir.path()).await;
    // A contact that both sides hold, as if HubSpot got it between our
    // lookup and our create: the plan says create, HubSpot says 409.
    let f = fixture();
    let key = f
        .valid_keys
        .intersection(&f.hubspot_seed_keys)
        .min()
        .unwrap()
        .clone();
    let (existing, _) = w.sim.state().find_by_email(&key).unwrap();
    let app_id: i64 = rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .query_row(
            &format!("SELECT id FROM contacts WHERE lower(trim(email)) = '{key}'"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET job_title = 'Chief Synchroniser' WHERE id = ?1",
            rusqlite::params![app_id],
        )
        .unwrap();
    let mapping = ObjectMapping::demo_contacts();
    let rec = w
        .engine
        .app()
        .get(&mapping, &app_id.to_string())
        .await
        .unwrap()
        .unwrap();
    let before = w.sim.state().count(ObjectKind::Contacts);

    let exec = Executor::new(
        w.engine.client(),
        w.engine.store(),
        w.engine.app(),
        &mapping,
        1,
    );
    let properties: std::collections::BTreeMap<String, String> = mapping
        .to_hubspot(&rec)
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let app_records = HashMap::from([(rec.id.clone(), rec.clone())]);
    let hubspot_records = HashMap::new();
    let records = Records {
        app: &app_records,
        hubspot: &hubspot_records,
    };
    let tally = exec
        .run(
            &records,
            vec![Decision::CreateInHubSpot {
                app_id: rec.id.clone(),
                memory: properties.clone(),
                properties,
            }],
        )
        .await
        .unwrap();

    assert_eq!((tally.succeeded, tally.failed), (1, 0));
    assert_eq!(
        w.sim.state().count(ObjectKind::Contacts),
        before,
        "nothing duplicated"
    );
    let links = w
        .engine
        .store()
        .links_for(ObjectKind::Contacts, std::slice::from_ref(&rec.id))
        .await
        .unwrap();
    assert_eq!(links.get(&rec.id), Some(&existing));
    let props = w.sim.state().get(ObjectKind::Contacts, &existing).unwrap();
    assert_eq!(
        props.get("jobtitle").map(String::as_str),
        Some("Chief Synchroniser")
    );
    let last = w
        .engine
        .store()
        .record_history(ObjectKind::Contacts, &rec.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (last.action, last.status),
        (AuditAction::Link, AuditStatus::Success)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_hubspot_rejects_whole_batches_the_bad_inputs_are_isolated_and_the_rest_written() {
    let dir = tempfile::tempdir().unwrap();
    // Every batch holding an invalid email is refused whole (400), trace ids or not.
    let w = world_with(
        dir.path(),
        SimSettings {
            partial_batches: false,
            ..SimSettings::default()
        },
    )
    .await;
    let f = fixture();
    w.engine.bootstrap().await.unwrap();
    w.engine.run_until_idle().await.unwrap();

    let failed = w.engine.store().open_failures(100).await.unwrap();
    assert_eq!(
        labels_in(&failed, "VALIDATION_ERROR"),
        INVALID.iter().copied().collect::<HashSet<_>>()
    );
    assert_eq!(
        labels_in(&failed, "DUPLICATE_KEY"),
        HashSet::from([DUPLICATE])
    );
    for key in &f.valid_keys {
        assert!(
            w.sim.state().find_by_email(key).is_some(),
            "{key} was not written"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_a_category_is_one_job_that_retries_every_failed_record_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;
    let before: Vec<i64> = w
        .engine
        .store()
        .open_failures(100)
        .await
        .unwrap()
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(before.len(), 7, "six invalid emails and one duplicate");
    let outcome = w
        .engine
        .handle(
            Command::RetryCategory {
                category: "VALIDATION_ERROR".into(),
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(outcome.jobs.len(), 1, "{outcome:?}");
    w.engine.run_until_idle().await.unwrap();
    let job = w
        .engine
        .store()
        .job(outcome.jobs[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.done, job.total, job.failed), (6, 6, 6), "{job:?}");
    let after = w.engine.store().open_failures(100).await.unwrap();
    assert_eq!(after.len(), 7, "still invalid, so FAILED again");
    let retried: Vec<_> = after
        .iter()
        .filter(|a| a.category.as_deref() == Some("VALIDATION_ERROR"))
        .collect();
    assert_eq!(retried.len(), 6);
    assert!(
        retried
            .iter()
            .all(|a| a.attempt == 2 && !before.contains(&a.id)),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dismissed_failure_leaves_the_list_and_its_history_stays() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;
    let entry = w.engine.store().open_failures(1).await.unwrap().remove(0);
    let outcome = w
        .engine
        .handle(Command::Dismiss { audit_id: entry.id }, None)
        .await
        .unwrap();
    assert_eq!(w.engine.store().open_failure_count(None).await.unwrap(), 6);
    assert_eq!(
        w.engine
            .store()
            .record_history(ObjectKind::Contacts, &entry.app_id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(outcome.notice.contains("dismissed"), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_wait_when_the_daily_budget_falls_below_the_reserve() {
    let dir = tempfile::tempdir().unwrap();
    // The first pass spends about 30 of 60 daily calls; the reserve is 60%.
    let sim = SimSettings {
        daily_limit: 60,
        ..SimSettings::default()
    };
    let settings = EngineSettings {
        batch_size: 100,
        daily_reserve: 0.6,
        ..EngineSettings::default()
    };
    let w = demo::start_world(dir.path(), sim, settings).await.unwrap();
    w.engine.bootstrap().await.unwrap();
    assert!(w.engine.run_next_due().await.unwrap(), "the backfill runs");
    let calls = w.sim.state().request_count();

    let mut events = w.engine.events();
    w.engine
        .handle(
            Command::SyncNow {
                object: ObjectKind::Contacts,
            },
            None,
        )
        .await
        .unwrap();
    assert!(w.engine.run_next_due().await.unwrap());
    assert_eq!(
        w.sim.state().request_count(),
        calls + 1,
        "one call to refresh the budget, no pass"
    );
    let waiting = w.engine.store().queued_jobs(5).await.unwrap().remove(0);
    assert_eq!(waiting.state, hubsync::status::JobState::Retrying);
    assert!(waiting.error.unwrap().contains("reserve"));
    assert!(waiting.run_after > chrono::Utc::now() + chrono::Duration::minutes(10));
    match events.try_recv() {
        Ok(hubsync::engine::EngineEvent::Notice { text, warning }) => {
            assert!(text.contains("daily API calls left"), "{text}");
            assert!(warning);
        }
        other => panic!("no notice to the consoles: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failed_list_is_read_a_page_at_a_time_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let w = synced_world(dir.path()).await;
    let newest: Vec<i64> = w
        .engine
        .snapshot()
        .await
        .unwrap()
        .failed
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(newest.len(), 7, "six invalid emails and one duplicate");
    let s = w
        .engine
        .snapshot_at(FailedPage {
            before: Some(newest[2]),
            limit: FAILED_PAGE,
            filter: None,
        })
        .await
        .unwrap();
    assert_eq!(
        s.failed.iter().map(|a| a.id).collect::<Vec<_>>(),
        newest[3..].to_vec()
    );
    assert_eq!(
        (s.failed_before, s.failed_newer, s.failed_total),
        (Some(newest[2]), 3, 7)
    );
    assert_eq!(w.engine.snapshot().await.unwrap().failed.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_a_clean_stop_cuts_short_is_queued_again_not_left_running() {
    let dir = tempfile::tempdir().unwrap();
    // Slow answers keep the first backfill running while the stop comes.
    let sim = SimSettings {
        latency: std::time::Duration::from_millis(200),
        ..SimSettings::default()
    };
    let settings = EngineSettings {
        batch_size: 10,
        ..EngineSettings::default()
    };
    let w = demo::start_world(dir.path(), sim, settings).await.unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let handle = w.engine.spawn(cancel.clone()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while w.engine.store().running_job().await.unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no job started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    cancel.cancel();
    handle.join().await;
    assert_eq!(w.engine.store().running_job().await.unwrap(), None);
    let queued = w.engine.store().queued_jobs(10).await.unwrap();
    let cut = queued
        .iter()
        .find(|j| j.kind == JobKind::Backfill)
        .expect("the backfill waits for the next start");
    assert!(
        cut.error.as_deref().unwrap_or("").contains("clean stop"),
        "{cut:?}"
    );
}
