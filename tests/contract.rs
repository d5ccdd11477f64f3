//! Contract tests: every request body hubsync's client sends and every
//! response body the simulator returns, in a realistic run, is validated
//! against the JSON schemas of HubSpot's official OpenAPI specs (see
//! `spec_check`, which also lists the few relaxations).

mod spec_check;

use hubsync::demo;
use hubsync::engine::EngineSettings;
use hubsync::model::ObjectKind;
use hubsync::sim::{Exchange, SimSettings};
use hubsync::status::Command;
use serde_json::{Value, json};
use spec_check::{check, operation, specs, violations};

/// Calls a raw request against the simulator, as any HubSpot client would.
async fn call(
    base: &str,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> u16 {
    let c = reqwest::Client::new();
    let mut rb = c.request(method.parse().unwrap(), format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_of_a_sync_and_of_the_error_paths_matches_hubspots_specs() {
    let specs = specs();
    let dir = tempfile::tempdir().unwrap();
    let sim = SimSettings {
        record_exchanges: true,
        ten_second_limit: 1000,
        ..SimSettings::default()
    };
    let w = demo::start_world(dir.path(), sim, EngineSettings::default())
        .await
        .unwrap();

    // A real sync: lookups by email and id, creates (201 and 207), updates,
    // counts by search, then a retry of a fixed record.
    w.engine.bootstrap().await.unwrap();
    w.engine.run_until_idle().await.unwrap();
    let failed = w.engine.store().open_failures(10).await.unwrap();
    let entry = failed
        .iter()
        .find(|a| a.label == "maria.garcia@example")
        .unwrap();
    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET email = 'maria.garcia@example.com' WHERE id = ?1",
            rusqlite::params![entry.app_id],
        )
        .unwrap();
    w.engine
        .handle(Command::Retry { audit_id: entry.id }, None)
        .await
        .unwrap();
    w.engine.run_next_due().await.unwrap();

    // The answers a sync rarely sees: auth, not found, conflict, invalid,
    // paging, properties, search with filters and sorts.
    let base = w.sim.base_url();
    let t = Some("pat-demo-0000");
    let (existing, _) = w
        .sim
        .state()
        .find_by_email("maria.garcia@example.com")
        .unwrap();
    assert_eq!(
        call(&base, None, "GET", "/crm/v3/objects/contacts", None).await,
        401
    );
    assert_eq!(
        call(
            &base,
            t,
            "GET",
            "/crm/v3/objects/contacts?limit=3&properties=email,phone,nosuch",
            None
        )
        .await,
        200
    );
    assert_eq!(
        call(
            &base,
            t,
            "GET",
            &format!("/crm/v3/objects/contacts/{existing}?properties=email"),
            None
        )
        .await,
        200
    );
    assert_eq!(
        call(&base, t, "GET", "/crm/v3/objects/contacts/99999999", None).await,
        404
    );
    assert_eq!(
        call(&base, t, "GET", "/crm/v3/properties/contacts", None).await,
        200
    );
    let conflict = json!({"inputs": [{"properties": {"email": "maria.garcia@example.com"}, "associations": []}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/create",
            Some(conflict)
        )
        .await,
        409
    );
    let invalid = json!({"inputs": [{"properties": {"email": "x@y"}, "associations": []}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/create",
            Some(invalid)
        )
        .await,
        400
    );
    let unknown = json!({"inputs": [{"id": existing, "properties": {"shoe_size": "44"}}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/update",
            Some(unknown)
        )
        .await,
        400
    );
    let read = json!({"properties": ["email"], "propertiesWithHistory": [], "inputs": [{"id": existing}, {"id": "99999999"}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            Some(read)
        )
        .await,
        207
    );
    let search = json!({
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}]}],
        "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["email", "lastmodifieddate"], "limit": 5, "after": "0"
    });
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/search",
            Some(search)
        )
        .await,
        200
    );

    // One record at a time, upserts and archiving.
    let one =
        json!({"properties": {"email": "one@example.com", "firstname": "One"}, "associations": []});
    assert_eq!(
        call(&base, t, "POST", "/crm/v3/objects/contacts", Some(one)).await,
        201
    );
    let patch = json!({"properties": {"lastname": "Patched"}});
    assert_eq!(
        call(
            &base,
            t,
            "PATCH",
            "/crm/v3/objects/contacts/one@example.com?idProperty=email",
            Some(patch)
        )
        .await,
        200
    );
    let upsert = json!({"inputs": [
        {"id": "one@example.com", "idProperty": "email", "properties": {"jobtitle": "CTO"}},
        {"id": "two@example.com", "idProperty": "email", "properties": {"firstname": "Two"}}
    ]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            Some(upsert)
        )
        .await,
        200
    );
    let (one_id, _) = w.sim.state().find_by_email("one@example.com").unwrap();
    let (two_id, _) = w.sim.state().find_by_email("two@example.com").unwrap();
    assert_eq!(
        call(
            &base,
            t,
            "DELETE",
            &format!("/crm/v3/objects/contacts/{one_id}"),
            None
        )
        .await,
        204
    );
    let archive = json!({"inputs": [{"id": two_id}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/batch/archive",
            Some(archive)
        )
        .await,
        204
    );
    assert_eq!(
        call(
            &base,
            t,
            "GET",
            "/crm/v3/objects/contacts?archived=true&limit=5",
            None
        )
        .await,
        200
    );

    // Associations between a contact and a company, v4.
    let client = w.engine.client();
    let company = hubsync::hubspot::wire::CreateInput {
        properties: [
            ("name".to_string(), "Globex".to_string()),
            ("domain".to_string(), "globex.example".to_string()),
        ]
        .into(),
        associations: vec![],
        object_write_trace_id: None,
    };
    let company = client
        .batch_create(ObjectKind::Companies, vec![company])
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    client
        .associate_default(
            ObjectKind::Contacts,
            &existing,
            ObjectKind::Companies,
            &company,
        )
        .await
        .unwrap();
    client
        .associations(
            ObjectKind::Contacts,
            ObjectKind::Companies,
            &[existing.clone(), "99999999".into()],
        )
        .await
        .unwrap();
    let primary = json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]);
    let path = format!("/crm/v4/objects/contacts/{existing}/associations/companies/{company}");
    assert_eq!(call(&base, t, "PUT", &path, Some(primary)).await, 201);
    let list = format!("/crm/v4/objects/contacts/{existing}/associations/companies");
    assert_eq!(call(&base, t, "GET", &list, None).await, 200);
    let pairs = json!({"inputs": [{"from": {"id": existing}, "to": {"id": company}}]});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v4/associations/contacts/companies/batch/associate/default",
            Some(pairs)
        )
        .await,
        200
    );
    assert_eq!(call(&base, t, "DELETE", &path, None).await, 204);

    // Merging two contacts, then reading the merged one's id.
    for e in ["three@example.com", "four@example.com"] {
        let c = json!({"properties": {"email": e}, "associations": []});
        assert_eq!(
            call(&base, t, "POST", "/crm/v3/objects/contacts", Some(c)).await,
            201
        );
    }
    let (three, _) = w.sim.state().find_by_email("three@example.com").unwrap();
    let (four, _) = w.sim.state().find_by_email("four@example.com").unwrap();
    let merge = json!({"primaryObjectId": three, "objectIdToMerge": four});
    assert_eq!(
        call(
            &base,
            t,
            "POST",
            "/crm/v3/objects/contacts/merge",
            Some(merge)
        )
        .await,
        200
    );
    assert_eq!(
        call(
            &base,
            t,
            "GET",
            &format!("/crm/v3/objects/contacts/{four}"),
            None
        )
        .await,
        200
    );

    let exchanges = w.sim.state().exchanges();
    let mut relaxed = Vec::new();
    let problems: Vec<String> = exchanges
        .iter()
        .flat_map(|x| check(specs, x, &mut relaxed))
        .collect();
    assert!(
        exchanges.len() > 30,
        "too few exchanges to mean anything: {}",
        exchanges.len()
    );
    assert!(
        problems.is_empty(),
        "{} of {} exchanges break the specs:\n{}",
        problems.len(),
        exchanges.len(),
        problems.join("\n")
    );
    assert_eq!(
        w.sim.state().count(ObjectKind::Contacts),
        1173,
        "1172 and the survivor of the merge"
    );
    assert_eq!(w.sim.state().count(ObjectKind::Companies), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_answers_match_the_spec_but_for_the_documented_category() {
    let specs = specs();
    let sim = SimSettings {
        record_exchanges: true,
        ten_second_limit: 1,
        tokens: vec!["t".into()],
        ..SimSettings::default()
    };
    let server = hubsync::sim::SimServer::start(0, sim, hubsync::sim::SeedData::empty())
        .await
        .unwrap();
    let base = server.base_url();
    assert_eq!(
        call(&base, Some("t"), "GET", "/crm/v3/objects/contacts", None).await,
        200
    );
    assert_eq!(
        call(&base, Some("t"), "GET", "/crm/v3/objects/contacts", None).await,
        429
    );
    let mut relaxed = Vec::new();
    let problems: Vec<String> = server
        .state()
        .exchanges()
        .iter()
        .flat_map(|x| check(specs, x, &mut relaxed))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(relaxed.len(), 1);
}

#[test]
fn a_schema_violation_names_the_offending_field() {
    let specs = specs();
    let (spec, op) = operation(specs, "POST", "/crm/v3/objects/contacts/batch/create").unwrap();
    let schema = op
        .pointer("/requestBody/content/application~1json/schema")
        .unwrap();
    let bad = json!({"inputs": [{"properties": {"email": 5}, "associations": []}]});
    let v = violations(spec, schema, &bad);
    assert!(
        v.iter().any(|l| l.contains("/inputs/0/properties/email")),
        "{v:?}"
    );
}

#[tokio::test]
async fn the_oauth_token_exchange_matches_hubspots_spec() {
    use hubsync::hubspot::{ClientSettings, Credentials, HubSpotClient, OAuthCredentials};
    use hubsync::sim::{OAuthApp, SeedData, SimServer};
    use secrecy::SecretString;

    let specs = specs();
    let app = OAuthApp {
        client_id: "app-1".into(),
        client_secret: "shh".into(),
        refresh_token: "r-1".into(),
    };
    let sim = SimSettings {
        record_exchanges: true,
        oauth_apps: vec![app],
        ..SimSettings::default()
    };
    let server = SimServer::start(0, sim, SeedData::empty()).await.unwrap();
    for refresh in ["r-1", "r-revoked"] {
        let creds = Credentials::OAuth(OAuthCredentials {
            client_id: "app-1".into(),
            client_secret: SecretString::from("shh"),
            refresh_token: SecretString::from(refresh),
            token_url: format!("{}/oauth/v1/token", server.base_url()),
        });
        let c =
            HubSpotClient::new(ClientSettings::with_credentials(server.base_url(), creds)).unwrap();
        let _ = c
            .list_page(ObjectKind::Contacts, &["email"], None, 10)
            .await;
    }
    let exchanges = server.state().exchanges();
    assert_eq!(
        exchanges
            .iter()
            .filter(|x| x.path == "/oauth/v1/token")
            .count(),
        2
    );
    let mut relaxed = Vec::new();
    let problems: Vec<String> = exchanges
        .iter()
        .flat_map(|x| check(specs, x, &mut relaxed))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn create(props: &[(&str, &str)]) -> hubsync::hubspot::wire::CreateInput {
    hubsync::hubspot::wire::CreateInput {
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        associations: vec![],
        object_write_trace_id: None,
    }
}

fn update(id: &str, props: &[(&str, &str)]) -> hubsync::hubspot::wire::UpdateInput {
    hubsync::hubspot::wire::UpdateInput {
        id: id.to_string(),
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        object_write_trace_id: None,
    }
}

fn upsert(key: &str, id: &str, props: &[(&str, &str)]) -> hubsync::hubspot::wire::UpsertInput {
    hubsync::hubspot::wire::UpsertInput {
        id: id.to_string(),
        id_property: key.to_string(),
        properties: props
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        object_write_trace_id: Some(format!("trace-{id}")),
    }
}

/// The client's every endpoint, on companies and deals as well as contacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_of_the_client_on_companies_and_deals_matches_hubspots_specs() {
    use hubsync::hubspot::wire::{Filter, FilterGroup, SearchRequest, Sort};
    use hubsync::hubspot::{ClientSettings, HubSpotClient};
    use hubsync::sim::{SeedData, SimServer};

    let settings = SimSettings {
        record_exchanges: true,
        tokens: vec!["t".into()],
        ten_second_limit: 1000,
        search_per_second: 100,
        ..SimSettings::default()
    };
    let server = SimServer::start(0, settings, SeedData::empty())
        .await
        .unwrap();
    let mut cs = ClientSettings::new(server.base_url(), secrecy::SecretString::from("t"));
    cs.search_per_second = 100;
    let c = HubSpotClient::new(cs).unwrap();
    let (co, de, ct) = (
        ObjectKind::Companies,
        ObjectKind::Deals,
        ObjectKind::Contacts,
    );

    let companies = c
        .batch_create(
            co,
            vec![
                create(&[
                    ("name", "Acme"),
                    ("domain", "acme.example"),
                    ("app_record_id", "a1"),
                ]),
                create(&[
                    ("name", "Globex"),
                    ("domain", "globex.example"),
                    ("app_record_id", "a2"),
                ]),
                create(&[("name", "Initech"), ("numberofemployees", "40")]),
            ],
        )
        .await
        .unwrap();
    let co_ids: Vec<String> = companies.results.iter().map(|o| o.id.clone()).collect();
    let deals = c
        .batch_create(
            de,
            vec![
                create(&[
                    ("dealname", "Big"),
                    ("amount", "5000"),
                    ("pipeline", "default"),
                ]),
                create(&[
                    ("dealname", "Small"),
                    ("amount", "50"),
                    ("app_record_id", "d1"),
                ]),
            ],
        )
        .await
        .unwrap();
    let de_ids: Vec<String> = deals.results.iter().map(|o| o.id.clone()).collect();

    // Paging: two pages of companies, one of deals.
    let first = c.list_page(co, &["name", "domain"], None, 2).await.unwrap();
    let after = first.paging.unwrap().next.unwrap().after;
    let second = c.list_page(co, &["name"], Some(&after), 2).await.unwrap();
    assert_eq!((first.results.len(), second.results.len()), (2, 1));
    assert!(second.paging.is_none());
    c.list_page(de, &[], None, 10).await.unwrap();

    // Batch read by id (one missing: 207) and by a unique property.
    let mut ids = co_ids.clone();
    ids.push("99999999".into());
    let read = c.batch_read(co, None, &ids, &["name"]).await.unwrap();
    assert_eq!((read.results.len(), read.errors.len()), (3, 1));
    let by_key = c
        .batch_read(de, Some("app_record_id"), &["d1".into()], &["dealname"])
        .await
        .unwrap();
    assert_eq!(by_key.results[0].prop("dealname"), Some("Small"));

    c.batch_update(co, vec![update(&co_ids[2], &[("industry", "Software")])])
        .await
        .unwrap();
    c.batch_update(de, vec![update(&de_ids[0], &[("dealstage", "closedwon")])])
        .await
        .unwrap();

    let up = c
        .batch_upsert(
            co,
            vec![
                upsert("app_record_id", "a1", &[("city", "Springfield")]),
                upsert("app_record_id", "a9", &[("name", "Umbrella")]),
            ],
        )
        .await
        .unwrap();
    let new: Vec<bool> = up.results.iter().map(|r| r.new).collect();
    assert_eq!(new, vec![false, true]);
    c.batch_upsert(
        de,
        vec![upsert("app_record_id", "d2", &[("dealname", "New")])],
    )
    .await
    .unwrap();
    c.batch_upsert(
        ct,
        vec![upsert("email", "ada@example.com", &[("firstname", "Ada")])],
    )
    .await
    .unwrap();

    let search = |prop: &str, op: &str, value: &str, sort: &str| SearchRequest {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter {
                property_name: prop.into(),
                operator: op.into(),
                value: Some(value.into()),
                high_value: None,
                values: None,
            }],
        }],
        sorts: vec![Sort {
            property_name: sort.into(),
            direction: "DESCENDING".into(),
        }],
        properties: vec!["name".into(), "dealname".into(), "amount".into()],
        limit: 1,
        after: "0".into(),
    };
    let found = c
        .search(co, &search("domain", "CONTAINS_TOKEN", "*.example", "name"))
        .await
        .unwrap();
    assert_eq!((found.total, found.results.len()), (2, 1));
    assert!(found.paging.is_some());
    let found = c
        .search(de, &search("amount", "GT", "100", "amount"))
        .await
        .unwrap();
    assert_eq!(found.total, 1);

    for object in [co, de, ct] {
        c.properties(object).await.unwrap();
    }

    // Contact ↔ company, v4 default association, read both ways.
    let contact = c
        .batch_create(ct, vec![create(&[("email", "grace@example.com")])])
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    c.associate_default(ct, &contact, co, &co_ids[0])
        .await
        .unwrap();
    c.associations(ct, co, std::slice::from_ref(&contact))
        .await
        .unwrap();
    c.associations(co, ct, &[co_ids[0].clone(), "99999999".into()])
        .await
        .unwrap();

    // History, by batch read and by list.
    c.batch_read_with_history(co, None, &co_ids, &["name"], &["name", "city"])
        .await
        .unwrap();
    c.list_page_with_history(de, &["dealname"], &["dealstage"], None, 10)
        .await
        .unwrap();

    c.batch_archive(co, &co_ids[1..]).await.unwrap();
    c.batch_archive(de, &de_ids).await.unwrap();
    assert_eq!(server.state().count(co), 2, "Acme and Umbrella are left");

    let exchanges = server.state().exchanges();
    let touched = |what: &str| exchanges.iter().any(|x| x.path.contains(what));
    for what in [
        "/companies/batch/upsert",
        "/deals/batch/archive",
        "/deals/search",
    ] {
        assert!(touched(what), "no exchange on {what}");
    }
    spec_check::assert_conforms(&exchanges);
}

