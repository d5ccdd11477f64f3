//! Webhooks end to end: hubsync's receiver verifies HubSpot's v3 signatures
//! and refuses everything else; the simulator delivers signed batches of
//! record changes and retries when the receiver fails.

use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings, WebhookTarget};
use hubsync::webhook::signature;
use hubsync::webhook::{ReceiverConfig, WebhookEvent, router};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

const SECRET: &str = "app-client-secret";
const PATH: &str = "/hubspot/webhook";

/// Serves a router on a free loopback port; returns its base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn receiver() -> (String, mpsc::Receiver<WebhookEvent>) {
    let (tx, rx) = mpsc::channel(1000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = ReceiverConfig {
        client_secret: SecretString::from(SECRET),
        public_base: base.clone(),
        path: PATH.into(),
    };
    let app = router(config, tx);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, rx)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn post_signed(url: &str, body: &[u8], secret: &str, ts: i64) -> reqwest::Response {
    let ts = ts.to_string();
    let sig = signature::v3(secret, "POST", url, body, &ts);
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", ts)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

fn one_event() -> Vec<u8> {
    serde_json::to_vec(&json!([{
        "eventId": 7, "subscriptionId": 1, "portalId": 62515, "appId": 1, "occurredAt": 1735689599000i64,
        "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 501,
        "propertyName": "email", "propertyValue": "ada@example.com", "changeSource": "CRM"
    }]))
    .unwrap()
}

#[tokio::test]
async fn a_correctly_signed_delivery_is_accepted_and_its_events_passed_on() {
    let (base, mut rx) = receiver().await;
    let url = format!("{base}{PATH}?source=hubspot%3Atest");
    let r = post_signed(&url, &one_event(), SECRET, now_ms()).await;
    assert_eq!(r.status().as_u16(), 204);
    let ev = rx.recv().await.unwrap();
    assert_eq!(
        (ev.kind(), ev.object_id),
        (("contact", "propertyChange"), Some(501))
    );
}

#[tokio::test]
async fn a_delivery_signed_with_another_secret_is_refused_with_401() {
    let (base, mut rx) = receiver().await;
    let r = post_signed(
        &format!("{base}{PATH}"),
        &one_event(),
        "not-the-secret",
        now_ms(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(rx.try_recv().is_err(), "nothing is passed on");
}

#[tokio::test]
async fn a_delivery_older_than_five_minutes_is_refused_with_401() {
    let (base, _rx) = receiver().await;
    let r = post_signed(
        &format!("{base}{PATH}"),
        &one_event(),
        SECRET,
        now_ms() - 301_000,
    )
    .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("old"));
}

#[tokio::test]
async fn a_tampered_body_is_refused_with_401() {
    let (base, _rx) = receiver().await;
    let url = format!("{base}{PATH}");
    let ts = now_ms().to_string();
    let sig = signature::v3(SECRET, "POST", &url, &one_event(), &ts);
    let mut body = one_event();
    body[10] ^= 1;
    let r = reqwest::Client::new()
        .post(&url)
        .header("x-hubspot-signature-v3", sig)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn a_signed_but_malformed_body_is_refused_saying_where() {
    let (base, _rx) = receiver().await;
    let r = post_signed(
        &format!("{base}{PATH}"),
        b"[{\"objectId\": 1,",
        SECRET,
        now_ms(),
    )
    .await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().await.unwrap().contains("line 1, column"));
}

#[tokio::test]
async fn an_oversized_delivery_is_refused_with_413() {
    let (base, _rx) = receiver().await;
    let big = vec![b' '; hubsync::webhook::receiver::MAX_BODY + 1];
    let r = post_signed(&format!("{base}{PATH}"), &big, SECRET, now_ms()).await;
    assert_eq!(r.status().as_u16(), 413);
}

fn target(url: String) -> WebhookTarget {
    WebhookTarget {
        retry_base: Duration::from_millis(20),
        batch_every: Duration::from_millis(50),
        ..WebhookTarget::new(url, SECRET)
    }
}

async fn next_event(rx: &mut mpsc::Receiver<WebhookEvent>) -> WebhookEvent {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("an event within 10 s")
        .unwrap()
}

#[tokio::test]
async fn the_simulator_delivers_creations_and_ui_edits_that_the_receiver_verifies() {
    let (base, mut rx) = receiver().await;
    let settings = SimSettings {
        tokens: vec!["t".into()],
        webhook: Some(target(format!("{base}{PATH}"))),
        ..SimSettings::default()
    };
    let sim = SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/crm/v3/objects/contacts/batch/create",
            sim.base_url()
        ))
        .bearer_auth("t")
        .json(
            &json!({"inputs": [{"properties": {"email": "ada@example.com"}, "associations": []}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let (id, _) = sim.state().find_by_email("ada@example.com").unwrap();

    let created = next_event(&mut rx).await;
    assert_eq!(created.kind(), ("contact", "creation"));
    assert_eq!(created.object_id.map(|i| i.to_string()), Some(id.clone()));
    assert_eq!(created.change_source.as_deref(), Some("INTEGRATION"));

    sim.state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Ada");
    let mut edit = next_event(&mut rx).await;
    // The edit also stamps lastmodifieddate; find the firstname change.
    while edit.property_name.as_deref() != Some("firstname") {
        edit = next_event(&mut rx).await;
    }
    assert_eq!(edit.property_value.as_deref(), Some("Ada"));
    assert_eq!(edit.change_source.as_deref(), Some("CRM_UI"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failing_receiver_gets_the_batch_again_with_a_higher_attempt_number() {
    // A receiver that answers 500 twice, then accepts.
    let calls = Arc::new(AtomicU32::new(0));
    let (tx, mut rx) = mpsc::channel::<serde_json::Value>(10);
    let c = calls.clone();
    let app = axum::Router::new().route(
        PATH,
        axum::routing::post(move |body: axum::body::Bytes| {
            let (c, tx) = (c.clone(), tx.clone());
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < 2 {
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                tx.send(serde_json::from_slice(&body).unwrap())
                    .await
                    .unwrap();
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let base = serve(app).await;
    let settings = SimSettings {
        tokens: vec!["t".into()],
        webhook: Some(target(format!("{base}{PATH}"))),
        ..SimSettings::default()
    };
    let sim = SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/crm/v3/objects/contacts/batch/create", sim.base_url()))
        .bearer_auth("t")
        .json(&json!({"inputs": [{"properties": {"email": "grace@example.com"}, "associations": []}]}))
        .send()
        .await
        .unwrap();
    let delivered = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered[0]["attemptNumber"], 2);
    // The simulator counts the delivery once the receiver's answer is back.
    let stats = sim.state().webhook_stats();
    for _ in 0..100 {
        if stats.delivered.load(Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 1);
    assert_eq!(
        sim.state().webhook_stats().attempts.load(Ordering::Relaxed),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_merge_is_delivered_naming_the_survivor_and_the_merged() {
    let (base, mut rx) = receiver().await;
    let settings = SimSettings {
        tokens: vec!["t".into()],
        webhook: Some(target(format!("{base}{PATH}"))),
        ..SimSettings::default()
    };
    let sim = SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for e in ["ada@example.com", "ada.l@example.com"] {
        http.post(format!("{}/crm/v3/objects/contacts", sim.base_url()))
            .bearer_auth("t")
            .json(&json!({"properties": {"email": e}, "associations": []}))
            .send()
            .await
            .unwrap();
    }
    let (keep, _) = sim.state().find_by_email("ada@example.com").unwrap();
    let (gone, _) = sim.state().find_by_email("ada.l@example.com").unwrap();
    http.post(format!("{}/crm/v3/objects/contacts/merge", sim.base_url()))
        .bearer_auth("t")
        .json(&json!({"primaryObjectId": keep, "objectIdToMerge": gone}))
        .send()
        .await
        .unwrap();
    let merge = loop {
        let ev = next_event(&mut rx).await;
        if ev.kind().1 == "merge" {
            break ev;
        }
    };
    assert_eq!(merge.primary_object_id.map(|i| i.to_string()), Some(keep));
    assert_eq!(
        merge
            .merged_object_ids
            .unwrap()
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>(),
        vec![gone]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_write_with_another_apps_token_is_delivered_as_that_apps_not_as_an_echo() {
    let (base, mut rx) = receiver().await;
    let settings = SimSettings {
        tokens: vec!["ours".into()],
        other_app_tokens: vec!["theirs".into()],
        webhook: Some(target(format!("{base}{PATH}"))),
        ..SimSettings::default()
    };
    let sim = SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    for (token, email) in [("ours", "ada@example.com"), ("theirs", "grace@example.com")] {
        let r = http
            .post(format!("{}/crm/v3/objects/contacts", sim.base_url()))
            .bearer_auth(token)
            .json(&json!({"properties": {"email": email}, "associations": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "created with {token}");
    }
    let (ours, _) = sim.state().find_by_email("ada@example.com").unwrap();
    let (theirs, _) = sim.state().find_by_email("grace@example.com").unwrap();
    let mut creations = std::collections::BTreeMap::new();
    while creations.len() < 2 {
        let ev = next_event(&mut rx).await;
        if ev.kind().1 == "creation" {
            creations.insert(ev.object_id.unwrap().to_string(), ev);
        }
    }
    let echo = &creations[&ours];
    assert!(hubsync::webhook::intake::is_own_echo(echo), "{echo:?}");
    let other = &creations[&theirs];
    assert_eq!(other.change_source.as_deref(), Some("INTEGRATION"));
    assert_eq!(
        other.source_id.as_deref(),
        Some(hubsync::sim::OTHER_APP_ID.to_string().as_str())
    );
    assert!(!hubsync::webhook::intake::is_own_echo(other));
    sim.shutdown().await;
}
