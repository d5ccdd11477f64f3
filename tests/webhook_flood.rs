//! A flood of webhook events through the real `hubsync run`: 2,000 events
//! (most for records HubSpot no longer has) become a few batched jobs, not
//! 2,000 single reads, so an app edit made right after still reaches
//! HubSpot within a normal poll, and events for records that are gone
//! fail nothing.

use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::webhook::signature;
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::free_port;
use support::webhook_run::{self, Run, until};

mod support;

const TOKEN: &str = "pat-flood";
const SECRET: &str = "whsec-flood";

/// `hubsync run` syncing two app contacts both ways, polling every second,
/// its receiver at `hook` on `port`.
fn run(dir: &Path, sim: &SimServer, port: u16, hook: &str) -> Run {
    webhook_run::start(
        dir,
        sim,
        webhook_run::Options {
            token: TOKEN,
            secret: SECRET,
            secret_env: "HUBSYNC_TEST_FLOOD_SECRET",
            port,
            hook,
            both_ways: true,
            open_files: None,
        },
    )
}

/// Webhook jobs by state.
fn webhook_jobs(data: &Path) -> Vec<(String, i64)> {
    let Ok(conn) = rusqlite::Connection::open(data.join("state.db")) else {
        return vec![];
    };
    let Ok(mut stmt) =
        conn.prepare("SELECT state, COUNT(*) FROM jobs WHERE kind = 'webhook' GROUP BY state")
    else {
        return vec![];
    };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// Posts one signed delivery of `events` to the receiver.
async fn deliver(http: &reqwest::Client, hook: &str, events: &[serde_json::Value]) {
    let body = serde_json::to_vec(events).unwrap();
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let sig = signature::v3(SECRET, "POST", hook, &body, &ts);
    let r = http
        .post(hook)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_webhook_events_then_an_app_edit_reaches_hubspot_within_a_normal_poll() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    // HubSpot's Free/Starter burst limit: 100 requests per 10 s.
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap();
    let mut run = run(dir.path(), &sim, port, &hook);
    let data = run.data.clone();
    until("the first sync", Duration::from_secs(30), &mut run, || {
        sim.state().count(ObjectKind::Contacts) == 2
    })
    .await;
    let (ada, _) = sim.state().find_by_email("ada@example.com").unwrap();
    let (grace, _) = sim.state().find_by_email("grace@example.com").unwrap();

    // 2,000 events in 20 deliveries: the two real contacts, named again
    // and again, and 1,990 records deleted in HubSpot since.
    let http = reqwest::Client::new();
    for d in 0..20u64 {
        let events: Vec<serde_json::Value> = (0..100u64)
            .map(|i| {
                let n = d * 100 + i;
                let object_id: u64 = match n % 200 {
                    0 => ada.parse().unwrap(),
                    1 => grace.parse().unwrap(),
                    _ => 900_000 + n,
                };
                json!({
                    "eventId": n, "subscriptionId": 1, "portalId": 62515, "appId": 1,
                    "occurredAt": chrono::Utc::now().timestamp_millis(),
                    "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
                    "objectId": object_id, "propertyName": "firstname",
                    "propertyValue": "x", "changeSource": "CRM_UI"
                })
            })
            .collect();
        deliver(&http, &hook, &events).await;
    }

    // An app edit right after the flood reaches HubSpot as a poll would
    // bring it: 2,000 single reads at 100 per 10 s would take 200 s.
    let app = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    app.execute(
        "UPDATE contacts SET job_title = 'Analyst', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE email = 'ada@example.com'",
        [],
    )
    .unwrap();
    let edited = Instant::now();
    until(
        "the app edit reaching HubSpot after 2,000 events",
        Duration::from_secs(30),
        &mut run,
        || {
            sim.state()
                .get(ObjectKind::Contacts, &ada)
                .is_some_and(|p| p.get("jobtitle").is_some_and(|t| t == "Analyst"))
        },
    )
    .await;
    println!(
        "after 2,000 events the app edit reached HubSpot in {:?}",
        edited.elapsed()
    );

    until(
        "every webhook job finished",
        Duration::from_secs(60),
        &mut run,
        || {
            let jobs = webhook_jobs(&data);
            !jobs.is_empty()
                && jobs
                    .iter()
                    .all(|(state, _)| state == "succeeded" || state == "failed")
        },
    )
    .await;
    let jobs = webhook_jobs(&data);
    let count = |s: &str| jobs.iter().find(|(st, _)| st == s).map_or(0, |j| j.1);
    println!("webhook jobs for 2,000 events: {jobs:?}");
    assert_eq!(
        count("failed"),
        0,
        "events for deleted records FAILED jobs: {jobs:?}"
    );
    assert!(
        count("succeeded") <= 20,
        "one job per burst, not per event: {jobs:?}"
    );
}
