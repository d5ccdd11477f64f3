//! The config editor's engine side (issue 10), on the real binary: a
//! `hubsync run` over a simulator and a SQLite app database, driven over
//! the control socket as a console would.

mod support;

use hubsync::control::ControlClient;
use serde_json::{Value, json};
use std::time::Duration;
use support::World;

async fn operator(w: &World) -> ControlClient {
    ControlClient::connect(&w.data.join("control.sock"))
        .await
        .unwrap()
}

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

/// A running engine on `n` contacts, all linked; `internal` of them
/// (person0, person1, …) have company "Internal".
async fn engine_with(n: usize, internal: usize) -> (World, support::Proc, ControlClient) {
    let w = World::start(n, 0);
    w.write_config(&["email", "first_name", "last_name", "company", "job_title"]);
    {
        let app = w.app();
        for i in 0..internal {
            app.execute(
                "UPDATE contacts SET company = 'Internal' WHERE email = ?1",
                [format!("person{i}@example.com")],
            )
            .unwrap();
        }
    }
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    eventually("every contact in HubSpot", async || {
        w.hubspot_total().await == n as u64
    })
    .await;
    let c = operator(&w).await;
    (w, engine, c)
}

const FILTER: &str = "\n[[objects.contacts.filter_groups]]\ndirection = \"to_hubspot\"\nfilters = [ { field = \"company\", op = \"is_none_of\", value = [\"Internal\"] } ]\n";

async fn source(c: &ControlClient) -> (String, String) {
    let s = c
        .request("config_source", json!({"object": "contacts"}))
        .await
        .unwrap();
    (
        s["text"].as_str().unwrap().to_string(),
        s["hash"].as_str().unwrap().to_string(),
    )
}

