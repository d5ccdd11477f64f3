//! The HubSpot simulator's answers over real HTTP, checked against what
//! HubSpot documents (../shared/HUBSPOT-API.md): shapes, statuses, errors,
//! rate-limit headers.

use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const TOKEN: &str = "pat-test-1";

fn contact(email: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("email".to_string(), email.to_string()),
        ("firstname".to_string(), "Test".to_string()),
    ])
}

async fn sim(n: usize, settings: SimSettings) -> SimServer {
    let seed = SeedData::contacts(
        (0..n)
            .map(|i| contact(&format!("c{i}@example.com")))
            .collect(),
    );
    SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            ..settings
        },
        seed,
    )
    .await
    .unwrap()
}

async fn post(s: &SimServer, path: &str, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", s.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn get(s: &SimServer, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", s.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_request_without_a_token_is_refused_with_401() {
    let s = sim(1, SimSettings::default()).await;
    let r = reqwest::get(format!("{}/crm/v3/objects/contacts", s.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["x-hubspot-auth-failure"], "401 Unauthorized");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["category"], "INVALID_AUTHENTICATION");
    assert!(body["correlationId"].is_string());
}

#[tokio::test]
async fn paging_walks_every_record_in_id_order_and_ends_without_paging() {
    let s = sim(25, SimSettings::default()).await;
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let q = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let (status, _, body) = get(&s, &format!("/crm/v3/objects/contacts?limit=10{q}")).await;
        assert_eq!(status, 200);
        for r in body["results"].as_array().unwrap() {
            ids.push(r["id"].as_str().unwrap().parse::<u64>().unwrap());
            assert!(
                r["createdAt"].is_string() && r["updatedAt"].is_string() && r["archived"] == false
            );
        }
        match body["paging"]["next"]["after"].as_str() {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
    }
    assert_eq!(ids.len(), 25);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn batch_read_by_email_ignores_case_and_reports_the_missing_with_207() {
    let s = sim(3, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/read",
        json!({"idProperty": "email", "properties": ["email"], "inputs": [{"id": "C1@Example.com"}, {"id": "nobody@example.com"}]}),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(body["results"][0]["properties"]["email"], "c1@example.com");
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(body["errors"][0]["context"]["ids"][0], "nobody@example.com");
}

#[tokio::test]
async fn one_invalid_email_fails_the_whole_batch_create_with_400() {
    let s = sim(0, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [{"properties": {"email": "ok@example.com"}}, {"properties": {"email": "bad@example"}}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["category"], "VALIDATION_ERROR");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Property values were not valid: ") && msg.contains("INVALID_EMAIL"),
        "{msg}"
    );
    assert_eq!(
        s.state().count(ObjectKind::Contacts),
        0,
        "nothing is created"
    );
}

#[tokio::test]
async fn with_trace_ids_a_batch_create_writes_the_valid_inputs_and_answers_207() {
    let s = sim(0, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [
            {"properties": {"email": "ok@example.com"}, "objectWriteTraceId": "a1"},
            {"properties": {"email": "bad@example"}, "objectWriteTraceId": "a2"}
        ]}),
    )
    .await;
    assert_eq!(status, 207);
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["errors"][0]["context"]["objectWriteTraceId"][0], "a2");
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
}

#[tokio::test]
async fn creating_an_existing_email_is_a_409_naming_the_existing_id() {
    let s = sim(1, SimSettings::default()).await;
    let (id, _) = s.state().find_by_email("c0@example.com").unwrap();
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [{"properties": {"email": "new@example.com"}}, {"properties": {"email": "C0@example.com"}}]}),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(body["category"], "CONFLICT");
    assert_eq!(
        body["message"],
        format!("Contact already exists. Existing ID: {id}")
    );
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
}

