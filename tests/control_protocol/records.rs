//! Finding any record and telling its whole story, and an operator's fix
//! then retry, through the protocol (`audit_page`, a filtered
//! `failed_page`, `records_search`, `record_view`, `set_app_field`), on
//! both app databases where the app is involved.

use super::backends::{Kind, kinds, postgres_url};
use super::client::{Client, failed_ids};
use super::world::{BROKEN, Setup, World};
use rusqlite::Connection;
use serde_json::{Value, json};
use std::time::Duration;

/// The set-ups to run on: SQLite, and PostgreSQL when configured.
fn setups(test: &str, extra_config: &str) -> Vec<(Kind, Setup)> {
    kinds(test)
        .into_iter()
        .map(|k| {
            let postgres = (k == Kind::Postgres).then(|| postgres_url(test).unwrap());
            (
                k,
                Setup {
                    postgres,
                    extra_config: extra_config.to_string(),
                },
            )
        })
        .collect()
}

/// The FAILED entry of the contact with this email.
fn failed_of<'a>(snapshot: &'a Value, email: &str) -> &'a Value {
    snapshot["failed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == email)
        .unwrap_or_else(|| panic!("no FAILED entry for {email}: {snapshot}"))
}

async fn view(c: &mut Client, app_id: &str) -> Value {
    c.ok(
        "record_view",
        json!({ "object": "contacts", "app_id": app_id }),
    )
    .await
}

fn field<'a>(view: &'a Value, app_column: &str) -> &'a Value {
    view["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["app_columns"][0] == app_column)
        .unwrap_or_else(|| panic!("no field {app_column}: {view}"))
}

#[tokio::test]
async fn a_filtered_failed_page_lists_only_the_open_failures_that_match() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let s = c.ok("failed_page", json!({ "filter": "BROKEN2@" })).await;
    let labels: Vec<&str> = s["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["broken2@example"], "{s}");
    assert_eq!(s["failed_total"], json!(BROKEN), "the total is of all: {s}");
    // HubSpot's message is searched too: every broken email has one.
    let s = c.ok("failed_page", json!({ "filter": "invalid" })).await;
    assert_eq!(failed_ids(&s).len(), BROKEN, "{s}");
}

#[tokio::test]
async fn audit_page_finds_entries_by_part_of_an_email_and_pages_on_without_repeats() {
    let w = World::settled().await;
    let mut c = w.viewer().await;
    let first = c
        .ok("audit_page", json!({ "filter": "user", "limit": 3 }))
        .await;
    let entries = first["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{first}");
    assert_eq!(first["more"], true, "{first}");
    let last = entries[2]["id"].as_i64().unwrap();
    let second = c
        .ok(
            "audit_page",
            json!({ "filter": "user", "limit": 200, "before": last }),
        )
        .await;
    let mut ids: Vec<i64> = entries
        .iter()
        .chain(second["entries"].as_array().unwrap())
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    for e in second["entries"].as_array().unwrap() {
        assert!(e["label"].as_str().unwrap().contains("user"), "{e}");
    }
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "no entry twice: {ids:?}");
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first: {ids:?}");
    // Eight contacts have a user… email; each has at least its sync.
    assert!(n >= 12 - BROKEN, "{n} entries");
}

