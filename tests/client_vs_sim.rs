//! hubsync's HubSpot client against the simulator over loopback: it stays
//! under the rate limit by its headers, and carries HubSpot's category and
//! message in its errors. Tests end by checking every exchange they caused
//! against HubSpot's specs (`spec_check`).

mod spec_check;

use hubsync::hubspot::wire::{CreateInput, UpsertInput};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::sim::{Fault, SeedData, SimServer, SimSettings};
use hubsync::status::ConnState;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::time::Duration;

async fn sim(settings: SimSettings) -> SimServer {
    SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-1".into()],
            record_exchanges: true,
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
    spec_check::assert_conforms(&s.state().exchanges());
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
    spec_check::assert_conforms(&s.state().exchanges());
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
    spec_check::assert_conforms(&s.state().exchanges());
}

fn patient_client(s: &SimServer, timeout: Duration) -> HubSpotClient {
    let mut c = ClientSettings::new(s.base_url(), SecretString::from("pat-1"));
    c.backoff_min = Duration::from_millis(10);
    c.backoff_max = Duration::from_millis(50);
    c.max_attempts = 4;
    c.timeout = timeout;
    HubSpotClient::new(c).unwrap()
}

#[tokio::test]
async fn server_errors_are_retried_until_hubspot_answers() {
    let s = sim(SimSettings::default()).await;
    s.state()
        .inject([Fault::ServerError(502), Fault::ServerError(503)]);
    let c = patient_client(&s, Duration::from_secs(5));
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(s.state().request_count(), 3);
    assert_eq!(c.connection_status().state, ConnState::Connected);
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_request_that_times_out_is_sent_again() {
    let s = sim(SimSettings::default()).await;
    s.state().inject([Fault::Hang(Duration::from_secs(3))]);
    let c = patient_client(&s, Duration::from_millis(300));
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(s.state().request_count(), 2);
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_surprise_429_waits_out_the_window_then_succeeds() {
    let s = sim(SimSettings {
        rate_window: Duration::from_millis(500),
        ..SimSettings::default()
    })
    .await;
    let c = patient_client(&s, Duration::from_secs(5));
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    s.state().inject([Fault::RateLimited]);
    let started = std::time::Instant::now();
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(s.state().request_count(), 3);
    // The gate held the bucket for the window the headers announced.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    spec_check::assert_conforms(&s.state().exchanges());
}

/// Its one exchange is broken on purpose, so it is not checked against the specs.
#[tokio::test]
async fn a_malformed_answer_is_an_error_naming_the_request() {
    let s = sim(SimSettings::default()).await;
    s.state().inject([Fault::Malformed; 4]);
    let c = patient_client(&s, Duration::from_secs(5));
    let e = c
        .list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.category(), "BAD_RESPONSE");
    assert!(e.is_transient(), "HubSpot's fault, not the records': {e}");
    assert_eq!(
        s.state().request_count(),
        4,
        "read again up to max_attempts"
    );
    assert!(
        e.to_string().contains("GET /crm/v3/objects/contacts"),
        "{e}"
    );
}

#[tokio::test]
async fn a_read_whose_body_is_cut_off_is_read_again() {
    let s = sim(SimSettings::default()).await;
    s.state().inject([Fault::Malformed]);
    let c = patient_client(&s, Duration::from_secs(5));
    c.list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap();
    assert_eq!(s.state().request_count(), 2);
}

fn new_contact(email: &str) -> CreateInput {
    CreateInput {
        properties: BTreeMap::from([("email".to_string(), email.to_string())]),
        associations: vec![],
        object_write_trace_id: Some("7".into()),
    }
}

#[tokio::test]
async fn a_create_whose_connection_closes_before_the_answer_may_have_landed_and_is_not_sent_again()
{
    let s = sim(SimSettings::default()).await;
    s.state()
        .inject_on("contacts/batch/create", [Fault::LostReply]);
    let c = patient_client(&s, Duration::from_secs(5));
    let e = c
        .batch_create(ObjectKind::Contacts, vec![new_contact("ada@example.com")])
        .await
        .unwrap_err();
    assert!(e.may_have_landed(), "{e}");
    assert!(e.to_string().contains("may have landed"), "{e}");
    assert!(
        e.to_string()
            .contains("POST /crm/v3/objects/contacts/batch/create"),
        "{e}"
    );
    assert_eq!(s.state().request_count(), 1, "not resent");
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
}

#[tokio::test]
async fn a_create_whose_answer_is_cut_off_may_have_landed_and_is_not_sent_again() {
    let s = sim(SimSettings::default()).await;
    s.state()
        .inject_on("companies/batch/create", [Fault::CutReply]);
    let c = patient_client(&s, Duration::from_secs(5));
    let input = CreateInput {
        properties: BTreeMap::from([("name".to_string(), "Initech".to_string())]),
        associations: vec![],
        object_write_trace_id: Some("1".into()),
    };
    let e = c
        .batch_create(ObjectKind::Companies, vec![input])
        .await
        .unwrap_err();
    assert!(e.may_have_landed(), "{e}");
    assert_eq!(s.state().request_count(), 1, "not resent");
    assert_eq!(s.state().count(ObjectKind::Companies), 1);
}

#[tokio::test]
async fn a_create_that_hangs_past_the_timeout_may_have_landed() {
    let s = sim(SimSettings::default()).await;
    s.state().inject_on(
        "contacts/batch/create",
        [Fault::Hang(Duration::from_secs(3))],
    );
    let c = patient_client(&s, Duration::from_millis(300));
    let e = c
        .batch_create(ObjectKind::Contacts, vec![new_contact("ada@example.com")])
        .await
        .unwrap_err();
    assert!(e.may_have_landed(), "{e}");
    assert_eq!(s.state().request_count(), 1, "not resent");
}

#[tokio::test]
async fn a_create_answered_with_a_5xx_is_sent_again() {
    let s = sim(SimSettings::default()).await;
    s.state()
        .inject_on("contacts/batch/create", [Fault::ServerError(502)]);
    let c = patient_client(&s, Duration::from_secs(5));
    let r = c
        .batch_create(ObjectKind::Contacts, vec![new_contact("ada@example.com")])
        .await
        .unwrap();
    assert_eq!(r.results.len(), 1);
    assert_eq!(s.state().request_count(), 2);
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
}

#[tokio::test]
async fn a_create_refused_at_connect_was_not_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = ClientSettings::new(
        format!("http://127.0.0.1:{port}"),
        SecretString::from("pat-1"),
    );
    settings.backoff_min = Duration::from_millis(1);
    settings.backoff_max = Duration::from_millis(5);
    settings.max_attempts = 2;
    let c = HubSpotClient::new(settings).unwrap();
    let e = c
        .batch_create(ObjectKind::Contacts, vec![new_contact("ada@example.com")])
        .await
        .unwrap_err();
    assert!(!e.may_have_landed(), "{e}");
    assert_eq!(e.category(), "TRANSPORT");
    assert_eq!(c.request_count(), 2, "sent again: it never left");
}