#[tokio::test]
async fn an_unknown_property_is_a_validation_error_naming_it() {
    let s = sim(0, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/create",
        json!({"inputs": [{"properties": {"email": "a@example.com", "shoe_size": "44"}}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "PROPERTY_DOESNT_EXIST");
    assert_eq!(body["errors"][0]["context"]["propertyName"][0], "shoe_size");
}

#[tokio::test]
async fn the_ten_second_limit_counts_down_in_headers_then_answers_429() {
    let s = sim(
        1,
        SimSettings {
            ten_second_limit: 3,
            ..SimSettings::default()
        },
    )
    .await;
    for left in (0..3).rev() {
        let (status, h, _) = get(&s, "/crm/v3/objects/contacts").await;
        assert_eq!(status, 200);
        assert_eq!(h["x-hubspot-ratelimit-max"], "3");
        assert_eq!(
            h["x-hubspot-ratelimit-remaining"],
            left.to_string().as_str()
        );
        assert_eq!(h["x-hubspot-ratelimit-interval-milliseconds"], "10000");
    }
    let (status, _, body) = get(&s, "/crm/v3/objects/contacts").await;
    assert_eq!(status, 429);
    assert_eq!(body["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert_eq!(s.state().rate_limited_count(), 1);
}

#[tokio::test]
async fn search_filters_counts_and_refuses_to_page_past_10000() {
    let s = sim(30, SimSettings::default()).await;
    let (status, h, body) = post(
        &s,
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "c1*"}]}], "limit": 5}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 11, "c1 and c10..c19");
    assert_eq!(body["paging"]["next"]["after"], "5");
    assert!(
        h.get("x-hubspot-ratelimit-remaining").is_none(),
        "search carries no rate-limit headers"
    );
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/search",
        json!({"after": "9900", "limit": 200}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["category"], "VALIDATION_ERROR");
}

