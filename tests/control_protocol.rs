//! The control protocol (`docs/control-protocol.md`, version 1) as a third
//! party sees it. The client (`control_protocol/client.rs`) is written from that document alone:
//! tokio Unix sockets and serde_json, no type of hubsync's own. The set-up
//! uses the real binaries: `hubsync sim` as HubSpot, `hubsync run` as the
//! engine, an app database in which a few emails have no top-level domain,
//! so HubSpot refuses them and the engine has FAILED entries to page and
//! retry.

#[path = "support/backends.rs"]
mod backends;
#[path = "control_protocol/client.rs"]
mod client;
#[path = "control_protocol/log.rs"]
mod log;
#[path = "control_protocol/metrics.rs"]
mod metrics;
#[path = "control_protocol/records.rs"]
mod records;
#[path = "control_protocol/triage.rs"]
mod triage;
#[path = "control_protocol/world.rs"]
mod world;

use client::{Client, Read, WAIT, failed_ids};
use rusqlite::Connection;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use world::{BROKEN, World, os_user};

#[tokio::test]
async fn a_subscriber_gets_a_snapshot_with_its_own_failed_page() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let s = c.ok("subscribe", json!({ "limit": 2 })).await;
    let ids = failed_ids(&s);
    assert_eq!(ids.len(), 2, "a page of 2: {s}");
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
    assert_eq!(s["failed_total"], json!(BROKEN), "{s}");
    assert!(s["failed_before"].is_null(), "the newest page: {s}");
    assert_eq!(s["failed_newer"], 0, "{s}");
    for e in s["failed"].as_array().unwrap() {
        assert_eq!(e["status"], "FAILED", "{e}");
        assert_eq!(e["object"], "contacts", "{e}");
    }
    assert_eq!(
        s["engine"]["pid"].as_u64(),
        Some(u64::from(w.engine.0.id())),
        "{s}"
    );
}

#[tokio::test]
async fn paging_on_one_connection_does_not_move_another_connections_page() {
    let w = World::settled().await;
    let mut a = w.operator().await;
    let mut b = w.viewer().await;
    let first_a = failed_ids(&a.ok("subscribe", json!({ "limit": 2 })).await);
    let first_b = failed_ids(&b.ok("subscribe", json!({ "limit": 2 })).await);
    assert_eq!(first_a, first_b, "both start on the newest page");

    let before = *first_a.last().unwrap();
    let paged = a
        .ok("failed_page", json!({ "before": before, "limit": 2 }))
        .await;
    let older = failed_ids(&paged);
    assert_eq!(older.len(), 2, "{paged}");
    assert!(
        older.iter().all(|id| *id < before),
        "{older:?} before {before}"
    );
    assert_eq!(paged["failed_before"], json!(before), "{paged}");
    assert_eq!(paged["failed_newer"], 2, "{paged}");

    // Something changes, so both are sent snapshots.
    let mut trigger = w.operator().await;
    trigger
        .ok("sync_now", json!({ "object": "contacts" }))
        .await;
    let later_a = a.event("snapshot", |_| true).await;
    let later_b = b.event("snapshot", |_| true).await;
    assert_eq!(failed_ids(&later_a), older, "a keeps its page: {later_a}");
    assert_eq!(later_a["failed_before"], json!(before), "{later_a}");
    assert_eq!(
        failed_ids(&later_b),
        first_b,
        "b keeps the newest: {later_b}"
    );
    assert!(later_b["failed_before"].is_null(), "{later_b}");
}

#[tokio::test]
async fn an_operators_retry_gets_a_job_whose_notice_reaches_that_connection_only() {
    let w = World::settled().await;
    let mut asker = w.operator().await;
    let mut other = w.operator().await;
    let s = asker.ok("subscribe", Value::Null).await;
    other.ok("subscribe", Value::Null).await;
    let audit_id = failed_ids(&s)[0];

    let result = asker.ok("retry", json!({ "audit_id": audit_id })).await;
    let jobs = result["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{result}"));
    assert_eq!(jobs.len(), 1, "{result}");
    assert!(
        result["notice"].as_str().is_some_and(|n| !n.is_empty()),
        "{result}"
    );
    let job = jobs[0].clone();

    let notice = asker.event("notice", |d| d["job_id"] == job).await;
    assert!(
        notice["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{notice}"
    );
    // The other connection has had the same time and more to hear it.
    let leaked = other
        .event_within("notice", Duration::from_secs(2), |d| d["job_id"] == job)
        .await;
    assert_eq!(leaked, None, "another connection was told of job {job}");
}

