//! The CRM object endpoints: list with paging, read one, and the batch
//! read / create / update / upsert / archive endpoints with HubSpot's
//! answers, including the ways they fail:
//!
//! - batch read: ids that do not exist make a 207 with per-item errors;
//! - batch create / update: an invalid input fails the whole batch with 400,
//!   unless every input carries an `objectWriteTraceId` (and the
//!   `partial_batches` setting is on, the default), in which case the
//!   valid inputs are written and the answer is a 207 naming the failed
//!   inputs by trace id (HubSpot's documented multi-status example);
//! - an email another contact already has fails the whole request with 409
//!   `Contact already exists. Existing ID: …`, as HubSpot does.

use super::data::{Rec, WriteProblem, clean, lookup};
use super::errors::{ApiError, invalid_properties};
use super::properties;
use super::query::Params;
use super::{Portal, object_kind, parse_json};
use crate::model::ObjectKind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

const MAX_INPUTS: usize = 100;

pub(super) fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn list(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let history = q.list("propertiesWithHistory");
    // "Usage of this parameter will reduce the maximum number of objects
    // that can be read by a single request" (spec): 50 with history.
    let max = if history.is_some() { 50 } else { 100 };
    let limit: usize = match q.one("limit") {
        None => 10,
        Some(l) => l
            .parse()
            .map_err(|_| ApiError::validation(format!("limit: {l:?} is not an integer")))?,
    }
    .clamp(1, max);
    let after: u64 = match q.one("after") {
        None => 0,
        Some(a) => a.parse().map_err(|_| {
            ApiError::validation(format!("after: {a:?} is not a valid paging cursor"))
        })?,
    };
    let archived = q.one("archived").is_some_and(|a| a == "true");
    let props = q.list("properties");
    let linked = associated_kinds(&q);
    let data = portal.data();
    let page: Vec<_> = data
        .table(object)
        .into_iter()
        .flat_map(|t| t.records.range(after..))
        .map(|(_, r)| r)
        .filter(|r| r.archived == archived)
        .take(limit + 1)
        .collect();
    let links = portal.associations();
    let results: Vec<Value> = page
        .iter()
        .take(limit)
        .map(|r| with_history(r.to_json(object, props.as_deref()), r, history.as_deref()))
        .map(|o| links.with_v3_block(o, object, &linked))
        .collect();
    let mut body = json!({ "results": results });
    if let Some(next) = page.get(limit) {
        body["paging"] = json!({ "next": {
            "after": next.id.to_string(),
            "link": format!("/crm/v3/objects/{}?after={}", object.api_name(), next.id),
        }});
    }
    Ok(Json(body).into_response())
}

pub async fn get_one(
    State(portal): State<Portal>,
    Path((object, id)): Path<(String, String)>,
    q: Params,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let props = q.list("properties");
    let history = q.list("propertiesWithHistory");
    let linked = associated_kinds(&q);
    let data = portal.data();
    let rec = lookup(&data, object, &id, q.one("idProperty"))?;
    let rec = rec.ok_or_else(|| ApiError::not_found(&id))?;
    let body = with_history(
        rec.to_json(object, props.as_deref()),
        rec,
        history.as_deref(),
    );
    let body = portal.associations().with_v3_block(body, object, &linked);
    Ok(Json(body).into_response())
}