#[test]
fn a_path_naming_deals_is_checked_against_the_deals_spec() {
    let (spec, _) = operation(specs(), "POST", "/crm/v3/objects/deals/batch/upsert").unwrap();
    assert_eq!(spec.name, "crm-deals-v3.json");
}

#[test]
fn a_query_parameter_of_the_wrong_type_is_reported_by_name() {
    let x = Exchange {
        method: "GET".into(),
        path: "/crm/v3/objects/companies".into(),
        query: Some("limit=ten&archived=maybe&colour=red".into()),
        request_body: String::new(),
        status: 200,
        response_body: r#"{"results": []}"#.into(),
    };
    let problems = check(specs(), &x, &mut Vec::new());
    for want in [
        "limit=\"ten\"",
        "archived=\"maybe\"",
        "\"colour\" is not in the spec",
    ] {
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:?}"
        );
    }
}

#[test]
fn an_upsert_answer_without_new_is_reported_at_the_result() {
    let x = Exchange {
        method: "POST".into(),
        path: "/crm/v3/objects/companies/batch/upsert".into(),
        query: None,
        request_body:
            r#"{"inputs": [{"id": "a1", "idProperty": "app_record_id", "properties": {}}]}"#.into(),
        status: 200,
        response_body: json!({
            "status": "COMPLETE", "startedAt": "2024-01-01T00:00:00.000Z",
            "completedAt": "2024-01-01T00:00:00.100Z",
            "results": [{"id": "1", "properties": {}, "createdAt": "2024-01-01T00:00:00.000Z",
                         "updatedAt": "2024-01-01T00:00:00.000Z", "archived": false}]
        })
        .to_string(),
    };
    let problems = check(specs(), &x, &mut Vec::new());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("\"/results/0\"") && p.contains("new")),
        "{problems:?}"
    );
}
