//! The simulator's lost replies: the write lands, then its answer is lost
//! (the connection closes before the message completes) or arrives cut
//! off, so a client cannot know it landed.

use hubsync::model::ObjectKind;
use hubsync::sim::{Fault, FaultShares, SeedData, SimServer, SimSettings};

async fn sim(faults: FaultShares) -> SimServer {
    SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-1".into()],
            faults,
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap()
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

async fn create(
    s: &SimServer,
    object: &str,
    props: serde_json::Value,
) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(format!(
            "{}/crm/v3/objects/{object}/batch/create",
            s.base_url()
        ))
        .bearer_auth("pat-1")
        .json(&serde_json::json!({"inputs": [{"properties": props}]}))
        .send()
        .await
}

#[tokio::test]
async fn a_lost_reply_creates_the_record_and_closes_the_connection_before_answering() {
    let s = sim(FaultShares::default()).await;
    s.state()
        .inject_on("companies/batch/create", [Fault::LostReply]);
    let e = create(&s, "companies", serde_json::json!({"name": "Initech"}))
        .await
        .unwrap_err();
    assert!(
        chain(&e).contains("connection closed before message completed"),
        "{}",
        chain(&e)
    );
    assert_eq!(
        s.state().count(ObjectKind::Companies),
        1,
        "the write landed"
    );
}

#[tokio::test]
async fn a_cut_reply_creates_the_record_and_answers_with_half_a_body() {
    let s = sim(FaultShares::default()).await;
    s.state()
        .inject_on("companies/batch/create", [Fault::CutReply]);
    let resp = create(&s, "companies", serde_json::json!({"name": "Initech"}))
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let body = resp.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&body).is_err(),
        "{body}"
    );
    assert!(
        body.starts_with('{'),
        "the start of the real answer: {body}"
    );
    assert_eq!(s.state().count(ObjectKind::Companies), 1);
}

#[tokio::test]
async fn a_fault_for_one_endpoint_waits_for_a_request_to_it() {
    let s = sim(FaultShares::default()).await;
    s.state()
        .inject_on("companies/batch/create", [Fault::LostReply]);
    let contact = create(
        &s,
        "contacts",
        serde_json::json!({"email": "ada@example.com"}),
    )
    .await
    .unwrap();
    assert_eq!(contact.status().as_u16(), 201);
    assert!(
        create(&s, "companies", serde_json::json!({"name": "Initech"}))
            .await
            .is_err()
    );
    let again = create(&s, "companies", serde_json::json!({"name": "Hooli"}))
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 201, "one fault, one request");
    assert_eq!(s.state().count(ObjectKind::Companies), 2);
}

#[tokio::test]
async fn a_lost_reply_share_spoils_writes_only() {
    let s = sim(FaultShares {
        lost_reply: 1.0,
        ..FaultShares::default()
    })
    .await;
    let c = reqwest::Client::new();
    for _ in 0..5 {
        let read = c
            .get(format!("{}/crm/v3/objects/contacts?limit=10", s.base_url()))
            .bearer_auth("pat-1")
            .send()
            .await
            .unwrap();
        assert_eq!(read.status().as_u16(), 200);
        read.json::<serde_json::Value>().await.unwrap();
    }
    for n in 0..5 {
        let sent = create(
            &s,
            "contacts",
            serde_json::json!({"email": format!("x{n}@example.com")}),
        )
        .await;
        if let Ok(resp) = sent {
            assert!(resp.json::<serde_json::Value>().await.is_err());
        }
    }
    assert_eq!(s.state().count(ObjectKind::Contacts), 5);
}
