//! OAuth against the simulator: access tokens are refreshed before they
//! expire and when HubSpot refuses them, without losing the request.

use hubsync::hubspot::{ClientSettings, Credentials, HubSpotClient, OAuthCredentials};
use hubsync::model::ObjectKind;
use hubsync::sim::{OAuthApp, SeedData, SimServer, SimSettings};
use hubsync::status::ConnState;
use secrecy::SecretString;
use std::time::Duration;

const REFRESH: &str = "refresh-0b8c-secret";

async fn sim(lifetime: Duration) -> SimServer {
    let settings = SimSettings {
        tokens: vec![],
        oauth_apps: vec![OAuthApp {
            client_id: "app-1".into(),
            client_secret: "shh".into(),
            refresh_token: REFRESH.into(),
        }],
        token_lifetime: lifetime,
        ..SimSettings::default()
    };
    SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap()
}

fn client(s: &SimServer, refresh: &str) -> HubSpotClient {
    let creds = Credentials::OAuth(OAuthCredentials {
        client_id: "app-1".into(),
        client_secret: SecretString::from("shh"),
        refresh_token: SecretString::from(refresh.to_string()),
        token_url: format!("{}/oauth/v1/token", s.base_url()),
    });
    let mut settings = ClientSettings::with_credentials(s.base_url(), creds);
    settings.max_attempts = 2;
    settings.backoff_min = Duration::from_millis(10);
    HubSpotClient::new(settings).unwrap()
}

#[tokio::test]
async fn one_access_token_serves_many_calls_while_it_lives() {
    let s = sim(Duration::from_secs(1800)).await;
    let c = client(&s, REFRESH);
    for _ in 0..3 {
        c.list_page(ObjectKind::Contacts, &[], None, 10)
            .await
            .unwrap();
    }
    assert_eq!((c.token_refreshes(), s.state().tokens_issued()), (1, 1));
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_the_call() {
    let s = sim(Duration::from_secs(2)).await;
    let c = client(&s, REFRESH);
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    // Past three quarters of its life: renewed before use, never refused.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let before = s.state().request_count();
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(c.token_refreshes(), 2);
    assert_eq!(
        s.state().request_count() - before,
        2,
        "one token call, one list call, no 401"
    );
}

#[tokio::test]
async fn a_token_hubspot_says_expired_is_refreshed_and_the_request_resent() {
    let s = sim(Duration::from_secs(1800)).await;
    let c = client(&s, REFRESH);
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    s.state().expire_access_tokens();
    // The caller sees only success.
    let page = c
        .list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert!(page.results.is_empty());
    assert_eq!(c.token_refreshes(), 2);
    assert_eq!(c.connection_status().state, ConnState::Connected);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_an_auth_error_that_never_shows_the_secret() {
    let s = sim(Duration::from_secs(1800)).await;
    let c = client(&s, "refresh-revoked-secret");
    let e = c.count(ObjectKind::Contacts).await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.category(), "BAD_REFRESH_TOKEN");
    let status = c.connection_status();
    assert_eq!(status.state, ConnState::AuthError);
    let shown = format!("{e} {e:?} {status:?}");
    assert!(
        !shown.contains("refresh-revoked-secret") && !shown.contains("shh"),
        "{shown}"
    );
}

#[tokio::test]
async fn oauth_answers_carry_no_daily_rate_limit_headers() {
    let s = sim(Duration::from_secs(1800)).await;
    let c = client(&s, REFRESH);
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    let b = c.connection_status().budget.unwrap();
    assert_eq!((b.daily_max, b.daily_remaining), (None, None));
    assert_eq!(b.max, 100);
}