#[tokio::test]
async fn an_update_whose_answer_is_lost_is_sent_again_since_it_lands_the_same_twice() {
    let s = sim(SimSettings::default()).await;
    let c = patient_client(&s, Duration::from_secs(5));
    let created = c
        .batch_create(ObjectKind::Contacts, vec![new_contact("ada@example.com")])
        .await
        .unwrap();
    let id = created.results[0].id.clone();
    s.state()
        .inject_on("contacts/batch/update", [Fault::LostReply]);
    let r = c
        .batch_update(
            ObjectKind::Contacts,
            vec![hubsync::hubspot::wire::UpdateInput {
                id: id.clone(),
                properties: BTreeMap::from([("firstname".to_string(), "Ada".to_string())]),
                object_write_trace_id: None,
            }],
        )
        .await
        .unwrap();
    assert_eq!(r.results.len(), 1);
    assert_eq!(s.state().request_count(), 3);
    assert_eq!(
        s.state().get(ObjectKind::Contacts, &id).unwrap()["firstname"],
        "Ada"
    );
}

#[tokio::test]
async fn when_hubspot_stays_down_the_client_gives_up_with_a_transient_error() {
    let s = sim(SimSettings::default()).await;
    s.state().inject([Fault::ServerError(503); 10]);
    let c = patient_client(&s, Duration::from_secs(5));
    let e = c
        .list_page(ObjectKind::Contacts, &[], None, 10)
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e}");
    assert_eq!(s.state().request_count(), 4, "max_attempts");
    assert_eq!(c.connection_status().state, ConnState::Down);
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_default_association_reads_back_both_ways_with_hubspots_type_ids() {
    use std::collections::BTreeMap;
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let create = |props: &[(&str, &str)]| CreateInput {
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        associations: vec![],
        object_write_trace_id: None,
    };
    let contact = c
        .batch_create(
            ObjectKind::Contacts,
            vec![create(&[("email", "ada@example.com")])],
        )
        .await
        .unwrap();
    let company = c
        .batch_create(
            ObjectKind::Companies,
            vec![create(&[
                ("name", "Analytical Engines"),
                ("domain", "engines.example"),
            ])],
        )
        .await
        .unwrap();
    let (contact_id, company_id) = (contact.results[0].id.clone(), company.results[0].id.clone());

    c.associate_default(
        ObjectKind::Contacts,
        &contact_id,
        ObjectKind::Companies,
        &company_id,
    )
    .await
    .unwrap();

    let of_contact = c
        .associations(
            ObjectKind::Contacts,
            ObjectKind::Companies,
            std::slice::from_ref(&contact_id),
        )
        .await
        .unwrap();
    let to = &of_contact.results[0].to[0];
    assert_eq!(to.to_object_id.clone().into_string(), company_id);
    assert_eq!(
        to.association_types
            .iter()
            .map(|t| t.type_id)
            .collect::<Vec<_>>(),
        vec![279]
    );
    let of_company = c
        .associations(
            ObjectKind::Companies,
            ObjectKind::Contacts,
            std::slice::from_ref(&company_id),
        )
        .await
        .unwrap();
    assert_eq!(
        of_company.results[0].to[0].association_types[0].type_id,
        280
    );
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_primary_company_is_also_reported_unlabeled() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let one = |k: &str, v: &str| CreateInput {
        properties: BTreeMap::from([(k.to_string(), v.to_string())]),
        associations: vec![],
        object_write_trace_id: None,
    };
    let contact = c
        .batch_create(
            ObjectKind::Contacts,
            vec![one("email", "grace@example.com")],
        )
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let company = c
        .batch_create(ObjectKind::Companies, vec![one("name", "Navy")])
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let r = reqwest::Client::new()
        .put(format!("{}/crm/v4/objects/contacts/{contact}/associations/companies/{company}", s.base_url()))
        .bearer_auth("pat-1")
        .json(&serde_json::json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/crm/v4/objects/contacts/{contact}/associations/companies",
            s.base_url()
        ))
        .bearer_auth("pat-1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let types = &listed["results"][0]["associationTypes"];
    assert_eq!(
        types[0],
        serde_json::json!({"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"})
    );
    assert_eq!(
        types[1],
        serde_json::json!({"category": "HUBSPOT_DEFINED", "typeId": 279})
    );
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_read_gets_every_record_once_past_the_10000_cap_at_one_timestamp() {
    use hubsync::hubspot::client::{ModifiedCursor, cursor_only};
    use std::collections::HashSet;
    // 10,250 contacts stamped with one time, as a bulk import does, then
    // three edited later.
    let seed: Vec<BTreeMap<String, String>> = (0..10_250)
        .map(|i| BTreeMap::from([("email".to_string(), format!("bulk{i}@example.com"))]))
        .collect();
    let settings = SimSettings {
        tokens: vec!["pat-1".into()],
        search_per_second: 10_000,
        ..SimSettings::default()
    };
    let s = SimServer::start(0, settings, SeedData::contacts(seed))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let edited: Vec<String> = [
        "bulk7@example.com",
        "bulk9000@example.com",
        "bulk10249@example.com",
    ]
    .iter()
    .map(|e| s.state().find_by_email(e).unwrap().0)
    .collect();
    for id in &edited {
        s.state()
            .set_property(ObjectKind::Contacts, id, "firstname", "Edited");
    }
    let mut settings = ClientSettings::new(s.base_url(), SecretString::from("pat-1"));
    settings.search_per_second = 10_000;
    let c = HubSpotClient::new(settings).unwrap();

    let mut ids = Vec::new();
    let cursor = c
        .modified_since(
            ObjectKind::Contacts,
            ModifiedCursor::default(),
            &["email"],
            200,
            &cursor_only,
            |page| ids.extend(page.into_iter().map(|o| o.id)),
        )
        .await
        .unwrap();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (10_250, 10_250),
        "every record exactly once"
    );
    // The edited ones come last, and the cursor stops at the newest of them.
    assert_eq!(
        ids[10_247..].iter().collect::<HashSet<_>>(),
        edited.iter().collect::<HashSet<_>>()
    );
    assert_eq!(
        cursor.id.to_string(),
        *edited
            .iter()
            .max_by_key(|i| i.parse::<u64>().unwrap())
            .unwrap()
    );

    // Reading again from that cursor finds nothing new.
    let mut again = 0;
    c.modified_since(
        ObjectKind::Contacts,
        cursor,
        &["email"],
        200,
        &cursor_only,
        |p| again += p.len(),
    )
    .await
    .unwrap();
    assert_eq!(again, 0);
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn upsert(key: &str, id: &str, pairs: &[(&str, &str)]) -> UpsertInput {
    UpsertInput {
        id: id.to_string(),
        id_property: key.to_string(),
        properties: props(pairs),
        object_write_trace_id: None,
    }
}

async fn with_contact(c: &HubSpotClient, email: &str) -> String {
    let input = CreateInput {
        properties: props(&[("email", email), ("firstname", "First")]),
        associations: vec![],
        object_write_trace_id: None,
    };
    c.batch_create(ObjectKind::Contacts, vec![input])
        .await
        .unwrap()
        .results[0]
        .id
        .clone()
}

#[tokio::test]
async fn batch_upsert_by_email_updates_the_existing_creates_the_new_and_says_which() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let existing = with_contact(&c, "ada@example.com").await;
    let r = c
        .batch_upsert(
            ObjectKind::Contacts,
            vec![
                upsert("email", "ADA@example.com", &[("jobtitle", "Countess")]),
                upsert("email", "grace@example.com", &[("firstname", "Grace")]),
            ],
        )
        .await
        .unwrap();
    let got: Vec<(bool, Option<&str>)> = r
        .results
        .iter()
        .map(|u| (u.new, u.object.prop("email")))
        .collect();
    assert_eq!(
        got,
        vec![
            (false, Some("ada@example.com")),
            (true, Some("grace@example.com"))
        ]
    );
    assert_eq!(r.results[0].object.id, existing);
    assert_eq!(
        s.state().get(ObjectKind::Contacts, &existing).unwrap()["jobtitle"],
        "Countess"
    );
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn companies_are_upserted_by_a_unique_property_but_not_by_domain_which_is_not_unique() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let e = c
        .batch_upsert(
            ObjectKind::Companies,
            vec![upsert("domain", "acme.example", &[("name", "Acme")])],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.status(), e.category().as_str()),
        (Some(400), "VALIDATION_ERROR")
    );
    assert!(
        e.message()
            .contains("inputs[0]: idProperty domain is not a property whose values are unique"),
        "{}",
        e.message()
    );
    let r = c
        .batch_upsert(
            ObjectKind::Companies,
            vec![upsert(
                "app_record_id",
                "acme-1",
                &[("domain", "acme.example")],
            )],
        )
        .await
        .unwrap();
    assert!(r.results[0].new);
    assert_eq!(r.results[0].object.prop("app_record_id"), Some("acme-1"));
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_batch_naming_one_id_twice_is_refused_before_it_is_sent() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let e = c
        .batch_upsert(
            ObjectKind::Contacts,
            vec![
                upsert("email", "ada@example.com", &[]),
                upsert("email", "Ada@Example.com", &[]),
            ],
        )
        .await
        .unwrap_err();
    assert!(!e.is_transient());
    assert!(
        e.to_string()
            .contains("inputs[1].id \"Ada@Example.com\" repeats inputs[0].id"),
        "{e}"
    );
    let too_many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    let e = c
        .batch_archive(ObjectKind::Contacts, &too_many)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("101 inputs; HubSpot takes at most 100"),
        "{e}"
    );
    assert_eq!(s.state().request_count(), 0);
}