#[tokio::test]
async fn a_search_over_a_large_audit_log_returns_exactly_the_matching_rows() {
    let w = World::settled().await;
    // 50,000 more entries, written as any SQLite client would while the
    // engine runs; the index's triggers keep up.
    {
        let mut conn = Connection::open(w.data.join("state.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(30)).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action,
                                        status, attempt, label, open)
                     VALUES ('2026-01-01T00:00:00.000Z', 1, 'contacts', 'to_hubspot', ?1, ?2,
                             'update', 'SUCCESS', 1, ?3, 0)",
                )
                .unwrap();
            for i in 0..50_000 {
                stmt.execute(rusqlite::params![
                    format!("bulk{i}"),
                    format!("{}", 7_000_000 + i),
                    format!("person{i}@bulk.example.org"),
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let mut c = w.operator().await;
    let one = c
        .ok("audit_page", json!({ "filter": "person31337@" }))
        .await;
    let entries = one["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{one}");
    assert_eq!(entries[0]["app_id"], "bulk31337", "{one}");
    // By the HubSpot id, exactly.
    let by_id = c.ok("audit_page", json!({ "filter": "7012345" })).await;
    let ids: Vec<&str> = by_id["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hubspot_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["7012345"], "{by_id}");
    // A text every bulk row holds: a full page, the newest rows first.
    let page = c
        .ok(
            "audit_page",
            json!({ "filter": "bulk.example", "limit": 5 }),
        )
        .await;
    let apps: Vec<&str> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["app_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        apps,
        [
            "bulk49999",
            "bulk49998",
            "bulk49997",
            "bulk49996",
            "bulk49995"
        ]
    );
    assert_eq!(page["more"], true);
}

#[tokio::test]
async fn records_search_finds_a_record_by_part_of_its_email_and_by_its_hubspot_id() {
    for (kind, setup) in setups("records_search", "") {
        let w = World::settled_with(setup).await;
        let mut c = w.viewer().await;
        let found = c
            .ok(
                "records_search",
                json!({ "object": "contacts", "query": "USER7@exa" }),
            )
            .await;
        let records = found["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{kind:?}: {found}");
        let r = &records[0];
        assert_eq!(r["app_id"], "8", "{kind:?}: {found}");
        assert_eq!(r["label"], "user7@example.com", "{kind:?}: {found}");
        assert_eq!(r["linked"], true, "{kind:?}: {found}");
        let hubspot_id = r["hubspot_id"].as_str().unwrap().to_string();

        let by_id = c
            .ok(
                "records_search",
                json!({ "object": "contacts", "query": hubspot_id }),
            )
            .await;
        let r = &by_id["records"][0];
        assert_eq!(r["app_id"], "8", "{kind:?}: {by_id}");
        assert!(
            r["found_in"].as_array().unwrap().contains(&json!("link")),
            "{kind:?}: {by_id}"
        );
        // A broken record is found too, though never synced.
        let broken = c
            .ok(
                "records_search",
                json!({ "object": "contacts", "query": "broken3" }),
            )
            .await;
        assert_eq!(broken["records"][0]["app_id"], "4", "{kind:?}: {broken}");
        assert_eq!(broken["records"][0]["linked"], false, "{kind:?}: {broken}");
    }
}

#[tokio::test]
async fn a_failed_records_view_shows_its_attempt_its_app_values_and_the_create_a_sync_would_try() {
    for (kind, setup) in setups("record_view_failed", "") {
        let w = World::settled_with(setup).await;
        let mut c = w.viewer().await;
        let v = view(&mut c, "1").await;
        assert_eq!(v["label"], "broken0@example", "{kind:?}: {v}");
        let attempts = v["attempts"].as_array().unwrap();
        assert_eq!(attempts[0]["status"], "FAILED", "{kind:?}: {v}");
        assert!(
            attempts[0]["message"]
                .as_str()
                .unwrap()
                .contains("broken0@example"),
            "HubSpot's message: {kind:?}: {v}"
        );
        assert_eq!(
            attempts[0]["diff"]["email"], "broken0@example",
            "the fields it tried to write: {kind:?}: {v}"
        );
        assert_eq!(v["app"]["state"], "read", "{kind:?}: {v}");
        assert_eq!(
            v["hubspot"]["state"], "unknown",
            "never created: {kind:?}: {v}"
        );
        assert!(v["link"].is_null(), "{kind:?}: {v}");
        assert_eq!(
            field(&v, "email")["app"],
            json!(["broken0@example"]),
            "{kind:?}"
        );
        let planned = &v["dry_run"]["planned"][0];
        assert_eq!(planned["action"], "create_in_hubspot", "{kind:?}: {v}");
        assert_eq!(
            planned["to_hubspot"]["email"], "broken0@example",
            "{kind:?}: {v}"
        );
    }
}

#[tokio::test]
async fn a_linked_records_view_sets_both_sides_beside_the_links_memory() {
    let w = World::settled().await;
    let mut c = w.viewer().await;
    // user5 was in HubSpot already, with a job title the app does not map.
    let v = view(&mut c, "6").await;
    assert_eq!(v["hubspot"]["state"], "read", "{v}");
    let email = field(&v, "email");
    assert_eq!(email["app"], json!(["user5@example.com"]), "{v}");
    assert_eq!(email["hubspot"], json!(["user5@example.com"]), "{v}");
    assert_eq!(email["memory"], json!(["user5@example.com"]), "{v}");
    assert_eq!(email["changed"], "neither", "{v}");
    assert_eq!(v["link"]["hubspot_id"], v["hubspot_id"], "{v}");
    let planned = &v["dry_run"]["planned"][0];
    assert_eq!(planned["to_hubspot"], json!({}), "nothing to write: {v}");
    assert_eq!(planned["to_app"], json!({}), "nothing to write: {v}");
}

#[tokio::test]
async fn an_operator_fixes_a_failed_email_retries_and_the_record_syncs() {
    for (kind, setup) in setups("fix_and_retry", "") {
        let w = World::settled_with(setup).await;
        let mut c = w.operator().await;
        let s = c.ok("subscribe", json!({})).await;
        let failed_id = failed_of(&s, "broken1@example")["id"].clone();

        let edited = c
            .ok(
                "set_app_field",
                json!({ "object": "contacts", "app_id": "2", "field": "email", "value": "fixed1@example.com" }),
            )
            .await;
        assert_eq!(edited["old"], "broken1@example", "{kind:?}: {edited}");
        assert_eq!(
            w.app_value(2, "email").await.as_deref(),
            Some("fixed1@example.com"),
            "{kind:?}"
        );
        let retry = c.ok("retry", json!({ "audit_id": failed_id })).await;
        let job = retry["jobs"][0].clone();
        let done = c.event("notice", |d| d["job_id"] == job).await;
        assert!(
            done["text"].as_str().unwrap().contains("SUCCESS"),
            "{kind:?}: {done}"
        );

        let v = view(&mut c, "2").await;
        let attempts: Vec<(&str, &str)> = v["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["action"].as_str().unwrap(), a["status"].as_str().unwrap()))
            .collect();
        assert_eq!(attempts.len(), 3, "{kind:?}: {v}");
        assert_eq!(attempts[0].1, "SUCCESS", "{kind:?}: {v}");
        assert_eq!(attempts[1], ("edited", "SUCCESS"), "{kind:?}: {v}");
        assert_eq!(attempts[2].1, "FAILED", "{kind:?}: {v}");
        let edit = &v["attempts"][1];
        assert_eq!(edit["operator"], json!(super::world::os_user()), "{kind:?}");
        assert_eq!(
            edit["message"],
            format!(
                "email changed from \"broken1@example\" to \"fixed1@example.com\" by {}",
                super::world::os_user()
            ),
            "{kind:?}"
        );
        let email = field(&v, "email");
        assert_eq!(
            email["hubspot"],
            json!(["fixed1@example.com"]),
            "{kind:?}: {v}"
        );
        assert_eq!(email["equal"], true, "{kind:?}: {v}");
        let s = c.ok("status", Value::Null).await;
        assert_eq!(s["failed_total"], json!(BROKEN - 1), "{kind:?}: {s}");
    }
}

#[tokio::test]
async fn a_viewer_may_not_set_an_app_field_and_nothing_is_written() {
    for (kind, setup) in setups("viewer_set_app_field", "") {
        let w = World::settled_with(setup).await;
        let before = w.state();
        let mut c = w.viewer().await;
        let code = c
            .refused(
                "set_app_field",
                json!({ "object": "contacts", "app_id": "1", "field": "email", "value": "x@example.com" }),
            )
            .await;
        assert_eq!(code, "forbidden", "{kind:?}");
        assert_eq!(
            w.app_value(1, "email").await.as_deref(),
            Some("broken0@example"),
            "{kind:?}"
        );
        assert_eq!(w.state(), before, "{kind:?}: nothing audited");
    }
}

#[tokio::test]
async fn an_unmapped_column_or_hubsyncs_own_is_refused_naming_the_mapped_ones() {
    let w = World::settled().await;
    let before = w.state();
    let mut c = w.operator().await;
    for column in ["phone", "hubspot_id", "updated_at"] {
        let reply = c
            .call(
                "set_app_field",
                json!({ "object": "contacts", "app_id": "1", "field": column, "value": "1" }),
            )
            .await;
        assert_eq!(reply["error"]["code"], "failed", "{column}: {reply}");
        let msg = reply["error"]["message"].as_str().unwrap();
        assert!(msg.contains(column), "{msg}");
        assert!(
            msg.contains("email, first_name, last_name"),
            "names the mapped columns: {msg}"
        );
    }
    let reply = c
        .call(
            "set_app_field",
            json!({ "object": "contacts", "app_id": "999", "field": "email", "value": "a@b.co" }),
        )
        .await;
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("999"),
        "{reply}"
    );
    assert_eq!(w.state(), before, "nothing audited");
}

#[tokio::test]
async fn a_skipped_records_view_names_the_filter_and_the_value_that_excluded_it() {
    let filter = r#"
[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "last_name", op = "is_none_of", value = ["Last10", "Last11"] } ]
"#;
    for (kind, setup) in setups("skipped_by_filter", filter) {
        let w = World::settled_with(setup).await;
        let mut c = w.viewer().await;
        let v = view(&mut c, "11").await;
        let why = &v["skipped_by"][0];
        assert_eq!(why["direction"], "to_hubspot", "{kind:?}: {v}");
        assert_eq!(why["field"], "last_name", "{kind:?}: {v}");
        assert_eq!(why["value"], "Last10", "{kind:?}: {v}");
        assert_eq!(
            why["explanation"], r#"last_name = "Last10" is one of ["Last10", "Last11"]"#,
            "{kind:?}: {v}"
        );
        assert_eq!(
            v["dry_run"]["planned"][0]["action"], "skip",
            "{kind:?}: {v}"
        );
    }
}

#[tokio::test]
async fn a_record_view_of_an_unknown_object_or_without_an_id_says_what_is_wrong() {
    let w = World::settled().await;
    let mut c = w.viewer().await;
    let reply = c
        .call("record_view", json!({ "object": "deals", "app_id": "1" }))
        .await;
    let msg = reply["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("deals is not synced") && msg.contains("contacts"),
        "{msg}"
    );
    let code = c
        .refused("record_view", json!({ "object": "contacts" }))
        .await;
    assert_eq!(code, "invalid_params");
}