#[tokio::test]
async fn search_has_its_own_per_second_limit() {
    let s = sim(
        1,
        SimSettings {
            search_per_second: 2,
            ..SimSettings::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (st, _, body) = post(&s, "/crm/v3/objects/contacts/search", json!({"limit": 1})).await;
        statuses.push(st);
        if st == 429 {
            assert_eq!(body["policyName"], "SECONDLY");
        }
    }
    assert_eq!(statuses, vec![200, 200, 429]);
}

#[tokio::test]
async fn the_property_list_marks_email_unique_and_record_id_read_only() {
    let s = sim(0, SimSettings::default()).await;
    let (status, _, body) = get(&s, "/crm/v3/properties/contacts").await;
    assert_eq!(status, 200);
    let props = body["results"].as_array().unwrap();
    let find = |n: &str| props.iter().find(|p| p["name"] == n).unwrap().clone();
    assert_eq!(find("email")["hasUniqueValue"], true);
    assert_eq!(
        find("hs_object_id")["modificationMetadata"]["readOnlyValue"],
        true
    );
    assert!(
        !find("lifecyclestage")["options"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn malformed_json_gets_a_hubspot_shaped_error_saying_where() {
    let s = sim(0, SimSettings::default()).await;
    let r = reqwest::Client::new()
        .post(format!(
            "{}/crm/v3/objects/contacts/batch/create",
            s.base_url()
        ))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"inputs\": [}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["category"], "VALIDATION_ERROR");
    assert!(
        body["message"].as_str().unwrap().contains("line 1, column"),
        "{body}"
    );
}

#[tokio::test]
async fn upsert_by_email_updates_the_existing_and_creates_the_new() {
    let s = sim(1, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({"inputs": [
            {"id": "C0@example.com", "idProperty": "email", "properties": {"jobtitle": "CTO"}},
            {"id": "new@example.com", "idProperty": "email", "properties": {"firstname": "New"}}
        ]}),
    )
    .await;
    assert_eq!(status, 200);
    let flags: Vec<bool> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["new"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, vec![false, true]);
    assert_eq!(s.state().count(ObjectKind::Contacts), 2);
    assert_eq!(
        s.state().find_by_email("c0@example.com").unwrap().1["jobtitle"],
        "CTO"
    );
}

#[tokio::test]
async fn an_archived_record_is_gone_from_reads_but_listed_as_archived() {
    let s = sim(2, SimSettings::default()).await;
    let (id, _) = s.state().find_by_email("c0@example.com").unwrap();
    let r = reqwest::Client::new()
        .delete(format!("{}/crm/v3/objects/contacts/{id}", s.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(
        get(&s, &format!("/crm/v3/objects/contacts/{id}")).await.0,
        404
    );
    let (_, _, live) = get(&s, "/crm/v3/objects/contacts").await;
    assert_eq!(live["results"].as_array().unwrap().len(), 1);
    let (_, _, archived) = get(&s, "/crm/v3/objects/contacts?archived=true").await;
    assert_eq!(archived["results"][0]["id"], id.as_str());
    assert_eq!(archived["results"][0]["archived"], true);
    assert!(
        s.state().find_by_email("c0@example.com").is_none(),
        "its email is free again"
    );
}

/// Seeds contacts with numbers and dates to filter on.
async fn search_sim() -> SimServer {
    let rows = [
        ("ada@example.com", "Ada", "36", "1700000000000", "customer"),
        ("grace@hubspot.com", "Grace", "85", "1710000000000", "lead"),
        ("alan@example.com", "Alan", "41", "1720000000000", "lead"),
        ("kay@example.org", "", "", "", "subscriber"),
    ];
    let seed = rows
        .iter()
        .map(|(e, f, age, date, stage)| {
            let mut m = BTreeMap::new();
            for (k, v) in [
                ("email", *e),
                ("firstname", *f),
                ("phone", *age),
                ("city", *date),
                ("lifecyclestage", *stage),
            ] {
                if !v.is_empty() {
                    m.insert(k.to_string(), v.to_string());
                }
            }
            m
        })
        .collect();
    SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            search_per_second: 1000,
            ..SimSettings::default()
        },
        SeedData::contacts(seed),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn every_search_operator_filters_as_hubspot_documents() {
    let s = search_sim().await;
    // (filter, the emails it must find). `phone` holds numbers and `city`
    // epoch-ms dates here, to check typed comparison.
    let cases = [
        (
            json!({"propertyName": "firstname", "operator": "EQ", "value": "ada"}),
            vec!["ada@example.com"],
        ),
        (
            json!({"propertyName": "lifecyclestage", "operator": "NEQ", "value": "lead"}),
            vec!["ada@example.com", "kay@example.org"],
        ),
        (
            json!({"propertyName": "phone", "operator": "LT", "value": "41"}),
            vec!["ada@example.com"],
        ),
        (
            json!({"propertyName": "phone", "operator": "LTE", "value": "41"}),
            vec!["ada@example.com", "alan@example.com"],
        ),
        (
            json!({"propertyName": "phone", "operator": "GT", "value": "41"}),
            vec!["grace@hubspot.com"],
        ),
        (
            json!({"propertyName": "phone", "operator": "GTE", "value": "41"}),
            vec!["grace@hubspot.com", "alan@example.com"],
        ),
        (
            json!({"propertyName": "city", "operator": "BETWEEN", "value": "1705000000000", "highValue": "1720000000000"}),
            vec!["grace@hubspot.com", "alan@example.com"],
        ),
        (
            json!({"propertyName": "lifecyclestage", "operator": "IN", "values": ["customer", "subscriber"]}),
            vec!["ada@example.com", "kay@example.org"],
        ),
        (
            json!({"propertyName": "lifecyclestage", "operator": "NOT_IN", "values": ["customer", "subscriber"]}),
            vec!["grace@hubspot.com", "alan@example.com"],
        ),
        (
            json!({"propertyName": "firstname", "operator": "HAS_PROPERTY"}),
            vec!["ada@example.com", "grace@hubspot.com", "alan@example.com"],
        ),
        (
            json!({"propertyName": "firstname", "operator": "NOT_HAS_PROPERTY"}),
            vec!["kay@example.org"],
        ),
        (
            json!({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@hubspot.com"}),
            vec!["grace@hubspot.com"],
        ),
        (
            json!({"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": "*@example.com"}),
            vec!["grace@hubspot.com", "kay@example.org"],
        ),
    ];
    for (filter, want) in cases {
        let body = json!({"filterGroups": [{"filters": [filter.clone()]}], "sorts": [], "properties": ["email"], "limit": 100, "after": "0"});
        let (status, _, r) = post(&s, "/crm/v3/objects/contacts/search", body).await;
        assert_eq!(status, 200, "{filter}: {r}");
        let got: Vec<&str> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["properties"]["email"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{filter}");
        assert_eq!(r["total"], want.len(), "{filter}");
    }
}

#[tokio::test]
async fn filters_in_a_group_are_anded_and_groups_ored() {
    let s = search_sim().await;
    let f = |p: &str, op: &str, v: &str| json!({"propertyName": p, "operator": op, "value": v});
    let body = json!({
        "filterGroups": [
            {"filters": [f("lifecyclestage", "EQ", "lead"), f("phone", "GT", "50")]},
            {"filters": [f("firstname", "EQ", "Ada")]}
        ],
        "sorts": [{"propertyName": "phone", "direction": "DESCENDING"}],
        "properties": ["email"], "limit": 10, "after": "0"
    });
    let (_, _, r) = post(&s, "/crm/v3/objects/contacts/search", body).await;
    let got: Vec<&str> = r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["properties"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        vec!["grace@hubspot.com", "ada@example.com"],
        "sorted by phone, descending"
    );
}

#[tokio::test]
async fn a_search_with_an_unknown_operator_is_refused_naming_it() {
    let s = search_sim().await;
    let body = json!({"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE", "value": "a"}]}], "sorts": [], "properties": [], "limit": 10, "after": "0"});
    let (status, _, r) = post(&s, "/crm/v3/objects/contacts/search", body).await;
    assert_eq!(status, 400);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("unknown operator LIKE"),
        "{r}"
    );
}

#[tokio::test]
async fn a_merged_contact_leads_to_the_survivor_by_id_and_by_email() {
    let s = sim(2, SimSettings::default()).await;
    let (primary, _) = s.state().find_by_email("c0@example.com").unwrap();
    let (merged, _) = s.state().find_by_email("c1@example.com").unwrap();
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/merge",
        json!({"primaryObjectId": primary, "objectIdToMerge": merged}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], primary.as_str());
    assert_eq!(body["properties"]["hs_merged_object_ids"], merged.as_str());
    assert_eq!(body["properties"]["email"], "c0@example.com");
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
    // Reads of the merged id answer with the survivor, as HubSpot's do.
    let (status, _, read) = get(&s, &format!("/crm/v3/objects/contacts/{merged}")).await;
    assert_eq!((status, read["id"].as_str()), (200, Some(primary.as_str())));
    assert_eq!(
        s.state().find_by_email("c1@example.com").unwrap().0,
        primary
    );
}

#[tokio::test]
async fn an_upsert_naming_one_id_twice_is_refused_whole() {
    let s = sim(1, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({"inputs": [
            {"id": "new@example.com", "idProperty": "email", "properties": {}},
            {"id": "NEW@example.com", "idProperty": "email", "properties": {}}
        ]}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Duplicate IDs found in batch input"),
        "{body}"
    );
    assert_eq!(s.state().count(ObjectKind::Contacts), 1);
}

#[tokio::test]
async fn upsert_takes_its_id_property_from_the_query_when_inputs_leave_it_out() {
    let s = sim(1, SimSettings::default()).await;
    let (status, _, body) = post(
        &s,
        "/crm/v3/objects/contacts/batch/upsert?idProperty=email",
        json!({"inputs": [{"id": "c0@example.com", "properties": {"city": "Paris"}}]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["new"], false);
}

#[tokio::test]
async fn a_second_record_with_a_unique_value_is_refused_naming_the_holder() {
    let s = sim(0, SimSettings::default()).await;
    let create = json!({"inputs": [{"properties": {"name": "Acme", "app_record_id": "a1"}}]});
    let path = "/crm/v3/objects/companies/batch/create";
    assert_eq!(post(&s, path, create.clone()).await.0, 201);
    let (status, _, body) = post(&s, path, create).await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"][0]["code"], "CONFLICTING_UNIQUE_VALUE");
    assert_eq!(s.state().count(ObjectKind::Companies), 1);
}

#[tokio::test]
async fn date_times_read_back_as_iso_strings_while_search_filters_take_milliseconds() {
    let s = sim(1, SimSettings::default()).await;
    let (_, _, page) = get(
        &s,
        "/crm/v3/objects/contacts?properties=lastmodifieddate,createdate",
    )
    .await;
    let props = &page["results"][0]["properties"];
    let shown = props["lastmodifieddate"].as_str().unwrap();
    let ms = hubsync::model::instant_ms(shown).expect("an ISO date-time");
    assert!(shown.contains('T') && shown.ends_with('Z'), "{shown}");
    let (status, _, found) = post(
        &s,
        "/crm/v3/objects/contacts/search",
        json!({"filterGroups": [{"filters": [
            {"propertyName": "lastmodifieddate", "operator": "EQ", "value": ms.to_string()}
        ]}], "sorts": [], "properties": [], "limit": 10, "after": "0"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["total"], 1);
}
