//! Contract tests: every request body hubsync's client sends and every
//! response body the simulator returns, in a realistic run, is validated
//! against the JSON schemas of HubSpot's official OpenAPI specs.
//!
//! The specs may not be redistributed, so they are read from
//! `../shared/hubspot-openapi` (or `$HUBSYNC_OPENAPI_DIR`); this test fails,
//! rather than skips, when they are missing.
//!
//! Where HubSpot's documented behaviour differs from its own spec, the
//! schema is relaxed here, each case named and explained in `relax`.

use hubsync::demo;
use hubsync::model::ObjectKind;
use hubsync::sim::{Exchange, SimSettings};
use hubsync::status::Command;
use hubsync::sync::engine::EngineSettings;
use serde_json::{Value, json};
use std::path::PathBuf;

fn spec_dir() -> PathBuf {
    let dir = std::env::var_os("HUBSYNC_OPENAPI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/hubspot-openapi")
        });
    assert!(
        dir.join("crm-contacts-v3.json").is_file(),
        "HubSpot's OpenAPI specs are not in {} (set HUBSYNC_OPENAPI_DIR to their folder)",
        dir.display()
    );
    dir
}

struct Spec {
    name: String,
    doc: Value,
}

fn load_specs() -> Vec<Spec> {
    let dir = spec_dir();
    [
        "crm-contacts-v3.json",
        "crm-companies-v3.json",
        "crm-objects-v3.json",
        "crm-properties-v3.json",
        "auth-oauth-v1.json",
        "crm-associations-v4.json",
    ]
    .iter()
    .map(|f| {
        let text =
            std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("reading {f}: {e}"));
        let mut doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        relax(&mut doc);
        Spec {
            name: f.to_string(),
            doc,
        }
    })
    .collect()
}

/// Where HubSpot's documents and its spec disagree, follow the documents.
fn relax(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    // The search docs send sorts as objects ({"propertyName", "direction"});
    // the spec types them as strings, which SDK users also send ("-createdate").
    if let Some(items) = schemas
        .get_mut("PublicObjectSearchRequest")
        .and_then(|s| s.pointer_mut("/properties/sorts/items"))
    {
        *items = json!({"oneOf": [
            {"type": "string"},
            {"type": "object", "required": ["propertyName"], "properties": {
                "propertyName": {"type": "string"},
                "direction": {"enum": ["ASCENDING", "DESCENDING"]}}}
        ]});
    }
    for (_, schema) in schemas.iter_mut() {
        // "A requested property that the record has no value for is
        // returned as null" (contacts guide); the spec types values as
        // plain strings.
        if let Some(ap) = schema.pointer_mut("/properties/properties/additionalProperties")
            && ap.get("type") == Some(&json!("string"))
        {
            ap["type"] = json!(["string", "null"]);
        }
    }
}

/// The spec operation for a request: the path template matching the most
/// literal segments, across the loaded specs.
fn operation<'a>(specs: &'a [Spec], method: &str, path: &str) -> Option<(&'a Spec, &'a Value)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(usize, &Spec, &Value)> = None;
    for spec in specs {
        for (template, item) in spec.doc["paths"].as_object()? {
            let t: Vec<&str> = template.trim_matches('/').split('/').collect();
            if t.len() != segs.len() {
                continue;
            }
            let mut literal = 0;
            let fits = t.iter().zip(&segs).all(|(a, b)| {
                if a.starts_with('{') {
                    true
                } else {
                    literal += (a == b) as usize;
                    a == b
                }
            });
            let Some(op) = item.get(method.to_lowercase()) else {
                continue;
            };
            if fits && best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
                best = Some((literal, spec, op));
            }
        }
    }
    best.map(|(_, s, o)| (s, o))
}

/// Follows a `#/components/...` reference inside one spec.
fn deref<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(v),
        None => v,
    }
}