/// The objects named by `associations=`; "if any of the specified
/// associations do not exist, they will be ignored" (spec).
fn associated_kinds(q: &Params) -> Vec<ObjectKind> {
    let mut kinds: Vec<ObjectKind> = q
        .list("associations")
        .unwrap_or_default()
        .iter()
        .filter_map(|name| object_kind(name).ok())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Adds `propertiesWithHistory` when any was asked for.
fn with_history(mut o: Value, rec: &Rec, names: Option<&[String]>) -> Value {
    if let Some(names) = names.filter(|n| !n.is_empty()) {
        o["propertiesWithHistory"] = rec.history_json(names);
    }
    o
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadInput {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRead {
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    properties_with_history: Vec<String>,
    id_property: Option<String>,
    inputs: Vec<ReadInput>,
}

fn check_size(n: usize) -> Result<(), ApiError> {
    check_limit(n, MAX_INPUTS)
}

/// Refuses a batch of `n` inputs over an endpoint's `max`.
pub(super) fn check_limit(n: usize, max: usize) -> Result<(), ApiError> {
    if n > max {
        return Err(ApiError::validation(format!(
            "Batch input size {n} exceeds the limit of {max} inputs per request"
        )));
    }
    Ok(())
}

/// A finished batch answer: 200, or 207 with `numErrors` and `errors`.
pub(super) fn batch_body(
    results: Vec<Value>,
    errors: Vec<Value>,
    started: String,
) -> (StatusCode, Json<Value>) {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": now_iso(),
    });
    if errors.is_empty() {
        (StatusCode::OK, Json(body))
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = json!(errors);
        (StatusCode::MULTI_STATUS, Json(body))
    }
}

pub(super) fn item_error(category: &str, message: String, context: Value) -> Value {
    json!({ "status": "error", "category": category, "message": message, "context": context, "errors": [], "links": {} })
}

pub async fn batch_read(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let started = now_iso();
    let req: BatchRead = parse_json(&body)?;
    check_size(req.inputs.len())?;
    let data = portal.data();
    let id_property = req.id_property.as_deref();
    let props = (!req.properties.is_empty()).then_some(req.properties.as_slice());
    let history = Some(req.properties_with_history.as_slice());
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for input in &req.inputs {
        match lookup(&data, object, &input.id, id_property)? {
            Some(r) => results.push(with_history(r.to_json(object, props), r, history)),
            None => missing.push(input.id.clone()),
        }
    }
    let errors = if missing.is_empty() {
        vec![]
    } else {
        vec![item_error(
            "OBJECT_NOT_FOUND",
            format!(
                "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
                object.api_name()
            ),
            json!({ "ids": missing }),
        )]
    };
    Ok(batch_body(results, errors, started).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteInput {
    id: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, Option<String>>,
    object_write_trace_id: Option<String>,
}

#[derive(Deserialize)]
struct BatchWrite {
    inputs: Vec<WriteInput>,
}

pub async fn batch_create(
    state: State<Portal>,
    object: Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    batch_write(state, object, body, false).await
}

pub async fn batch_update(
    state: State<Portal>,
    object: Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    batch_write(state, object, body, true).await
}

async fn batch_write(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
    update: bool,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let started = now_iso();
    let req: BatchWrite = parse_json(&body)?;
    check_size(req.inputs.len())?;
    let traced = portal.settings().partial_batches
        && !req.inputs.is_empty()
        && req.inputs.iter().all(|i| i.object_write_trace_id.is_some());
    let mut data = portal.data();

    // Judge every input first: a 400 or 409 must leave nothing written.
    let mut judged = Vec::new();
    let mut seen_emails: HashSet<String> = HashSet::new();
    for (n, input) in req.inputs.into_iter().enumerate() {
        let target = match (update, &input.id) {
            (false, _) => None,
            (true, Some(id)) => match data.get(object, id) {
                Some(r) => Some(r.id),
                None => {
                    judged.push((
                        input.object_write_trace_id,
                        Err(WriteProblem::NotFound(id.clone())),
                        BTreeMap::new(),
                        None,
                    ));
                    continue;
                }
            },
            (true, None) => {
                return Err(ApiError::validation(format!("inputs[{n}].id is required")));
            }
        };
        let mut props = clean(input.properties);
        let mut verdict = data.validate(object, &mut props, target);
        if verdict.is_ok()
            && let Some(e) = props.get("email").filter(|e| !e.is_empty())
            && !seen_emails.insert(e.clone())
        {
            // Two inputs of one batch with one email: nothing exists yet to
            // name in a 409, so it is refused as a duplicate value.
            verdict = Err(WriteProblem::Invalid(vec![
                super::errors::PropertyProblem {
                    name: "email".into(),
                    code: "DUPLICATE_VALUE",
                    message: format!("Duplicate email {e} in the same batch"),
                },
            ]));
        }
        judged.push((input.object_write_trace_id, verdict, props, target));
    }

    if let Some(existing) = judged.iter().find_map(|(_, v, _, _)| match v {
        Err(WriteProblem::Conflict(id)) => Some(*id),
        _ => None,
    }) {
        return Err(WriteProblem::Conflict(existing).into());
    }
    let first_bad = judged
        .iter()
        .find_map(|(_, v, _, _)| v.as_ref().err().cloned());
    if let (false, Some(problem)) = (traced, first_bad) {
        return Err(problem.into());
    }

    let now = Utc::now();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for (trace, verdict, props, target) in judged {
        match verdict {
            Ok(()) => {
                let rec = match target {
                    Some(id) => data.update(object, id, props, now),
                    None => Some(data.create(object, props, now)),
                };
                if let Some(r) = rec {
                    // A write answers with every property the record holds.
                    let names: Vec<String> = r.props.keys().cloned().collect();
                    let mut o = r.to_json(object, Some(&names));
                    if let Some(t) = &trace {
                        o["objectWriteTraceId"] = json!(t);
                    }
                    results.push(o);
                }
            }
            Err(problem) => {
                let ctx = json!({ "objectWriteTraceId": [trace.unwrap_or_default()] });
                errors.push(match problem {
                    WriteProblem::Invalid(p) => {
                        let mut e = invalid_properties(&p).body;
                        e["context"] = ctx;
                        e["status"] = json!("error");
                        e["links"] = json!({});
                        e.as_object_mut().map(|m| m.remove("correlationId"));
                        e
                    }
                    WriteProblem::NotFound(id) => {
                        item_error("OBJECT_NOT_FOUND", format!("Object {id} not found"), ctx)
                    }
                    // Conflicts fail the whole request before this point;
                    // should one get here, it is still reported, not a panic.
                    WriteProblem::Conflict(id) => item_error(
                        "CONFLICT",
                        format!("Contact already exists. Existing ID: {id}"),
                        ctx,
                    ),
                });
            }
        }
    }
    let (mut status, body) = batch_body(results, errors, started);
    if status == StatusCode::OK && !update {
        status = StatusCode::CREATED;
    }
    Ok((status, body).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertInput {
    id: String,
    id_property: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, Option<String>>,
    object_write_trace_id: Option<String>,
}

/// `POST …/batch/upsert`: create or update by a unique property (contacts by
/// email, or any property with `hasUniqueValue`), named per input or by the
/// `idProperty` query parameter. All or nothing: "partial upserts are not
/// supported when using email as the idProperty", so one bad input fails
/// the batch.
pub async fn batch_upsert(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    q: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let started = now_iso();
    let req: Batch<UpsertInput> = parse_json(&body)?;
    check_size(req.inputs.len())?;
    let mut data = portal.data();
    let mut seen = HashSet::new();
    let duplicates: Vec<&str> = req
        .inputs
        .iter()
        .filter(|i| !seen.insert(i.id.to_lowercase()))
        .map(|i| i.id.as_str())
        .collect();
    if !duplicates.is_empty() {
        return Err(ApiError::validation(format!(
            "Duplicate IDs found in batch input: {duplicates:?}. IDs must be unique"
        )));
    }
    let mut planned = Vec::new();
    for (n, input) in req.inputs.into_iter().enumerate() {
        let Some(key) = input
            .id_property
            .or_else(|| q.one("idProperty").map(str::to_string))
        else {
            return Err(ApiError::validation(format!(
                "inputs[{n}].idProperty is missing: upsert finds records by a unique property ({})",
                properties::writable_unique(object).join(", ")
            )));
        };
        if !properties::writable_unique(object).contains(&key.as_str()) {
            return Err(ApiError::validation(format!(
                "inputs[{n}]: {}",
                super::data::not_unique_message(object, &key)
            )));
        }
        let mut props = clean(input.properties);
        props.insert(key.clone(), input.id.clone());
        let existing = data.by_unique(object, &key, &input.id).map(|r| r.id);
        data.validate(object, &mut props, existing)
            .map_err(ApiError::from)?;
        planned.push((existing, props, input.object_write_trace_id));
    }
    let now = Utc::now();
    let mut results = Vec::new();
    for (existing, props, trace) in planned {
        let (rec, new) = match existing {
            Some(id) => (data.update(object, id, props, now), false),
            None => (Some(data.create(object, props, now)), true),
        };
        if let Some(r) = rec {
            let names: Vec<String> = r.props.keys().cloned().collect();
            let mut o = r.to_json(object, Some(&names));
            o["new"] = json!(new);
            if let Some(t) = trace {
                o["objectWriteTraceId"] = json!(t);
            }
            results.push(o);
        }
    }
    Ok(batch_body(results, vec![], started).into_response())
}

/// `POST …/batch/archive`: 204, whether or not each record was there.
pub async fn batch_archive(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let req: Batch<ReadInput> = parse_json(&body)?;
    check_size(req.inputs.len())?;
    let mut data = portal.data();
    let now = Utc::now();
    for input in req.inputs {
        if let Ok(id) = input.id.parse() {
            data.archive(object, id, now);
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
struct Batch<T> {
    inputs: Vec<T>,
}
