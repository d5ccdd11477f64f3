//! hubsync's HubSpot client against the simulator over loopback: it stays
//! under the rate limit by its headers, and carries HubSpot's category and
//! message in its errors.

use hubsync::hubspot::wire::CreateInput;
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::status::ConnState;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::time::Duration;

async fn sim(settings: SimSettings) -> SimServer {
    SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-1".into()],
            ..settings
        },
        SeedData::empty(),
    )
    .await
    .unwrap()
}

fn client(s: &SimServer, token: &str) -> HubSpotClient {
    let mut c = ClientSettings::new(s.base_url(), SecretString::from(token.to_string()));
    c.backoff_min = Duration::from_millis(10);
    c.max_attempts = 2;
    HubSpotClient::new(c).unwrap()
}

#[tokio::test]
async fn steady_requests_stay_under_the_limit_the_headers_announce() {
    // 3 per rolling second; the client starts out assuming HubSpot's 100.
    let s = sim(SimSettings {
        ten_second_limit: 3,
        rate_window: Duration::from_secs(1),
        ..SimSettings::default()
    })
    .await;
    let c = client(&s, "pat-1");
    for _ in 0..10 {
        c.list_page(ObjectKind::Contacts, &["email"], None, 10)
            .await
            .unwrap();
    }
    // The first answer teaches the ceiling; every later request waits its turn.
    assert_eq!(s.state().rate_limited_count(), 0);
    assert_eq!(c.request_count(), 10);
    let b = c
        .connection_status()
        .budget
        .expect("budget learned from headers");
    assert_eq!((b.max, b.interval_ms), (3, 1000));
}

#[tokio::test]
async fn a_validation_error_carries_hubspots_category_and_message_and_is_not_retried() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let input = CreateInput {
        properties: BTreeMap::from([("email".to_string(), "bad@example".to_string())]),
        associations: vec![],
        object_write_trace_id: None,
    };
    let e = c
        .batch_create(ObjectKind::Contacts, vec![input])
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.category(), "VALIDATION_ERROR");
    assert!(
        e.message().contains("Email address bad@example is invalid"),
        "{}",
        e.message()
    );
    assert_eq!(
        s.state().request_count(),
        1,
        "validation errors are not retried"
    );
}

#[tokio::test]
async fn a_refused_token_shows_as_an_auth_error_without_the_token() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-wrong-secret");
    let e = c.count(ObjectKind::Contacts).await.unwrap_err();
    assert!(e.is_auth());
    let status = c.connection_status();
    assert_eq!(status.state, ConnState::AuthError);
    let shown = format!("{status:?} {e}");
    assert!(!shown.contains("pat-wrong-secret"), "{shown}");
}
