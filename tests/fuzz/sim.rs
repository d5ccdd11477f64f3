//! Request bodies sent to the simulator, through its router in-process:
//! random JSON and HubSpot's own request shapes damaged (fields dropped,
//! values of the wrong kind, too many inputs). Every answer is a success
//! or a HubSpot-shaped 4xx error (`status`, `message`, `correlationId`,
//! `category`); none is a 5xx, none panics. Faults are off: a 5xx here
//! would be the simulator's own bug.

use crate::{Tried, cases};
use axum::body::Body;
use axum::http::Request;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tower::ServiceExt;

const TOKEN: &str = "fuzz-token";

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        prop_oneof![
            ".{0,10}",
            "[a-z_]{1,12}",
            Just("1001".to_string()),
            Just("EQ".to_string())
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{0,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// (method, path, a valid body for it).
fn endpoints() -> Vec<(&'static str, &'static str, Value)> {
    let props = json!({"email": "fuzz@example.com", "firstname": "Fuzz"});
    vec![
        (
            "POST",
            "/crm/v3/objects/contacts",
            json!({"properties": props}),
        ),
        (
            "PATCH",
            "/crm/v3/objects/contacts/1001",
            json!({"properties": {"firstname": "X"}}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [{"properties": props, "objectWriteTraceId": "t1"}]}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": "1001", "properties": {"firstname": "Y"}}]}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/upsert",
            json!({"inputs": [{"id": "up@example.com", "idProperty": "email", "properties": {"firstname": "U"}}]}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            json!({"inputs": [{"id": "1001"}], "properties": ["email"], "propertiesWithHistory": []}),
        ),
        (
            "POST",
            "/crm/v3/objects/companies/batch/archive",
            json!({"inputs": [{"id": "1003"}]}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/search",
            json!({"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GT", "value": "0"}]}], "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}], "properties": ["email"], "limit": 10, "after": "0"}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/merge",
            json!({"primaryObjectId": "1001", "objectIdToMerge": "1002"}),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({"inputs": [{"id": "1001"}]}),
        ),
        (
            "POST",
            "/crm/v4/associations/contacts/companies/batch/associate/default",
            json!({"inputs": [{"from": {"id": "1001"}, "to": {"id": "1003"}}]}),
        ),
    ]
}

/// A body for one endpoint: its valid one damaged, random JSON, or bytes.
fn request() -> impl Strategy<Value = (usize, Vec<u8>)> {
    let n = endpoints().len();
    let edit = prop::collection::vec(
        (
            prop::sample::select(vec![
                "/properties",
                "/inputs",
                "/inputs/0",
                "/inputs/0/properties",
                "/inputs/0/id",
                "/filterGroups",
                "/filterGroups/0/filters/0",
                "/filterGroups/0/filters/0/value",
                "/filterGroups/0/filters/0/operator",
                "/sorts",
                "/limit",
                "/after",
                "/properties/email",
                "/primaryObjectId",
                "/inputs/0/idProperty",
                "/inputs/0/to",
            ]),
            any_json(),
        ),
        0..4,
    );
    prop_oneof![
        6 => (0..n, edit, 0usize..3).prop_map(|(i, edits, grow)| {
            let mut body = endpoints()[i].2.clone();
            for (at, v) in edits {
                if let Some(slot) = body.pointer_mut(at) {
                    *slot = v;
                }
            }
            // Sometimes more inputs than HubSpot takes.
            if grow == 2 && let Some(inputs) = body.get_mut("inputs").and_then(Value::as_array_mut)
                && let Some(first) = inputs.first().cloned() {
                inputs.extend(std::iter::repeat_n(first, 100));
            }
            (i, serde_json::to_vec(&body).unwrap())
        }),
        2 => (0..n, any_json()).prop_map(|(i, v)| (i, serde_json::to_vec(&v).unwrap())),
        1 => (0..n, prop::collection::vec(any::<u8>(), 0..128)),
    ]
}

fn seed() -> SeedData {
    let c = |e: &str| BTreeMap::from([("email".to_string(), e.to_string())]);
    SeedData::contacts(vec![c("a@example.com"), c("b@example.com")]).with(
        hubsync::model::ObjectKind::Companies,
        vec![BTreeMap::from([("name".to_string(), "Acme".to_string())])],
    )
}

#[test]
fn any_request_body_gets_a_success_or_a_hubspot_shaped_client_error() {
    let tried = Tried::new("simulator request bodies");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let settings = SimSettings {
        tokens: vec![TOKEN.into()],
        ten_second_limit: u32::MAX,
        daily_limit: u64::MAX,
        search_per_second: u32::MAX,
        ..SimSettings::default()
    };
    let (app, _state) = SimServer::router(settings, seed()).unwrap();
    let endpoints = endpoints();
    proptest!(cases(256), |((i, body) in request())| {
        tried.one();
        let (method, path, _) = &endpoints[i];
        let req = Request::builder()
            .method(*method)
            .uri(*path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let (status, answer) = rt.block_on(async {
            let resp = app.clone().oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.unwrap();
            (status, bytes)
        });
        let shown = String::from_utf8_lossy(&body);
        prop_assert!(status < 500, "{method} {path} → {status} for {shown}: {answer:?}");
        if status >= 400 {
            let v: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            for field in ["status", "message", "correlationId", "category"] {
                prop_assert!(
                    v[field].as_str().is_some_and(|s| !s.is_empty()),
                    "{method} {path} → {status} without {field}: {answer:?} for {shown}"
                );
            }
        }
    });
}
