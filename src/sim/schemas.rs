//! The schema endpoints that widely used HubSpot connectors read before
//! anything else, beside the v3 properties list:
//!
//! - `GET /properties/v2/{objectType}/properties`, the legacy properties
//!   API: a bare JSON array of v2 property definitions (timestamps in epoch
//!   milliseconds, `readOnlyValue` at the top level, `deleted`, `favorited`).
//!   Many connectors still read every object's schema from it.
//! - `GET /crm/v3/schemas` (also at `/crm-object-schemas/v3/schemas`): the
//!   portal's custom-object schemas. This portal has none, so
//!   `{"results": []}`, as HubSpot answers a portal without custom objects.
//!
//! Neither is in the OpenAPI specs the project reads (the legacy API has no
//! spec in HubSpot's collection; the schemas spec was not copied), so they
//! are not contract-checked: the v2 fields are those of HubSpot's legacy
//! properties reference, and tests pin the fields connectors read.

use super::errors::ApiError;
use super::{object_kind, properties};
use axum::Json;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// 2019-08-06T02:41:52Z, the v3 list's `createdAt`, in milliseconds.
const DEFINED_AT_MS: i64 = 1_565_059_312_000;

pub async fn properties_v2(Path(object): Path<String>) -> Result<Response, ApiError> {
    let object = object_kind(&object)?;
    let list: Vec<Value> = properties::list(object).iter().map(v2_property).collect();
    Ok(Json(Value::Array(list)).into_response())
}

/// A v3 property definition in the legacy v2 shape.
fn v2_property(p: &Value) -> Value {
    let read_only = p
        .pointer("/modificationMetadata/readOnlyValue")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let options: Vec<Value> = p["options"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            json!({
                "label": o["label"],
                "value": o["value"],
                "displayOrder": o["displayOrder"],
                "hidden": o["hidden"],
                "description": "",
                "readOnly": false,
            })
        })
        .collect();
    json!({
        "name": p["name"],
        "label": p["label"],
        "description": p["description"],
        "groupName": p["groupName"],
        "type": p["type"],
        "fieldType": p["fieldType"],
        "options": options,
        "displayOrder": p["displayOrder"],
        "hasUniqueValue": p["hasUniqueValue"],
        "hidden": p["hidden"],
        "formField": p["formField"],
        "calculated": p["calculated"],
        "externalOptions": p["externalOptions"],
        "hubspotDefined": p["hubspotDefined"],
        "readOnlyValue": read_only,
        "readOnlyDefinition": true,
        "mutableDefinitionNotDeletable": true,
        "deleted": false,
        "favorited": false,
        "favoritedOrder": -1,
        "displayMode": "current_value",
        "searchableInGlobalSearch": false,
        "createdAt": DEFINED_AT_MS,
        "updatedAt": DEFINED_AT_MS,
        "createdUserId": null,
        "updatedUserId": null,
    })
}

pub async fn list() -> Response {
    Json(json!({ "results": [] })).into_response()
}