/// Validates `instance` against `schema` (which may `$ref` into the spec's
/// components); returns one line per violation, with the field's path.
fn violations(spec: &Spec, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["components"] = spec.doc["components"].clone();
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{}: schema does not compile: {e}", spec.name));
    validator
        .iter_errors(instance)
        .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
        .collect()
}

fn check(specs: &[Spec], x: &Exchange, status_relaxations: &mut Vec<String>) -> Vec<String> {
    let what = format!("{} {} → {}", x.method, x.path, x.status);
    let Some((spec, op)) = operation(specs, &x.method, &x.path) else {
        return vec![format!("{what}: no operation in the specs")];
    };
    let mut out = Vec::new();
    if !x.request_body.trim().is_empty() {
        if let Some(schema) = op.pointer("/requestBody/content/application~1json/schema") {
            let body: Value = serde_json::from_str(&x.request_body).unwrap_or(Value::Null);
            out.extend(
                violations(spec, schema, &body)
                    .into_iter()
                    .map(|v| format!("{what}: request {v}")),
            );
        } else if let Some(schema) =
            op.pointer("/requestBody/content/application~1x-www-form-urlencoded/schema")
        {
            // A form's fields, as the JSON object the schema describes.
            let fields: serde_json::Map<String, Value> = x
                .request_body
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            out.extend(
                violations(spec, schema, &Value::Object(fields))
                    .into_iter()
                    .map(|v| format!("{what}: request {v}")),
            );
        } else {
            out.push(format!("{what}: the spec takes no body here"));
        }
    }
    if x.response_body.trim().is_empty() {
        return out;
    }
    let Ok(body) = serde_json::from_str::<Value>(&x.response_body) else {
        out.push(format!("{what}: response is not JSON: {}", x.response_body));
        return out;
    };
    let responses = &op["responses"];
    let response = responses
        .get(x.status.to_string())
        .or_else(|| responses.get("default"));
    let Some(response) = response.map(|r| deref(&spec.doc, r)) else {
        out.push(format!("{what}: the spec lists no such answer"));
        return out;
    };
    // Error answers are declared for any media type (`*/*`).
    let schema = response
        .pointer("/content/application~1json/schema")
        .or_else(|| response.pointer("/content/*~1*/schema"));
    let Some(schema) = schema else {
        out.push(format!("{what}: the spec's answer has no JSON body"));
        return out;
    };
    let mut schema = deref(&spec.doc, schema).clone();
    if x.status == 429 {
        // HubSpot's documented 429 bodies (usage guidelines, error-handling
        // docs) carry errorType and policyName but no category, which the
        // spec's Error requires.
        if let Some(req) = schema.get_mut("required").and_then(Value::as_array_mut) {
            req.retain(|r| r != "category");
        }
        status_relaxations.push(what.clone());
    }
    out.extend(
        violations(spec, &schema, &body)
            .into_iter()
            .map(|v| format!("{what}: response {v}")),
    );
    out
}

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
    let specs = load_specs();
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
    w.engine.bootstrap().unwrap();
    w.engine.run_until_idle().await.unwrap();
    let failed = w.engine.store().open_failures(10).unwrap();
    let entry = failed
        .iter()
        .find(|a| a.label == "maria.garcia@example")
        .unwrap();
    w.engine
        .app()
        .execute(
            "UPDATE contacts SET email = 'maria.garcia@example.com' WHERE id = ?1",
            &[&entry.app_id],
        )
        .unwrap();
    w.engine
        .handle(Command::Retry { audit_id: entry.id })
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
        .flat_map(|x| check(&specs, x, &mut relaxed))
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
    let specs = load_specs();
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
        .flat_map(|x| check(&specs, x, &mut relaxed))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(relaxed.len(), 1);
}

#[test]
fn a_schema_violation_names_the_offending_field() {
    let specs = load_specs();
    let (spec, op) = operation(&specs, "POST", "/crm/v3/objects/contacts/batch/create").unwrap();
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

    let specs = load_specs();
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
        .flat_map(|x| check(&specs, x, &mut relaxed))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
