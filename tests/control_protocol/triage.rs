//! Triage by cause over the protocol: open FAILED entries grouped by error
//! class with a fix hint, and a class or a selection retried as one job
//! with one summary, against the real engine and simulator.

use super::client::{WAIT, failed_ids};
use super::world::{BROKEN, World, os_user};
use rusqlite::Connection;
use serde_json::{Value, json};
use std::time::Duration;

fn invalid_email() -> Value {
    json!({ "category": "VALIDATION_ERROR", "sub_category": "INVALID_EMAIL", "property": "email" })
}

/// Gives the first `n` broken contacts an address HubSpot accepts.
fn fix_emails(w: &World, n: usize) {
    let conn = Connection::open(w.data.parent().unwrap().join("app.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    for i in 0..n {
        conn.execute(
            "UPDATE contacts SET email = ?1 WHERE email = ?2",
            [
                format!("fixed{i}@example.com"),
                format!("broken{i}@example"),
            ],
        )
        .unwrap();
    }
}

fn jobs_of_kind(status: &Value, kind: &str) -> Vec<Value> {
    ["running", "queued", "recent"]
        .iter()
        .flat_map(|k| match &status[*k] {
            Value::Array(a) => a.clone(),
            Value::Null => vec![],
            one => vec![one.clone()],
        })
        .filter(|j| j["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn invalid_emails_are_one_class_with_counts_times_and_a_fix_the_value_hint() {
    let w = World::settled().await;
    let mut c = w.viewer().await;
    let r = c.ok("failed_groups", Value::Null).await;
    let groups = r["groups"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(groups.len(), 1, "{r}");
    let g = &groups[0];
    assert_eq!(g["class"], invalid_email(), "{g}");
    assert_eq!(g["count"], json!(BROKEN), "{g}");
    assert_eq!(r["total"], json!(BROKEN), "{r}");
    let first: chrono::DateTime<chrono::Utc> = g["first_seen"].as_str().unwrap().parse().unwrap();
    let last: chrono::DateTime<chrono::Utc> = g["last_seen"].as_str().unwrap().parse().unwrap();
    assert!(first <= last, "{g}");
    let hint = g["hint"].as_str().unwrap_or_else(|| panic!("no hint: {g}"));
    assert!(hint.starts_with("fix the value"), "{hint}");
}

#[tokio::test]
async fn a_class_lists_its_own_entries_a_page_at_a_time() {
    let w = World::settled().await;
    let mut c = w.viewer().await;
    let page = c
        .ok(
            "failed_in_class",
            json!({ "class": invalid_email(), "limit": 3 }),
        )
        .await;
    let ids: Vec<i64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{page}");
    assert!(ids.windows(2).all(|p| p[0] > p[1]), "newest first: {ids:?}");
    let rest = c
        .ok(
            "failed_in_class",
            json!({ "class": invalid_email(), "before": ids[2] }),
        )
        .await;
    assert_eq!(
        rest["entries"].as_array().unwrap().len(),
        BROKEN - 3,
        "{rest}"
    );
    let other = json!({ "category": "VALIDATION_ERROR", "sub_category": "INVALID_EMAIL", "property": "phone" });
    let none = c.ok("failed_in_class", json!({ "class": other })).await;
    assert_eq!(none["entries"], json!([]), "{none}");
    assert_eq!(
        c.refused("failed_in_class", json!({ "klass": invalid_email() }))
            .await,
        "invalid_params"
    );
}

#[tokio::test]
async fn retrying_a_class_is_one_job_with_one_summary_for_the_console_that_asked() {
    let w = World::settled().await;
    fix_emails(&w, 2);
    let mut asker = w.operator().await;
    let mut other = w.operator().await;
    asker.ok("subscribe", Value::Null).await;
    other.ok("subscribe", Value::Null).await;

    let r = asker
        .ok("retry_class", json!({ "class": invalid_email() }))
        .await;
    let jobs = r["jobs"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(jobs.len(), 1, "one job, not one per record: {r}");
    let job = jobs[0].clone();
    let notice = asker
        .event_within("notice", WAIT * 3, |d| d["job_id"] == job)
        .await
        .unwrap_or_else(|| panic!("no summary of job {job}"));
    assert_eq!(
        notice["text"],
        json!(format!(
            "{BROKEN} retried: 2 SUCCESS, {} FAILED",
            BROKEN - 2
        )),
        "{notice}"
    );
    let leaked = other
        .event_within("notice", Duration::from_secs(1), |d| d["job_id"] == job)
        .await;
    assert_eq!(leaked, None, "another console was told of job {job}");

    let s = asker.ok("status", Value::Null).await;
    let retries = jobs_of_kind(&s, "retry_records");
    assert_eq!(retries.len(), 1, "{s}");
    assert_eq!(retries[0]["id"], job);
    assert_eq!(retries[0]["state"], "succeeded", "{s}");
    assert_eq!(retries[0]["done"], json!(BROKEN), "{s}");
    assert_eq!(retries[0]["total"], json!(BROKEN), "{s}");
    assert_eq!(retries[0]["requested_by"], json!(os_user()), "{s}");
    assert!(jobs_of_kind(&s, "retry_record").is_empty(), "{s}");
    assert_eq!(s["failed_total"], json!(BROKEN - 2), "{s}");
    let groups = asker.ok("failed_groups", Value::Null).await;
    assert_eq!(groups["groups"][0]["count"], json!(BROKEN - 2), "{groups}");
}

#[tokio::test]
async fn retrying_a_selection_retries_only_the_marked_entries_as_one_job() {
    let w = World::settled().await;
    fix_emails(&w, BROKEN);
    let mut c = w.operator().await;
    let s = c.ok("status", Value::Null).await;
    let marked: Vec<i64> = failed_ids(&s).into_iter().take(2).collect();
    let r = c
        .ok("retry_selection", json!({ "audit_ids": marked }))
        .await;
    let job = r["jobs"][0].clone();
    assert_eq!(r["jobs"].as_array().unwrap().len(), 1, "{r}");
    let notice = c
        .event_within("notice", WAIT * 3, |d| d["job_id"] == job)
        .await;
    let notice = notice.unwrap_or_else(|| panic!("no summary of job {job}"));
    assert_eq!(notice["text"], "2 retried: 2 SUCCESS, 0 FAILED", "{notice}");
    let after = c.ok("status", Value::Null).await;
    assert_eq!(after["failed_total"], json!(BROKEN - 2), "{after}");
    let still: Vec<i64> = failed_ids(&after);
    assert!(marked.iter().all(|m| !still.contains(m)), "{still:?}");
}

#[tokio::test]
async fn retry_category_is_a_class_retry_of_the_whole_category_in_one_job() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let r = c
        .ok("retry_category", json!({ "category": "VALIDATION_ERROR" }))
        .await;
    assert_eq!(r["jobs"].as_array().unwrap().len(), 1, "{r}");
    let job = r["jobs"][0].clone();
    let notice = c
        .event_within("notice", WAIT * 3, |d| d["job_id"] == job)
        .await;
    let notice = notice.unwrap_or_else(|| panic!("no summary of job {job}"));
    assert_eq!(
        notice["text"],
        json!(format!("{BROKEN} retried: 0 SUCCESS, {BROKEN} FAILED")),
        "{notice}"
    );
}

#[tokio::test]
async fn a_viewer_may_read_the_groups_but_not_retry_them() {
    let w = World::settled().await;
    let mut v = w.viewer().await;
    let before = w.state();
    assert_eq!(
        v.refused("retry_class", json!({ "class": invalid_email() }))
            .await,
        "forbidden"
    );
    let s = v.ok("status", Value::Null).await;
    assert_eq!(
        v.refused("retry_selection", json!({ "audit_ids": failed_ids(&s) }))
            .await,
        "forbidden"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(w.state(), before, "the state database changed");
}
