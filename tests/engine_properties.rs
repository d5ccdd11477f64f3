//! The engine and HubSpot's property list (issue 10): `hubsync run`
//! refuses a config the validators refuse, at start and on reload, and a
//! write HubSpot refuses for a property it no longer has makes the
//! editor's cached list be fetched again. On the real binary against the
//! simulator, a property removed through HubSpot's properties API.

mod support;

use hubsync::control::ControlClient;
use serde_json::{Value, json};
use std::time::Duration;
use support::{TOKEN, World};

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The contacts property list `config_source` offers, and when it was
/// fetched.
async fn offered(c: &ControlClient) -> (Vec<String>, String) {
    let s = c
        .request("config_source", json!({"object": "contacts"}))
        .await
        .unwrap();
    let p: &Value = &s["objects"][0]["properties"];
    let names = p["list"]
        .as_array()
        .unwrap_or_else(|| panic!("{s:#}"))
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect();
    (names, p["fetched_at"].as_str().unwrap().to_string())
}

#[test]
fn run_refuses_to_start_on_a_mapping_to_a_property_hubspot_does_not_have() {
    let w = World::start(2, 0);
    w.write_fields(&[("email", "email", None), ("job_title", "jobtitel", None)]);
    let mut engine = w.run();
    let status = engine.wait_exit(Duration::from_secs(20));
    assert!(!status.success(), "hubsync run exited {status}");
    let err = engine.stderr();
    assert!(
        err.contains("HubSpot has no contacts property jobtitel; the nearest are jobtitle"),
        "{err}"
    );
    assert!(err.contains("hubsync.toml"), "names the file: {err}");
}

#[test]
fn run_refuses_to_start_on_a_read_only_property() {
    let w = World::start(1, 0);
    w.write_fields(&[("email", "email", None), ("job_title", "createdate", None)]);
    let mut engine = w.run();
    let status = engine.wait_exit(Duration::from_secs(20));
    assert!(!status.success(), "hubsync run exited {status}");
    let err = engine.stderr();
    assert!(
        err.contains("createdate") && err.contains("read-only"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_onto_an_unknown_property_is_refused_and_the_running_config_stays() {
    let w = World::start(1, 0);
    w.write_config(&["email", "first_name", "last_name", "job_title"]);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    eventually("the contact in HubSpot", async || {
        w.hubspot_total().await == 1
    })
    .await;
    let good = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        good.replacen("hubspot = \"jobtitle\"", "hubspot = \"jobtitel\"", 1),
    )
    .unwrap();
    engine.signal("HUP");
    support::wait_until("the refusal in the log", Duration::from_secs(10), || {
        w.log().contains("config reload refused")
    });
    assert!(
        w.log()
            .contains("HubSpot has no contacts property jobtitel"),
        "{}",
        w.log()
    );
    w.app()
        .execute(
            "UPDATE contacts SET job_title = 'CTO' WHERE email = 'person0@example.com'",
            [],
        )
        .unwrap();
    eventually(
        "the title in jobtitle, as the running config says",
        async || {
            w.hubspot_property("person0@example.com", "jobtitle")
                .await
                .as_deref()
                == Some("CTO")
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_refused_for_a_removed_property_fetches_the_property_list_again() {
    let w = World::start(2, 0);
    w.write_config(&["email", "first_name", "last_name", "job_title"]);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    eventually("both contacts in HubSpot", async || {
        w.hubspot_total().await == 2
    })
    .await;
    let c = ControlClient::connect(&w.data.join("control.sock"))
        .await
        .unwrap();
    let (names, first_fetch) = offered(&c).await;
    assert!(names.iter().any(|n| n == "jobtitle"), "{names:?}");

    // Someone removes the property in HubSpot while the sync maps it.
    let archived = reqwest::Client::new()
        .delete(format!("{}/crm/v3/properties/contacts/jobtitle", w.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status().as_u16(), 204);
    let (names, fetched) = offered(&c).await;
    assert_eq!(
        (names.iter().any(|n| n == "jobtitle"), fetched.as_str()),
        (true, first_fetch.as_str()),
        "nothing refused yet: the list is the one fetched before"
    );

    w.app()
        .execute(
            "UPDATE contacts SET job_title = 'CTO' WHERE email = 'person0@example.com'",
            [],
        )
        .unwrap();
    eventually("the refused write", async || {
        let h = c
            .request(
                "record_history",
                json!({"object": "contacts", "app_id": "1"}),
            )
            .await
            .unwrap();
        let h = serde_json::to_string(&h).unwrap();
        h.contains("FAILED") && h.contains("does not exist")
    })
    .await;
    let (names, fetched) = offered(&c).await;
    assert!(
        !names.iter().any(|n| n == "jobtitle"),
        "the list is HubSpot's new one: {names:?}"
    );
    assert!(names.iter().any(|n| n == "city"), "{names:?}");
    let at = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
    assert!(
        at(&fetched) > at(&first_fetch),
        "fetched again: {first_fetch} then {fetched}"
    );
}
