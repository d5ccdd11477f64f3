//! One record at a time: `POST /crm/v3/objects/{type}` (create, 201),
//! `PATCH …/{id}` (update, optionally by `idProperty=email`) and
//! `DELETE …/{id}` (archive, 204), with the same validation as the batches.

use super::data::{Data, clean, lookup};
use super::errors::ApiError;
use super::query::Params;
use super::{Portal, object_kind, parse_json};
use crate::model::ObjectKind;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Input {
    #[serde(default)]
    properties: BTreeMap<String, Option<String>>,
}

fn all_props(r: &super::data::Rec, object: ObjectKind) -> serde_json::Value {
    let names: Vec<String> = r.props.keys().cloned().collect();
    r.to_json(object, Some(&names))
}

pub async fn create(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let input: Input = parse_json(&body)?;
    let mut props = clean(input.properties);
    let mut data = portal.data();
    data.validate(object, &mut props, None)
        .map_err(ApiError::from)?;
    let rec = data.create(object, props, Utc::now());
    Ok((StatusCode::CREATED, Json(all_props(&rec, object))).into_response())
}

fn target(data: &Data, object: ObjectKind, id: &str, q: &Params) -> Result<u64, ApiError> {
    let rec = lookup(data, object, id, q.one("idProperty"))?;
    rec.map(|r| r.id).ok_or_else(|| ApiError::not_found(id))
}

pub async fn update(
    State(portal): State<Portal>,
    Path((object, id)): Path<(String, String)>,
    q: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let input: Input = parse_json(&body)?;
    let mut props = clean(input.properties);
    let mut data = portal.data();
    let target = target(&data, object, &id, &q)?;
    data.validate(object, &mut props, Some(target))
        .map_err(ApiError::from)?;
    let rec = data
        .update(object, target, props, Utc::now())
        .ok_or_else(|| ApiError::not_found(&id))?;
    Ok(Json(all_props(&rec, object)).into_response())
}

pub async fn archive(
    State(portal): State<Portal>,
    Path((object, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let mut data = portal.data();
    // HubSpot answers 204 whether or not the record was there.
    if let Ok(n) = id.parse() {
        data.archive(object, n, Utc::now());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MergeInput {
    primary_object_id: String,
    object_id_to_merge: String,
}

/// `POST /crm/v3/objects/{type}/merge`: the surviving record, 200.
pub async fn merge(
    State(portal): State<Portal>,
    Path(object): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let input: MergeInput = parse_json(&body)?;
    let (Ok(primary), Ok(merged)) = (
        input.primary_object_id.parse(),
        input.object_id_to_merge.parse(),
    ) else {
        return Err(ApiError::validation(
            "primaryObjectId and objectIdToMerge must be record ids",
        ));
    };
    let rec = portal
        .data()
        .merge(object, primary, merged, Utc::now())
        .map_err(ApiError::validation)?;
    Ok(Json(all_props(&rec, object)).into_response())
}
