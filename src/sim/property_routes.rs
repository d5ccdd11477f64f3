//! The properties API: `GET /crm/v3/properties/{object}` (the list),
//! `GET` and `DELETE /crm/v3/properties/{object}/{name}` (one, archive).

use super::errors::ApiError;
use super::{Portal, object_kind, properties};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn not_found(object: crate::model::ObjectKind, name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("Unable to find property {name} for object type {object}"),
    )
}

pub async fn list(
    State(portal): State<Portal>,
    Path(object): Path<String>,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let data = portal.data();
    let results: Vec<_> = properties::list(object)
        .into_iter()
        .filter(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            !data.archived_properties.has(object, name)
        })
        .collect();
    Ok(axum::Json(json!({ "results": results })).into_response())
}

pub async fn get(
    State(portal): State<Portal>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    if portal.data().archived_properties.has(object, &name) {
        return Err(not_found(object, &name));
    }
    properties::get(object, &name)
        .map(|p| axum::Json(p).into_response())
        .ok_or_else(|| not_found(object, &name))
}

/// 204 on success; HubSpot's own read-only definitions cannot be archived.
pub async fn archive(
    State(portal): State<Portal>,
    Path((object, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    if properties::get(object, &name).is_none()
        || portal.data().archived_properties.has(object, &name)
    {
        return Err(not_found(object, &name));
    }
    if !portal.data().archived_properties.archive(object, &name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            format!("{name} is a HubSpot-defined read-only property and cannot be archived"),
        ));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
