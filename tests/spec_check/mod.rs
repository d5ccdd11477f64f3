//! Checks recorded exchanges (`SimSettings::record_exchanges`) against the
//! JSON schemas of HubSpot's official OpenAPI specs: every request body the
//! client sent, every query parameter, and every response body the
//! simulator returned. A mismatch names the exchange and the path of the
//! offending field.
//!
//! The specs may not be redistributed, so they are read from
//! `../shared/hubspot-openapi` (or `$HUBSYNC_OPENAPI_DIR`); a test using
//! this fails, rather than skips, when they are missing.
//!
//! Where HubSpot's documented behaviour differs from its own spec, the spec
//! is relaxed, in this one place, each case named with its source:
//!
//! 1. Search `sorts`: the spec types them as strings; HubSpot's search docs
//!    send `{"propertyName", "direction"}` objects (and SDK users send
//!    `"-createdate"` strings). Both are accepted.
//! 2. Property values may be `null`: "A requested property that the record
//!    has no value for is returned as null" (contacts guide); the spec types
//!    values as plain strings.
//! 3. 429 answers need no `category`: HubSpot's documented 429 bodies (usage
//!    guidelines, error-handling docs) carry `errorType` and `policyName`
//!    instead, which the spec's `Error` does not require.

// Each test crate that includes this module uses only part of it.
#![allow(dead_code)]

use hubsync::sim::Exchange;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn spec_dir() -> PathBuf {
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

pub struct Spec {
    pub name: String,
    pub doc: Value,
}

/// The specs, read and relaxed once per test binary.
pub fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(load_specs)
}

fn load_specs() -> Vec<Spec> {
    let dir = spec_dir();
    [
        "crm-contacts-v3.json",
        "crm-companies-v3.json",
        "crm-deals-v3.json",
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

/// Relaxations 1 and 2 (see the module docs), on a whole spec.
fn relax(doc: &mut Value) {
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
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
        if let Some(ap) = schema.pointer_mut("/properties/properties/additionalProperties")
            && ap.get("type") == Some(&json!("string"))
        {
            ap["type"] = json!(["string", "null"]);
        }
    }
}

/// Relaxation 3 (see the module docs), on one answer's schema. Returns
/// whether anything was relaxed.
fn relax_answer(status: u16, schema: &mut Value) -> bool {
    if status != 429 {
        return false;
    }
    if let Some(req) = schema.get_mut("required").and_then(Value::as_array_mut) {
        req.retain(|r| r != "category");
    }
    true
}

/// The deals spec spells `/crm/v3/objects/0-3/...`; a path may use the name.
fn same_segment(template: &str, path: &str) -> bool {
    template == path
        || matches!(
            (template, path),
            ("0-1", "contacts") | ("0-2", "companies") | ("0-3", "deals")
        )
}

/// The spec operation for a request: the path template matching the most
/// literal segments, across the loaded specs.
pub fn operation<'a>(specs: &'a [Spec], method: &str, path: &str) -> Option<(&'a Spec, &'a Value)> {
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
                    let same = same_segment(a, b);
                    literal += same as usize;
                    same
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
pub fn violations(spec: &Spec, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["components"] = spec.doc["components"].clone();
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{}: schema does not compile: {e}", spec.name));
    validator
        .iter_errors(instance)
        .map(|e| format!("at {:?}: {e}", e.instance_path().to_string()))
        .collect()
}

/// Query parameters the operation does not declare, or whose values do not
/// parse as the declared type.
fn query_violations(spec: &Spec, op: &Value, query: &str) -> Vec<String> {
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .map(|ps| ps.iter().map(|p| deref(&spec.doc, p)).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        let Some(p) = params.iter().find(|p| p["name"] == k && p["in"] == "query") else {
            out.push(format!("query parameter {k:?} is not in the spec"));
            continue;
        };
        let fits = match p.pointer("/schema/type").and_then(Value::as_str) {
            Some("integer") => v.parse::<i64>().is_ok(),
            Some("boolean") => v == "true" || v == "false",
            _ => true,
        };
        if !fits {
            out.push(format!(
                "query parameter {k}={v:?} is not a {}",
                p["schema"]["type"]
            ));
        }
    }
    out
}

/// Every way one exchange breaks the specs; `relaxed` collects the
/// exchanges a relaxation let through.
pub fn check(specs: &[Spec], x: &Exchange, relaxed: &mut Vec<String>) -> Vec<String> {
    let what = format!("{} {} → {}", x.method, x.path, x.status);
    let Some((spec, op)) = operation(specs, &x.method, &x.path) else {
        return vec![format!("{what}: no operation in the specs")];
    };
    let mut out: Vec<String> = x
        .query
        .as_deref()
        .map(|q| query_violations(spec, op, q))
        .unwrap_or_default()
        .into_iter()
        .map(|v| format!("{what}: {v}"))
        .collect();
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
    if x.response_body.trim().is_empty() {
        if schema.is_some() && x.status != 204 {
            out.push(format!(
                "{what}: the spec's answer has a body; this had none"
            ));
        }
        return out;
    }
    let Ok(body) = serde_json::from_str::<Value>(&x.response_body) else {
        out.push(format!("{what}: response is not JSON: {}", x.response_body));
        return out;
    };
    let Some(schema) = schema else {
        out.push(format!("{what}: the spec's answer has no JSON body"));
        return out;
    };
    let mut schema = deref(&spec.doc, schema).clone();
    if relax_answer(x.status, &mut schema) {
        relaxed.push(what.clone());
    }
    out.extend(
        violations(spec, &schema, &body)
            .into_iter()
            .map(|v| format!("{what}: response {v}")),
    );
    out
}

/// Every problem of these exchanges, and the exchanges a relaxation let
/// through.
pub fn problems(exchanges: &[Exchange]) -> (Vec<String>, Vec<String>) {
    let specs = specs();
    let mut relaxed = Vec::new();
    let problems = exchanges
        .iter()
        .flat_map(|x| check(specs, x, &mut relaxed))
        .collect();
    (problems, relaxed)
}

/// Fails, listing every offending field, unless each exchange matches the
/// specs. For the end of a test whose simulator records exchanges.
pub fn assert_conforms(exchanges: &[Exchange]) {
    assert!(
        !exchanges.is_empty(),
        "no exchanges recorded: start the simulator with record_exchanges"
    );
    let (problems, _) = problems(exchanges);
    assert!(
        problems.is_empty(),
        "{} of {} exchanges break HubSpot's specs:\n{}",
        problems.len(),
        exchanges.len(),
        problems.join("\n")
    );
}