fn app_rows(w: &World) -> Vec<(String, Option<String>, Option<String>)> {
    let app = w.app();
    let mut stmt = app
        .prepare("SELECT email, company, updated_at FROM contacts ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_has_the_file_the_tables_columns_and_hubspots_properties() {
    let (w, _engine, c) = engine_with(2, 0).await;
    let s = c
        .request("config_source", json!({"object": "contacts"}))
        .await
        .unwrap();
    assert_eq!(
        s["text"].as_str().unwrap(),
        std::fs::read_to_string(&w.config).unwrap()
    );
    assert!(
        s["section"]
            .as_str()
            .unwrap()
            .starts_with("[objects.contacts]")
    );
    let o = &s["objects"][0];
    let columns: Vec<&str> = o["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        columns.contains(&"job_title") && columns.contains(&"updated_at"),
        "{columns:?}"
    );
    let props: Vec<&str> = o["properties"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        props.contains(&"jobtitle") && props.contains(&"city"),
        "{props:?}"
    );
    assert!(o["properties"]["fetched_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_that_excludes_three_known_records_previews_three_and_writes_nothing() {
    let (w, _engine, c) = engine_with(10, 3).await;
    let (text, _) = source(&c).await;
    let before_rows = app_rows(&w);
    let p = c
        .request("config_preview", json!({"toml": format!("{text}{FILTER}"), "record": {"object": "contacts", "app_id": "1"}}))
        .await
        .unwrap();
    assert_eq!(p["ok"], json!(true), "{p:#}");
    let counts = &p["preview"]["objects"][0]["to_hubspot"];
    assert_eq!(
        (
            counts["total"].as_u64(),
            counts["before"].as_u64(),
            counts["after"].as_u64(),
            counts["newly_excluded"].as_u64()
        ),
        (Some(10), Some(10), Some(7), Some(3)),
        "{p:#}"
    );
    assert_eq!(
        p["preview"]["objects"][0]["linked"]["to_hubspot_records"],
        json!(0),
        "a filter alone writes no linked field: {p:#}"
    );
    let record = &p["preview"]["record"];
    assert_eq!(
        (
            record["eligible_before"].as_bool(),
            record["eligible_after"].as_bool()
        ),
        (Some(true), Some(false)),
        "{record:#}"
    );
    assert!(
        record["excluded_by"]
            .as_str()
            .unwrap()
            .contains("company is_none_of [Internal]"),
        "{record:#}"
    );
    assert_eq!(
        app_rows(&w),
        before_rows,
        "the preview wrote to the app database"
    );
    // HubSpot's search is rate-limited (the preview searched too): asked
    // until it answers, it must still hold the ten, no more.
    eventually("HubSpot's total", async || w.hubspot_total().await == 10).await;
    assert_eq!(
        std::fs::read_to_string(&w.config).unwrap(),
        text,
        "the preview wrote the file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_change_previews_the_records_and_fields_it_would_write() {
    let (w, _engine, c) = engine_with(6, 0).await;
    // Two contacts get a job title, which syncs to jobtitle.
    w.app()
        .execute("UPDATE contacts SET job_title = 'CTO' WHERE email IN ('person0@example.com', 'person1@example.com')", [])
        .unwrap();
    eventually("the titles in HubSpot", async || {
        w.hubspot_property("person1@example.com", "jobtitle")
            .await
            .as_deref()
            == Some("CTO")
    })
    .await;
    let (text, _) = source(&c).await;
    let moved = text.replacen("hubspot = \"jobtitle\"", "hubspot = \"city\"", 1);
    assert_ne!(moved, text);
    let p = c
        .request("config_preview", json!({"toml": moved}))
        .await
        .unwrap();
    let counts = &p["preview"]["objects"][0]["to_hubspot"];
    assert_eq!(
        (
            counts["total"].as_u64(),
            counts["before"].as_u64(),
            counts["after"].as_u64()
        ),
        (Some(6), Some(6), Some(6)),
        "no filter: every row either way: {p:#}"
    );
    let linked = &p["preview"]["objects"][0]["linked"];
    assert_eq!(linked["source"], json!("link memory"));
    assert_eq!(linked["to_hubspot_records"], json!(2), "{linked:#}");
    assert_eq!(
        linked["to_hubspot_fields"],
        json!({"city": 2}),
        "{linked:#}"
    );
    assert_eq!(
        w.hubspot_property("person0@example.com", "city").await,
        None,
        "the preview wrote to HubSpot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_save_after_an_outside_change_is_refused_with_the_difference() {
    let (w, _engine, c) = engine_with(1, 0).await;
    let (text, base) = source(&c).await;
    std::fs::write(
        &w.config,
        text.replacen("poll_interval_secs = 1", "poll_interval_secs = 2", 1),
    )
    .unwrap();
    let e = c
        .request(
            "config_apply",
            json!({"toml": format!("{text}{FILTER}"), "base": base}),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("changed on disk since this console loaded it"),
        "{e}"
    );
    assert!(
        e.contains("-poll_interval_secs = 1\n+poll_interval_secs = 2"),
        "{e}"
    );
    assert!(
        !std::fs::read_to_string(&w.config)
            .unwrap()
            .contains("filter_groups")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_filter_audits_the_linked_records_it_excludes_and_keeps_the_history() {
    let (w, _engine, c) = engine_with(5, 2).await;
    let (text, base) = source(&c).await;
    let new = format!("{text}{FILTER}");
    let r = c
        .request("config_apply", json!({"toml": new, "base": base}))
        .await
        .unwrap();
    assert_eq!(r["skipped"], json!(2), "{r:#}");
    assert_eq!(std::fs::read_to_string(&w.config).unwrap(), new);
    let h = c
        .request(
            "record_history",
            json!({"object": "contacts", "app_id": "1"}),
        )
        .await
        .unwrap();
    let entries = serde_json::to_string(&h).unwrap();
    assert!(entries.contains("SKIPPED"), "{entries}");
    assert!(
        entries.contains("company is_none_of [Internal]"),
        "names the filter: {entries}"
    );

    let list = c.request("config_history", json!({})).await.unwrap();
    let versions = list["versions"].as_array().unwrap();
    assert_eq!(
        versions.len(),
        2,
        "the file as it was, then the change: {list:#}"
    );
    let user = c.welcome.user.clone();
    assert_eq!(versions[0]["operator"], json!(user));
    assert!(
        versions[0]["diff"]
            .as_str()
            .unwrap()
            .contains("+[[objects.contacts.filter_groups]]")
    );
    let first = c
        .request("config_get", json!({"id": versions[1]["id"]}))
        .await
        .unwrap();
    assert_eq!(first["text"].as_str().unwrap(), text);

    // Reverting is the same apply of the old text.
    let r = c
        .request("config_apply", json!({"toml": text, "base": r["hash"]}))
        .await
        .unwrap();
    assert!(
        r["notice"].as_str().unwrap().contains("config reloaded"),
        "{r:#}"
    );
    assert_eq!(std::fs::read_to_string(&w.config).unwrap(), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_to_app_filter_audits_the_linked_records_it_excludes_on_the_to_app_side() {
    let (_w, _engine, c) = engine_with(5, 2).await;
    let (text, base) = source(&c).await;
    let to_app = FILTER.replace("\"to_hubspot\"", "\"to_app\"");
    let r = c
        .request(
            "config_apply",
            json!({"toml": format!("{text}{to_app}"), "base": base}),
        )
        .await
        .unwrap();
    assert_eq!(r["skipped"], json!(2), "{r:#}");
    let h = c
        .request(
            "record_history",
            json!({"object": "contacts", "app_id": "1"}),
        )
        .await
        .unwrap();
    let skipped: Vec<&Value> = h
        .as_array()
        .unwrap_or_else(|| panic!("{h:#}"))
        .iter()
        .filter(|e| e["status"] == json!("SKIPPED"))
        .collect();
    assert_eq!(skipped.len(), 1, "{h:#}");
    assert_eq!(skipped[0]["direction"], json!("to_app"), "{h:#}");
    let message = skipped[0]["message"].as_str().unwrap();
    assert!(
        message.contains("company is_none_of [Internal]"),
        "names the filter: {message}"
    );
    let outside = c
        .request(
            "record_history",
            json!({"object": "contacts", "app_id": "3"}),
        )
        .await
        .unwrap();
    assert!(
        !serde_json::to_string(&outside).unwrap().contains("SKIPPED"),
        "an Acme contact is still admitted: {outside:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_with_problems_is_refused_and_nothing_is_written() {
    let (w, _engine, c) = engine_with(1, 0).await;
    let (text, base) = source(&c).await;
    let bad = text.replacen("hubspot = \"jobtitle\"", "hubspot = \"jobtitel\"", 1);
    let p = c
        .request("config_preview", json!({"toml": bad}))
        .await
        .unwrap();
    assert_eq!(p["ok"], json!(false));
    let problem: &Value = &p["problems"][0];
    assert_eq!(
        (problem["entry"].as_str(), problem["field"].as_str()),
        (Some("fields[4]"), Some("hubspot")),
        "{p:#}"
    );
    let e = c
        .request("config_apply", json!({"toml": bad, "base": base}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("HubSpot has no contacts property jobtitel; the nearest are jobtitle"),
        "{e}"
    );
    assert_eq!(std::fs::read_to_string(&w.config).unwrap(), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_may_preview_but_not_save() {
    let (w, _engine, c) = engine_with(1, 0).await;
    let (text, base) = source(&c).await;
    let viewer = ControlClient::connect(&w.data.join("viewer.sock"))
        .await
        .unwrap();
    let p = viewer
        .request("config_preview", json!({"toml": text}))
        .await
        .unwrap();
    assert_eq!(p["ok"], json!(true));
    let e = viewer
        .request("config_apply", json!({"toml": text, "base": base}))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("config_apply changes data, and this console is attached read-only"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_picks_up_a_mapping_moved_to_another_property() {
    let (w, engine, _c) = engine_with(2, 0).await;
    let text = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        text.replacen("hubspot = \"jobtitle\"", "hubspot = \"city\"", 1),
    )
    .unwrap();
    engine.signal("HUP");
    support::wait_until("the reload in the log", Duration::from_secs(10), || {
        w.log().contains("config reloaded")
    });
    w.app()
        .execute(
            "UPDATE contacts SET job_title = 'CTO' WHERE email = 'person0@example.com'",
            [],
        )
        .unwrap();
    eventually("job_title in city", async || {
        w.hubspot_property("person0@example.com", "city")
            .await
            .as_deref()
            == Some("CTO")
    })
    .await;
    assert_eq!(
        w.hubspot_property("person0@example.com", "jobtitle").await,
        None,
        "the old mapping still wrote"
    );
}