#[tokio::test]
async fn batch_archive_answers_204_and_the_records_leave_reads() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let id = with_contact(&c, "ada@example.com").await;
    c.batch_archive(ObjectKind::Contacts, &[id.clone(), "99999999".into()])
        .await
        .unwrap();
    let archive = s
        .state()
        .exchanges()
        .into_iter()
        .find(|x| x.path.ends_with("/batch/archive"))
        .unwrap();
    assert_eq!((archive.status, archive.response_body.as_str()), (204, ""));
    let read = c
        .batch_read(ObjectKind::Contacts, None, std::slice::from_ref(&id), &[])
        .await
        .unwrap();
    assert!(read.results.is_empty());
    assert_eq!(read.errors[0].context["ids"], vec![id]);
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_search_filter_on_a_property_the_object_lacks_is_a_validation_error_naming_it_and_where()
{
    use hubsync::hubspot::wire::{Filter, FilterGroup, SearchRequest};
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let filter = |name: &str| Filter {
        property_name: name.into(),
        operator: "EQ".into(),
        value: Some("1".into()),
        high_value: None,
        values: None,
    };
    let req = SearchRequest {
        filter_groups: vec![
            FilterGroup {
                filters: vec![filter("email")],
            },
            FilterGroup {
                filters: vec![filter("email"), filter("shoe_size")],
            },
        ],
        ..Default::default()
    };
    let e = c.search(ObjectKind::Contacts, &req).await.unwrap_err();
    assert_eq!(
        (e.status(), e.category().as_str()),
        (Some(400), "VALIDATION_ERROR")
    );
    assert!(
        e.message().contains("\"shoe_size\" does not exist"),
        "{}",
        e.message()
    );
    let hubsync::hubspot::HubSpotError::Api { body, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(
        body.errors[0].code.as_deref(),
        Some("PROPERTY_DOESNT_EXIST")
    );
    assert_eq!(
        body.errors[0].in_field.as_deref(),
        Some("filterGroups[1].filters[1].propertyName")
    );
    assert_eq!(
        s.state().request_count(),
        1,
        "validation errors are not retried"
    );
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_requested_property_the_object_lacks_is_left_out_and_one_without_a_value_is_null() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    with_contact(&c, "ada@example.com").await;
    let page = c
        .list_page(
            ObjectKind::Contacts,
            &["email", "phone", "shoe_size"],
            None,
            10,
        )
        .await
        .unwrap();
    let p = &page.results[0].properties;
    assert_eq!(p.get("phone"), Some(&None));
    assert!(!p.contains_key("shoe_size"), "{p:?}");
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn property_history_lists_each_value_newest_first_with_who_set_it() {
    let s = sim(SimSettings::default()).await;
    let c = client(&s, "pat-1");
    let id = with_contact(&c, "ada@example.com").await;
    s.state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Augusta");
    let r = c
        .batch_read_with_history(
            ObjectKind::Contacts,
            None,
            std::slice::from_ref(&id),
            &["firstname"],
            &["firstname", "shoe_size"],
        )
        .await
        .unwrap();
    let o = &r.results[0];
    assert_eq!(o.object.prop("firstname"), Some("Augusta"));
    let history: Vec<(&str, &str)> = o.properties_with_history["firstname"]
        .iter()
        .map(|v| (v.value.as_str(), v.source_type.as_str()))
        .collect();
    assert_eq!(
        history,
        vec![("Augusta", "CRM_UI"), ("First", "INTEGRATION")]
    );
    assert!(!o.properties_with_history.contains_key("shoe_size"));
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test]
async fn a_list_page_with_history_holds_at_most_50_records() {
    let seed = (0..60)
        .map(|i| props(&[("email", &format!("c{i}@example.com"))]))
        .collect();
    let settings = SimSettings {
        tokens: vec!["pat-1".into()],
        record_exchanges: true,
        ..SimSettings::default()
    };
    let s = SimServer::start(0, settings, SeedData::contacts(seed))
        .await
        .unwrap();
    let c = client(&s, "pat-1");
    let page = c
        .list_page_with_history(ObjectKind::Contacts, &["email"], &["email"], None, 100)
        .await
        .unwrap();
    assert_eq!(page.results.len(), 50);
    assert!(page.paging.and_then(|p| p.next).is_some());
    assert_eq!(page.results[0].properties_with_history["email"].len(), 1);
    spec_check::assert_conforms(&s.state().exchanges());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_read_misses_nothing_when_records_it_has_read_are_written_between_pages() {
    use hubsync::hubspot::client::{ModifiedCursor, cursor_only};
    use hubsync::hubspot::modified::ModifiedFeed;
    use std::collections::HashSet;
    let seed: Vec<BTreeMap<String, String>> = (0..500)
        .map(|i| BTreeMap::from([("email".to_string(), format!("paged{i}@example.com"))]))
        .collect();
    let settings = SimSettings {
        tokens: vec!["pat-1".into()],
        search_per_second: 10_000,
        ..SimSettings::default()
    };
    let s = SimServer::start(0, settings, SeedData::contacts(seed))
        .await
        .unwrap();
    // Spread over many stamps, as edits over time leave them.
    let ids: Vec<String> = (0..500)
        .map(|i| {
            s.state()
                .find_by_email(&format!("paged{i}@example.com"))
                .unwrap()
                .0
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        s.state()
            .set_property(ObjectKind::Contacts, id, "firstname", "Spread");
        if i % 50 == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let mut settings = ClientSettings::new(s.base_url(), SecretString::from("pat-1"));
    settings.search_per_second = 10_000;
    let c = HubSpotClient::new(settings).unwrap();

    let mut feed = ModifiedFeed::new(
        ObjectKind::Contacts,
        ModifiedCursor::default(),
        &["email"],
        100,
        &cursor_only,
    );
    let (mut read, mut written) = (HashSet::new(), HashSet::new());
    while let Some(page) = feed.next_page(&c).await.unwrap() {
        for o in &page {
            read.insert(o.id.clone());
        }
        // Writing records already read moves them to the end of the order
        // (a new stamp): an offset into that order would now skip as many.
        let fresh: Vec<String> = page
            .iter()
            .filter(|o| !written.contains(&o.id))
            .take(20)
            .map(|o| o.id.clone())
            .collect();
        for id in fresh {
            s.state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Written");
            written.insert(id);
        }
    }
    assert_eq!(read.len(), 500, "every record read");
}