#[tokio::test]
async fn after_unsubscribe_only_notices_of_the_connections_own_jobs_come() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let s = c.ok("subscribe", Value::Null).await;
    let audit_id = failed_ids(&s)[0];
    assert_eq!(c.ok("unsubscribe", Value::Null).await, json!({}));
    c.events.clear();

    let result = c.ok("retry", json!({ "audit_id": audit_id })).await;
    let job = result["jobs"][0].clone();
    c.event("notice", |d| d["job_id"] == job).await;
    // The retry changed the engine's state, and a heartbeat is due every
    // 5 s to subscribers: neither comes to this connection.
    tokio::time::sleep(Duration::from_secs(6)).await;
    for name in ["snapshot", "heartbeat"] {
        let got = c.event_within(name, Duration::ZERO, |_| true).await;
        assert_eq!(got, None, "a {name} event after unsubscribe");
    }
}

#[tokio::test]
async fn an_operators_retry_is_audited_with_their_os_user() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let welcome_user = {
        let mut fresh = Client::connect(&w.operator_socket()).await;
        fresh.hello().await["user"].clone()
    };
    assert_eq!(
        welcome_user,
        json!(os_user()),
        "hello names the peer's user"
    );

    let s = c.ok("subscribe", Value::Null).await;
    let entry = s["failed"][0].clone();
    let app_id = entry["app_id"].as_str().unwrap().to_string();
    let result = c.ok("retry", json!({ "audit_id": entry["id"] })).await;
    let job = result["jobs"][0].as_i64().unwrap();
    c.event("notice", |d| d["job_id"] == json!(job)).await;

    // The job carries the operator too, under the kind the document names.
    let s = c.ok("status", Value::Null).await;
    let listed = s["recent"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["queued"].as_array().unwrap())
        .find(|j| j["id"] == json!(job))
        .unwrap_or_else(|| panic!("job {job} is neither recent nor queued: {s}"))
        .clone();
    assert_eq!(listed["kind"], "retry_record", "{listed}");
    assert_eq!(listed["requested_by"], json!(os_user()), "{listed}");

    let history = c
        .ok(
            "record_history",
            json!({ "object": "contacts", "app_id": app_id }),
        )
        .await;
    let entries = history.as_array().unwrap_or_else(|| panic!("{history}"));
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "oldest first: {ids:?}");
    let retried: Vec<&Value> = entries
        .iter()
        .filter(|e| e["job_id"] == json!(job))
        .collect();
    assert!(
        !retried.is_empty(),
        "no audit entry of job {job}: {history}"
    );
    for e in &retried {
        assert!(
            e["id"].as_i64().unwrap() > entry["id"].as_i64().unwrap(),
            "{e}"
        );
        assert_eq!(e["operator"], json!(os_user()), "{e}");
    }
    // The state database says the same to any SQLite reader.
    let conn = Connection::open(w.data.join("state.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let operators: Vec<Option<String>> = conn
        .prepare("SELECT operator FROM audit WHERE job_id = ?1")
        .unwrap()
        .query_map([job], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!operators.is_empty());
    assert!(
        operators
            .iter()
            .all(|o| o.as_deref() == Some(os_user().as_str())),
        "{operators:?}"
    );
}

#[tokio::test]
async fn an_operators_dismissal_closes_the_entry_and_records_their_os_user() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let s = c.ok("status", Value::Null).await;
    let audit_id = failed_ids(&s)[0];
    let result = c.ok("dismiss", json!({ "audit_id": audit_id })).await;
    assert_eq!(result["jobs"], json!([]), "{result}");

    let after = c.ok("status", Value::Null).await;
    assert_eq!(after["failed_total"], json!(BROKEN - 1), "{after}");
    assert!(!failed_ids(&after).contains(&audit_id), "{after}");
    let conn = Connection::open(w.data.join("state.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let by: Option<String> = conn
        .query_row(
            "SELECT dismissed_by FROM audit WHERE id = ?1",
            [audit_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(by, Some(os_user()));
}

#[tokio::test]
async fn on_the_viewer_socket_every_write_is_forbidden_and_nothing_is_written() {
    let w = World::settled().await;
    let mut v = w.viewer().await;
    let s = v.ok("status", Value::Null).await;
    let audit_id = failed_ids(&s)[0];
    let before = w.state();
    let contacts_before = w.hubspot_contacts().await;

    let writes = [
        ("retry", json!({ "audit_id": audit_id })),
        ("dismiss", json!({ "audit_id": audit_id })),
        ("sync_now", json!({ "object": "contacts" })),
        ("shutdown", Value::Null),
    ];
    for (method, params) in writes {
        assert_eq!(v.refused(method, params).await, "forbidden", "{method}");
    }
    // Give a wrongly queued job time to run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(w.state(), before, "the state database changed");
    assert_eq!(
        w.hubspot_contacts().await,
        contacts_before,
        "HubSpot changed"
    );
    let after = v.ok("status", Value::Null).await;
    assert_eq!(
        failed_ids(&after),
        failed_ids(&s),
        "the FAILED list changed"
    );
    assert_eq!(after["failed_total"], json!(BROKEN));
}

#[tokio::test]
async fn hello_with_an_unknown_version_is_refused_and_the_connection_closed_cleanly() {
    let mut w = World::start().await;
    let mut c = Client::connect(&w.operator_socket()).await;
    assert_eq!(
        c.refused("hello", json!({ "protocol": 999 })).await,
        "unsupported_version"
    );
    match c.read().await {
        Read::Eof => {}
        other => panic!("after unsupported_version the engine must close; got {other:?}"),
    }
    w.assert_still_serving().await;
}

#[tokio::test]
async fn hello_naming_no_version_is_refused_and_the_connection_closed_cleanly() {
    let mut w = World::start().await;
    let mut c = Client::connect(&w.operator_socket()).await;
    assert_eq!(c.refused("hello", json!({})).await, "unsupported_version");
    match c.read().await {
        Read::Eof => {}
        other => panic!("after unsupported_version the engine must close; got {other:?}"),
    }
    w.assert_still_serving().await;
}

#[tokio::test]
async fn requests_of_the_wrong_shape_get_their_codes_and_the_connection_stays_usable() {
    let mut w = World::start().await;
    let mut c = w.operator().await;
    c.send_line(r#"{"id": 41, "params": {}}"#).await;
    let reply = c.reply().await;
    assert_eq!(reply["error"]["code"], "invalid_request", "{reply}");
    assert_eq!(
        c.refused("no_such_method", Value::Null).await,
        "unknown_method"
    );
    assert_eq!(
        c.refused("retry", json!({ "audit_id": "forty-one" })).await,
        "invalid_params"
    );
    assert_eq!(c.refused("retry", Value::Null).await, "invalid_params");
    let s = c.ok("status", Value::Null).await;
    assert!(s["taken_at"].is_string(), "{s}");
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_malformed_line_gets_parse_error_and_the_connection_stays_usable() {
    let mut w = World::start().await;
    let mut c = w.operator().await;
    c.send_line("{nope").await;
    let reply = c.reply().await;
    assert!(reply.get("id").is_some_and(Value::is_null), "{reply}");
    assert_eq!(reply["error"]["code"], "parse_error", "{reply}");
    let s = c.ok("status", Value::Null).await;
    assert!(s["taken_at"].is_string(), "{s}");
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_request_before_hello_gets_hello_first_and_the_connection_stays_open() {
    let mut w = World::start().await;
    let mut c = Client::connect(&w.operator_socket()).await;
    assert_eq!(c.refused("status", Value::Null).await, "hello_first");
    c.hello().await;
    let s = c.ok("status", Value::Null).await;
    assert!(s["taken_at"].is_string(), "{s}");
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_line_over_4_mib_gets_line_too_long_and_a_close() {
    let mut w = World::start().await;
    let c = w.operator().await;
    let Client {
        mut lines,
        mut writer,
        ..
    } = c;
    // The engine may stop reading (and close) before the line is all sent,
    // so it is written on the side and a broken pipe there is expected.
    let sender = tokio::spawn(async move {
        let big = vec![b'x'; 4 * 1024 * 1024 + 1024];
        let _ = writer.write_all(&big).await;
        let _ = writer.write_all(b"\n").await;
        writer
    });
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("no reply to a line over 4 MiB")
        .expect("reading the reply")
        .expect("the connection closed without a reply");
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert!(reply.get("id").is_some_and(Value::is_null), "{reply}");
    assert_eq!(reply["error"]["code"], "line_too_long", "{reply}");
    // Closed: end of stream, or a reset when the engine left part of the
    // line unread (how Unix sockets report a close with data pending).
    match tokio::time::timeout(WAIT, lines.next_line()).await {
        Ok(Ok(None)) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("after line_too_long the engine must close; got {other:?}"),
    }
    let _ = tokio::time::timeout(WAIT, sender).await;
    w.assert_still_serving().await;
}

#[tokio::test]
async fn an_operators_shutdown_stops_the_engine_and_removes_both_sockets() {
    let mut w = World::start().await;
    let mut c = w.operator().await;
    let mut watcher = w.viewer().await;
    c.ok("subscribe", Value::Null).await;
    watcher.ok("subscribe", Value::Null).await;
    let result = c.ok("shutdown", Value::Null).await;
    assert!(
        result["notice"].as_str().is_some_and(|n| !n.is_empty()),
        "{result}"
    );
    // Every connection is told, the one that asked included, then closed.
    for (who, conn) in [("the operator", &mut c), ("the viewer", &mut watcher)] {
        let event = conn
            .event_within("shutdown", WAIT, |_| true)
            .await
            .unwrap_or_else(|| panic!("{who} got no shutdown event"));
        assert!(event["text"].is_string(), "{event}");
        assert!(conn.closed().await, "{who}'s connection stayed open");
    }

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = w.engine.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "hubsync run still running 15 s after shutdown; log:\n{}",
            w.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "hubsync run exited {status}; log:\n{}",
        w.log_tail()
    );
    assert!(!w.operator_socket().exists(), "control.sock left behind");
    assert!(!w.viewer_socket().exists(), "viewer.sock left behind");
}
