//! The plots' data over the protocol: the engine's last hour a minute at a
//! time, kept by the engine, so a console attaching after the sync sees it.

use super::world::{BROKEN, World};
use serde_json::Value;

#[tokio::test]
async fn a_console_attaching_after_the_first_sync_sees_its_throughput_errors_and_budget() {
    let w = World::settled().await;
    let mut v = w.viewer().await;
    let m = v.ok("metrics", Value::Null).await;
    let minutes = m["minutes"].as_array().unwrap_or_else(|| panic!("{m}"));
    assert_eq!(minutes.len(), 60, "{m}");
    let at: Vec<chrono::DateTime<chrono::Utc>> = minutes
        .iter()
        .map(|b| b["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        at.windows(2)
            .all(|p| p[1] - p[0] == chrono::Duration::minutes(1)),
        "one entry a minute, oldest first: {at:?}"
    );
    let synced: u64 = minutes
        .iter()
        .flat_map(|b| b["synced"].as_array().unwrap())
        .filter(|f| f["object"] == "contacts")
        .map(|f| f["records"].as_u64().unwrap())
        .sum();
    let errors: u64 = minutes.iter().map(|b| b["errors"].as_u64().unwrap()).sum();
    // Twelve app contacts, four refused: eight synced, two of them by
    // linking the contacts HubSpot already held.
    assert_eq!(errors, BROKEN as u64, "{m}");
    assert!(synced >= 8, "{synced} synced: {m}");
    // The budget is sampled every few seconds from HubSpot's last answer.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let sampled = loop {
        let m = v.ok("metrics", Value::Null).await;
        let last = m["minutes"][59].clone();
        if last["window_max"].is_u64() || std::time::Instant::now() > deadline {
            break last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let (used, max) = (
        sampled["window_used"].as_u64(),
        sampled["window_max"].as_u64(),
    );
    assert!(
        matches!((used, max), (Some(u), Some(x)) if u <= x && x > 0),
        "no budget sample: {sampled}"
    );
    assert!(m["running"].is_null(), "{m}");
}
